// Typing a number of epochs means "train this many": it unticks "Train until paused"
// before the form's change reaches the server (which then keeps the typed epochs).
(() => {
  document.addEventListener("input", (e) => {
    const el = e.target;
    if (!el || el.name !== "train.epochs") return;
    const box = document.querySelector("input[type='checkbox'][name='train.until_paused']");
    if (box) box.checked = false;
  });
})();
