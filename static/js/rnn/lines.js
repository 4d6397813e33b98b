// Line charts whose whole lines change with every picture (the through-time views:
// ||dL/dh_t|| and the answer over time), at the pictures' rate. A Plotly.react of such a
// chart costs 9-25 ms on a busy 2-core machine, two of them per picture capped the card
// at ~10 pictures a second; so Plotly draws the axes, grid, legend and hover (its own
// line layer is hidden, static/rnn.css), and the lines are stroked on a canvas over the
// plot area with Plotly's axis mapping, well under a millisecond. The chart re-syncs
// (one Plotly.react, ranges with some headroom) when a line leaves its axes, when its
// traces change, or a second after the last sync (so hover shows the latest values).
(function () {
  "use strict";
  const SYNC_MS = 1000;
  const PAD = 0.15;  // of the y span (log10 span on a log axis), above and below

  function extent(traces, log) {
    let lo = Infinity, hi = -Infinity;
    for (const t of traces) for (const v of t.y) {
      if (v === null || !isFinite(v) || (log && v <= 0)) continue;
      const u = log ? Math.log10(v) : v;
      if (u < lo) lo = u;
      if (u > hi) hi = u;
    }
    return lo <= hi ? [lo, hi] : null;
  }

  function canvasOf(el, st) {
    const fl = el._fullLayout, main = el.querySelector(".svg-container svg.main-svg");
    if (!fl || !main) return null;
    if (!st.canvas || !st.canvas.isConnected) {
      st.canvas = document.createElement("canvas");
      st.canvas.className = "chart-lines";
      st.canvas.style.cssText = "position:absolute;left:0;top:0;pointer-events:none";
      main.after(st.canvas);
    }
    const c = st.canvas, dpr = window.devicePixelRatio || 1;
    const w = Math.round(fl.width * dpr), h = Math.round(fl.height * dpr);
    if (c.width !== w || c.height !== h) {
      c.width = w; c.height = h; c.style.width = `${fl.width}px`; c.style.height = `${fl.height}px`;
    }
    return c;
  }

  // Stroke the traces; false when a point lies outside the axes (a sync is due).
  function stroke(el, st, traces) {
    const fl = el._fullLayout, c = canvasOf(el, st);
    if (!c || !fl.xaxis || !fl.yaxis) return false;
    const xa = fl.xaxis, ya = fl.yaxis, dpr = window.devicePixelRatio || 1;
    const x0 = xa._offset, y0 = ya._offset, x1 = x0 + xa._length, y1 = y0 + ya._length;
    const ctx = c.getContext("2d");
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, c.width, c.height);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.save();
    ctx.beginPath(); ctx.rect(x0, y0, x1 - x0, y1 - y0); ctx.clip();
    ctx.lineJoin = "round"; ctx.lineCap = "round";
    let inside = true;
    for (const t of traces) {
      ctx.beginPath();
      let open = false;
      for (let k = 0; k < t.y.length; k++) {
        const v = t.y[k], px = x0 + xa.c2p(t.x[k]), py = y0 + ya.c2p(v);
        if (v === null || !isFinite(px) || !isFinite(py)) { open = false; continue; }
        if (py < y0 - 0.5 || py > y1 + 0.5) inside = false;
        if (open) ctx.lineTo(px, py); else { ctx.moveTo(px, py); open = true; }
      }
      ctx.strokeStyle = (t.line && t.line.color) || "#444";
      ctx.lineWidth = (t.line && t.line.width) || 2;
      ctx.stroke();
    }
    ctx.restore();
    return inside;
  }

  function sync(el, st, traces, lay, now) {
    const log = lay.yaxis && lay.yaxis.type === "log";
    const yaxis = Object.assign({}, lay.yaxis);
    const e = extent(traces, log);
    if (e) {
      const pad = (e[1] - e[0]) * PAD || (log ? 0.3 : Math.abs(e[1]) * 0.2 || 1);
      Object.assign(yaxis, { autorange: false, range: [e[0] - pad, e[1] + pad] });
    }
    const n = Math.max(0, ...traces.map((t) => t.x.length));
    const xaxis = Object.assign({}, lay.xaxis, n > 1 ? { autorange: false, range: [traces[0].x[0], traces[0].x[n - 1]] } : {});
    const data = traces.map((t) => Object.assign({}, t, { x: t.x.slice(), y: t.y.slice() }));
    Plotly.react(el, data, Object.assign({}, lay, { xaxis, yaxis }), window.BP.CFG);
    Object.assign(st, { at: now, key: traces.map((t) => `${t.name}:${t.x.length}`).join("|"), pending: null, syncs: st.syncs + 1 });
  }

  // Draw these traces now: on the canvas while they fit the axes, else a sync.
  function show(el, traces, lay) {
    if (!el || !window.Plotly) return;
    const st = el.__lines || (el.__lines = { at: 0, key: "", canvas: null, pending: null, syncs: 0 });
    const now = performance.now();
    const key = traces.map((t) => `${t.name}:${t.x.length}`).join("|");
    st.pending = { traces, lay };
    if (!el.data || key !== st.key || !stroke(el, st, traces) || now - st.at > SYNC_MS) {
      sync(el, st, traces, lay, now);
      stroke(el, st, traces);
    }
  }

  // A second after the last picture Plotly gets its data (hover, export see the latest).
  function settle(el) {
    const st = el && el.__lines;
    if (!st || !st.pending || performance.now() - st.at < SYNC_MS) return;
    const { traces, lay } = st.pending;
    sync(el, st, traces, lay, performance.now());
    stroke(el, st, traces);
  }

  function forget(el) {
    if (el && el.__lines) { if (el.__lines.canvas) el.__lines.canvas.remove(); delete el.__lines; }
  }

  window.BPLines = { show, settle, forget };
})();
