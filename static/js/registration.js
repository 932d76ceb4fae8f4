// Celia registration: confirmations for transfers and other weighty actions (text from the
// template's data-confirm).
document.addEventListener("submit", (e) => {
  const form = e.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) { e.preventDefault(); e.stopImmediatePropagation(); }
}, true);
