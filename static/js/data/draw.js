// Draw mode: a click on the output plot adds a point with the chosen label to a custom
// dataset, shift-click removes the nearest point. Each edit is stored (POST /api/datasets,
// content-addressed) and handed to the controls form, which validates the experiment and
// puts the dataset's key in the address bar (pts=<key>). Drawing starts from the points on
// show (the current dataset) unless cleared.
(function () {
  "use strict";
  const { $, detail } = window.BP;
  const DOMAIN = BP.DOMAIN[1], NEAR = 0.75, MIN_TRAIN = 10;
  const COLORS = [BP.NEG, BP.POS, ...BP.COLORS.slice(2, 8)];  // label 0 orange, 1 blue, then the palette
  const stats = BP.hook("__bpDraw", { posts: 0, points: 0, key: "" });
  let drawing = false, points = null, down = null, queue = Promise.resolve();
  let cleared = false;  // Clear emptied the plot: the next drawing starts from nothing

  function hint(text, bad) {
    const h = $("draw-hint");
    if (h) { h.textContent = text; h.classList.toggle("error", !!bad); }
  }

  async function currentPoints() {
    if (points) return points;
    const key = $("data-pts").value;
    if (key && window.BPData && BPData.customChecked()) {
      const r = await fetch(`/api/datasets/${encodeURIComponent(key)}`);
      if (r.ok) { points = (await r.json()).points; return points; }
    }
    const d = await (await fetch("/ui/data" + window.location.search)).json();
    if (String(d.dims) === "1") throw new Error("drawing needs a 2-D dataset: pick one first");
    points = [];
    for (const split of Object.values(d.points || {})) {
      split.x.forEach((xy, i) => points.push([xy[0], xy[1], split.y[i]]));
    }
    return points;
  }

  function color(label, regression) {
    if (regression) return label >= 0 ? COLORS[1] : COLORS[0];
    return COLORS[Math.round(label) % COLORS.length];
  }
  // Show the edited points at once (the page redraws the real data when the URL changes).
  function overlay(pts, hideOthers) {
    const gd = $("plot-boundary");
    if (!window.Plotly || !gd || !gd.data) return;
    const old = gd.data.findIndex((t) => t.name === "drawn");
    if (old >= 0) Plotly.deleteTraces(gd, old);
    if (hideOthers) {
      const scatters = gd.data.map((t, i) => (t.type === "scatter" ? i : -1)).filter((i) => i >= 0);
      if (scatters.length) Plotly.restyle(gd, { visible: false }, scatters);
    }
    const labels = pts.map((p) => p[2]);
    const regression = labels.some((v) => v !== Math.round(v) || v < 0);
    Plotly.addTraces(gd, { x: pts.map((p) => p[0]), y: pts.map((p) => p[1]), mode: "markers", type: "scatter",
      name: "drawn", hoverinfo: "skip", marker: { size: 7, color: labels.map((v) => color(v, regression)), line: { color: "#fff", width: 1 } } });
  }

  async function store(pts) {
    stats.points = pts.length;
    if (!pts.length) { hint(`empty: click to add points (${MIN_TRAIN} or more to train)`); return; }
    const r = await fetch("/api/datasets", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ points: pts }) });
    const body = await r.json();
    if (!r.ok) throw new Error(detail(body));
    stats.posts += 1;
    stats.key = body.pts;
    hint(`${pts.length} points (${body.task})` + (pts.length < MIN_TRAIN ? `: add ${MIN_TRAIN - pts.length} more to train` : ""));
    if (window.BPData) BPData.usePoints(body.pts);
  }

  async function edit(xy, remove, label) {
    const pts = await currentPoints();
    if (remove) {
      let best = -1, bestD = NEAR * NEAR;
      pts.forEach((p, i) => { const d = (p[0] - xy[0]) ** 2 + (p[1] - xy[1]) ** 2; if (d < bestD) { bestD = d; best = i; } });
      if (best < 0) { hint("no point near there to remove"); return; }
      pts.splice(best, 1);
    } else {
      pts.push([xy[0], xy[1], label]);
    }
    overlay(pts, false);
    await store(pts);
  }

  function toData(e) {
    const gd = $("plot-boundary"), fl = gd && gd._fullLayout;
    if (!fl || !fl.xaxis || !fl.yaxis) return null;
    const r = gd.getBoundingClientRect();
    const x = fl.xaxis.p2c(e.clientX - r.left - fl.xaxis._offset);
    const y = fl.yaxis.p2c(e.clientY - r.top - fl.yaxis._offset);
    if (!(Math.abs(x) <= DOMAIN && Math.abs(y) <= DOMAIN)) return null;
    return [Math.round(x * 1000) / 1000, Math.round(y * 1000) / 1000];
  }

  function run(task) {
    queue = queue.then(task).catch((err) => hint(String((err && err.message) || err), true));
  }

  function toggle() {
    drawing = !drawing;
    if (!cleared) points = null;  // start from what is on show now
    cleared = false;
    const btn = $("btn-draw"), gd = $("plot-boundary");
    if (btn) btn.setAttribute("aria-pressed", String(drawing));
    if (gd) gd.classList.toggle("drawing", drawing);
    hint(drawing ? "click adds a point · shift-click removes the nearest" : "draw mode off");
  }

  document.addEventListener("DOMContentLoaded", () => {
    const gd = $("plot-boundary");
    if (!gd || !$("btn-draw")) return;
    $("btn-draw").addEventListener("click", toggle);
    // Clear empties the plot and leaves draw mode as it was (it used to switch it on).
    $("btn-draw-clear").addEventListener("click", () => {
      points = [];
      cleared = !drawing;
      overlay(points, true);
      run(async () => {
        await store(points);
        if (!drawing) hint("cleared: press ✎ Draw points, then click the plot to add points");
      });
    });
    // While drawing, a click on the plot is a point: other click handlers (the softmax
    // point picker) wait until draw mode is off.
    gd.addEventListener("click", (e) => { if (drawing) e.stopPropagation(); }, true);
    // Plotly handles the drag itself; a press and release without moving is a click.
    gd.addEventListener("mousedown", (e) => {
      if (drawing && e.button === 0) down = { x: e.clientX, y: e.clientY, shift: e.shiftKey, ev: e };
    }, true);
    document.addEventListener("mouseup", (e) => {
      const d = down;
      down = null;
      if (!d || !drawing || Math.hypot(e.clientX - d.x, e.clientY - d.y) > 4) return;
      const xy = toData(d.ev);
      if (!xy) return;
      const label = parseFloat($("draw-label").value);
      run(() => edit(xy, d.shift, label));
    }, true);
  });
  document.addEventListener("htmx:after:swap", () => {
    // Another dataset picked meanwhile: the next click starts from the points then on show.
    if (points && !(window.BPData && BPData.customChecked())) points = null;
  });
})();
