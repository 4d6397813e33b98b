// Network diagram: neurons per layer, weights as lines (width ~ |w|, colour ~ sign, hover for
// the value), and per-neuron output thumbnails for small nets. Plain SVG + canvas, no library.
(function () {
  "use strict";
  const NS = "http://www.w3.org/2000/svg";
  const { POS, NEG } = window.BP;
  const W = 640, H = 320, R = 9, THUMB = 30;

  function positions(units) {
    const cols = units.length;
    return units.map((n, c) => {
      const x = 40 + (W - 80) * (cols === 1 ? 0.5 : c / (cols - 1));
      const gap = Math.min(44, (H - 40) / Math.max(1, n));
      const top = H / 2 - (gap * (n - 1)) / 2;
      return Array.from({ length: n }, (_, i) => [x, top + gap * i]);
    });
  }

  function el(name, attrs, parent) {
    const e = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (parent) parent.appendChild(e);
    return e;
  }

  function layout(container, meta) {
    container.innerHTML = "";
    container.bpMeta = meta;
    const wrap = document.createElement("div");
    wrap.className = "wrap";
    container.appendChild(wrap);
    const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", role: "img" }, wrap);
    el("g", { class: "edges" }, svg);
    const nodes = el("g", { class: "nodes" }, svg);
    const pos = positions(meta.units);
    const names = ["input", ...meta.layers];
    pos.forEach((col, c) => {
      col.forEach(([x, y], i) => {
        const circle = el("circle", { cx: x, cy: y, r: R, class: "neuron" }, nodes);
        const t = el("title", {}, circle);
        t.textContent = c === 0 ? meta.features[i] : `${names[c]} unit ${i + 1}`;
        if (c === 0) {
          const label = el("text", { x: x - R - 4, y: y + 4, "text-anchor": "end", "font-size": 10, fill: "#667085" }, nodes);
          label.textContent = meta.features[i];
        }
      });
    });
    container.bpPos = pos;
    container.bpSvg = svg;
  }

  function update(container, snap) {
    const pos = container.bpPos, svg = container.bpSvg;
    if (!pos || !svg || !snap.weights) return;
    const edges = svg.querySelector(".edges");
    const frag = document.createDocumentFragment();
    let maxAbs = 1e-9;
    snap.weights.forEach((m) => m.forEach((row) => row.forEach((w) => { maxAbs = Math.max(maxAbs, Math.abs(w)); })));
    snap.weights.forEach((m, l) => {
      m.forEach((row, j) => row.forEach((w, i) => {
        const a = pos[l][i], b = pos[l + 1][j];
        if (!a || !b) return;
        const line = el("line", { x1: a[0] + R, y1: a[1], x2: b[0] - R, y2: b[1], stroke: w >= 0 ? POS : NEG,
          "stroke-width": (0.3 + 4 * Math.abs(w) / maxAbs).toFixed(2), "stroke-opacity": 0.75 }, frag);
        const t = el("title", {}, line);
        t.textContent = `w = ${w.toFixed(4)}`;
      }));
    });
    edges.replaceChildren(frag);
    drawThumbs(container, snap);
  }

  function drawThumbs(container, snap) {
    const wrap = container.querySelector(".wrap");
    wrap.querySelectorAll("canvas.thumb").forEach((c) => c.remove());
    if (!snap.neurons) return;
    const { size, values } = snap.neurons;
    const rect = container.bpSvg.getBoundingClientRect();
    const scale = rect.width / W;
    values.forEach((layer, l) => layer.forEach((vals, j) => {
      const p = container.bpPos[l + 1] && container.bpPos[l + 1][j];
      if (!p) return;
      const canvas = document.createElement("canvas");
      canvas.className = "thumb";
      canvas.width = size; canvas.height = size;
      canvas.style.width = canvas.style.height = `${THUMB * scale}px`;
      canvas.style.left = `${(p[0] - THUMB / 2) * scale}px`;
      canvas.style.top = `${(p[1] - THUMB / 2) * scale}px`;
      canvas.title = `${container.bpMeta.layers[l]} unit ${j + 1}: its output over the input square`;
      const ctx = canvas.getContext("2d");
      const img = ctx.createImageData(size, size);
      let lo = Infinity, hi = -Infinity;
      vals.forEach((v) => { lo = Math.min(lo, v); hi = Math.max(hi, v); });
      const span = Math.max(1e-6, Math.max(Math.abs(lo), Math.abs(hi)));
      vals.forEach((v, k) => {
        const row = size - 1 - Math.floor(k / size), col = k % size;   // grid rows go up in y
        const t = v / span, o = (row * size + col) * 4;
        const [r, g, b] = t >= 0 ? [8, 119, 189] : [245, 147, 34];
        const a = Math.abs(t);
        img.data[o] = 255 - (255 - r) * a; img.data[o + 1] = 255 - (255 - g) * a; img.data[o + 2] = 255 - (255 - b) * a; img.data[o + 3] = 255;
      });
      ctx.putImageData(img, 0, 0);
      wrap.appendChild(canvas);
    }));
  }

  window.BPNetwork = { layout, update };
})();
