// Celia registration: 422 answers swap in (the form with its errors), and confirmations
// for transfers and other weighty actions (text from the template's data-confirm).
document.body.addEventListener("htmx:beforeSwap", (e) => {
  if (e.detail.xhr.status === 422) { e.detail.shouldSwap = true; e.detail.isError = false; }
});
document.addEventListener("submit", (e) => {
  const form = e.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) { e.preventDefault(); e.stopImmediatePropagation(); }
}, true);
