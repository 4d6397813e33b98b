// Optimizer race: the function's contour (log-scaled levels), a click sets the start point,
// and the steps of WS /ws/races/{id} are played back as trajectories on the contour, with
// the loss per step beside it. Every step the worker computed is drawn (none is dropped).
(function () {
  "use strict";
  const { $, CFG, TERMINAL } = window.BP;
  const stats = BP.hook("__race", { frames: 0, shown: 0, events: 0 });
  let fn = null;          // the function on screen: describe() + grid
  let R = null;           // the race being watched
  let last = performance.now();
  let dirty = true;

  const colors = () => { try { return JSON.parse(document.querySelector(".race-page").dataset.colors); } catch (_) { return ["#1f77b4"]; } };
  const color = (i) => { const c = colors(); return c[i % c.length]; };
  const fmt = (v, d) => (v === null || v === undefined || !isFinite(v) ? "–" : Number(v).toPrecision(d || 4));
  const levels = (z) => (fn && fn.log ? Math.log10(Math.max(z - fn.min_value, 1e-4)) : z);

  // ---- the function --------------------------------------------------------------------
  function loadFunction(key) {
    if (fn && fn.key === key) return;
    fetch(`/api/races/functions/${encodeURIComponent(key)}?size=120`).then((r) => r.json()).then((d) => {
      fn = d; fn.logZ = d.grid.z.map((row) => row.map(levels));
      dirty = true; drawContour();
    }).catch(() => {});
  }
  function startPoint() {
    const x = parseFloat(($("race-start-x") || {}).value), y = parseFloat(($("race-start-y") || {}).value);
    return isFinite(x) && isFinite(y) ? [x, y] : (fn ? fn.start : [0, 0]);
  }
  function contourTrace() {
    const lo = Math.floor(Math.min(...fn.logZ.map((r) => Math.min(...r)))), hi = Math.ceil(Math.max(...fn.logZ.map((r) => Math.max(...r))));
    const ticks = [];
    for (let k = lo; k <= hi; k++) ticks.push(k);
    return { type: "contour", x: fn.grid.x, y: fn.grid.y, z: fn.logZ, colorscale: "Viridis", reversescale: true, ncontours: 28,
      contours: { coloring: "heatmap", showlines: true }, line: { width: 0.5, color: "rgba(255,255,255,0.35)" }, hoverinfo: "none",  // "skip" would also swallow clicks
      colorbar: fn.log ? { title: { text: "f − min", side: "right" }, tickvals: ticks, ticktext: ticks.map((k) => `1e${k}`), thickness: 12 } : { title: { text: "f" }, thickness: 12 } };
  }
  function drawContour() {
    if (!fn || !window.Plotly || !$("race-contour")) return;
    const traces = [contourTrace()];
    traces.push({ x: fn.minima.map((m) => m[0]), y: fn.minima.map((m) => m[1]), mode: "markers", name: "minima", hoverinfo: "skip",
      marker: { symbol: "star", size: 13, color: "#fff", line: { color: "#000", width: 1 } } });
    if (fn.saddles.length) traces.push({ x: fn.saddles.map((m) => m[0]), y: fn.saddles.map((m) => m[1]), mode: "markers", name: "saddle", hoverinfo: "skip", marker: { symbol: "x", size: 10, color: "#fff" } });
    const s = R && R.start ? R.start : startPoint();
    traces.push({ x: [s[0]], y: [s[1]], mode: "markers", name: "start", hoverinfo: "skip", marker: { size: 12, color: "#fff", line: { color: "#000", width: 2 } } });
    if (R) R.racers.forEach((r, i) => {
      const n = R.shown + 1;
      traces.push({ x: r.x.slice(0, n), y: r.y.slice(0, n), mode: "lines", name: r.label, line: { color: color(i), width: 2.5 }, hoverinfo: "skip" });
      const k = lastFinite(r, n);
      if (k >= 0) traces.push({ x: [r.x[k]], y: [r.y[k]], mode: "markers", showlegend: false, hoverinfo: "skip", marker: { size: 10, color: color(i), line: { color: "#fff", width: 1.5 } } });
    });
    Plotly.react("race-contour", traces, { margin: { l: 40, r: 10, t: 10, b: 36 }, showlegend: false, datarevision: stats.frames,
      xaxis: { range: fn.x_range, zeroline: false, title: { text: "x" } }, yaxis: { range: fn.y_range, zeroline: false, title: { text: "y" } } }, CFG).then(bindClick);
    stats.frames += 1;
  }
  function lastFinite(r, n) { for (let k = Math.min(n, r.x.length) - 1; k >= 0; k--) if (r.x[k] !== null) return k; return -1; }

  // ---- the race ------------------------------------------------------------------------
  function onStart(msg) {
    R = { start: msg.start, target: msg.target, computed: 0, shown: 0, done: false, summary: null,
      racers: msg.racers.map((r) => ({ label: r.label, x: [], y: [], loss: [], steps: [] })) };
    $("race-target").textContent = `target: f − min ≤ ${fmt(msg.target, 2)}`;
    renderTable();
  }
  function onSteps(msg) {
    msg.steps.forEach((s, k) => R.racers.forEach((r, i) => { r.steps.push(s); r.x.push(msg.x[k][i]); r.y.push(msg.y[k][i]); r.loss.push(msg.loss[k][i]); }));
    R.computed = msg.steps[msg.steps.length - 1];
    $("race-computed").textContent = R.computed;
  }
  function onStatus(ev) {
    const st = ev.status;
    $("race-status").textContent = st; $("race-status").dataset.status = st;
    $("race-transport").dataset.status = st;
    $("race-stop").disabled = TERMINAL.includes(st);
    $("race-detail").textContent = st === "queued" ? "Waiting for a free worker." : (TERMINAL.includes(st) ? ev.reason || "" : "");
    if (R && ev.summary && ev.summary.racers) { R.summary = ev.summary.racers; R.done = true; renderTable(); }
  }
  function handle(msg) {
    stats.events += 1;
    if (msg.type === "start") onStart(msg);
    else if (msg.type === "steps" && R) onSteps(msg);
    else if (msg.type === "status") onStatus(msg);
  }

  function renderTable() {
    const body = $("race-table") && $("race-table").querySelector("tbody");
    if (!body || !R) return;
    body.replaceChildren();
    R.racers.forEach((r, i) => {
      const s = R.summary ? R.summary[i] : null, n = Math.min(R.shown, r.loss.length - 1);
      const k = lastFinite(r, n + 1), best = Math.min(...r.loss.slice(0, n + 1).filter((v) => v !== null));
      const reached = r.loss.slice(0, n + 1).findIndex((v) => v !== null && v - (fn ? fn.min_value : 0) <= R.target);
      const cells = [r.label, r.steps[n] ?? 0, k >= 0 ? fmt(r.loss[k]) : "–", isFinite(best) ? fmt(best) : "–",
        reached >= 0 ? r.steps[reached] : "–",
        s && s.nearest_minimum !== null && fn ? `(${fn.minima[s.nearest_minimum].map((v) => fmt(v, 3)).join(", ")}), ${fmt(s.distance, 2)} away` : "–",
        s ? (s.diverged ? `yes, at step ${s.diverged_at}` : "no") : (r.x[n] === null ? "yes" : "no")];
      const tr = document.createElement("tr");
      cells.forEach((c, j) => { const td = document.createElement("td"); td.textContent = c; if (j === 0) { const sw = document.createElement("span"); sw.className = "swatch"; sw.style.background = color(i); td.prepend(sw, " "); } tr.append(td); });
      body.append(tr);
    });
  }

  function drawLoss() {
    if (!R || !window.Plotly) return;
    const n = R.shown + 1, min = fn ? fn.min_value : 0;
    const traces = R.racers.map((r, i) => ({ x: r.steps.slice(0, n), y: r.loss.slice(0, n).map((v) => (v === null ? null : Math.max(v - min, 1e-12))), mode: "lines", name: r.label, line: { color: color(i), width: 2 } }));
    Plotly.react("race-loss", traces, { title: { text: "f − min per step", font: { size: 13 } }, margin: { l: 52, r: 10, t: 30, b: 36 }, datarevision: stats.frames,
      legend: { orientation: "h", y: -0.25, font: { size: 10 } }, xaxis: { title: { text: "step" } }, yaxis: { type: "log", exponentformat: "e" } }, CFG);
    if (fn) {
      const m = fn.minima[0];
      const dist = R.racers.map((r, i) => ({ x: r.steps.slice(0, n), y: r.x.slice(0, n).map((x, k) => (x === null ? null : Math.hypot(x - m[0], r.y[k] - m[1]))), mode: "lines", name: r.label, showlegend: false, line: { color: color(i), width: 2 } }));
      Plotly.react("race-dist", dist, { title: { text: "distance to the (first) global minimum", font: { size: 13 } }, margin: { l: 52, r: 10, t: 30, b: 36 }, datarevision: stats.frames, xaxis: { title: { text: "step" } }, yaxis: { type: "log", exponentformat: "e" } }, CFG);
    }
  }

  // Playback: advance `shown` at the chosen speed (never past what was computed).
  function frame(now) {
    const dt = Math.min(0.1, (now - last) / 1000);
    last = now;
    if (R) {
      const total = R.racers.length ? R.racers[0].steps.length - 1 : 0;
      const speed = parseFloat(($("race-speed") || {}).value || "100");
      const target = speed > 0 ? Math.min(total, R.shown + Math.max(1, Math.round(speed * dt))) : total;
      if (target !== R.shown) { R.shown = Math.max(0, target); dirty = true; }
    }
    if (dirty) {
      dirty = false; drawContour(); drawLoss();
      if (R) { stats.shown = R.shown; $("race-step").textContent = R.racers.length ? R.racers[0].steps[R.shown] ?? 0 : 0; renderTable(); }
    }
    requestAnimationFrame(frame);
  }

  // ---- wiring --------------------------------------------------------------------------
  function bindClick() {
    const plot = $("race-contour");
    if (!plot || plot.dataset.bound || !plot.on) return;
    plot.dataset.bound = "1";
    plot.on("plotly_click", (e) => {
      const p = e.points && e.points[0];
      if (!p || !$("race-start-x")) return;
      $("race-start-x").value = p.x; $("race-start-y").value = p.y;
      $("race-start-text").textContent = `(${fmt(p.x, 3)}, ${fmt(p.y, 3)})`;
      R = null; dirty = true;
    });
  }
  function attach() {
    const sel = $("race-function");
    if (sel) loadFunction(sel.value);
    dirty = true;
  }
  BP.listen("race-socket", handle);
  document.addEventListener("change", (e) => {  // capture: before htmx posts the form
    if (e.target && e.target.id === "race-function") {  // the new function's own start point
      $("race-start-x").value = ""; $("race-start-y").value = ""; R = null;
    }
  }, true);
  document.addEventListener("htmx:after:swap", () => { attach(); });
  document.addEventListener("DOMContentLoaded", () => { attach(); requestAnimationFrame(frame); });
})();
