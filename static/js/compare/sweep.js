// Compare page, sequence-length sweep: members that differ in T (rnn.length) read as one line
// per model, its latest test score against T, with chance and the first T at which each
// model fails. The series come from the run panel (data-sweep, app/nn/compare/sweep.py);
// the scores from the live summary rows compare.js passes on (the "cmp:summary" event).
(function () {
  "use strict";
  const { $, CFG } = window.BP;
  let S = null;  // the sweep of the comparison on screen, or null
  let shownId = null;
  let colors = {};
  const stats = BP.hook("__sweep", { draws: 0 });

  // The same rule as app.nn.compare.sweep: MSE (test RMSE squared) or accuracy, test split
  // first; a member fails when its score is closer to chance than to perfect.
  function score(row) {
    for (const split of ["test", "val", "train"]) {
      const v = row[S.metric === "mse" ? `${split}_rmse` : `${split}_acc`];
      if (typeof v === "number") return S.metric === "mse" ? v * v : v;
    }
    return null;
  }
  const fails = (v) => (S.metric === "mse" ? !(v <= S.threshold) : !(v >= S.threshold));
  const shown = (v) => (v === null ? "–" : S.metric === "mse" ? BP.fixed(v, 4) : `${(100 * v).toFixed(1)}%`);

  function outcome(rows) {
    const by = {};
    for (const r of rows || []) by[r.member] = r;
    return S.series.map((s) => {
      let first = null;
      const points = s.members.map(([member, length]) => {
        const v = by[member] ? score(by[member]) : null;
        const bad = v !== null && fails(v);
        if (bad && first === null) first = length;
        return { member, length, score: v, fails: bad };
      });
      return { label: s.label, points, fails_at: first };
    });
  }

  function draw(rows) {
    if (!S || !window.Plotly) return;
    const result = outcome(rows), traces = [];
    const x = S.lengths, mse = S.metric === "mse";
    traces.push({ x, y: x.map(() => S.chance), name: "chance", mode: "lines", line: { color: "#999", dash: "dash", width: 1.5 }, hoverinfo: "name+y" });
    traces.push({ x, y: x.map(() => S.threshold), name: mse ? "fails above" : "fails below", mode: "lines", line: { color: "#d62728", dash: "dot", width: 1 }, hoverinfo: "name+y" });
    for (const s of result) {
      const color = colors[s.points[0].member] || "#333";
      traces.push({ x: s.points.map((p) => p.length), y: s.points.map((p) => p.score), name: s.label, mode: "lines+markers",
        line: { color, width: 2 }, connectgaps: true,
        marker: { size: s.points.map((p) => (p.fails ? 11 : 8)), symbol: s.points.map((p) => (p.fails ? "x" : "circle")), color } });
    }
    const layout = { margin: { l: 56, r: 10, t: 28, b: 40 }, showlegend: true,
      legend: { orientation: "h", x: 1, xanchor: "right", y: 1.02, yanchor: "bottom" },
      xaxis: { title: { text: "sequence length T" }, type: "log", tickvals: x, ticktext: x.map(String) },
      yaxis: { title: { text: mse ? "test MSE" : "test accuracy" }, type: mse ? "log" : "linear", range: mse ? null : [0, 1.02], autorange: mse,
        dtick: mse ? "D2" : null },
      datarevision: stats.draws };
    Plotly.react("cmp-sweep", traces, layout, CFG);
    table(result);
    stats.draws += 1;
  }

  function td(text, cls) { const c = document.createElement("td"); c.textContent = text; if (cls) c.className = cls; return c; }
  function table(result) {
    const t = $("cmp-sweep-table");
    const head = document.createElement("tr");
    for (const h of ["Model", ...S.lengths.map((n) => `T=${n}`), "Fails at"]) { const th = document.createElement("th"); th.textContent = h; head.append(th); }
    t.tHead.replaceChildren(head);
    const body = t.tBodies[0];
    body.replaceChildren();
    for (const s of result) {
      const tr = document.createElement("tr");
      tr.dataset.series = s.label;
      tr.append(td(s.label, "who"));
      for (const n of S.lengths) {
        const p = s.points.find((q) => q.length === n);
        const cell = td(p ? shown(p.score) : "", p && p.fails ? "bad" : "");
        if (p) { cell.dataset.length = n; cell.dataset.fails = p.fails ? "1" : "0"; }
        tr.append(cell);
      }
      const done = s.points.every((p) => p.score !== null);
      tr.append(td(s.fails_at !== null ? `T=${s.fails_at}` : done ? "none of these" : "–", s.fails_at !== null ? "bad fails-at" : "fails-at"));
      body.append(tr);
    }
  }

  function attach() {
    const t = $("cmp-transport"), card = $("cmp-sweep-card");
    const id = (t && t.dataset.comparison) || "";
    if (!t || !card || id === shownId || (!id && S)) return;  // an error panel keeps the last one
    shownId = id;
    let sweep = null, members = [];
    try { sweep = JSON.parse(t.dataset.sweep || "null"); members = JSON.parse(t.dataset.members || "[]"); } catch (_) { sweep = null; }
    S = sweep;
    colors = {};
    for (const m of members) colors[m.index] = m.color;
    card.hidden = !S;
    if (!S) return;
    const what = S.metric === "mse" ? `test MSE (chance ${BP.fixed(S.chance, 3)})` : `test accuracy (chance ${(100 * S.chance).toFixed(0)}%)`;
    $("cmp-sweep-note").textContent = `${S.task}: ${what} against T; fails = closer to chance than to perfect`;
    draw([]);
  }

  document.addEventListener("cmp:summary", (e) => draw(e.detail.members));
  document.addEventListener("htmx:after:swap", attach);
  document.addEventListener("DOMContentLoaded", attach);
})();
