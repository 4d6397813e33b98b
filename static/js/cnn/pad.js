// The drawing pad of a digits run (issue 17): an 8x8 grid of grey levels 0..16, the UCI
// digits' own units, drawn with a mouse, a pen or a finger (pointer events; the pad has
// touch-action: none so a finger draws instead of scrolling). The drawing goes to the run
// as the live change {"view_pixels": [64 levels]} (PATCH /api/v1/runs/{id}, checked by
// app/runs/service/live_changes.py VIEW_LISTS), at most every SEND_MS while drawing and at
// the end of each stroke; the worker's next picture (drawn by cnn.js) is of the drawing.
// The pad shows only when the run's start record says the dataset takes one ("draw").
(function () {
  "use strict";
  const $ = BP.$;
  const V = BP.hook("__pad", { sent: 0, applied: 0, strokes: 0, error: "", shown: false, ink: 0, busy: false });
  const SEND_MS = 150;  // at most ~7 changes a second while a stroke goes on
  const BRUSH = 1.4;    // cells: full ink within 0.4 of a cell of the pen, none from 1.4 on
  let draw = null;      // the start record's {"size", "levels"}, or null: no pad
  let cells = null;     // Uint8Array(size * size) of grey levels, row by row
  let erase = false, last = null, inflight = false, again = false, timer = 0, sentAt = 0;
  let restored = false; // the pad shows the run's drawing (restore), or the user drew

  const ink = (level) => {  // the page's "ink" picture colours (cnn.js): white to dark
    const t = level / draw.levels, c = (a, b) => Math.round(a + (b - a) * t);
    return `rgb(${c(250, 24)},${c(251, 30)},${c(252, 40)})`;
  };

  function render() {
    const c = $("cnn-pad"), ctx = c.getContext("2d"), n = draw.size, s = c.width / n;
    ctx.clearRect(0, 0, c.width, c.height);
    for (let i = 0; i < n * n; i++) {
      ctx.fillStyle = ink(cells[i]);
      ctx.fillRect((i % n) * s, Math.floor(i / n) * s, s, s);
    }
    ctx.strokeStyle = "rgba(120,130,140,0.25)";  // the grid, so each pixel is visible
    ctx.beginPath();
    for (let k = 1; k < n; k++) {
      ctx.moveTo(k * s + 0.5, 0); ctx.lineTo(k * s + 0.5, c.height);
      ctx.moveTo(0, k * s + 0.5); ctx.lineTo(c.width, k * s + 0.5);
    }
    ctx.stroke();
    V.ink = cells.reduce((a, b) => a + b, 0);
  }

  // Ink (or erase) around the pen at (x, y) in cells: a soft round brush, like the blurred
  // strokes of the digits (their levels count set pixels of 4x4 blocks).
  function dab(x, y) {
    const n = draw.size, top = draw.levels;
    for (let r = Math.max(0, Math.floor(y - BRUSH)); r < Math.min(n, Math.ceil(y + BRUSH)); r++) {
      for (let col = Math.max(0, Math.floor(x - BRUSH)); col < Math.min(n, Math.ceil(x + BRUSH)); col++) {
        const d = Math.hypot(col + 0.5 - x, r + 0.5 - y);
        const level = Math.round(top * Math.max(0, Math.min(1, BRUSH - d)));
        const i = r * n + col;
        cells[i] = erase ? Math.min(cells[i], top - level) : Math.max(cells[i], level);
      }
    }
  }

  function at(e) {
    const c = $("cnn-pad"), box = c.getBoundingClientRect();
    return [(e.clientX - box.left) / box.width * draw.size, (e.clientY - box.top) / box.height * draw.size];
  }

  function strokeTo(p) {  // dabs every quarter cell between two pointer events
    const steps = last ? Math.max(1, Math.ceil(Math.hypot(p[0] - last[0], p[1] - last[1]) / 0.25)) : 1;
    for (let k = 1; k <= steps; k++) {
      const t = k / steps;
      dab(last ? last[0] + (p[0] - last[0]) * t : p[0], last ? last[1] + (p[1] - last[1]) * t : p[1]);
    }
    last = p;
    render();
  }

  function status(text, bad) {
    const s = $("cnn-pad-status");
    s.textContent = text;
    s.classList.toggle("bad", !!bad);
  }

  // ---- sending: one request in flight; the newest drawing always goes last -----------------
  function send() {
    const transport = $("transport"), runId = transport ? transport.dataset.run : "";
    if (!runId || !cells) { V.busy = inflight || !!timer; return; }
    if (inflight) { again = true; return; }
    inflight = true; again = false; sentAt = performance.now(); V.sent += 1; V.busy = true;
    fetch(`/api/v1/runs/${runId}`, {
      method: "PATCH", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ view_pixels: Array.from(cells) }),
    }).then((r) => r.json().then((b) => {
      if (r.ok) { V.applied += 1; V.error = ""; status("the views show your drawing"); }
      else { V.error = BP.detail(b); status(V.error, true); }
    })).catch((e) => { V.error = String(e); status(V.error, true); })
      .finally(() => { inflight = false; if (again) send(); else V.busy = !!timer; });
  }
  // A test image chosen (cnn.js) wins over drawing still waiting to go: it is the newer wish.
  function drop() {
    clearTimeout(timer); timer = 0; again = false; V.busy = inflight;
  }
  function soon() {  // while drawing: throttled
    if (timer) return;
    const wait = Math.max(0, SEND_MS - (performance.now() - sentAt));
    V.busy = true;
    timer = setTimeout(() => { timer = 0; send(); }, wait);
  }

  function setMode(toErase) {
    erase = toErase;
    $("cnn-pad-draw").setAttribute("aria-pressed", String(!erase));
    $("cnn-pad-erase").setAttribute("aria-pressed", String(erase));
  }

  function show(spec) {
    draw = spec && spec.size > 0 && spec.levels > 0 ? spec : null;
    $("cnn-draw").hidden = !draw;
    V.shown = !!draw;
    if (!draw) return;
    if (!cells || cells.length !== draw.size * draw.size) cells = new Uint8Array(draw.size * draw.size);
    render();
  }

  function wire() {
    const pad = $("cnn-pad");
    if (!pad) return;
    pad.addEventListener("pointerdown", (e) => {
      if (!draw || e.button > 0) return;
      e.preventDefault();
      pad.setPointerCapture(e.pointerId);
      last = null;
      restored = true;  // the user's drawing from now on
      strokeTo(at(e));
      soon();
    });
    pad.addEventListener("pointermove", (e) => {
      if (!draw || !last || !pad.hasPointerCapture(e.pointerId)) return;
      strokeTo(at(e));
      soon();
    });
    const end = (e) => {
      if (!last) return;
      last = null;
      V.strokes += 1;
      if (pad.hasPointerCapture(e.pointerId)) pad.releasePointerCapture(e.pointerId);
      clearTimeout(timer); timer = 0;
      send();  // the finished stroke, at once
    };
    pad.addEventListener("pointerup", end);
    pad.addEventListener("pointercancel", end);
    $("cnn-pad-draw").addEventListener("click", () => setMode(false));
    $("cnn-pad-erase").addEventListener("click", () => setMode(true));
    $("cnn-pad-clear").addEventListener("click", () => { if (cells) { restored = true; cells.fill(0); render(); send(); } });
    $("cnn-pad-show").addEventListener("click", send);
  }

  // A page opened on a run that already looks at a drawing (a reload, a second tab): the
  // pad shows that drawing, read back from the picture (value = level / levels, one byte
  // per pixel: exact for whole levels), until the user draws on the pad themselves.
  function restore(inp) {
    if (!draw || restored || V.strokes || inflight || timer || !inp || !inp.drawn) return;
    if (!inp.shape || inp.shape[0] * inp.shape[1] !== cells.length) return;
    const q = BP.bytes(inp.q);
    for (let i = 0; i < cells.length; i++) cells[i] = Math.round((q[i] * draw.levels) / 255);
    restored = true;
    render();
  }

  BP.listen("run-socket", (msg) => {
    if (msg.type === "start" && msg.gallery) { restored = false; show(msg.draw); }  // a cnn run's start
    else if (msg.type === "snapshot" && msg.input) restore(msg.input);
  });
  document.addEventListener("cnn:view-input", drop);
  document.addEventListener("DOMContentLoaded", wire);
})();
