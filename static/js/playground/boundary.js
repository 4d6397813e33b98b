// The output view: the decision boundary as pixels on a canvas under a Plotly plot that holds
// only the axes and the data points (as TF Playground does: canvas + svg). A new snapshot
// costs one putImageData of size x size pixels and one smoothed drawImage; Plotly redraws
// only when the points or the options change.
(function () {
  "use strict";
  const { $, COLORS, POS, NEG, MID, CFG, DOMAIN, axis } = window.BP;
  const stats = BP.hook("__bpBoundary", { pictures: 0, layouts: 0 });
  let pointsKey = null;  // what the Plotly layer shows now
  let shown = null;      // the picture on the canvas: [grid, task, discrete]
  const rgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const [P, N, M] = [rgb(POS), rgb(NEG), rgb(MID)];
  const over = (c, a) => c.map((v) => Math.round(255 - (255 - v) * a));  // c at opacity a on white
  function diverging(t) {  // t in [0, 1]: orange - grey - blue, as the old heatmap
    const [a, b, u] = t < 0.5 ? [N, M, t * 2] : [M, P, (t - 0.5) * 2];
    return a.map((v, i) => v + (b[i] - v) * u);
  }
  const LUT = Array.from({ length: 256 }, (_, q) => over(diverging(q / 255), 0.85));
  const CLASS = COLORS.map((c) => over(rgb(c), 0.55));
  const GREY = [200, 200, 200];

  function pointTraces(meta, showTest, dims) {
    const traces = [];
    const classColor = (y) => (meta.task === "multiclass" ? COLORS[y % COLORS.length] : (y > 0.5 ? POS : NEG));
    for (const split of showTest ? ["train", "test"] : ["train"]) {
      const p = meta.points && meta.points[split];
      if (!p || !p.x.length) continue;
      const xs = p.x.map((r) => r[0]);
      const ys = dims === 1 ? p.y : p.x.map((r) => r[1]);
      const color = meta.task === "regression" ? (dims === 1 ? "#9aa5b1" : p.y.map((v) => (v >= 0 ? POS : NEG))) : p.y.map(classColor);
      const small = dims === 1;  // a 1-D curve's samples: light, so the model's line reads
      traces.push({ x: xs, y: ys, mode: "markers", type: "scatter", name: split, hoverinfo: "skip",
        marker: { color, size: small ? 4 : (split === "train" ? 6 : 7), symbol: split === "train" ? "circle" : "diamond",
                  line: { color: split === "train" ? "#fff" : "#000", width: small ? 0 : 1 } } });
    }
    return traces;
  }

  function canvasFor(gd) {
    let c = $("boundary-canvas");
    if (!c) {
      c = document.createElement("canvas");
      c.id = "boundary-canvas";
      c.setAttribute("aria-hidden", "true");
      Object.assign(c.style, { position: "absolute", pointerEvents: "none" });
      gd.parentElement.style.position = "relative";
      gd.parentElement.insertBefore(c, gd);  // before the plot: Plotly's layers paint over it
    }
    return c;
  }

  // Colour of each grid node (rows go up in y: the canvas's first row is the top one).
  function paint(img, g, task, discrete) {
    const n = g.size, v = g.values, d = img.data;
    for (let r = 0; r < n; r++) {
      for (let col = 0; col < n; col++) {
        const k = r * n + col, o = ((n - 1 - r) * n + col) * 4;
        let c;
        const x = v[k];
        if (!isFinite(x)) c = GREY;
        else if (task === "multiclass") c = CLASS[Math.round(x) % CLASS.length];
        else if (task === "regression") c = LUT[Math.round(((discrete ? Math.sign(x) : Math.max(-1, Math.min(1, x))) + 1) * 127.5)];
        else c = LUT[Math.round((discrete ? (x > 0.5 ? 1 : 0) : Math.max(0, Math.min(1, x))) * 255)];
        d[o] = c[0]; d[o + 1] = c[1]; d[o + 2] = c[2]; d[o + 3] = 255;
      }
    }
  }

  const scratch = document.createElement("canvas");
  function drawPicture(gd, g, task, discrete) {
    const fl = gd._fullLayout, canvas = canvasFor(gd);
    if (!fl || !fl._size) return;
    const s = fl._size, dpr = window.devicePixelRatio || 1;
    const w = Math.round(s.w * dpr), h = Math.round(s.h * dpr);
    Object.assign(canvas.style, { left: `${gd.offsetLeft + s.l}px`, top: `${gd.offsetTop + s.t}px`, width: `${s.w}px`, height: `${s.h}px` });
    if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
    const ctx = canvas.getContext("2d");
    if (!g) { ctx.clearRect(0, 0, w, h); return; }
    if (scratch.width !== g.size) { scratch.width = g.size; scratch.height = g.size; }
    const sc = scratch.getContext("2d"), img = sc.createImageData(g.size, g.size);
    paint(img, g, task, discrete);
    sc.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = !discrete;
    ctx.clearRect(0, 0, w, h);
    // Node centres sit on the domain's edges: the image spans half a cell beyond each side;
    // the axes say where that is now (the user may have zoomed).
    const half = (DOMAIN[1] - DOMAIN[0]) / (g.size - 1) / 2, xa = fl.xaxis, ya = fl.yaxis;
    const x0 = xa.c2p(DOMAIN[0] - half) * dpr, x1 = xa.c2p(DOMAIN[1] + half) * dpr;
    const y0 = ya.c2p(DOMAIN[1] + half) * dpr, y1 = ya.c2p(DOMAIN[0] - half) * dpr;
    ctx.drawImage(scratch, x0, y0, x1 - x0, y1 - y0);
  }

  // Draw the output view: `snap` (or null) over the points of `meta`.
  function draw(meta, snap) {
    const gd = $("plot-boundary");
    if (!meta || !gd || !window.Plotly) return;
    const root = document.querySelector(".playground");
    const dims = parseInt(root.dataset.dims || "2", 10);
    const showTest = $("opt-test").checked, discrete = $("opt-discretize").checked;
    const g = snap && BP.grid(snap.grid);
    if (dims === 1) {  // a curve, not a picture: the model's output along the middle row
      const traces = pointTraces(meta, showTest, dims);
      if (g) {  // drawn last: on top of the points, not hidden under them
        const n = g.size, row = Math.floor(n / 2);
        traces.push({ x: axis(n), y: Array.from(g.values.subarray(row * n, row * n + n)), mode: "lines", name: "model", line: { color: POS, width: 3 } });
      }
      Plotly.react(gd, traces, layout(dims), CFG);
      pointsKey = null;
      drawPicture(gd, null);
      stats.pictures += 1;
      return;
    }
    // Keyed by the points themselves, not the run: Play on the previewed data keeps the
    // plotted points (a Plotly re-plot is ~50 ms of the first update) and paints at once.
    const key = [pointsPrint(meta), meta.task, dims, showTest, gd.clientWidth].join("|");
    if (key !== pointsKey || !gd._fullLayout) {
      Plotly.react(gd, pointTraces(meta, showTest, dims), layout(dims), CFG);
      pointsKey = key;
      stats.layouts += 1;
      if (!gd.bpRelayout && gd.on) {  // zoom or pan: the picture follows the axes
        gd.bpRelayout = true;
        gd.on("plotly_relayout", () => { if (shown) drawPicture(gd, ...shown); });
      }
    }
    shown = [g, meta.task, discrete];
    drawPicture(gd, g, meta.task, discrete);
    if (g) stats.pictures += 1;
  }
  // A cheap fingerprint of a dataset's points: counts and sums of every split's coordinates,
  // computed once per start record (draw() runs every frame with a new picture).
  const prints = new WeakMap();
  function pointsPrint(meta) {
    if (!prints.has(meta)) prints.set(meta, fingerprint(meta.points || {}));
    return prints.get(meta);
  }
  function fingerprint(pts) {
    return Object.keys(pts).sort().map((split) => {
      const p = pts[split] || {}, xs = p.x || [], ys = p.y || [];
      let sx = 0, sy = 0;
      for (let i = 0; i < xs.length; i++) { const x = xs[i]; sx += Array.isArray(x) ? x[0] * 3 + x[1] * 7 : x; }
      for (let i = 0; i < ys.length; i++) sy += (i % 7 + 1) * (+ys[i] || 0);
      return `${split}:${xs.length}:${sx.toFixed(6)}:${sy.toFixed(6)}`;
    }).join(",");
  }
  function layout(dims) {
    return { margin: { l: 30, r: 10, t: 10, b: 30 }, showlegend: false, uirevision: "keep",
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
      xaxis: { range: DOMAIN, zeroline: false, showgrid: false }, yaxis: { range: dims === 1 ? [-2, 2] : DOMAIN, zeroline: false, showgrid: false, scaleanchor: dims === 1 ? undefined : "x" } };
  }
  // A new run forgets the old picture but keeps plotted points its data may share; option
  // changes and resizes (keepPoints false) re-plot them too.
  function reset(keepPoints) { if (!keepPoints) pointsKey = null; shown = null; }

  // The caption names the data on show: the checked dataset's label (custom points drawn or
  // uploaded are "Custom points", not the dataset they started from).
  function caption() {
    const cap = $("boundary-caption");
    const input = document.querySelector("#controls input[name='data.dataset']:checked");
    const label = input && input.closest("label");
    if (!cap || !label) return;
    cap.textContent = input.value === "custom" ? "Custom points" : label.title.split(":")[0] || label.textContent.trim();
  }
  document.addEventListener("htmx:after:swap", caption);
  document.addEventListener("DOMContentLoaded", caption);

  window.BPBoundary = { draw, reset };
})();
