// The diagnostics panel and the softmax temperature view, fed by the run's socket.
// Listens to the run socket's frames beside charts.js (BP.listen, static/js/core.js):
// snapshot.diagnostics (<= 2/s) fills the per-layer table and the temperature view's
// logits grid; metrics frames (live) give the update/weight ratios.
(function () {
  "use strict";
  const { $ } = window.BP;
  const SVG = "http://www.w3.org/2000/svg";
  const RATIO_REF = 1e-3, RATIO_BAND = [1e-4, 1e-2];
  const T_MIN = 0.1, T_MAX = 5;
  const state = { runId: null, frames: 0, diag: null, logits: null, ratios: null, point: [0, 0], classes: 2 };
  BP.hook("__bpDiag", state);

  // ---- formatting ---------------------------------------------------------------------------
  function num(v, digits) {
    if (v === null || v === undefined || !isFinite(v)) return "–";
    const a = Math.abs(v), d = digits === undefined ? 3 : digits;
    if (a !== 0 && (a < Math.pow(10, -d) || a >= 1e4)) return v.toExponential(1);  // never "0.00"
    return v.toFixed(d);
  }
  const pct = (v) => (v === null || v === undefined || !isFinite(v) ? "–" : (100 * v).toFixed(0) + "%");
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function meter(fraction, cls) {        // a small horizontal bar; width via CSSOM (CSP-safe)
    const outer = el("span", "meter " + (cls || ""));
    const inner = el("span", "meter-fill");
    inner.style.width = (100 * Math.max(0, Math.min(1, fraction || 0))).toFixed(1) + "%";
    outer.appendChild(inner);
    return outer;
  }
  function cell(value, text, title, extra) {
    const td = el("td");
    td.dataset.value = value === null || value === undefined ? "" : String(value);
    if (title) td.title = title;
    const span = el("span", "v", text);
    td.appendChild(span);
    if (extra) td.appendChild(extra);
    return td;
  }

  // ---- histogram with percentile bands (SVG, attributes only) -------------------------------
  function histogram(dist, kind) {
    const w = 112, h = 32;
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
    svg.setAttribute("width", w); svg.setAttribute("height", h);
    svg.setAttribute("class", "hist " + kind);
    if (!dist || !dist.edges || !dist.edges.length) return svg;
    const lo = dist.edges[0], hi = dist.edges[dist.edges.length - 1], span = hi - lo || 1;
    const x = (v) => ((v - lo) / span) * w;
    const b = dist.bands || {};
    const rect = (x0, x1, cls) => {
      if (b.p5 === null || x0 === null || x1 === null) return;
      const r = document.createElementNS(SVG, "rect");
      r.setAttribute("x", x(x0)); r.setAttribute("y", 0);
      r.setAttribute("width", Math.max(1, x(x1) - x(x0))); r.setAttribute("height", h);
      r.setAttribute("class", cls);
      svg.appendChild(r);
    };
    rect(b.p5, b.p95, "band-outer");
    rect(b.p25, b.p75, "band-inner");
    const top = Math.max(1, ...dist.counts);
    const bw = w / dist.counts.length;
    dist.counts.forEach((c, i) => {
      if (!c) return;
      const r = document.createElementNS(SVG, "rect");
      const bh = Math.max(1, (c / top) * (h - 2));
      r.setAttribute("x", i * bw + 0.5); r.setAttribute("y", h - bh);
      r.setAttribute("width", Math.max(0.5, bw - 1)); r.setAttribute("height", bh);
      r.setAttribute("class", "bar");
      svg.appendChild(r);
    });
    if (b.p50 !== null && b.p50 !== undefined) {
      const m = document.createElementNS(SVG, "line");
      m.setAttribute("x1", x(b.p50)); m.setAttribute("x2", x(b.p50));
      m.setAttribute("y1", 0); m.setAttribute("y2", h);
      m.setAttribute("class", "median");
      svg.appendChild(m);
    }
    const title = document.createElementNS(SVG, "title");
    title.textContent = `${kind}: range ${num(lo)} … ${num(hi)}\n` +
      ["p5", "p25", "p50", "p75", "p95"].map((k) => `${k} ${num(b[k])}`).join("  ") +
      `\nmean ${num(dist.mean)}, std ${num(dist.std)}` + (dist.nonfinite ? `, ${dist.nonfinite} non-finite` : "");
    svg.appendChild(title);
    return svg;
  }
  function histCell(dist, kind) {
    const td = el("td", "hist-cell");
    td.appendChild(histogram(dist, kind));
    const b = (dist && dist.bands) || {};
    for (const k of ["p5", "p25", "p50", "p75", "p95"]) td.dataset[k] = b[k] === null || b[k] === undefined ? "" : b[k];
    const axis = el("span", "hist-axis", dist && dist.edges && dist.edges.length ? `${num(dist.edges[0], 2)} … ${num(dist.edges[dist.edges.length - 1], 2)}` : "");
    td.appendChild(axis);
    return td;
  }

  // ---- the per-layer table ------------------------------------------------------------------
  function ratioFlag(r) {
    if (r === null || r === undefined || !isFinite(r)) return "";
    return r > RATIO_BAND[1] ? "high" : r < RATIO_BAND[0] ? "low" : "ok";
  }
  function ratioCell(i) {
    const r = state.ratios ? state.ratios[i] : null;
    const flag = ratioFlag(r);
    // log scale 1e-6 .. 1: the reference 1e-3 sits in the middle
    const pos = r > 0 ? (Math.log10(r) + 6) / 6 : 0;
    const td = cell(r, num(r), `update/weight ${num(r)} (reference ${RATIO_REF}; healthy ${RATIO_BAND[0]}–${RATIO_BAND[1]})`, meter(pos, "log " + flag));
    td.classList.add("ratio");
    td.dataset.flag = flag;
    return td;
  }
  function renderTable() {
    const d = state.diag;
    const body = $("diag-rows");
    if (!d || !body) return;
    const rows = [];
    d.layers.forEach((L, i) => {
      const tr = el("tr");
      tr.dataset.layer = L.name;
      const name = cell(L.name, L.name, `${L.units} units`);
      name.classList.add("layer-name");
      name.appendChild(el("small", "muted", ` ${L.units}u`));
      tr.appendChild(name);
      const dead = cell(L.dead, pct(L.dead), "dead units", meter(L.dead, L.dead > 0.5 ? "bad" : L.dead > 0 ? "warn" : ""));
      dead.classList.add("dead"); tr.appendChild(dead);
      const sat = cell(L.saturated, pct(L.saturated), "saturated activations", meter(L.saturated, L.saturated > 0.5 ? "bad" : L.saturated > 0.2 ? "warn" : ""));
      sat.classList.add("saturated"); tr.appendChild(sat);
      const symBad = L.symmetry !== null && L.symmetry > 0.99;
      const sym = cell(L.symmetry, num(L.symmetry, 3), symBad ? "every unit of this layer is a clone: the symmetry was never broken" : "mean pairwise cosine similarity", meter(L.symmetry, symBad ? "bad" : L.symmetry > 0.8 ? "warn" : ""));
      sym.classList.add("symmetry"); tr.appendChild(sym);
      tr.appendChild(ratioCell(i));
      const out = d.output ? d.output.grad_norm : null;
      const g = cell(L.grad_norm, L.grad_ratio === null ? num(L.grad_norm) : num(L.grad_ratio, 2) + "×",
        `weight-gradient norm ${num(L.grad_norm)}` + (L.grad_ratio === null ? "" : ` = ${num(L.grad_ratio, 3)}× the output layer's (${num(out)})`));
      g.classList.add("gradient");
      g.dataset.flag = L.grad_flag;
      const flag = el("span", "flag " + L.grad_flag, L.grad_flag);
      g.appendChild(flag);
      tr.appendChild(g);
      const sp = cell(L.sparsity, pct(L.sparsity), "weights with |w| ≤ 1e-3");
      sp.classList.add("sparsity"); tr.appendChild(sp);
      const sa = cell(L.sign_agreement, num(L.sign_agreement, 2), "per-point update sign agreement");
      sa.classList.add("sign"); tr.appendChild(sa);
      const act = histCell(L.activation, "activations"); act.classList.add("act"); tr.appendChild(act);
      const grad = histCell(L.gradient, "gradients"); grad.classList.add("grad"); tr.appendChild(grad);
      rows.push(tr);
    });
    if (!rows.length) {
      const tr = el("tr", "diag-empty");
      const td = el("td", "", "This network has no hidden layer: nothing to diagnose per layer.");
      td.colSpan = 10; tr.appendChild(td); rows.push(tr);
    }
    body.replaceChildren(...rows);
  }
  // Activation sites that are no weight layer's output (an RNN's hidden states and gates).
  function renderSites() {
    const d = state.diag, table = $("diag-sites"), body = $("diag-site-rows");
    if (!d || !table || !body) return;
    const sites = d.activations || [];
    table.hidden = !sites.length;
    body.replaceChildren(...sites.map((S) => {
      const tr = el("tr");
      tr.dataset.site = S.name;
      const name = cell(S.name, S.name, `${S.units} units`);
      name.classList.add("layer-name");
      name.appendChild(el("small", "muted", ` ${S.units}u`));
      tr.appendChild(name);
      tr.appendChild(cell(S.function, S.function || "–"));
      const dead = cell(S.dead, pct(S.dead), "dead units", meter(S.dead, S.dead >= 0.5 ? "bad" : S.dead > 0 ? "warn" : ""));
      dead.classList.add("dead"); tr.appendChild(dead);
      const sat = cell(S.saturated, pct(S.saturated), "saturated values", meter(S.saturated, S.saturated >= 0.5 ? "bad" : S.saturated > 0.2 ? "warn" : ""));
      sat.classList.add("saturated"); tr.appendChild(sat);
      const act = histCell(S.activation, "activations"); act.classList.add("act"); tr.appendChild(act);
      return tr;
    }));
  }
  // Attention per head: entropy against a uniform spread, and the largest weight.
  function renderAttention() {
    const d = state.diag, table = $("diag-attn"), body = $("diag-attn-rows");
    if (!d || !table || !body) return;
    const heads = d.attention || [];
    table.hidden = !heads.length;
    body.replaceChildren(...heads.map((H) => {
      const tr = el("tr");
      tr.dataset.head = H.name;
      tr.appendChild(cell(H.name, H.name));
      const ent = cell(H.entropy, `${num(H.entropy, 2)} / ${num(H.max_entropy, 2)}`,
        `entropy ${num(H.entropy)} nats of at most ${num(H.max_entropy)} (${pct(H.spread)} of uniform)`, meter(H.spread, H.spread < 0.1 ? "warn" : ""));
      ent.classList.add("entropy"); tr.appendChild(ent);
      const peak = cell(H.peak, num(H.peak, 2), "mean largest weight of a query", meter(H.peak));
      peak.classList.add("peak"); tr.appendChild(peak);
      return tr;
    }));
  }
  function refreshRatios() {        // live: only the ratio cells change between diagnostics frames
    const body = $("diag-rows");
    if (!body || !state.diag) return;
    body.querySelectorAll("tr[data-layer]").forEach((tr, i) => {
      const old = tr.querySelector("td.ratio");
      if (old) old.replaceWith(ratioCell(i));
    });
  }
  function renderSummary() {
    const d = state.diag;
    const init = $("diag-init"), flags = $("diag-flags");
    if (!d || !init || !flags) return;
    const li = d.loss_at_init || {};
    if (li.expected === null || li.expected === undefined) {
      init.textContent = "loss at init: n/a (regression)";
      init.dataset.ok = "";
    } else {
      const k = d.classes || 2;
      init.textContent = `loss at init ${num(li.actual)} vs −log(1/${k}) = ${num(li.expected)} (×${num(li.ratio, 2)})`;
      init.dataset.ok = li.ok === false ? "false" : "true";
    }
    init.dataset.actual = li.actual ?? ""; init.dataset.expected = li.expected ?? "";
    if (li.ok === false) init.textContent += ": over-confident start";
    const f = d.flags || {};
    const vanish = f.vanishing || [], explode = f.exploding || [], sat = f.saturated || [], dead = f.dead || [];
    flags.dataset.state = explode.length ? "exploding" : vanish.length ? "vanishing" : sat.length ? "saturated" : dead.length ? "dead" : "ok";
    const parts = [];
    if (explode.length) parts.push(`gradients exploding in ${explode.join(", ")}`);
    if (vanish.length) parts.push(`gradients vanishing in ${vanish.join(", ")}`);
    if (sat.length) parts.push(`saturated: ${sat.join(", ")}`);
    if (dead.length) parts.push(`mostly dead: ${dead.join(", ")}`);
    flags.textContent = parts.length ? "⚠ " + parts.join("; ") : "gradients healthy";
    $("diag-caption").textContent = `per layer · step ${d.step}`;
  }

  function onDiagnostics(d) {
    const err = $("diag-error");
    if (d.error) {           // the probe failed: say so, keep the last good table
      if (err) { err.hidden = false; err.textContent = "diagnostics unavailable: " + d.error; }
      return;
    }
    if (err) err.hidden = true;
    state.diag = d;
    state.frames += 1;
    $("diagnostics").dataset.state = "live";
    renderTable();
    renderSites();
    renderAttention();
    renderSummary();
    if (d.logits) { state.logits = d.logits; state.classes = d.logits.classes; renderTemperature(); }
    else if (d.task === "regression") noTemperature("Regression runs have no class distribution.");
  }

  // ---- softmax temperature ------------------------------------------------------------------
  function temperature() {
    const t = parseFloat(($("temp-t") || {}).value);
    return isFinite(t) ? Math.min(T_MAX, Math.max(T_MIN, t)) : 1;
  }
  function nearestNode(g, x, y) {
    const [d0, d1] = g.domain || [-6, 6];
    const idx = (v) => Math.max(0, Math.min(g.size - 1, Math.round(((v - d0) / (d1 - d0)) * (g.size - 1))));
    const col = idx(x), row = idx(y);
    const at = (i) => d0 + ((d1 - d0) * i) / (g.size - 1);
    return { index: row * g.size + col, x: at(col), y: at(row) };
  }
  function softmax(z, t) {       // stable: subtract the max before exp
    const s = z.map((v) => v / t);
    const m = Math.max(...s);
    const e = s.map((v) => Math.exp(v - m));
    const sum = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / sum);
  }
  function entropy(p) { return -p.reduce((acc, v) => acc + (v > 0 ? v * Math.log(v) : 0), 0); }
  function noTemperature(text) {
    $("temperature").dataset.state = "none";
    $("temp-note").textContent = text;
    $("temp-bars").replaceChildren();
  }
  function renderTemperature() {
    const g = state.logits;
    const t = temperature();
    $("temp-t-value").textContent = t.toFixed(2);
    if (!g) return;
    const node = nearestNode(g, state.point[0], state.point[1]);
    const raw = g.values[node.index];
    if (!raw || raw.some((v) => v === null)) { noTemperature("The model's outputs are not finite here."); return; }
    const z = g.binary ? [0, raw[0]] : raw;
    const p = softmax(z, t);
    const h = entropy(p);
    const best = p.indexOf(Math.max(...p));
    const bars = p.map((v, k) => {
      const row = el("div", "temp-bar" + (k === best ? " best" : ""));
      row.dataset.cls = k; row.dataset.p = v; row.dataset.logit = z[k];
      row.appendChild(el("span", "temp-label", `class ${k}`));
      const track = el("span", "temp-track");
      const fill = el("span", "temp-fill c" + (g.binary ? (k ? "pos" : "neg") : k % 10));
      fill.style.width = (100 * v).toFixed(2) + "%";
      track.appendChild(fill);
      row.appendChild(track);
      row.appendChild(el("span", "temp-p", v.toFixed(3)));
      row.title = `logit z = ${num(z[k])}, z/T = ${num(z[k] / t)}, p = ${v.toFixed(4)}`;
      return row;
    });
    $("temp-bars").replaceChildren(...bars);
    const ent = $("temp-entropy");
    ent.textContent = h.toFixed(3); ent.dataset.value = h;
    $("temp-max").textContent = Math.log(z.length).toFixed(3);
    const pt = $("temp-point");
    pt.textContent = `point (${node.x.toFixed(2)}, ${node.y.toFixed(2)}) · T = ${t.toFixed(2)} · most likely: class ${best}`;
    pt.dataset.x1 = node.x; pt.dataset.x2 = node.y; pt.dataset.t = t;
    $("temperature").dataset.state = "live";
    $("temp-note").textContent = "Logits from the latest diagnostics frame, at the grid node nearest to your point (25 × 25 nodes).";
    placeMarker();
  }

  // Clicking the decision-boundary plot picks the point (pixel -> data via Plotly's axes).
  function onPlotClick(e) {
    const gd = $("plot-boundary");
    const fl = gd && gd._fullLayout;
    if (!fl || !fl.xaxis || !fl.yaxis) return;
    const box = gd.getBoundingClientRect();
    const px = e.clientX - box.left - fl.xaxis._offset, py = e.clientY - box.top - fl.yaxis._offset;
    if (px < 0 || py < 0 || px > fl.xaxis._length || py > fl.yaxis._length) return;
    state.point = [fl.xaxis.p2c(px), fl.yaxis.p2c(py)];
    state.picked = true;
    renderTemperature();
  }
  function placeMarker() {      // a crosshair over the plot (charts.js owns the plot's traces)
    const gd = $("plot-boundary"), fl = gd && gd._fullLayout;
    // Only a point the user picked is marked: a ring at (0, 0) on every plot looked like data.
    if (!fl || !fl.xaxis || !state.logits || !state.picked) return;
    let m = $("temp-marker");
    if (!m) {
      m = el("span", "temp-marker"); m.id = "temp-marker";
      m.title = "the point shown in the softmax temperature view";
      gd.parentElement.appendChild(m);
    }
    const node = nearestNode(state.logits, state.point[0], state.point[1]);
    const gb = gd.getBoundingClientRect(), pb = gd.parentElement.getBoundingClientRect();
    m.style.left = (gb.left - pb.left + fl.xaxis._offset + fl.xaxis.c2p(node.x)).toFixed(1) + "px";
    m.style.top = (gb.top - pb.top + fl.yaxis._offset + fl.yaxis.c2p(node.y)).toFixed(1) + "px";
  }

  // ---- socket frames ------------------------------------------------------------------------
  function reset(runId) {
    Object.assign(state, { runId, diag: null, logits: null, ratios: null });
    const body = $("diag-rows");
    if (body && runId) {
      const tr = el("tr", "diag-empty"), td = el("td", "", "Waiting for the first diagnostics frame…");
      td.colSpan = 10; tr.appendChild(td); body.replaceChildren(tr);
    }
    for (const id of ["diag-sites", "diag-attn"]) if ($(id)) $(id).hidden = true;
    if ($("diagnostics")) $("diagnostics").dataset.state = runId ? "waiting" : "empty";
  }
  function attach() {
    const transport = $("transport");
    const runId = transport ? transport.dataset.run : "";
    if (runId !== state.runId) reset(runId);
  }
  BP.listen("run-socket", (msg) => {
    if (!state.runId || msg.run_id !== state.runId) return;
    if (msg.type === "snapshot" && msg.diagnostics) onDiagnostics(msg.diagnostics);
    else if (msg.type === "metrics" && msg.update_ratio) { state.ratios = msg.update_ratio; refreshRatios(); }
  });
  document.addEventListener("htmx:after:swap", attach);
  document.addEventListener("DOMContentLoaded", () => {
    attach();
    const t = $("temp-t");
    if (t) t.addEventListener("input", renderTemperature);
    const gd = $("plot-boundary");
    if (gd) gd.addEventListener("click", onPlotClick);
    window.addEventListener("resize", placeMarker);
  });
})();
