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

  // ---- socket frames ----------------------------------------------------------------------
  // htmx's WebSocket extension hands every incoming message to this one listener: a JSON
  // frame is parsed once and given to the listeners of its socket (element id, or "*");
  // HTML frames (not JSON) are left to htmx.
  const listeners = [];
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
  document.addEventListener("htmx:ws:before:message:incoming", (e) => {
    const data = e.detail && e.detail.message && e.detail.message.data;
    if (typeof data !== "string" || data.charCodeAt(0) !== 123) return;  // not a JSON object
    let msg;
    try { msg = JSON.parse(data); } catch (_) { return; }
    if (!msg || !msg.type) return;
    if (BP.dispatch(e.target && e.target.id, msg)) e.preventDefault();
  });
})();
