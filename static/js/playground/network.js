// Network diagram: neurons per layer, weights as lines (width ~ |w|, colour ~ sign, hover for
// the value), and per-neuron output thumbnails for small nets. Plain SVG + canvas, no library.
// The elements are built once per run (layout) and only their attributes and pixels change
// with each snapshot (update), so a snapshot per animation frame stays cheap. While the
// diagram is on screen the page asks its socket for the neuron pictures ({"action": "view"}).
(function () {
  "use strict";
  const NS = "http://www.w3.org/2000/svg";
  const { POS, NEG } = window.BP;
  const W = 640, H = 320, R = 9, THUMB = 30;
  const stats = BP.hook("__bpNetwork", { updates: 0, thumbs: 0, visible: false });
  const colour = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const [P, N] = [colour(POS), colour(NEG)];

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
    container.bpLines = null;
    container.bpThumbs = null;
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
    // Before the first snapshot (no weights yet): the connections as thin grey lines, and
    // each input feature's picture over the input square, so the diagram reads at once.
    const edges = svg.querySelector(".edges");
    pos.slice(0, -1).forEach((col, l) => col.forEach((a) => pos[l + 1].forEach((b) => {
      el("line", { x1: a[0] + R, y1: a[1], x2: b[0] - R, y2: b[1], stroke: "#c3cad4", "stroke-width": 0.6, class: "edge-preview" }, edges);
    })));
    inputThumbs(container, meta);
    // A weight's value shows on hover: its title is written only when the pointer is there.
    svg.addEventListener("mouseover", (e) => {
      const line = e.target;
      if (line.tagName !== "line" || !container.bpW) return;
      const w = container.bpW[line.bpL][line.bpJ][line.bpI];
      line.firstChild.textContent = `w = ${Number(w).toFixed(4)}`;
    });
    watch(container);
  }

  // One <line> per weight, made at the first snapshot of a run and then only restyled.
  function lines(container, weights) {
    if (container.bpLines) return container.bpLines;
    const pos = container.bpPos, edges = container.bpSvg.querySelector(".edges"), out = [];
    const frag = document.createDocumentFragment();
    weights.forEach((m, l) => m.forEach((row, j) => row.forEach((_, i) => {
      const a = pos[l][i], b = pos[l + 1] && pos[l + 1][j];
      if (!a || !b) return;
      const line = el("line", { x1: a[0] + R, y1: a[1], x2: b[0] - R, y2: b[1], "stroke-opacity": 0.75 }, frag);
      el("title", {}, line);
      Object.assign(line, { bpL: l, bpJ: j, bpI: i });
      out.push(line);
    })));
    edges.replaceChildren(frag);
    container.bpLines = out;
    return out;
  }

  function update(container, snap) {
    if (!container.bpPos || !container.bpSvg || !snap.weights) return;
    const { weights } = BP.weights(snap);
    container.bpW = weights;
    let maxAbs = 1e-9;
    for (const m of weights) for (const row of m) for (const w of row) if (Math.abs(w) > maxAbs) maxAbs = Math.abs(w);
    for (const line of lines(container, weights)) {
      const w = weights[line.bpL][line.bpJ][line.bpI];
      line.setAttribute("stroke", w >= 0 ? POS : NEG);
      line.setAttribute("stroke-width", (0.3 + 4 * Math.abs(w) / maxAbs).toFixed(2));
    }
    stats.updates += 1;
    if (snap.neurons) drawThumbs(container, snap.neurons);
  }

  // Per-neuron pictures: values in [-1, 1] (each unit scaled by its largest |value|).
  function unitValues(neurons) {
    if (neurons.values) {  // stored before pictures were quantised: plain numbers
      return neurons.values.map((layer) => layer.map((vals) => {
        const span = Math.max(1e-6, ...vals.map((v) => Math.abs(v)));
        return vals.map((v) => v / span);
      }));
    }
    const q = BP.bytes(neurons.q), n = neurons.size * neurons.size, out = [];
    let at = 0;
    for (const units of neurons.units) {
      const layer = [];
      for (let j = 0; j < units; j++, at += n) layer.push(Array.from(q.subarray(at, at + n), (v) => (v - 128) / 127));
      out.push(layer);
    }
    return out;
  }
  function thumbs(container, size) {
    if (container.bpThumbs && container.bpThumbs.size === size) return container.bpThumbs;
    const wrap = container.querySelector(".wrap");
    wrap.querySelectorAll("canvas.thumb:not(.input-thumb)").forEach((c) => c.remove());
    const scale = container.bpSvg.getBoundingClientRect().width / W;
    const cells = [];
    container.bpPos.slice(1, -1).forEach((col, l) => {
      const gap = col.length > 1 ? col[1][1] - col[0][1] : THUMB;
      const side = Math.min(THUMB, gap - 2);
      col.forEach((p, j) => {
        const canvas = document.createElement("canvas");
        canvas.className = "thumb";
        canvas.width = size; canvas.height = size;
        canvas.style.width = canvas.style.height = `${side * scale}px`;
        canvas.style.left = `${(p[0] - side / 2) * scale}px`;
        canvas.style.top = `${(p[1] - side / 2) * scale}px`;
        canvas.title = `${container.bpMeta.layers[l]} unit ${j + 1}: its output over the input square`;
        wrap.appendChild(canvas);
        (cells[l] = cells[l] || []).push(canvas);
      });
    });
    container.bpThumbs = { size, cells };
    return container.bpThumbs;
  }
  function drawThumbs(container, neurons) {
    const { size } = neurons, values = unitValues(neurons), { cells } = thumbs(container, size);
    values.forEach((layer, l) => layer.forEach((vals, j) => {
      const canvas = cells[l] && cells[l][j];
      if (!canvas) return;
      const ctx = canvas.getContext("2d"), img = ctx.createImageData(size, size);
      vals.forEach((t, k) => {
        const row = size - 1 - Math.floor(k / size), col = k % size;   // grid rows go up in y
        const o = (row * size + col) * 4, [r, g, b] = t >= 0 ? P : N, a = Math.min(1, Math.abs(t));
        img.data[o] = 255 - (255 - r) * a; img.data[o + 1] = 255 - (255 - g) * a; img.data[o + 2] = 255 - (255 - b) * a; img.data[o + 3] = 255;
      });
      ctx.putImageData(img, 0, 0);
    }));
    stats.thumbs += 1;
  }

  // What each input feature is over the input square (as app/nn/data/points.py FEATURES).
  const FEATURE = {
    x1: (a) => a, x2: (a, b) => b, x1sq: (a) => a * a, x2sq: (a, b) => b * b, x1x2: (a, b) => a * b,
    sin_x1: (a) => Math.sin(a), sin_x2: (a, b) => Math.sin(b), cos_x1: (a) => Math.cos(a), cos_x2: (a, b) => Math.cos(b),
  };
  function inputThumbs(container, meta) {
    const wrap = container.querySelector(".wrap"), size = 24, [lo, hi] = BP.DOMAIN;
    const scale = container.bpSvg.getBoundingClientRect().width / W || 1;
    const col = container.bpPos[0];
    const gap = col.length > 1 ? col[1][1] - col[0][1] : THUMB, side = Math.min(THUMB, gap - 2);
    (meta.features || []).forEach((f, i) => {
      const fn = FEATURE[f];
      if (!fn || !col[i]) return;
      const vals = [];
      for (let r = 0; r < size; r++) {
        for (let c = 0; c < size; c++) {
          const a = lo + ((hi - lo) * (c + 0.5)) / size, b = hi - ((hi - lo) * (r + 0.5)) / size;
          vals.push(fn(a, b));
        }
      }
      const span = Math.max(1e-9, ...vals.map(Math.abs));
      const canvas = document.createElement("canvas");
      canvas.className = "thumb input-thumb"; canvas.dataset.feature = f;
      canvas.width = size; canvas.height = size;
      canvas.style.width = canvas.style.height = `${side * scale}px`;
      canvas.style.left = `${(col[i][0] - side / 2) * scale}px`;
      canvas.style.top = `${(col[i][1] - side / 2) * scale}px`;
      canvas.title = `input ${f}: its value over the input square`;
      const ctx = canvas.getContext("2d"), img = ctx.createImageData(size, size);
      vals.forEach((v, k) => {
        const t = v / span, [r, g, b] = t >= 0 ? P : N, a = Math.min(1, Math.abs(t)), o = k * 4;
        img.data[o] = 255 - (255 - r) * a; img.data[o + 1] = 255 - (255 - g) * a; img.data[o + 2] = 255 - (255 - b) * a; img.data[o + 3] = 255;
      });
      ctx.putImageData(img, 0, 0);
      wrap.appendChild(canvas);
    });
  }

  // Neuron pictures cost bytes on every snapshot: ask for them only while they can be seen.
  let observer = null;
  function watch(container) {
    if (observer || !window.IntersectionObserver) return;
    observer = new IntersectionObserver((entries) => {
      stats.visible = entries[entries.length - 1].isIntersecting;
      tell();
    });
    observer.observe(container);
  }
  function tell() { BP.send("run-socket", { action: "view", neurons: stats.visible }); }
  BP.onOpen((id) => { if (id === "run-socket" && stats.visible) tell(); });

  window.BPNetwork = { layout, update };
})();
