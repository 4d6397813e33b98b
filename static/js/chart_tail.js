// The live tail of a Plotly line chart, drawn on a canvas over its plot area.
// A Plotly redraw costs ~5-10 ms on a quiet machine and ~50 ms on a busy one, whatever
// the number of new points, so redrawing every chart on every animation frame would eat
// the frame. Instead Plotly draws a chart's points up to its last sync (axes, legend,
// hover), and the points that arrived since then are stroked on a canvas laid over the
// plot area with Plotly's own axis mapping: well under a millisecond a frame. The chart
// syncs (one Plotly.react) when a new point falls outside its axes, or every so often so
// hover and export see every point. The axes get headroom at a sync, so a growing curve
// stays inside them for a while; a range the user zoomed to is kept.
(function () {
  "use strict";
  const HEADROOM_X = 0.2;   // of the x span, to the right of the newest point
  const PAD_Y = 0.08;       // of the y span, above and below

  // [lo, hi] of the finite values (log: of their log10, positive values only).
  function extent(values, log) {
    let lo = Infinity, hi = -Infinity;
    for (const v of values) {
      if (v === null || !isFinite(v) || (log && v <= 0)) continue;
      const u = log ? Math.log10(v) : v;
      if (u < lo) lo = u;
      if (u > hi) hi = u;
    }
    return lo <= hi ? [lo, hi] : null;
  }
  function merged(traces, key, log) {
    const parts = traces.map((t) => extent(t[key], log)).filter(Boolean);
    return parts.length ? [Math.min(...parts.map((p) => p[0])), Math.max(...parts.map((p) => p[1]))] : null;
  }

  // Axis ranges (in Plotly's units: log10 for a log axis) for the traces with headroom,
  // or {} where the data say nothing (Plotly's autorange decides).
  function ranges(traces, ylog, toZero) {
    const out = {};
    const x = merged(traces, "x", false);
    if (x) out.x = [x[0], x[1] + Math.max((x[1] - x[0]) * HEADROOM_X, 1)];
    const y = merged(traces, "y", ylog);
    if (y) {
      const pad = (y[1] - y[0]) * PAD_Y || (ylog ? 0.1 : Math.abs(y[1]) * 0.1 || 1);
      out.y = [y[0] - pad, y[1] + pad];
      if (toZero && !ylog) out.y[0] = Math.min(0, out.y[0]);
    }
    return out;
  }

  // The layout of a sync: the ranges with headroom while the curves grow, or the user's
  // zoom as it is; Plotly's autorange (the data's extent) when they do not.
  function layout(el, lay, traces, growing) {
    const st = el.__tail;
    const fl = el._fullLayout;
    const xaxis = Object.assign({}, lay.xaxis), yaxis = Object.assign({}, lay.yaxis);
    if (st && st.zoomed && fl && fl.xaxis && fl.yaxis) {
      Object.assign(xaxis, { autorange: false, range: fl.xaxis.range.slice() });
      Object.assign(yaxis, { autorange: false, range: fl.yaxis.range.slice() });
    } else if (growing) {
      const r = ranges(traces, yaxis.type === "log", yaxis.rangemode === "tozero");
      if (r.x) Object.assign(xaxis, { autorange: false, range: r.x });
      if (r.y) Object.assign(yaxis, { autorange: false, range: r.y });
    }
    return Object.assign({}, lay, { xaxis, yaxis });
  }

  // After a Plotly.react of these traces: what Plotly shows ends here.
  function synced(el, traces) {
    let st = el.__tail;
    if (!st) {
      st = el.__tail = { zoomed: false, canvas: null, drawn: "" };
      // A zoom or pan keeps its range; a double-click (autorange) gives the curve back
      // its headroom at the next sync.
      if (el.on) el.on("plotly_relayout", (ev) => {
        const keys = Object.keys(ev || {});
        if (keys.some((k) => /^[xy]axis\.autorange$/.test(k))) { st.zoomed = false; st.resync = true; }
        else if (keys.some((k) => /^[xy]axis\.range/.test(k))) st.zoomed = true;
      });
    }
    st.lens = traces.map((t) => Math.min(t.x.length, t.y.length));
    st.resync = false;
    st.outside = false;
    st.drawn = "";
    clear(st);
  }
  function clear(st) {
    if (st.canvas) st.canvas.getContext("2d").clearRect(0, 0, st.canvas.width, st.canvas.height);
  }
  function forget(el) {
    if (el && el.__tail) { if (el.__tail.canvas) el.__tail.canvas.remove(); delete el.__tail; }
  }

  // The canvas over the plot (above the data, under Plotly's hover layer), sized to it;
  // kept in st.canvas. Shared with the through-time lines (static/js/rnn/lines.js).
  function canvasOf(el, st, cls) {
    const fl = el._fullLayout;
    const host = el.querySelector(".svg-container");
    const main = host && host.querySelector("svg.main-svg");
    if (!fl || !main) return null;
    let c = st.canvas;
    if (!c || !c.isConnected) {
      c = st.canvas = document.createElement("canvas");
      c.className = cls || "chart-tail";
      c.style.cssText = "position:absolute;left:0;top:0;pointer-events:none";
      main.after(c);
    }
    const dpr = window.devicePixelRatio || 1;
    const w = Math.round(fl.width * dpr), h = Math.round(fl.height * dpr);
    if (c.width !== w || c.height !== h) {
      c.width = w; c.height = h;
      c.style.width = `${fl.width}px`; c.style.height = `${fl.height}px`;
    }
    return c;
  }

  // Clear the canvas and stroke each trace from index first[i] on, clipped to the plot
  // area, at Plotly's axis mapping (c2p). Returns whether a point after first[i] (the
  // joining point) lies outside the axes.
  function stroke(el, c, traces, first) {
    const fl = el._fullLayout, xa = fl.xaxis, ya = fl.yaxis, dpr = window.devicePixelRatio || 1;
    const x0 = xa._offset, x1 = xa._offset + xa._length, y0 = ya._offset, y1 = ya._offset + ya._length;
    const ctx = c.getContext("2d");
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, c.width, c.height);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.save();
    ctx.beginPath(); ctx.rect(x0, y0, x1 - x0, y1 - y0); ctx.clip();
    ctx.lineJoin = "round"; ctx.lineCap = "round";
    let outside = false;
    traces.forEach((t, i) => {
      const n = Math.min(t.x.length, t.y.length);
      if (first[i] >= n) return;
      ctx.beginPath();
      let open = false;
      for (let k = first[i]; k < n; k++) {
        const px = x0 + xa.c2p(t.x[k]), py = y0 + ya.c2p(t.y[k]);
        if (t.y[k] === null || !isFinite(px) || !isFinite(py)) { open = false; continue; }
        if (k > first[i] && (px < x0 - 0.5 || px > x1 + 0.5 || py < y0 - 0.5 || py > y1 + 0.5)) outside = true;
        if (open) ctx.lineTo(px, py); else { ctx.moveTo(px, py); open = true; }
      }
      ctx.strokeStyle = (t.line && t.line.color) || "#444";
      ctx.lineWidth = (t.line && t.line.width) || 2;
      ctx.stroke();
    });
    ctx.restore();
    return outside;
  }

  // Stroke every trace's points since the last sync (from its last synced point, so the
  // line joins). Returns {fresh: points arrived since the last draw, pending: some are
  // not in Plotly yet, outside: one of them lies outside the axes}.
  function draw(el, traces) {
    const st = el.__tail, fl = el._fullLayout;
    const out = { fresh: false, pending: false, outside: false };
    if (!st || !fl || !fl.xaxis || !fl.yaxis || st.resync) return Object.assign(out, { pending: !!st, outside: !!st });
    const lens = traces.map((t) => Math.min(t.x.length, t.y.length));
    const key = lens.join(",");
    out.pending = lens.some((n, i) => n > (st.lens[i] || 0));
    if (key === st.drawn || !out.pending) return Object.assign(out, { outside: !!st.outside && !st.zoomed });
    out.fresh = true;
    st.drawn = key;
    const c = canvasOf(el, st);
    if (!c) return Object.assign(out, { outside: true });
    // From each trace's last synced point (the line joins); a trace with nothing new: none.
    const first = traces.map((t, i) => (lens[i] > (st.lens[i] || 0) ? Math.max((st.lens[i] || 0) - 1, 0) : lens[i]));
    out.outside = stroke(el, c, traces, first);
    if (st.zoomed) out.outside = false;  // the user chose what to see
    st.outside = out.outside;
    return out;
  }

  // Bring a chart up to date: new points on its tail while they fit its axes; a sync
  // (Plotly.react of every point) when they do not, when the traces or `o.version` (the
  // caller's options, a halving of the series) changed, or when the tail is older than
  // SYNC_MS (hover and the legend then see every point). `o`: {version, growing (the run
  // trains: headroom), now, maySync, config}. Returns 0 (nothing new), 1 (tail) or 2 (sync).
  const SYNC_MS = 1000;
  function update(el, traces, lay, o) {
    // No points: a blank chart stays blank (after a new run's purge, or a chart whose
    // traces come with later frames): an empty Plotly plot costs as much as a full one
    // (~50 ms), in the frames that should show a run's first picture. A chart that shows
    // points is cleared (the compare page's legend hid every member).
    const blank = !el.data || !el.data.some((t) => t.x && t.x.length);
    if (!traces.some((t) => t.x.length > 0) && blank) return 0;
    const keys = traces.map((t) => (t.key === undefined ? t.name : t.key)).join("\u0001");
    const st = el.__tail;
    if (st && st.version === o.version && st.keys === keys && el.data) {
      const r = draw(el, traces);
      if (!r.pending) return 0;
      if ((!r.outside && o.now - st.at < SYNC_MS) || !o.maySync) return r.fresh ? 1 : 0;
    } else if (!o.maySync) return 0;
    // Copies: Plotly may keep the arrays it is given, never the caller's state.
    const data = traces.map(({ key, ...t }) => Object.assign(t, { x: t.x.slice(), y: t.y.slice() }));
    Plotly.react(el, data, layout(el, lay, traces, o.growing), o.config);
    synced(el, traces);
    Object.assign(el.__tail, { version: o.version, keys, at: o.now });
    return 2;
  }

  window.BPTail = { update, forget, merged, canvasOf, stroke };
})();
