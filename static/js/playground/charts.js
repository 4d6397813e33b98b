// Socket-to-page glue for the playground: JSON frames of the run's WebSocket -> curves,
// counters, the output picture (boundary.js) and the network diagram (network.js).
// Frames only update state; one requestAnimationFrame loop draws what changed since the
// last animation frame: the newest picture, the curves' new points (on each chart's canvas
// tail, chart_tail.js; Plotly syncs take turns within a time budget) and the counters. Shared
// bits: static/js/core.js.
(function () {
  "use strict";
  const { $, COLORS, SPLITS, MAX_POINTS, CFG, half } = window.BP;
  const DIVERGED_HELP = " The updates overshot: lower the learning rate, add gradient clipping or normalisation.";
  const BUDGET_MS = 8;    // Plotly syncs per animation frame (at least one)
  const CHARTS = ["chart-loss", "chart-acc", "chart-grad", "chart-ratio", "chart-lr"];
  // Read by the browser tests and bench/live.py: frames = chart redraws, pictures = output
  // pictures drawn, firstFrameAt = the first visible update after Play (playAt).
  const stats = BP.hook("__bp", { frames: 0, chartFrames: 0, pictures: 0, events: 0, snapshots: 0,
    firstFrameAt: null, playAt: null, epochShown: 0, drawMs: 0 });
  let S = null;           // state of the run being watched
  // The browser tests compare what a chart shows with the curves it should show.
  BP.hook("__bpCharts", { traces: (id) => (S ? series(id)[0] : []) });
  let gen = 0;            // bumps when drawn series must be rebuilt (options, halving, new run)
  let turn = 0;           // the chart whose sync goes first
  // A view the model family does not draw is in a hidden card (templates/playground.html).
  const shown = (id) => { const e = $(id); return !!e && !e.closest("[hidden]"); };

  function fresh(runId) {
    return { runId, meta: null, steps: { step: [], epoch: [], loss: [], lr: [], grad: [], ratio: [] },
             evals: { step: [], epoch: [], series: {} }, snapshot: null, snapDirty: false, last: null, speed: [] };
  }

  // ---- state from frames ----------------------------------------------------------------
  function onMetrics(m) {
    const st = S.steps;
    st.step.push(m.step); st.epoch.push(m.epoch); st.loss.push(m.loss_mean ?? m.loss); st.lr.push(m.lr);
    (m.grad_w || []).forEach((g, i) => { (st.grad[i] = st.grad[i] || []).push(g); });
    (m.update_ratio || []).forEach((r, i) => { (st.ratio[i] = st.ratio[i] || []).push(r); });
    if (st.step.length > MAX_POINTS) {  // keep per-layer arrays aligned with step
      for (const k of ["step", "epoch", "loss", "lr"]) st[k] = half(st[k]);
      st.grad = st.grad.map(half); st.ratio = st.ratio.map(half);
      gen += 1;
    }
    if (m.eval) onEval(m.eval);
    S.last = m;
    const now = performance.now();
    // Live frames come at most ~25 a second; a burst (a replay of stored frames) says
    // nothing about speed: restart the window at its newest frame.
    const prev = S.speed[S.speed.length - 1];
    if (prev && now - prev[0] < 8) S.speed = [];
    S.speed.push([now, m.epoch]);
    while (S.speed.length > 2 && now - S.speed[0][0] > 1500) S.speed.shift();
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
      gen += 1;
    }
    S.evalShown = ev;
  }

  // ---- curves ---------------------------------------------------------------------------
  function ema(values, beta) {
    if (!beta) return values;
    let m = 0, n = 0;
    return values.map((v) => {
      if (v === null || !isFinite(v)) return null;
      n += 1; m = beta * m + (1 - beta) * v;
      return m / (1 - Math.pow(beta, n));   // bias-corrected
    });
  }
  function xKey() { return ($("opt-xaxis") && $("opt-xaxis").value) || "step"; }
  function layout(title, extra) {
    const logy = $("opt-logy") && $("opt-logy").checked;
    return Object.assign({
      title: { text: title, font: { size: 13 } }, margin: { l: 48, r: 10, t: 30, b: 32 },
      xaxis: { title: { text: xKey(), standoff: 4 }, autorange: true, automargin: true },
      // Under the axis title, not on it: anchored to the figure's bottom edge, and Plotly
      // grows the bottom margin to fit both (y: -0.3 of the plot used to land on the title).
      legend: { orientation: "h", x: 0, y: 0, xref: "container", yref: "container", yanchor: "bottom", font: { size: 10 } },
    }, extra || {}, { yaxis: Object.assign({ type: logy ? "log" : "linear", autorange: true }, (extra || {}).yaxis || {}) });
  }
  // Each chart: its traces (key, x, y, style) from the state, and its layout.
  function series(id) {
    const st = S.steps, E = S.evals, x = st[xKey()], ex = E[xKey()];
    const beta = parseFloat(($("opt-smooth") || {}).value || 0);
    const names = (S.meta && S.meta.layers) || [];
    const layer = (i) => names[i] || `layer ${i + 1}`;
    if (id === "chart-loss") {
      const out = [{ key: "batch", x, y: ema(st.loss, beta), name: "batch loss", line: { color: "#9aa5b1", width: 1 } }];
      for (const split of ["train", "val", "test"]) {
        const y = E.series[`${split}_loss`];
        if (y) out.push({ key: split, x: ex, y, name: `${split} loss`, line: { color: SPLITS[split] } });
      }
      return [out, layout("Loss")];
    }
    if (id === "chart-acc") {
      const metric = S.meta && S.meta.task === "regression" ? "r2" : "acc";
      const out = ["train", "val", "test"].filter((s) => E.series[`${s}_${metric}`]).map((s) => ({ key: s, x: ex,
        y: E.series[`${s}_${metric}`], name: `${s} ${metric === "r2" ? "R²" : "accuracy"}`, line: { color: SPLITS[s] } }));
      return [out, layout(metric === "r2" ? "R²" : "Accuracy", { yaxis: { type: "linear" } })];
    }
    if (id === "chart-grad") {
      return [st.grad.map((g, i) => ({ key: i, x, y: ema(g, beta), name: layer(i), line: { color: COLORS[i % COLORS.length] } })),
        layout("Gradient norm per layer (weights)", { yaxis: { type: "log" } })];
    }
    if (id === "chart-ratio") {
      return [st.ratio.map((r, i) => ({ key: i, x, y: ema(r, beta), name: layer(i), line: { color: COLORS[i % COLORS.length] } })),
        layout("Update / weight ratio", { yaxis: { type: "log" },
          shapes: [{ type: "line", xref: "paper", x0: 0, x1: 1, y0: 1e-3, y1: 1e-3, line: { dash: "dot", color: "#c8102e", width: 1 } }] })];
    }
    return [[{ key: "lr", x, y: st.lr, name: "lr", line: { color: "#9467bd" } }],
      layout("Learning rate", { showlegend: false, yaxis: { type: "linear", rangemode: "tozero" } })];
  }
  // Bring one chart up to date (chart_tail.js): 0 nothing new, 1 its canvas tail, 2 a Plotly sync.
  function drawChart(id, now, maySync) {
    const el = $(id);
    if (!el) return 0;
    const [traces, lay] = series(id);
    return BPTail.update(el, traces, lay, { version: gen, growing: S.running, now, maySync, config: CFG });
  }
  // Every frame each chart's tail follows the new points; Plotly syncs, the costly part,
  // take turns: at least one a frame, more while the frame's budget lasts.
  function drawCharts(now) {
    if (!S || !window.Plotly) return;
    const start = performance.now();
    let synced = 0;
    // The loss chart first (the curve people watch; a run's first visible update is often
    // its first point), then the others in turn.
    const others = CHARTS.length - 1;
    for (let k = 0; k < CHARTS.length; k++) {
      const id = k === 0 ? CHARTS[0] : CHARTS[1 + ((turn + k - 1) % others)];
      const r = drawChart(id, now, synced === 0 || performance.now() - start < BUDGET_MS);
      if (r === 2 && synced++ === 0 && k > 0) turn = (turn + k) % others;
      if (r && id === "chart-loss") {
        stats.frames += 1; stats.chartFrames += 1;
        if (stats.firstFrameAt === null && S.steps.step.length) stats.firstFrameAt = now;
      }
    }
  }

  // ---- counters (once per animation frame, from the newest frame) --------------------------
  function drawCounters() {
    const m = S && S.last;
    if (!m || m === S.shownLast) return;
    S.shownLast = m;
    $("step").textContent = m.step;
    $("epoch").textContent = Math.floor(m.epoch);
    stats.epochShown = m.epoch;
    if (S.speed.length > 2 && $("status").dataset.status === "running") {
      const [t0, e0] = S.speed[0], [t1, e1] = S.speed[S.speed.length - 1];
      if (t1 - t0 > 300) $("speed").textContent = ((e1 - e0) / ((t1 - t0) / 1000)).toFixed(1);
    }
    const ev = S.evalShown;
    if (ev && ev !== S.evalDrawn) {
      S.evalDrawn = ev;
      if (ev.train && ev.train.loss !== null) $("train-loss").textContent = ev.train.loss.toFixed(4);
      if (ev.test && ev.test.loss !== null) $("test-loss").textContent = ev.test.loss.toFixed(4);
    }
  }

  // ---- status ---------------------------------------------------------------------------
  function onStatus(ev) {
    const st = ev.status;
    if (S) S.running = st === "running";  // the run's, whatever a late panel swap shows
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
    // A queued run has no worker yet: Pause and +1 would only earn a 409.
    const pause = $("btn-pause"), step = $("btn-step");
    if (pause) pause.disabled = st !== "running";
    if (step) step.disabled = st !== "running" && st !== "paused";
    if (st !== "running" && S) {  // paused or ended: the charts fit their data, no headroom
      S.speed = []; $("speed").textContent = "–";
      gen += 1;
    }
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
      S.snapshot = null; S.snapDirty = true;
      if (window.BPNetwork && shown("network")) BPNetwork.layout($("network"), d);
    }).catch(() => {});
  }

  function handle(msg) {
    stats.events += 1;
    if (!S) attach();  // a replay can start before DOMContentLoaded handlers ran
    switch (msg.type) {
      case "start":
        S.meta = msg; S.snapDirty = true; gen += 1;
        if (window.BPNetwork && shown("network")) BPNetwork.layout($("network"), msg);
        break;
      case "metrics": onMetrics(msg); break;
      case "snapshot": S.snapshot = msg; S.snapDirty = true; stats.snapshots += 1; break;
      case "status": onStatus(msg); break;
      default: break;
    }
  }

  // ---- the animation loop -----------------------------------------------------------------
  function frame(now) {
    const began = performance.now();
    if (S) {
      if (S.snapDirty && S.meta) {
        S.snapDirty = false;
        if (window.BPBoundary && shown("plot-boundary")) BPBoundary.draw(S.meta, S.snapshot);
        const t1 = performance.now();
        stats.boundaryMs = (stats.boundaryMs || 0) + t1 - began;
        if (S.snapshot) {
          stats.pictures += 1;
          if (stats.firstFrameAt === null && S.runId) stats.firstFrameAt = now;
          if (window.BPNetwork && shown("network")) BPNetwork.update($("network"), S.snapshot);
        }
        stats.networkMs = (stats.networkMs || 0) + performance.now() - t1;
      }
      drawCounters();
      // The frame that shows a run's first picture ends here, so it reaches the screen
      // without waiting for a chart's first (costly) Plotly build.
      const firstPicture = S.snapshot && !S.pictured;
      if (S.snapshot) S.pictured = true;
      const t2 = performance.now();
      if (!firstPicture) drawCharts(now);
      stats.chartsMs = (stats.chartsMs || 0) + performance.now() - t2;
    }
    stats.drawMs += performance.now() - began;  // time this script spends drawing
    requestAnimationFrame(frame);
  }

  function attach() {
    const transport = $("transport");
    const runId = transport ? transport.dataset.run : "";
    if (!S || S.runId !== runId) {
      S = fresh(runId);
      CHARTS.forEach((id) => { BPTail.forget($(id)); if (window.Plotly && $(id)) Plotly.purge(id); });
      if (window.BPBoundary) BPBoundary.reset(true);
      if (runId) stats.playAt = stats.playAt || performance.now();
      gen += 1;
    }
  }

  BP.listen("run-socket", handle);
  document.addEventListener("htmx:after:swap", () => { attach(); preview(); });
  document.addEventListener("DOMContentLoaded", () => {
    attach();
    preview();
    for (const id of ["opt-smooth", "opt-logy", "opt-xaxis"]) $(id) && $(id).addEventListener("input", () => { gen += 1; });
    for (const id of ["opt-discretize", "opt-test"]) $(id) && $(id).addEventListener("change", () => { if (S) { S.snapDirty = true; BPBoundary.reset(); } });
    const gd = $("plot-boundary");
    // Zoom, pan or a resize moves the plot area: the picture follows on the next frame.
    if (gd) new ResizeObserver(() => { if (S) { S.snapDirty = true; BPBoundary.reset(); } }).observe(gd);
    $("btn-play") && document.addEventListener("click", (e) => { if (e.target && e.target.id === "btn-play") { stats.playAt = performance.now(); stats.firstFrameAt = null; } });
    requestAnimationFrame(frame);
  });
})();
