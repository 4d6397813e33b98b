// The convolutional family's live views: learned filters, one input (a test image, or the
// drawing of static/js/cnn/pad.js) with its saliency, class probabilities and feature
// maps, the confusion matrix, misclassified test images and
// the test gallery. Fed by the run socket (BP.listen, static/js/core.js): the start record
// carries the test gallery, each snapshot the pictures of app/nn/measure/images.py as bytes.
// Drawing happens at most once per animation frame; the newest snapshot wins.
(function () {
  "use strict";
  const $ = BP.$;
  const V = BP.hook("__cnn", { pictures: 0, snapshots: 0, drawMs: 0, viewed: null, step: null, acc: null, error: "" });
  let meta = null, snap = null, dirty = false, runId = "", galleryDrawn = null, chosenShown = null;

  // ---- colours: one 256-entry table per mode, so painting a pixel is a lookup ------------
  const hex = (h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));
  const POS = hex(BP.POS), NEG = hex(BP.NEG), WHITE = [250, 251, 252], INK = [24, 30, 40];
  const mix = (a, b, t) => [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * t));
  const LUT = {};
  for (const mode of ["div", "heat", "ink"]) {
    LUT[mode] = Array.from({ length: 256 }, (_, q) => (
      mode === "div" ? (q >= 128 ? mix(WHITE, POS, (q - 128) / 127) : mix(WHITE, NEG, (128 - q) / 128))
        : mode === "heat" ? mix(WHITE, POS, q / 255) : mix(WHITE, INK, q / 255)));
  }

  // Paint an h x w picture from bytes q[at ...] into a canvas of that size (CSS scales it
  // up, pixelated). Canvases are reused from frame to frame: only their pixels change.
  function paint(c, q, at, h, w, mode) {
    if (c.width !== w || c.height !== h) { c.width = w; c.height = h; }
    const ctx = c.getContext("2d"), img = ctx.createImageData(w, h), lut = LUT[mode];
    for (let i = 0; i < h * w; i++) {
      const rgb = lut[q[at + i]];
      img.data[4 * i] = rgb[0]; img.data[4 * i + 1] = rgb[1]; img.data[4 * i + 2] = rgb[2]; img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    return c;
  }
  function picture(q, at, h, w, mode, title) {
    const c = paint(document.createElement("canvas"), q, at, h, w, mode);
    if (title) c.title = title;
    return c;
  }
  function into(canvas, q, h, w, mode) {
    const src = picture(q, 0, h, w, mode), ctx = canvas.getContext("2d");
    ctx.imageSmoothingEnabled = false;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(src, 0, 0, canvas.width, canvas.height);
  }
  const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; };

  // A container of per-layer rows, each a caption and a grid of `count` canvases, rebuilt
  // only when the layout (key) changes; returns the rows' [caption, canvases] to paint.
  function layers(root, key, specs) {
    if (root.dataset.key !== key) {
      root.replaceChildren();
      specs.forEach(({ name, count, group }) => {
        const row = el("div", "cnn-layer"), grid = el("div", "cnn-grid");
        row.appendChild(el("b", "", name));
        row.appendChild(el("small", "muted", ""));
        for (let g = 0; g < count / (group || 1); g++) {
          const holder = group ? el("span", "cnn-filter") : grid;
          for (let k = 0; k < (group || 1); k++) holder.appendChild(document.createElement("canvas"));
          if (group) grid.appendChild(holder);
        }
        row.appendChild(grid);
        root.appendChild(row);
      });
      root.dataset.key = key;
    }
    return [...root.children].map((row) => [row.children[1], row.querySelectorAll("canvas")]);
  }

  // ---- the views ----------------------------------------------------------------------
  function drawFilters(filters) {
    const key = "f" + filters.map((f) => f.shape.join("x")).join(",");
    const rows = layers($("cnn-filters"), key, filters.map((f, li) => ({ name: `conv${li + 1}`, count: f.shape[0] * f.shape[1], group: f.shape[1] })));
    filters.forEach((f, li) => {
      const [out, inn, kh, kw] = f.shape, q = BP.bytes(f.q), [caption, canvases] = rows[li];
      caption.textContent = ` ${out} filters of ${inn}x${kh}x${kw}, |w| ≤ ${BP.fixed(f.hi, 3)}`;
      for (let i = 0; i < out * inn; i++) paint(canvases[i], q, i * kh * kw, kh, kw, "div");
    });
  }

  function drawMaps(maps) {
    const key = "m" + maps.map((m) => m.shape.join("x")).join(",");
    const rows = layers($("cnn-maps"), key, maps.map((m, li) => ({ name: `conv${li + 1}`, count: m.shape[0] })));
    maps.forEach((m, li) => {
      const [c, h, w] = m.shape, q = BP.bytes(m.q), [caption, canvases] = rows[li];
      caption.textContent = ` ${c} maps of ${h}x${w}, ${BP.fixed(m.lo, 2)} to ${BP.fixed(m.hi, 2)}`;
      for (let k = 0; k < c; k++) paint(canvases[k], q, k * h * w, h, w, "heat");
    });
  }

  function drawProbs(probs, label) {
    const root = $("cnn-probs"), names = (meta && meta.class_names) || [];
    root.replaceChildren();
    const top = probs.indexOf(Math.max(...probs));
    probs.forEach((p, k) => {
      const row = el("div", "cnn-prob" + (k === top ? " top" : "") + (k === label ? " truth" : ""));
      row.appendChild(el("span", "name", names[k] || String(k)));
      const bar = el("span", "bar");
      bar.style.width = `${Math.round(100 * p)}%`;
      row.appendChild(bar);
      row.appendChild(el("span", "value", `${(100 * p).toFixed(1)}%`));
      root.appendChild(row);
    });
  }

  let confusionKey = "", wrongKey = "";
  function drawConfusion(counts) {
    const k = JSON.stringify(counts);
    if (k === confusionKey) return;
    confusionKey = k;
    const names = (meta && meta.class_names) || [], table = el("table", "cnn-matrix");
    const head = el("tr");
    head.appendChild(el("th", "", ""));
    counts.forEach((_, k) => head.appendChild(el("th", "", names[k] || String(k))));
    table.appendChild(head);
    counts.forEach((row, t) => {
      const tr = el("tr"), total = row.reduce((a, b) => a + b, 0) || 1;
      tr.appendChild(el("th", "", names[t] || String(t)));
      row.forEach((n, p) => {
        const td = el("td", t === p ? "diag" : "", n ? String(n) : "");
        const [r, g, b] = mix(WHITE, t === p ? POS : NEG, n / total);
        td.style.background = `rgb(${r},${g},${b})`;
        if (n / total > 0.55) td.style.color = "#fff";
        td.title = `true ${names[t] || t}, predicted ${names[p] || p}: ${n}`;
        tr.appendChild(td);
      });
      table.appendChild(tr);
    });
    $("cnn-confusion").replaceChildren(table);
  }

  function galleryImage(i, caption, cls) {
    const g = meta.gallery, [, h, w] = g.shape;
    const fig = el("figure", cls || "");
    if (!meta.galleryBytes) meta.galleryBytes = BP.bytes(g.q);  // decoded once per run
    const c = picture(meta.galleryBytes, i * h * w, h, w, "ink", `test image ${i}: ${meta.class_names[g.labels[i]]}`);
    fig.appendChild(c);
    if (caption !== undefined) fig.appendChild(el("figcaption", "", caption));
    fig.dataset.index = i;
    fig.addEventListener("click", () => view(i));
    return fig;
  }

  // One page of the test images at a time (GALLERY_PAGE of them): each canvas on screen
  // costs the renderer every frame, and ~900 made the live views crawl.
  const GALLERY_PAGE = 120;
  let galleryPage = 0;
  function drawGallery() {
    if (!meta || !meta.gallery) return;
    const n = meta.gallery.labels.length, pages = Math.max(1, Math.ceil(n / GALLERY_PAGE));
    galleryPage = Math.max(0, Math.min(pages - 1, galleryPage));
    const key = `${galleryPage}`;
    if (galleryDrawn === meta && $("cnn-gallery").dataset.page === key) return;
    galleryDrawn = meta;
    chosenShown = null;  // new figures: mark the chosen one again
    const root = $("cnn-gallery"), first = galleryPage * GALLERY_PAGE, last = Math.min(n, first + GALLERY_PAGE);
    root.replaceChildren();
    for (let i = first; i < last; i++) root.appendChild(galleryImage(i));
    root.dataset.page = key;
    $("cnn-gallery-range").textContent = `${first + 1}–${last} of ${n}`;
    $("cnn-gallery-prev").disabled = galleryPage === 0;
    $("cnn-gallery-next").disabled = galleryPage === pages - 1;
  }
  function turnGallery(by) {
    galleryPage += by;
    drawGallery();
    if (snap) dirty = true;  // mark the chosen image on the new page
  }

  function drawWrong(wrong) {
    const k = JSON.stringify(wrong);
    if (k === wrongKey) return;
    wrongKey = k;
    const root = $("cnn-wrong"), names = (meta && meta.class_names) || [];
    root.replaceChildren();
    const shown = wrong.filter(([i]) => meta && i < meta.gallery.labels.length);
    shown.forEach(([i, p]) => root.appendChild(galleryImage(i, names[p] || String(p), "wrong")));
    if (!shown.length) root.appendChild(el("p", "muted", "none"));
  }

  function draw() {
    const began = performance.now();
    drawGallery();
    if (snap && snap.filters) {
      drawFilters(snap.filters);
      const inp = snap.input, names = (meta && meta.class_names) || [];
      into($("cnn-input"), BP.bytes(inp.q), inp.shape[0], inp.shape[1], "ink");
      into($("cnn-saliency"), BP.bytes(snap.saliency.q), snap.saliency.shape[0], snap.saliency.shape[1], "heat");
      drawProbs(snap.probs, inp.label);
      drawMaps(snap.maps);
      drawConfusion(snap.confusion);
      drawWrong(snap.wrong);
      // A drawn input (static/js/cnn/pad.js) has no index or label: the pad is its picker.
      $("cnn-input-caption").textContent = inp.drawn ? "your drawing (the pad)" : `test image ${inp.index}, a ${names[inp.label] || inp.label}`;
      $("cnn-acc").textContent = `accuracy ${(100 * snap.test_acc).toFixed(1)}% at step ${snap.step}`;
      // Restyled only when the choice changes: touching a class in the gallery every
      // picture made the browser re-render its ~900 images each frame.
      const chosenKey = inp.drawn ? "drawn" : String(inp.index);
      if (chosenKey !== chosenShown) {
        chosenShown = chosenKey;
        document.querySelectorAll("#cnn-gallery figure.chosen").forEach((f) => f.classList.remove("chosen"));
        const chosen = inp.drawn ? null : document.querySelector(`#cnn-gallery figure[data-index="${inp.index}"]`);
        if (chosen) chosen.classList.add("chosen");
      }
      $("cnn-draw").classList.toggle("showing", !!inp.drawn);
      V.viewed = inp.drawn ? "drawn" : inp.index; V.step = snap.step; V.acc = snap.test_acc;
      V.pictures += 1;
    }
    V.drawMs += performance.now() - began;
  }

  // ---- the chosen image: a live change the worker applies between two steps -----------------
  function view(index) {
    if (!runId) return;
    document.dispatchEvent(new CustomEvent("cnn:view-input"));  // pad.js drops a pending drawing
    fetch(`/api/v1/runs/${runId}`, {
      method: "PATCH", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ view_input: index }),
    }).then((r) => (r.ok ? null : r.json().then((b) => { V.error = BP.detail(b); })))
      .catch((e) => { V.error = String(e); });
  }

  function frame() {
    if (dirty) { dirty = false; draw(); }
    requestAnimationFrame(frame);
  }

  function attach() {
    const transport = $("transport"), id = transport ? transport.dataset.run : "";
    if (id !== runId) { runId = id; meta = null; snap = null; galleryDrawn = null; galleryPage = 0; confusionKey = wrongKey = ""; }
  }

  BP.listen("run-socket", (msg) => {
    if (msg.type === "start" && msg.gallery) { meta = msg; dirty = true; }
    else if (msg.type === "snapshot" && msg.filters) { snap = msg; dirty = true; V.snapshots += 1; }
  });
  document.addEventListener("htmx:after:swap", attach);
  document.addEventListener("DOMContentLoaded", () => {
    attach();
    $("cnn-gallery-prev") && $("cnn-gallery-prev").addEventListener("click", () => turnGallery(-1));
    $("cnn-gallery-next") && $("cnn-gallery-next").addEventListener("click", () => turnGallery(1));
    requestAnimationFrame(frame);
  });
})();
