// Loss landscape card: asks the server for the landscape of the current run's weights
// (POST /api/runs/{id}/landscape) and draws the 1-D slice as a line and the 2-D slice as a
// contour with the run's trajectory projected onto the same plane.
(function () {
  "use strict";
  const { $, CFG, detail } = window.BP;
  const stats = BP.hook("__bpLandscape", { computed: 0, last: null });
  let last = null;

  function status(text, bad) {
    const el = $("ls-status");
    if (el) { el.textContent = text; el.classList.toggle("bad", !!bad); }
  }
  const fmt = (v) => (v === null || v === undefined ? "–" : Number(v).toPrecision(4));
  function median(values) {
    const s = values.filter((v) => v !== null).sort((a, b) => a - b);
    return s.length ? s[Math.floor(s.length / 2)] : null;
  }

  function describe(d) {
    const n = d.surface.alphas.length;
    let text = `Step ${d.step}: centre loss ${fmt(d.centre_loss)} on ${d.samples} training points, ` +
      `${n}×${n} grid over ±${d.span} (seed ${d.seed}, ${d.source === "live" ? "live weights" : "stored weights"}).`;
    const t = d.trajectory;
    if (t && t.alphas.length) {
      const outside = t.alphas.filter((a, i) => Math.abs(a) > d.span || Math.abs(t.betas[i]) > d.span).length;
      text += ` Path: ${t.alphas.length} snapshots (steps ${t.steps[0]}–${t.steps[t.steps.length - 1]}); ` +
        `median share of each move off this plane ${fmt(median(t.residual))}`;
      const reach = Math.max(...t.alphas.map(Math.abs), ...t.betas.map(Math.abs));
      text += `; in this plane it reaches ±${fmt(reach)}`;
      text += outside ? ` (${outside} points lie outside the slice: widen the span).` : reach < d.span / 10 ? " (narrow the span to see it)." : ".";
    }
    status(text, false);
  }

  function draw() {
    if (!last || !window.Plotly) return;
    const d = last, log = $("ls-log").checked;
    const lay = (extra) => Object.assign({ margin: { l: 50, r: 10, t: 30, b: 40 }, showlegend: false }, extra);
    Plotly.react("ls-line", [
      { x: d.line.alphas, y: d.line.loss, mode: "lines", line: { color: "#0877bd", width: 2 }, hovertemplate: "α %{x:.3f}<br>loss %{y:.4g}<extra></extra>" },
      { x: [0], y: [d.centre_loss], mode: "markers", marker: { color: "#c8102e", size: 9 }, hovertemplate: "current weights<br>loss %{y:.4g}<extra></extra>" },
    ], lay({ title: { text: "1-D slice (direction 1)", font: { size: 13 } }, xaxis: { title: { text: "α" } },
      yaxis: { type: log ? "log" : "linear", title: { text: "training loss" } } }), CFG);
    const z = d.surface.loss.map((row) => row.map((v) => (v === null ? null : log ? Math.log10(Math.max(v, 1e-12)) : v)));
    const traces = [{ type: "contour", x: d.surface.alphas, y: d.surface.betas, z, colorscale: "Viridis", ncontours: 24,
      contours: { coloring: "heatmap" }, line: { width: 0.5, color: "rgba(255,255,255,0.4)" },
      colorbar: { title: { text: log ? "log₁₀ loss" : "loss" }, thickness: 12 },
      hovertemplate: "α %{x:.3f}, β %{y:.3f}<br>" + (log ? "log₁₀ loss" : "loss") + " %{z:.4g}<extra></extra>" }];
    const t = d.trajectory;
    if (t && t.alphas.length) {
      traces.push({ x: t.alphas, y: t.betas, mode: "lines+markers", name: "trajectory", line: { color: "#ff7f0e", width: 2 },
        marker: { size: 4, color: "#ff7f0e" }, text: t.steps.map((s) => `step ${s}`), hovertemplate: "%{text}<extra></extra>" });
    }
    traces.push({ x: [0], y: [0], mode: "markers", marker: { symbol: "star", size: 14, color: "#c8102e", line: { color: "#fff", width: 1 } },
      hovertemplate: "current weights<extra></extra>" });
    const range = [-d.span, d.span];
    Plotly.react("ls-surface", traces, lay({ title: { text: "2-D slice and the path taken", font: { size: 13 } },
      xaxis: { title: { text: "α (direction 1)" }, range }, yaxis: { title: { text: "β (direction 2)" }, range, scaleanchor: "x" } }), CFG);
  }

  async function compute() {
    const transport = $("transport");
    const runId = transport ? transport.dataset.run : "";
    if (!runId) { status("No run yet: press Play first; the landscape is that of a run's weights.", true); return; }
    const body = { steps: parseInt($("ls-steps").value, 10), span: parseFloat($("ls-span").value), seed: parseInt($("ls-seed").value, 10) };
    const btn = $("btn-landscape");
    btn.disabled = true;
    status("Computing the landscape…");
    try {
      const r = await fetch(`/api/runs/${encodeURIComponent(runId)}/landscape`, { method: "POST",
        headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      const data = await r.json();
      if (!r.ok) throw new Error(detail(data));
      last = data;
      stats.computed += 1;
      stats.last = { step: data.step, centre: data.centre_loss, grid: data.surface.alphas.length };
      draw();
      describe(data);
    } catch (err) {
      status(`Could not compute the landscape: ${(err && err.message) || err}`, true);
    } finally {
      btn.disabled = false;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (!$("btn-landscape")) return;
    $("btn-landscape").addEventListener("click", compute);
    $("ls-log").addEventListener("change", draw);
  });
})();
