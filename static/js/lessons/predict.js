// Predict, then run (lesson pages): pick an answer, lock it in, and the lesson's own runs
// start through the public API; when every run has ended the server says which answer the
// runs support and the numbers that decided it. The choice stays in this browser
// (localStorage, per lesson): no account, nothing sent but the runs.
(function () {
  "use strict";
  const TERMINAL = ["finished", "stopped", "diverged", "failed", "interrupted"];
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  async function json(url, options) {
    const r = await fetch(url, { headers: { "Content-Type": "application/json", Accept: "application/json" }, ...options });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) {
      const detail = Array.isArray(body.detail) ? body.detail.map((d) => d.message || d.msg).join("; ") : body.detail;
      throw new Error(detail || `${r.status} ${r.statusText}`);
    }
    return body;
  }

  async function start(slug) {
    const exp = await json(`/lessons/${slug}/experiment.json`);
    if (exp.kind === "run") {
      const run = await json("/api/runs", { method: "POST", body: JSON.stringify(exp.body) });
      return [run.id];
    }
    const cmp = await json("/api/comparisons", { method: "POST", body: JSON.stringify(exp.body) });
    return cmp.members.map((m) => (typeof m === "string" ? m : m.run_id || m.id));
  }

  async function waitAll(ids, status) {
    for (;;) {
      const views = await Promise.all(ids.map((id) => json(`/api/runs/${id}`)));
      const done = views.filter((v) => TERMINAL.includes(v.status)).length;
      const steps = views.map((v) => v.step || 0).reduce((a, b) => a + b, 0);
      status.textContent = `Running: ${done} of ${ids.length} finished, ${steps} steps so far…`;
      if (done === ids.length) return;
      await sleep(700);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const card = document.getElementById("predict");
    if (!card) return;
    const slug = card.dataset.slug;
    const key = `predict:${slug}`;
    const form = document.getElementById("predict-form");
    const button = document.getElementById("predict-run");
    const status = document.getElementById("predict-status");
    const result = document.getElementById("predict-result");
    const radios = [...form.querySelectorAll("input[name=guess]")];
    const saved = localStorage.getItem(key);
    if (saved !== null && radios[Number(saved)]) { radios[Number(saved)].checked = true; button.disabled = false; }
    form.addEventListener("change", () => {
      const picked = radios.find((r) => r.checked);
      button.disabled = !picked;
      if (picked) localStorage.setItem(key, picked.value);
    });
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const picked = radios.find((r) => r.checked);
      if (!picked) return;
      const choice = Number(picked.value);
      radios.forEach((r) => { r.disabled = true; });
      button.disabled = true;
      result.hidden = true;
      card.dataset.state = "running";
      try {
        status.textContent = "Starting the run…";
        const ids = await start(slug);
        card.dataset.runs = ids.join(",");
        await waitAll(ids, status);
        const verdict = await json(`/lessons/${slug}/settle?runs=${ids.join(",")}`);
        const right = verdict.answer === choice;
        result.replaceChildren();
        const head = document.createElement("b");
        head.textContent = right ? "You called it. " : "Not this time. ";
        result.append(head, `The run says: ${verdict.answer_text}. Measured: ${verdict.measured}.`);
        result.hidden = false;
        status.textContent = "";
        card.dataset.answer = String(verdict.answer);
        card.dataset.choice = String(choice);
        card.dataset.state = right ? "right" : "wrong";
      } catch (err) {
        status.textContent = `Could not run it: ${err.message}`;
        card.dataset.state = "error";
      } finally {
        radios.forEach((r) => { r.disabled = false; });
        button.disabled = false;
      }
    });
  });
})();
