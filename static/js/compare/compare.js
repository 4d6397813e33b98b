// Compare page: JSON frames from /ws/comparisons/{id} -> overlaid loss and gradient-norm
// curves (one colour per member), the live summary table, one decision boundary per member.
// Colours and labels come from the run panel the server renders (data-members).
(function () {
  "use strict";
  const { $, CFG, DOMAIN, MAX_POINTS, TERMINAL, axis, half } = window.BP;
  const DASH = ["solid", "dot", "dash", "longdash", "dashdot", "longdashdot"];
  const stats = BP.hook("__cmp", { frames: 0, events: 0, pictures: 0 });
  const hidden = new Set();  // member indexes hidden from every view (legend toggle)
  let C = null;
  let dirty = false;
  let version = 0;  // bumps when the curves must be rebuilt (options, halving, legend, status)
  const dirtyPictures = new Set();

  function fresh(id, members) {
    return {
      id, status: "queued", members: members.map((m) => Object.assign({}, m, {
        meta: null, status: "queued", points: null, snapshot: null,
        steps: { step: [], epoch: [], grad: [] }, evals: { step: [], epoch: [], train: [], val: [] },
      })), summary: null, lastStep: 0, lastEpoch: 0,
    };
  }
  const xKey = () => ($("cmp-xaxis") && $("cmp-xaxis").value) || "step";
  const fmt = BP.fixed;

  // ---- events -------------------------------------------------------------------------
  function onMetrics(M, m) {
    const st = M.steps;
    if (m.steps > 0 || !st.step.length) {
      st.step.push(m.step); st.epoch.push(m.epoch);
      (m.grad_w || []).forEach((g, i) => { (st.grad[i] = st.grad[i] || []); while (st.grad[i].length < st.step.length - 1) st.grad[i].push(null); st.grad[i].push(g); });
      if (st.step.length > MAX_POINTS) { st.step = half(st.step); st.epoch = half(st.epoch); st.grad = st.grad.map(half); version += 1; }
    }
    if (m.eval) {
      const E = M.evals, ev = m.eval;
      E.step.push(ev.step); E.epoch.push(ev.epoch);
      E.train.push(ev.train ? ev.train.loss : null); E.val.push(ev.val ? ev.val.loss : null);
      if (E.step.length > MAX_POINTS) { for (const k of Object.keys(E)) E[k] = half(E[k]); version += 1; }
    }
    if (m.step >= C.lastStep) { C.lastStep = m.step; C.lastEpoch = m.epoch; }
    dirty = true;
  }

  function onStatus(ev) {
    if (C.status !== ev.status) { version += 1; dirty = true; }  // paused or ended: axes fit the data
    C.status = ev.status;
    const st = ev.status, el = $("cmp-status");
    el.textContent = st + (st === "queued" && ev.position ? ` #${ev.position}` : "");
    el.dataset.status = st;
    $("cmp-transport").dataset.status = st;
    let text = "";
    if (st === "queued") text = ev.position ? `Waiting for a free worker: position ${ev.position} in the queue.` : "Waiting for a free worker.";
    else if (ev.reason && st !== "running" && st !== "paused") text = ev.reason;
    $("cmp-detail").textContent = text;
    $("cmp-detail").classList.toggle("bad", st === "failed" || st === "diverged");
    const live = !TERMINAL.includes(st), paused = st === "paused";
    $("cmp-pause").disabled = !live || paused || st === "queued";
    $("cmp-step").disabled = !live || st === "queued";
    $("cmp-stop").disabled = !live;
    if (TERMINAL.includes(st)) C.members.forEach((M) => { if (!TERMINAL.includes(M.status)) M.status = st; });
    renderTable();
  }

  function handle(msg) {
    stats.events += 1;
    if (!C) return;
    if (msg.type === "status") { onStatus(msg); return; }
    if (msg.type === "summary") {
      C.summary = msg; renderTable();
      document.dispatchEvent(new CustomEvent("cmp:summary", { detail: msg }));  // sweep.js
      return;
    }
    const M = C.members[msg.member];
    if (!M) return;
    switch (msg.type) {
      case "start":
        M.meta = msg; M.status = C.status;
        M.points = msg.points || (C.members[0] && C.members[0].points) || null;
        ensurePicture(M); dirtyPictures.add(M.index); break;
      case "metrics": onMetrics(M, msg); break;
      case "snapshot": M.snapshot = msg; dirtyPictures.add(M.index); break;
      case "end": M.status = msg.status; M.reason = msg.reason; renderTable(); break;
      default: break;
    }
  }

  // ---- curves -------------------------------------------------------------------------
  function layout(title, logy) {
    return { title: { text: title, font: { size: 13 } }, margin: { l: 52, r: 10, t: 30, b: 36 }, showlegend: false,
      xaxis: { title: { text: xKey() }, autorange: true }, yaxis: { type: logy ? "log" : "linear", autorange: true } };
  }
  function drawCharts() {
    if (!C || !window.Plotly) return;
    const x = xKey(), logy = $("cmp-logy") && $("cmp-logy").checked;
    const loss = [], grad = [];
    for (const M of C.members) {
      if (hidden.has(M.index)) continue;
      const E = M.evals;
      loss.push({ x: E[x], y: E.train, name: `${M.label} train`, mode: "lines", line: { color: M.color, width: 2 }, meta: M.index });
      if (E.val.some((v) => v !== null)) loss.push({ x: E[x], y: E.val, name: `${M.label} val`, mode: "lines", line: { color: M.color, width: 2, dash: "dash" }, meta: M.index });
      const names = (M.meta && M.meta.layers) || [];
      M.steps.grad.forEach((g, l) => grad.push({ x: M.steps[x], y: g, name: `${M.label} ${names[l] || "layer " + (l + 1)}`, mode: "lines",
        line: { color: M.color, width: 1.5, dash: DASH[l % DASH.length] }, meta: M.index }));
    }
    // New points go on each chart's canvas tail; Plotly syncs now and then (chart_tail.js).
    const o = { version, growing: C.status === "running", now: performance.now(), maySync: true, config: CFG };
    const drew = BPTail.update($("cmp-loss"), loss, layout("Loss (train solid, val dashed)", logy), o)
      + BPTail.update($("cmp-grad"), grad, layout("Gradient norm per layer", true), o);
    $("cmp-step-count").textContent = C.lastStep;
    $("cmp-epoch").textContent = Math.floor(C.lastEpoch);
    if (drew) stats.frames += 1;
  }

  // ---- small multiples ----------------------------------------------------------------
  function ensurePicture(M) {
    const id = `cmp-b-${M.index}`;
    if ($(id)) return;
    const card = document.createElement("figure");
    card.className = "multiple"; card.dataset.member = M.index; card.style.setProperty("--member", M.color);
    const cap = document.createElement("figcaption");
    cap.textContent = M.label;
    const plot = document.createElement("div");
    plot.id = id; plot.className = "plot multiple-plot";
    card.append(cap, plot);
    $("cmp-boundaries").append(card);
    card.hidden = hidden.has(M.index);
  }
  // Only the point families have an input square to paint (their first member's start
  // record carries the points, which the members share); images, sequences and tokens
  // have their own views on the playground, so for them the card stays hidden rather
  // than showing empty axes.
  function pictureCard(show) {
    const card = $("cmp-boundaries") && $("cmp-boundaries").closest(".card");
    if (card) card.hidden = !show;
  }
  function drawPicture(M) {
    if (!window.Plotly || !M.meta || !$(`cmp-b-${M.index}`)) return;
    pictureCard(!!M.points);
    if (!M.points) return;
    const task = M.meta.task, traces = [], snap = M.snapshot;
    const dims = parseInt($("cmp-transport").dataset.dims || "2", 10);
    if (snap && snap.grid) {
      const n = snap.grid.size, ax = axis(n), v = snap.grid.values;
      if (dims === 1) {
        const row = Math.floor(n / 2);
        traces.push({ x: ax, y: v.slice(row * n, row * n + n), mode: "lines", line: { color: M.color, width: 3 } });
      } else {
        const z = [];
        for (let r = 0; r < n; r++) z.push(v.slice(r * n, r * n + n));
        const multi = task === "multiclass", k = Math.max(2, M.meta.classes || 2);
        const scale = multi ? BP.COLORS.slice(0, k).flatMap((c, i) => [[i / k, c], [(i + 1) / k, c]]) : [[0, BP.NEG], [0.5, BP.MID], [1, BP.POS]];
        traces.push({ type: "heatmap", x: ax, y: ax, z, colorscale: scale, showscale: false, opacity: multi ? 0.55 : 0.85, hoverinfo: "skip",
          zmin: multi ? -0.5 : (task === "regression" ? -1 : 0), zmax: multi ? k - 0.5 : 1 });
      }
    }
    const p = M.points && M.points.train;
    if (p && p.x.length) {
      const color = task === "regression" ? "#333" : p.y.map((y) => (task === "multiclass" ? BP.COLORS[y % 4] : (y > 0.5 ? BP.POS : BP.NEG)));
      traces.push({ x: p.x.map((r) => r[0]), y: dims === 1 ? p.y : p.x.map((r) => r[1]), mode: "markers", type: "scatter", hoverinfo: "skip",
        marker: { color, size: 4, line: { color: "#fff", width: 0.5 } } });
    }
    Plotly.react(`cmp-b-${M.index}`, traces, { margin: { l: 20, r: 4, t: 4, b: 20 }, showlegend: false, datarevision: stats.pictures,
      xaxis: { range: DOMAIN, zeroline: false }, yaxis: { range: dims === 1 ? [-2, 2] : DOMAIN, zeroline: false } }, { displayModeBar: false, staticPlot: true });
    stats.pictures += 1;
  }

  // ---- summary table ------------------------------------------------------------------
  function cell(text, cls) { const td = document.createElement("td"); td.textContent = text; if (cls) td.className = cls; return td; }
  function renderTable() {
    const body = $("cmp-summary") && $("cmp-summary").querySelector("tbody");
    if (!body || !C) return;
    const rows = (C.summary && C.summary.members) || C.members.map((M) => ({ member: M.index, label: M.label, status: M.status, step: 0 }));
    body.replaceChildren();
    let target = null;
    for (const r of rows) {
      const M = C.members[r.member] || {};
      const tr = document.createElement("tr");
      tr.dataset.member = r.member;
      tr.className = (r.leader ? "leader " : "") + (hidden.has(r.member) ? "dim" : "");
      const name = cell("", "who");
      const sw = document.createElement("span"); sw.className = "swatch"; sw.style.background = M.color || "#999";
      name.append(sw, document.createTextNode(` ${r.label}${r.leader ? " ★" : ""}`));
      tr.append(name);
      // Parameter counts side by side; a member with another network draws its own init.
      const own = r.initial_weights === "independent" ? " (own init)" : "";
      tr.append(cell(r.params == null ? "–" : r.params.toLocaleString("en-US") + own, "params"));
      let status = TERMINAL.includes(M.status) && !TERMINAL.includes(r.status) ? M.status : r.status;
      if (status === "running" && C.status !== "running") status = C.status;  // paused, queued
      tr.append(cell(status, `st-${status}`), cell(r.step ?? 0));
      const current = r.val_loss ?? r.train_loss;
      tr.append(cell(current === undefined || current === null ? "–" : fmt(current) + (r.val_loss == null ? " (train)" : "")));
      tr.append(cell(r.best_val_loss == null ? "–" : `${fmt(r.best_val_loss)} @ ${r.best_val_step}`));
      tr.append(cell(r.steps_to_target == null ? "–" : r.steps_to_target));
      tr.append(cell(r.seconds == null ? "–" : `${fmt(r.seconds, 1)} s`));
      tr.append(cell(r.diverged ? `yes, at step ${r.diverged_at}` : "no", r.diverged ? "bad" : ""));
      body.append(tr);
      if (r.target_loss != null) target = r.target_loss;
    }
    if (target !== null) $("cmp-target").textContent = `target loss ${fmt(target)} (steps to target = first evaluation at or below it)`;
  }

  // ---- legend -------------------------------------------------------------------------
  function renderLegend() {
    const box = $("cmp-legend");
    if (!box) return;
    box.replaceChildren();
    if (!C) { box.textContent = "Press ▶ to train all members together."; return; }
    for (const M of C.members) {
      const b = document.createElement("button");
      b.type = "button"; b.className = "legend-chip"; b.dataset.member = M.index;
      b.style.setProperty("--member", M.color);
      b.setAttribute("aria-pressed", hidden.has(M.index) ? "false" : "true");
      b.textContent = M.label;
      b.addEventListener("click", () => {
        if (hidden.has(M.index)) hidden.delete(M.index); else hidden.add(M.index);
        b.setAttribute("aria-pressed", hidden.has(M.index) ? "false" : "true");
        const card = document.querySelector(`.multiple[data-member="${M.index}"]`);
        if (card) card.hidden = hidden.has(M.index);
        version += 1; dirty = true; renderTable();
      });
      box.append(b);
    }
  }

  // ---- wiring -------------------------------------------------------------------------
  function attach() {
    const t = $("cmp-transport");
    if (!t) return;
    const id = t.dataset.comparison || "";
    if (C && C.id === id) return;
    if (!id && C) return;  // an error panel after Play keeps the last comparison on screen
    let members = [];
    try { members = JSON.parse(t.dataset.members || "[]"); } catch (_) { members = []; }
    C = id ? fresh(id, members) : null;
    if (window.Plotly) ["cmp-loss", "cmp-grad"].forEach((p) => { if ($(p)) { BPTail.forget($(p)); Plotly.purge(p); } });
    version += 1;
    if ($("cmp-boundaries")) $("cmp-boundaries").replaceChildren();
    pictureCard(true);
    renderLegend(); renderTable();
    dirty = true;
  }

  function frame() {
    if (dirty) { dirty = false; drawCharts(); }
    if (C && dirtyPictures.size) { for (const i of dirtyPictures) drawPicture(C.members[i]); dirtyPictures.clear(); }
    requestAnimationFrame(frame);
  }

  BP.listen("cmp-socket", handle);
  document.addEventListener("htmx:after:swap", attach);
  document.addEventListener("DOMContentLoaded", () => {
    attach();
    for (const id of ["cmp-logy", "cmp-xaxis"]) $(id) && $(id).addEventListener("change", () => { version += 1; dirty = true; });
    requestAnimationFrame(frame);
  });
})();
