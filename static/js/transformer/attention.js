// The transformer family's live views (templates/partials/_views_transformer.html): attention
// maps per block and head of one shown example, the attention logits' scale, accuracy per
// output position, token embeddings in 2-D, the positional-encoding matrix and sampled text.
// Snapshots carry the maps as uint8 in base64 (app/nn/measure/attention.py `pack`); frames
// only update state, one requestAnimationFrame loop draws what changed.
(function () {
  "use strict";
  const { $, CFG } = window.BP;
  const stats = BP.hook("__bpAttention", { maps: 0, snapshots: 0, evals: 0, patches: 0, last: null });
  const BLUE = [8, 119, 189], ORANGE = [245, 147, 34];
  let meta = null, snap = null, dirty = false, evalShown = null, evalDirty = false;
  let embedAt = 0;

  const label = (i) => (meta && meta.vocab && meta.vocab[i] !== undefined ? meta.vocab[i] : "·");
  const runId = () => ($("transport") && $("transport").dataset.run) || "";

  function unpack(p) {
    const q = BP.bytes(p.b64), k = (p.hi - p.lo) / 255, out = new Float32Array(q.length);
    for (let i = 0; i < q.length; i++) out[i] = p.lo + q[i] * k;
    return out;
  }

  function paint(canvas, rows, cols, values, offset, colour) {
    canvas.width = cols; canvas.height = rows;
    const ctx = canvas.getContext("2d"), img = ctx.createImageData(cols, rows);
    for (let i = 0; i < rows * cols; i++) {
      const c = colour(values[offset + i]);
      img.data.set([c[0], c[1], c[2], 255], i * 4);
    }
    ctx.putImageData(img, 0, 0);
  }
  const sequential = (v) => BLUE.map((c) => Math.round(255 + (c - 255) * Math.max(0, Math.min(1, v))));
  function diverging(lo, hi) {
    const m = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
    return (v) => {
      const t = Math.max(-1, Math.min(1, v / m)), base = t >= 0 ? BLUE : ORANGE, a = Math.abs(t);
      return base.map((c) => Math.round(255 + (c - 255) * a));
    };
  }

  // ---- attention maps -----------------------------------------------------------------------
  function drawMaps() {
    const box = $("attn-maps");
    if (!box || !snap.maps) return;
    const [blocks, heads, T] = snap.maps.shape, values = unpack(snap.maps);
    const cell = Math.max(6, Math.min(24, Math.floor(192 / T)));
    if (box.dataset.shape !== snap.maps.shape.join("x")) {
      box.innerHTML = "";
      box.style.gridTemplateColumns = `repeat(${heads}, max-content)`;
      for (let b = 0; b < blocks; b++) {
        for (let h = 0; h < heads; h++) {
          const fig = document.createElement("figure"), c = document.createElement("canvas");
          c.style.width = c.style.height = `${T * cell}px`;
          c.setAttribute("aria-label", `block ${b + 1} head ${h + 1}`);
          fig.append(c);
          const cap = document.createElement("figcaption");
          cap.textContent = `block ${b + 1} · head ${h + 1}`;
          fig.append(cap);
          box.append(fig);
        }
      }
      box.dataset.shape = snap.maps.shape.join("x");
    }
    const canvases = box.querySelectorAll("canvas");
    for (let m = 0; m < blocks * heads; m++) paint(canvases[m], T, T, values, m * T * T, sequential);
    stats.maps += 1;
  }

  function drawTokens() {
    const i = snap.example || 0, tokens = snap.tokens[i], targets = snap.targets[i], pred = snap.predicted[i];
    $("attn-input").textContent = "input  " + tokens.map(label).join(" ");
    const out = $("attn-output");
    out.innerHTML = "";
    out.append("output ");
    targets.forEach((t, k) => {
      if (t < 0) return;
      const span = document.createElement("span");
      span.textContent = label(pred[k]) + " ";
      if (pred[k] !== t) { span.className = "wrong"; span.title = `want ${label(t)}`; }
      out.append(span);
    });
    document.querySelectorAll("#attn-examples button").forEach((btn) => {
      const on = Number(btn.dataset.example) === i;
      btn.classList.toggle("selected", on);
      btn.setAttribute("aria-pressed", on ? "true" : "false");
    });
  }

  function drawScale() {
    const s = snap.logit_scale, table = $("attn-scale");
    if (!s || !table) return;
    const rows = [`<tr><th>block·head</th><th>logit std</th><th>entropy ÷√${s.d_head}</th><th>entropy raw</th><th>max weight</th></tr>`];
    s.std.forEach((row, b) => row.forEach((std, h) => {
      rows.push(`<tr><td>${b + 1}·${h + 1}</td><td>${BP.fixed(std, 2)}</td><td>${BP.fixed(s.entropy_scaled[b][h], 2)}</td>` +
        `<td>${BP.fixed(s.entropy_unscaled[b][h], 2)}</td><td>${BP.fixed(s.max_weight[b][h], 2)}</td></tr>`);
    }));
    table.innerHTML = `<tbody>${rows.join("")}</tbody>`;
  }

  function drawPositions() {
    const c = $("attn-pe"), p = snap.positions;
    if (!c) return;
    if (!p) { $("attn-pe-caption").textContent = "none: RoPE rotates queries and keys, or no positions"; c.width = 1; return; }
    const [rows, cols] = p.shape;
    paint(c, rows, cols, unpack(p), 0, diverging(p.lo, p.hi));
    const cell = Math.max(2, Math.min(10, Math.floor(480 / cols)));
    c.style.width = `${cols * cell}px`; c.style.height = `${rows * cell}px`;
    $("attn-pe-caption").textContent = `${rows} positions × ${cols} dimensions`;
  }

  function drawEmbeddings(now) {
    const e = snap.embeddings, gd = $("attn-embed");
    if (!e || !gd || !window.Plotly || now - embedAt < 500) return;
    embedAt = now;
    const xs = e.xy.map((p) => p[0]), ys = e.xy.map((p) => p[1]);
    Plotly.react(gd, [{ x: xs, y: ys, text: e.xy.map((_, i) => label(i)), mode: "markers+text", type: "scatter",
      textposition: "top center", marker: { color: BP.POS, size: 7 }, hoverinfo: "text" }],
    { margin: { l: 30, r: 10, t: 10, b: 30 }, showlegend: false, height: 260 }, CFG);
    const ex = e.explained || [];
    $("attn-embed-caption").textContent = `first two principal axes (${Math.round(100 * ((ex[0] || 0) + (ex[1] || 0)))}% of the variance)`;
  }

  function drawSamples() {
    const s = snap.samples, box = $("attn-sample");
    if (!s || !box) return;
    box.innerHTML = "";
    const line = (name, text) => { const d = document.createElement("div"); const b = document.createElement("b"); b.textContent = name; d.append(b, text); box.append(d); };
    line("prompt   ", s.prompt);
    line("greedy   ", s.prompt + s.greedy);
    line(`T = ${Number(s.temperature).toFixed(2)} `, s.prompt + s.sampled);
  }

  function drawPositionAccuracy() {
    const gd = $("attn-pos-acc");
    const split = evalShown && (evalShown.val || evalShown.test || evalShown.train);
    if (!gd || !split || !split.pos_acc || !window.Plotly) return;
    const names = (meta && meta.answer_positions) || split.pos_acc.map((_, i) => i);
    Plotly.react(gd, [{ x: names.map((p) => `pos ${p}`), y: split.pos_acc, type: "bar", marker: { color: BP.POS } }],
      { margin: { l: 40, r: 10, t: 10, b: 40 }, yaxis: { range: [0, 1], title: "accuracy" }, height: 220 }, CFG);
    const which = evalShown.val ? "validation" : evalShown.test ? "test" : "train";
    $("attn-seq").textContent = `${which} sequence accuracy ${BP.fixed(split.seq_acc, 3)}`;
    stats.evals += 1;
  }

  function frame(now) {
    if (dirty && snap) {
      dirty = false;
      drawMaps(); drawTokens(); drawScale(); drawPositions(); drawEmbeddings(now); drawSamples();
      stats.last = { step: snap.step, example: snap.example, shape: snap.maps && snap.maps.shape };
    }
    if (evalDirty) { evalDirty = false; drawPositionAccuracy(); }
    requestAnimationFrame(frame);
  }

  // ---- live view controls (PATCH the run: app/runs/service/live_changes.py VIEW_BOUNDS) -----
  function patch(changes) {
    const id = runId();
    if (!id) return;
    fetch(`/api/v1/runs/${id}`, { method: "PATCH", headers: { "Content-Type": "application/json" }, body: JSON.stringify(changes) })
      .then(() => { stats.patches += 1; }).catch(() => {});
  }
  let tempTimer = null;

  BP.listen("run-socket", (msg) => {
    if (msg.type === "start") {
      meta = msg.family === "transformer" ? msg : null;
      snap = null; evalShown = null;
      const box = $("attn-maps"); if (box) { box.innerHTML = ""; box.dataset.shape = ""; }
    } else if (msg.type === "snapshot" && meta && msg.maps) {
      snap = msg; dirty = true; stats.snapshots += 1;
    } else if (msg.type === "metrics" && meta && msg.eval) {
      evalShown = msg.eval; evalDirty = true;
    }
  });
  document.addEventListener("DOMContentLoaded", () => {
    const ex = $("attn-examples");
    ex && ex.addEventListener("click", (e) => {
      const btn = e.target.closest("button[data-example]");
      if (btn) patch({ example: Number(btn.dataset.example) });
    });
    const t = $("attn-temperature");
    t && t.addEventListener("input", () => {
      $("attn-temperature-value").textContent = Number(t.value).toFixed(2);
      clearTimeout(tempTimer);
      tempTimer = setTimeout(() => patch({ temperature: Number(t.value) }), 150);
    });
    requestAnimationFrame(frame);
  });
})();
