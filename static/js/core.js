// Shared by every page script (loaded first, from base.html): element lookup, the palette,
// Plotly's config, small formatting helpers, the JSON frames of the page's sockets (parsed
// once, handed to every listener) and the hooks the browser tests read (window.__*).
(function () {
  "use strict";
  const BP = (window.BP = window.BP || {});

  BP.$ = (id) => document.getElementById(id);

  // ---- constants --------------------------------------------------------------------------
  BP.POS = "#0877bd";      // positive / class 1 (TF Playground's blue)
  BP.NEG = "#f59322";      // negative / class 0 (orange)
  BP.MID = "#eef0f2";      // the neutral middle of the diverging scale
  BP.COLORS = ["#0877bd", "#f59322", "#2ca02c", "#9467bd", "#d62728", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"];
  BP.SPLITS = { train: "#0877bd", val: "#2ca02c", test: "#f59322" };
  BP.TERMINAL = ["finished", "stopped", "diverged", "failed", "interrupted"];
  BP.CFG = { displayModeBar: false, responsive: true };
  BP.DOMAIN = [-6, 6];     // the input square every picture covers
  BP.MAX_POINTS = 1500;    // per chart series; halved (every other point) when exceeded

  // ---- helpers ----------------------------------------------------------------------------
  BP.axis = (n) => Array.from({ length: n }, (_, i) => BP.DOMAIN[0] + (BP.DOMAIN[1] - BP.DOMAIN[0]) * i / (n - 1));
  BP.half = (a) => a.filter((_, i) => i % 2 === 0);
  BP.fixed = (v, d) => (v === null || v === undefined || !isFinite(v) ? "–" : Number(v).toFixed(d === undefined ? 4 : d));
  // The message of a JSON error body ({"detail": "..."} or [{"field", "message"}, ...]).
  BP.detail = (body) => {
    const d = body && body.detail;
    if (Array.isArray(d)) return d.map((e) => `${e.field}: ${e.message}`).join("; ");
    return String(d || "request failed");
  };
  // A test hook: the browser tests read these objects (frames drawn, time to first frame...).
  BP.hook = (name, obj) => { window[name] = obj; return obj; };

  // ---- clicks that reach a run-panel button htmx has not taken ---------------------------
  // Play and Reset answer with a new run panel, and a quick click can miss it two ways: it
  // lands on a new button htmx has not processed yet (no handler for a moment after a
  // swap; longer on a loaded machine), or an answer replaces the pressed button before the
  // release (a click needs one element under both). Either way the user's click, often
  // the last one, was lost. Such a click is replayed on the live button of the same id as
  // soon as htmx has processed it; any later click on a live button cancels the replay.
  const panelButton = (t) => (t instanceof Element ? t.closest(".run-panel button[id]") : null);
  const live = (b) => b && b.isConnected && b.hasAttribute("data-htmx-powered");
  let pressed = null, releasedOn = null, replay = null;
  const tryReplay = () => {
    const b = replay && document.getElementById(replay);
    if (!live(b)) return;  // tried again when htmx has processed the next content
    replay = null;
    if (!b.disabled) b.click();
  };
  document.addEventListener("pointerdown", (e) => { pressed = panelButton(e.target); }, true);
  document.addEventListener("pointerup", (e) => {
    const was = pressed, now = panelButton(e.target);
    pressed = null;
    if (!was || was.isConnected || !now || now.id !== was.id) return;
    releasedOn = now.id;  // no click may follow: replay unless one does
    setTimeout(() => { if (releasedOn) { replay = releasedOn; releasedOn = null; tryReplay(); } }, 0);
  }, true);
  document.addEventListener("click", (e) => {
    const b = panelButton(e.target);
    releasedOn = null;
    if (!b) return;
    replay = live(b) ? null : b.id;
    tryReplay();
  }, true);
  document.addEventListener("htmx:after:process", tryReplay);

  // ---- compact pictures (app/nn/measure/pictures.py) ----------------------------------------------
  BP.bytes = (b64) => {
    const bin = atob(b64 || ""), out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  };
  const F16 = new Float32Array(65536);   // every half-precision bit pattern, decoded once
  for (let h = 0; h < 65536; h++) {
    const e = (h >> 10) & 31, m = h & 1023, s = h >> 15 ? -1 : 1;
    F16[h] = e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
  }
  BP.halfs = (b64) => {
    const b = BP.bytes(b64), out = new Float32Array(b.length >> 1);
    for (let i = 0; i < out.length; i++) out[i] = F16[b[2 * i] | (b[2 * i + 1] << 8)];  // little-endian
    return out;
  };
  // A snapshot's grid as numbers: {size, values: Float32Array, confidence?} (old snapshots
  // stored before pictures were quantised carry plain "values" lists: read those too).
  BP.grid = (g) => {
    if (!g) return null;
    if (g.values) return { size: g.size, values: Float32Array.from(g.values, (v) => (v === null ? NaN : v)), confidence: g.confidence || null };
    const q = BP.bytes(g.q), k = (g.hi - g.lo) / 255, values = new Float32Array(q.length);
    for (let i = 0; i < q.length; i++) values[i] = g.lo + q[i] * k;
    const conf = g.confidence ? Array.from(BP.bytes(g.confidence), (c) => c / 255) : null;
    return { size: g.size, values, confidence: conf };
  };
  // Weights as [layer][out][in] and biases as [layer][out], from either form.
  BP.weights = (snap) => {
    const w = snap.weights, b = snap.biases;
    if (!w || Array.isArray(w)) return { weights: w || [], biases: b || [] };
    const fw = BP.halfs(w.f16), fb = BP.halfs(b.f16), weights = [], biases = [];
    let at = 0, bt = 0;
    w.shapes.forEach(([rows, cols]) => {
      const m = [];
      for (let r = 0; r < rows; r++, at += cols) m.push(fw.subarray(at, at + cols));
      weights.push(m);
    });
    b.sizes.forEach((n) => { biases.push(fb.subarray(bt, bt + n)); bt += n; });
    return { weights, biases };
  };

  // ---- socket frames ----------------------------------------------------------------------
  // htmx's WebSocket extension hands every incoming message to this one listener: a JSON
  // frame is parsed once and given to the listeners of its socket (element id, or "*");
  // HTML frames (not JSON) are left to htmx. Events already seen on that socket (a
  // reconnect replays from its URL's `after`) are dropped, so nothing is counted twice.
  const listeners = [], connections = {}, onOpen = [];
  BP.listen = (socketId, fn) => { listeners.push([socketId, fn]); };
  BP.dispatch = (socketId, msg) => {
    let handled = false;
    for (const [id, fn] of listeners) {
      if (id !== "*" && id !== socketId) continue;
      handled = true;
      fn(msg);
    }
    return handled;
  };
  // Messages to the server over a page socket (e.g. what this viewer shows).
  BP.send = (socketId, obj) => {
    const conn = connections[socketId], sock = conn && conn.socket;
    if (!sock || sock.readyState !== WebSocket.OPEN) return false;
    sock.send(JSON.stringify(obj));
    return true;
  };
  BP.onOpen = (fn) => { onOpen.push(fn); };
  document.addEventListener("htmx:ws:after:connection", (e) => {
    const id = e.target && e.target.id;
    if (!id) return;
    connections[id] = e.detail.connection;
    onOpen.forEach((fn) => fn(id));
  });
  document.addEventListener("htmx:ws:before:message:incoming", (e) => {
    const data = e.detail && e.detail.message && e.detail.message.data;
    if (typeof data !== "string" || data.charCodeAt(0) !== 123) return;  // not a JSON object
    let msg;
    try { msg = JSON.parse(data); } catch (_) { return; }
    if (!msg || !msg.type) return;
    const el = e.target, id = el && el.id;
    if (id && e.detail.connection) connections[id] = e.detail.connection;
    if (el && typeof msg.seq === "number") {
      if (msg.seq <= (el.bpSeq || 0)) { e.preventDefault(); return; }
      el.bpSeq = msg.seq;
    }
    if (BP.dispatch(id, msg)) e.preventDefault();
  });
})();
