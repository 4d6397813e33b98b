// Socket-to-chart glue: JSON frames from the run's WebSocket -> Plotly charts and counters.
// Shared bits (palette, socket frames, test hooks) come from static/js/core.js.
(function () {
  "use strict";
  const { $, COLORS, MAX_POINTS, CFG, DOMAIN, axis, half } = window.BP;
  const DIVERGED_HELP = " The updates overshot: lower the learning rate, add gradient clipping or normalisation.";
  const stats = BP.hook("__bp", { frames: 0, events: 0, firstFrameAt: null, playAt: null });
  let S = null;         // state of the run being watched
  let dirty = false;

  function fresh(runId) {
    return { runId, meta: null, steps: { step: [], epoch: [], loss: [], lr: [], grad: [], ratio: [] },
             evals: { step: [], epoch: [], series: {} }, snapshot: null, speed: [] };
  }
  function onMetrics(m) {
    const st = S.steps;
    st.step.push(m.step); st.epoch.push(m.epoch); st.loss.push(m.loss_mean ?? m.loss); st.lr.push(m.lr);
    (m.grad_w || []).forEach((g, i) => { (st.grad[i] = st.grad[i] || []).push(g); });
    (m.update_ratio || []).forEach((r, i) => { (st.ratio[i] = st.ratio[i] || []).push(r); });
    // keep per-layer arrays aligned with step (a layer list never changes within a run)
    if (st.step.length > MAX_POINTS) {
      for (const k of ["step", "epoch", "loss", "lr"]) st[k] = half(st[k]);
      st.grad = st.grad.map(half); st.ratio = st.ratio.map(half);
    }
    if (m.eval) onEval(m.eval);
    $("step").textContent = m.step;
    $("epoch").textContent = Math.floor(m.epoch);
    const now = performance.now();
    S.speed.push([now, m.epoch]);
    while (S.speed.length > 2 && now - S.speed[0][0] > 3000) S.speed.shift();
    if (S.speed.length > 1) {
      const [t0, e0] = S.speed[0];
      const dt = (now - t0) / 1000;
      if (dt > 0.2) $("speed").textContent = ((m.epoch - e0) / dt).toFixed(1);
    }
    dirty = true;
  }

  function onEval(ev) {
    const E = S.evals;
    E.step.push(ev.step); E.epoch.push(ev.epoch);
    for (const split of ["train", "val", "test"]) {
      const s = ev[split];
      if (!s) continue;
      for (const [k, v] of Object.entries(s)) {
        const key = `${split}_${k}`;
        (E.series[key] = E.series[key] || []);
        while (E.series[key].length < E.step.length - 1) E.series[key].push(null);
        E.series[key].push(v);
      }
    }
    if (E.step.length > MAX_POINTS) {
      E.step = half(E.step); E.epoch = half(E.epoch);
      for (const k of Object.keys(E.series)) E.series[k] = half(E.series[k]);
    }
    if (ev.train) $("train-loss").textContent = ev.train.loss.toFixed(4);
    if (ev.test) $("test-loss").textContent = ev.test.loss.toFixed(4);
  }

  function ema(values, beta) {
    if (!beta) return values;
    let m = 0, n = 0;
    return values.map((v) => {
      if (v === null || !isFinite(v)) return null;
      n += 1; m = beta * m + (1 - beta) * v;
      return m / (1 - Math.pow(beta, n));   // bias-corrected
    });
  }

  function layout(title, extra) {
    const logy = $("opt-logy") && $("opt-logy").checked;
    return Object.assign({
      title: { text: title, font: { size: 13 } }, margin: { l: 48, r: 10, t: 30, b: 32 },
      xaxis: { title: { text: xKey() }, autorange: true },
      legend: { orientation: "h", y: -0.3, font: { size: 10 } },
      datarevision: stats.frames,  // the series grow in place: tell Plotly.react they changed
    }, extra || {}, { yaxis: Object.assign({ type: logy ? "log" : "linear", autorange: true }, (extra || {}).yaxis || {}) });
  }
  function xKey() { return ($("opt-xaxis") && $("opt-xaxis").value) || "step"; }

  function drawCharts() {
    if (!S || !window.Plotly) return;
    const st = S.steps, E = S.evals, x = st[xKey()], ex = E[xKey()];
    const beta = parseFloat(($("opt-smooth") || {}).value || 0);
    const names = (S.meta && S.meta.layers) || [];
    const loss = [{ x, y: ema(st.loss, beta), name: "batch loss", line: { color: "#9aa5b1", width: 1 } }];
    for (const [split, color] of [["train", "#0877bd"], ["val", "#2ca02c"], ["test", "#f59322"]]) {
      if (E.series[`${split}_loss`]) loss.push({ x: ex, y: E.series[`${split}_loss`], name: `${split} loss`, line: { color } });
    }
    Plotly.react("chart-loss", loss, layout("Loss"), CFG);
    const task = S.meta && S.meta.task;
    const metric = task === "regression" ? "r2" : "acc";
    const acc = ["train", "val", "test"].filter((s) => E.series[`${s}_${metric}`])
      .map((s, i) => ({ x: ex, y: E.series[`${s}_${metric}`], name: `${s} ${metric === "r2" ? "R²" : "accuracy"}`, line: { color: ["#0877bd", "#2ca02c", "#f59322"][["train", "val", "test"].indexOf(s)] } }));
    Plotly.react("chart-acc", acc, layout(metric === "r2" ? "R²" : "Accuracy", { yaxis: { type: "linear" } }), CFG);
    const grad = st.grad.map((g, i) => ({ x, y: ema(g, beta), name: names[i] || `layer ${i + 1}`, line: { color: COLORS[i % COLORS.length] } }));
    Plotly.react("chart-grad", grad, layout("Gradient norm per layer (weights)", { yaxis: { type: "log" } }), CFG);
    const ratio = st.ratio.map((r, i) => ({ x, y: ema(r, beta), name: names[i] || `layer ${i + 1}`, line: { color: COLORS[i % COLORS.length] } }));
    Plotly.react("chart-ratio", ratio, layout("Update / weight ratio", { yaxis: { type: "log" },
      shapes: [{ type: "line", xref: "paper", x0: 0, x1: 1, y0: 1e-3, y1: 1e-3, line: { dash: "dot", color: "#c8102e", width: 1 } }] }), CFG);
    Plotly.react("chart-lr", [{ x, y: st.lr, name: "lr", line: { color: "#9467bd" } }], layout("Learning rate", { showlegend: false, yaxis: { type: "linear", rangemode: "tozero" } }), CFG);
    stats.frames += 1;
    if (stats.firstFrameAt === null && st.step.length) stats.firstFrameAt = performance.now();
  }

  // ---- decision boundary -------------------------------------------------------------------
  function pointTraces(meta, showTest, dims) {
    const traces = [];
    const classColor = (y) => (meta.task === "multiclass" ? COLORS[y % COLORS.length] : (y > 0.5 ? "#0877bd" : "#f59322"));
    for (const split of showTest ? ["train", "test"] : ["train"]) {
      const p = meta.points && meta.points[split];
      if (!p || !p.x.length) continue;
      const xs = p.x.map((r) => r[0]);
      const ys = dims === 1 ? p.y : p.x.map((r) => r[1]);
      const color = meta.task === "regression" ? (dims === 1 ? "#333" : p.y.map((v) => (v >= 0 ? "#0877bd" : "#f59322"))) : p.y.map(classColor);
      traces.push({ x: xs, y: ys, mode: "markers", type: "scatter", name: split, hoverinfo: "skip",
        marker: { color, size: split === "train" ? 6 : 7, symbol: split === "train" ? "circle" : "diamond",
                  line: { color: split === "train" ? "#fff" : "#000", width: 1 } } });
    }
    return traces;
  }
  function drawBoundary() {
    if (!S || !S.meta || !window.Plotly) return;
    const root = document.querySelector(".playground");
    const dims = parseInt(root.dataset.dims || "2", 10);
    const showTest = $("opt-test").checked, discrete = $("opt-discretize").checked;
    const traces = [];
    const snap = S.snapshot;
    const lay = { margin: { l: 30, r: 10, t: 10, b: 30 }, showlegend: false, uirevision: "keep",
      xaxis: { range: DOMAIN, zeroline: false }, yaxis: { range: dims === 1 ? [-2, 2] : DOMAIN, zeroline: false, scaleanchor: dims === 1 ? undefined : "x" } };
    if (snap && snap.grid) {
      const n = snap.grid.size, ax = axis(n), v = snap.grid.values;
      if (dims === 1) {
        const row = Math.floor(n / 2);
        traces.push({ x: ax, y: v.slice(row * n, row * n + n), mode: "lines", name: "model", line: { color: "#0877bd", width: 3 } });
      } else {
        const z = [];
        for (let r = 0; r < n; r++) {
          z.push(v.slice(r * n, r * n + n).map((q) => (discrete ? (S.meta.task === "regression" ? Math.sign(q) : (S.meta.task === "binary" ? (q > 0.5 ? 1 : 0) : q)) : q)));
        }
        const multi = S.meta.task === "multiclass";
        const k = Math.max(2, S.meta.classes || 2);
        const scale = multi ? COLORS.slice(0, k).flatMap((c, i) => [[i / k, c], [(i + 1) / k, c]])
          : [[0, "#f59322"], [0.5, "#eef0f2"], [1, "#0877bd"]];
        traces.push({ type: "heatmap", x: ax, y: ax, z, colorscale: scale, showscale: false, opacity: multi ? 0.55 : 0.85,
          zmin: multi ? -0.5 : (S.meta.task === "regression" ? -1 : 0), zmax: multi ? k - 0.5 : 1, hovertemplate: "%{z:.3f}<extra></extra>" });
      }
    }
    traces.push(...pointTraces(S.meta, showTest, dims));
    Plotly.react("plot-boundary", traces, lay, CFG);
  }

  // ---- status --------------------------------------------------------------------------------
  function onStatus(ev) {
    const st = ev.status;
    $("status").textContent = st + (st === "queued" && ev.position ? ` #${ev.position}` : "");
    $("status").dataset.status = st;
    const transport = $("transport");
    if (transport) transport.dataset.status = st;
    const detail = $("status-detail");
    let text = "";
    if (st === "queued") text = ev.position ? `Waiting for a free worker: position ${ev.position} in the queue.` : "Waiting for a free worker.";
    else if (st === "diverged") text = (ev.reason || "The loss stopped being finite.") + DIVERGED_HELP;
    else if (ev.reason && st !== "running") text = ev.reason;
    if (ev.summary && ev.summary.final) {
      const f = ev.summary.final;
      const parts = ["train", "val", "test"].filter((s) => f[`${s}_loss`] != null).map((s) => `${s} loss ${f[`${s}_loss`].toFixed(4)}` + (f[`${s}_acc`] != null ? `, acc ${(100 * f[`${s}_acc`]).toFixed(1)}%` : ""));
      if (parts.length) text += (text ? " — " : "") + parts.join("; ");
    }
    detail.textContent = text;
    detail.classList.toggle("bad", st === "diverged" || st === "failed");
    const paused = st === "paused", live = st === "running" || st === "queued" || paused;
    const pause = $("btn-pause"), step = $("btn-step");
    if (pause) pause.disabled = !live || paused;
    if (step) step.disabled = !live;
  }

  // Before a run starts, draw the data of the experiment in the URL.
  let previewQuery = null;
  function preview() {
    if (S && S.runId && S.meta) return;
    const q = window.location.search;
    if (q === previewQuery) return;
    previewQuery = q;
    fetch("/ui/data" + q).then((r) => r.json()).then((d) => {
      if (S && S.runId && S.meta) return;
      const root = document.querySelector(".playground");
      root.dataset.dims = d.dims; root.dataset.task = d.task; root.dataset.classes = d.classes;
      S.meta = Object.assign({}, d, { preview: true });
      S.snapshot = null;
      drawBoundary();
      if (window.BPNetwork) BPNetwork.layout($("network"), d);
    }).catch(() => {});
  }

  function handle(msg) {
    stats.events += 1;
    if (!S) attach();  // a replay can start before DOMContentLoaded handlers ran
    switch (msg.type) {
      case "start": S.meta = msg; drawBoundary(); drawCharts(); if (window.BPNetwork) BPNetwork.layout($("network"), msg); break;
      case "metrics": onMetrics(msg); break;
      case "snapshot": S.snapshot = msg; drawBoundary(); if (window.BPNetwork) BPNetwork.update($("network"), msg); break;
      case "status": onStatus(msg); break;
      default: break;
    }
  }

  function frame() {
    if (dirty) { dirty = false; drawCharts(); }
    requestAnimationFrame(frame);
  }

  function attach() {
    const transport = $("transport");
    const runId = transport ? transport.dataset.run : "";
    if (!S || S.runId !== runId) {
      S = fresh(runId);
      ["chart-loss", "chart-acc", "chart-grad", "chart-ratio", "chart-lr"].forEach((id) => { if (window.Plotly && $(id)) Plotly.purge(id); });
      if (runId) stats.playAt = stats.playAt || performance.now();
      dirty = true;
    }
  }

  BP.listen("run-socket", handle);
  document.addEventListener("htmx:after:swap", () => { attach(); preview(); });
  document.addEventListener("DOMContentLoaded", () => {
    attach();
    preview();
    for (const id of ["opt-smooth", "opt-logy", "opt-xaxis"]) $(id) && $(id).addEventListener("input", () => { dirty = true; });
    for (const id of ["opt-discretize", "opt-test"]) $(id) && $(id).addEventListener("change", drawBoundary);
    $("btn-play") && document.addEventListener("click", (e) => { if (e.target && e.target.id === "btn-play") { stats.playAt = performance.now(); stats.firstFrameAt = null; } });
    requestAnimationFrame(frame);
  });
})();
