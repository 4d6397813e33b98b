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

  // Stroke the traces (the canvas and the stroke are chart_tail.js's); false when a point
  // lies outside the axes (a sync is due).
  function stroke(el, st, traces) {
    const fl = el._fullLayout, c = BPTail.canvasOf(el, st, "chart-lines");
    if (!c || !fl.xaxis || !fl.yaxis) return false;
    return !BPTail.stroke(el, c, traces, traces.map(() => 0));
  }

  function sync(el, st, traces, lay, now) {
    const log = lay.yaxis && lay.yaxis.type === "log";
    const yaxis = Object.assign({}, lay.yaxis);
    const e = BPTail.merged(traces, "y", log);
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
