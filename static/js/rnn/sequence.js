// The recurrent family's live views (templates/partials/_sequence_views.html), drawn from
// each snapshot's "sequence" (app/nn/measure/sequences.py): the hidden state and each gate
// as units x time pictures (one byte per value), the net's answer at every step against
// the right one, and ||dL/dh_t|| on a log scale. The newest snapshot wins; one draw per
// animation frame at most. Shared bits: static/js/core.js.
(function () {
  "use strict";
  const { $ } = window.BP;
  // Read by the browser tests: pictures drawn, the step and gates of the last one.
  const stats = BP.hook("__bpSeq", { pictures: 0, step: null, gates: [], length: 0, index: 0, drawMs: 0, syncs: 0 });
  const POS = [8, 119, 189], NEG = [245, 147, 34], MID = [238, 240, 242], GATE = [46, 125, 50];
  const GATE_NAMES = { i: "input gate i", f: "forget gate f", o: "output gate o", r: "reset gate r", z: "update gate z" };
  let latest = null, dirty = false, runId = null;

  const mix = (a, b, t) => [0, 1, 2].map((k) => Math.round(a[k] + (b[k] - a[k]) * t));
  function diverging(t) { return t >= 0.5 ? mix(MID, POS, (t - 0.5) * 2) : mix(MID, NEG, (0.5 - t) * 2); }
  function sequential(t) { return mix([255, 255, 255], GATE, t); }

  // A units x time picture (rows = units) onto a canvas, one pixel per value, scaled by CSS.
  function paint(canvas, pic, rows, cols, color) {
    const q = BP.bytes(pic.q);
    canvas.width = cols; canvas.height = rows;
    const ctx = canvas.getContext("2d"), img = ctx.createImageData(cols, rows);
    for (let i = 0; i < rows * cols && i < q.length; i++) {
      const [r, g, b] = color(q[i] / 255);
      img.data[4 * i] = r; img.data[4 * i + 1] = g; img.data[4 * i + 2] = b; img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }

  function gateCanvas(name) {
    let fig = document.querySelector(`#seq-gates figure[data-gate="${name}"]`);
    if (!fig) {
      fig = document.createElement("figure");
      fig.className = "seq-map"; fig.dataset.gate = name;
      const cap = document.createElement("figcaption");
      cap.textContent = (GATE_NAMES[name] || name) + " (0 white … 1 green)";
      const c = document.createElement("canvas");
      c.setAttribute("aria-label", GATE_NAMES[name] || name);
      fig.append(cap, c);
      $("seq-gates").appendChild(fig);
    }
    return fig.querySelector("canvas");
  }

  function draw(msg) {
    const began = performance.now();
    const v = msg.sequence, rows = v.units, cols = v.columns.length;
    paint($("seq-hidden"), v.hidden, rows, cols, diverging);
    const names = Object.keys(v.gates || {});
    document.querySelectorAll("#seq-gates figure").forEach((f) => { if (!names.includes(f.dataset.gate)) f.remove(); });
    names.forEach((g) => paint(gateCanvas(g), v.gates[g], rows, cols, sequential));
    const t = Array.from({ length: v.length }, (_, i) => i + 1);
    if (window.Plotly && window.BPLines) {  // lines on a canvas, Plotly's axes (lines.js)
      const margin = { l: 52, r: 10, t: 30, b: 34 };
      BPLines.show($("seq-grad"), [{ x: t, y: v.grad_t.map((g) => (g > 0 ? g : null)), mode: "lines", line: { color: "#c8102e", width: 2 }, name: "||dL/dh_t||" }],
        { title: { text: "‖dL/dh_t‖ through time (log)", font: { size: 13 } }, margin, showlegend: false,
          xaxis: { title: { text: "time step t", standoff: 4 } }, yaxis: { type: "log", exponentformat: "power" } });
      BPLines.show($("seq-pred"), [
        { x: t, y: v.target, mode: "lines", name: "right answer so far", line: { color: "#9aa5b1", width: 2 } },
        { x: t, y: v.prediction, mode: "lines", name: "net's answer", line: { color: "#0877bd", width: 2 } },
      ], { title: { text: "Answer if the sequence ended at t", font: { size: 13 } }, margin: Object.assign({}, margin, { b: 56 }),  // the legend under the axis title
        xaxis: { title: { text: "time step t", standoff: 4 } },
        legend: { orientation: "h", x: 0, y: 0, xref: "container", yref: "container", yanchor: "bottom", font: { size: 10 } } });
    }
    const box = $("seq-index");
    if (box && document.activeElement !== box) box.value = v.index + 1;
    const cap = $("seq-caption");
    if (cap) cap.textContent = `sequence ${v.index + 1} of the test split, T = ${v.length}` +
      (v.hidden_units > v.units ? `, first ${v.units} of ${v.hidden_units} units` : "") + ` · step ${msg.step}`;
    Object.assign(stats, { pictures: stats.pictures + 1, step: msg.step, gates: names, length: v.length, index: v.index,
      answer: v.prediction[v.prediction.length - 1] });
    stats.drawMs += performance.now() - began;
  }

  function frame() {
    const card = $("sequence-card");
    if (dirty && latest && card && !card.hidden) { dirty = false; draw(latest); }
    if (window.BPLines && card && !card.hidden) {
      BPLines.settle($("seq-grad")); BPLines.settle($("seq-pred"));
      stats.syncs = ["seq-grad", "seq-pred"].reduce((n, id) => n + (($(id) || {}).__lines || { syncs: 0 }).syncs, 0);
    }
    requestAnimationFrame(frame);
  }

  // ---- the chosen sequence: a live change (view_input) the worker answers with a picture ----
  let count = 0;  // sequences in the split the views read (the start record's sizes)
  function choose(n) {
    const box = $("seq-index");
    const i = Math.max(1, Math.min(count || 1, Math.round(n) || 1));
    box.value = i;
    if (!runId) return;
    fetch(`/api/v1/runs/${runId}`, {
      method: "PATCH", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ view_input: i - 1 }),
    }).then((r) => (r.ok ? null : r.json().then((b) => { stats.error = BP.detail(b); })))
      .catch((e) => { stats.error = String(e); });
  }
  function wire() {
    // The compare links carry the experiment as it is now (the address bar follows the form).
    document.addEventListener("click", (e) => {
      const a = e.target.closest && e.target.closest("a[data-cmp-preset]");
      if (!a) return;
      const q = new URLSearchParams(location.search);
      q.set("preset", a.dataset.cmpPreset);
      a.href = `/compare?${q.toString()}`;
    }, true);
    if (!$("seq-index")) return;
    $("seq-index").addEventListener("change", () => choose(Number($("seq-index").value)));
    $("seq-prev").addEventListener("click", () => choose(Number($("seq-index").value) - 1));
    $("seq-next").addEventListener("click", () => choose(Number($("seq-index").value) + 1));
  }

  BP.listen("run-socket", (msg) => {
    if (msg.type === "start" && msg.sequence && msg.sizes) {
      count = msg.sizes.test || msg.sizes.train || 0;
      if ($("seq-index")) $("seq-index").max = count;
    }
    if (msg.type === "snapshot" && msg.sequence) {
      if (msg.run_id !== runId) { runId = msg.run_id; document.querySelectorAll("#seq-gates figure").forEach((f) => f.remove()); }
      latest = msg; dirty = true;
    }
  });
  document.addEventListener("DOMContentLoaded", () => { wire(); requestAnimationFrame(frame); });
})();
