// Data tools glue: hands a stored dataset's key to the controls form (which loads the points
// by key, validates and puts pts=<key> in the address bar), keeps the address canonical after
// a TF Playground import, and points "Export as PyTorch" at the experiment in the URL.
(function () {
  "use strict";
  const { $ } = window.BP;
  const CUSTOM_CHECKED = "#controls input[name='data.dataset'][value='custom']:checked";

  // Switch the experiment to stored points: ui.use_pts=1 makes the server pick "custom".
  function usePoints(key) {
    const pts = $("data-pts"), use = $("data-use-pts"), form = $("controls");
    if (!pts || !use || !form) return;
    pts.value = key;
    use.value = "1";
    form.dispatchEvent(new Event("change", { bubbles: true }));
  }
  window.BPData = { usePoints, customChecked: () => !!document.querySelector(CUSTOM_CHECKED) };

  // After /?tfp=<link> the page shows the imported experiment: give it its own short URL.
  function canonical() {
    const notes = document.querySelector("#import-result [data-canonical]");
    const url = notes && notes.dataset.canonical;
    if (url && new URLSearchParams(window.location.search).has("tfp")) {
      history.replaceState(history.state, "", url);
    }
  }

  document.addEventListener("htmx:after:swap", () => {
    // Once the controls show the custom dataset, the switch flag has done its job.
    const use = $("data-use-pts");
    if (use && document.querySelector(CUSTOM_CHECKED)) use.value = "";
    const ready = document.querySelector("#import-result [data-pts-ready]");
    if (ready && ready.dataset.ptsReady) {
      const key = ready.dataset.ptsReady;
      ready.removeAttribute("data-pts-ready");
      usePoints(key);
    }
  });
  document.addEventListener("click", (e) => {
    const link = e.target && e.target.closest ? e.target.closest("a[data-export-current]") : null;
    if (link) link.href = "/ui/export.py" + window.location.search;
  });
  document.addEventListener("DOMContentLoaded", canonical);
})();
