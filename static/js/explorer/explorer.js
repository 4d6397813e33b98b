// The backprop explorer: draws the network, shows one step at a time (buttons, ← →) and
// keeps the step in the URL (?…&step=N) so a link reopens it. All numbers come from the
// server (app/nn/explain); this script only lays them out.
(function () {
  "use strict";
  const SVG = "http://www.w3.org/2000/svg";
  function el(name, attrs, parent) {
    const node = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    parent.appendChild(node);
    return node;
  }
  function fmt(v) { return Number(v).toPrecision(6); }

  function draw(svg, sizes) {
    const pos = [];
    const w = 520, h = 300;
    sizes.forEach((n, layer) => {
      const x = 50 + (layer * (w - 100)) / (sizes.length - 1);
      pos.push(Array.from({ length: n }, (_, j) => [x, ((j + 1) * h) / (n + 1)]));
    });
    const edges = {}, nodes = {};
    for (let layer = 1; layer < sizes.length; layer++) {
      pos[layer].forEach(([x2, y2], j) => pos[layer - 1].forEach(([x1, y1], i) => {
        edges[`${layer}.${j}.${i}`] = el("line", { x1, y1, x2, y2, class: "edge" }, svg);
      }));
    }
    pos.forEach((col, layer) => col.forEach(([x, y], j) => {
      nodes[`${layer}.${j}`] = el("circle", { cx: x, cy: y, r: 16, class: "node" }, svg);
      const name = layer === 0 ? `x${j + 1}` : layer === sizes.length - 1 ? `out${j + 1}` : `h${layer}.${j + 1}`;
      el("text", { x, y: y + 4 }, svg).textContent = name;
    }));
    return { edges, nodes };
  }

  function show(state, k) {
    const { data, parts } = state;
    const step = data.steps[k];
    state.k = k;
    document.getElementById("explore-counter").textContent = `step ${k + 1} of ${data.steps.length}`;
    document.getElementById("step-title").textContent = step.title;
    const lines = document.getElementById("step-lines");
    lines.replaceChildren(...step.lines.map((t) => { const li = document.createElement("li"); li.textContent = t; return li; }));
    const body = document.querySelector("#step-values tbody");
    body.replaceChildren(...Object.entries(step.values).map(([name, v]) => {
      const tr = document.createElement("tr");
      tr.dataset.name = name;
      tr.dataset.value = String(v);
      const a = document.createElement("td"); a.textContent = name;
      const b = document.createElement("td"); b.textContent = fmt(v);
      tr.append(a, b);
      return tr;
    }));
    Object.values(parts.edges).forEach((e) => e.classList.remove("on"));
    Object.values(parts.nodes).forEach((n) => n.classList.remove("on"));
    step.edges.forEach(([l, j, i]) => parts.edges[`${l}.${j}.${i}`]?.classList.add("on"));
    step.nodes.forEach(([l, j]) => parts.nodes[`${l}.${j}`]?.classList.add("on"));
    document.getElementById("explore-prev").disabled = k === 0;
    document.getElementById("explore-next").disabled = k === data.steps.length - 1;
    const params = new URLSearchParams(window.location.search);
    params.set("step", String(k + 1));
    history.replaceState(null, "", `${window.location.pathname}?${params}`);
    document.querySelector(".explorer").dataset.step = String(k + 1);
    document.querySelector(".explorer").dataset.kind = step.kind;
  }

  document.addEventListener("DOMContentLoaded", () => {
    const raw = document.getElementById("explore-data");
    if (!raw) return;
    const data = JSON.parse(raw.textContent);
    const state = { data, parts: draw(document.getElementById("explore-net"), data.sizes), k: 0 };
    const asked = parseInt(new URLSearchParams(window.location.search).get("step") || "1", 10);
    const go = (k) => show(state, Math.max(0, Math.min(data.steps.length - 1, k)));
    go(Number.isFinite(asked) ? asked - 1 : 0);
    document.getElementById("explore-prev").addEventListener("click", () => go(state.k - 1));
    document.getElementById("explore-next").addEventListener("click", () => go(state.k + 1));
    document.addEventListener("keydown", (ev) => {
      if (ev.target.closest && ev.target.closest("input, select, textarea")) return;
      if (ev.key === "ArrowRight") { go(state.k + 1); ev.preventDefault(); }
      if (ev.key === "ArrowLeft") { go(state.k - 1); ev.preventDefault(); }
    });
    // The form drops the step: a rebuilt network starts at its first step.
  });
})();
