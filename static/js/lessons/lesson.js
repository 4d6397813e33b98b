// The playground opened from a lesson: /?<spec>#lesson=<slug>[&autoplay].
// Shows the lesson's banner (server-rendered fragment), outlines the panels to watch and,
// with `autoplay`, presses Play once (then drops the flag so a reload does not start
// another run). The server never sees the fragment; the spec is in the query as usual.
(function () {
  "use strict";
  function lessonFromHash() {
    const params = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    const slug = params.get("lesson") || "";
    return { slug: /^[a-z0-9]+(-[a-z0-9]+)*$/.test(slug) ? slug : "", autoplay: params.has("autoplay") };
  }
  function highlight(banner) {
    banner.querySelectorAll("[data-target]").forEach((item) => {
      const target = document.getElementById(item.dataset.target);
      const box = target && (target.closest(".card") || target);
      if (box) box.classList.add("lesson-watch");
    });
  }
  function showBanner(slug) {
    fetch(`/lessons/${slug}/banner`, { headers: { Accept: "text/html" } })
      .then((r) => (r.ok ? r.text() : ""))
      .then((html) => {
        if (!html) return;
        const banner = document.createElement("div");
        banner.className = "lesson-banner";
        banner.id = "lesson-banner";
        banner.innerHTML = html;   // our own server-rendered, escaped fragment
        const main = document.querySelector("main.layout");
        if (main) main.parentElement.insertBefore(banner, main);
        highlight(banner);
      })
      .catch(() => {});
  }
  function autoplay() {
    const play = document.getElementById("btn-play");
    if (!play) return;
    history.replaceState(null, "", window.location.pathname + window.location.search +
      window.location.hash.replace(/&autoplay\b/, ""));
    // htmx processes the button in its own DOMContentLoaded handler; click after it.
    setTimeout(() => play.click(), 0);
  }
  document.addEventListener("DOMContentLoaded", () => {
    const { slug, autoplay: play } = lessonFromHash();
    if (!slug) return;
    showBanner(slug);
    if (play) autoplay();
  });
})();
