// Celia registration. Its transfers and other weighty actions are confirmed in the page's own
// dialog (static/js/confirm.js: the form's data-confirm).

// The identity-code field: spaces around a pasted code are dropped before the length limit
// (" 131052-308T" works), and the check runs once the code is complete or the field is left,
// not on every pause in typing.
document.addEventListener("input", (e) => {
  const field = e.target.closest("input[data-hetu-length]");
  if (!field) return;
  const length = Number(field.dataset.hetuLength);
  const code = field.value.trim().slice(0, length);
  if (code !== field.value) field.value = code;
  // An edited code is a new question: cleared and typed again, the same code is checked again.
  if (code !== field.dataset.checked) delete field.dataset.checked;
  if (code.length === length) complete(field);
});
document.addEventListener("change", (e) => {
  const field = e.target.closest("input[data-hetu-length]");
  if (field && field.value.trim()) complete(field);
});
// The Check button and Enter ask too, unless this very code was checked a moment ago.
document.addEventListener("submit", (e) => {
  const field = e.target.querySelector("input[data-hetu-length]");
  if (!field) return;
  e.preventDefault();
  e.stopImmediatePropagation();
  complete(field);
}, true);
function complete(field) {
  if (field.dataset.checked === field.value) return;  // leaving the field after a check: no second one
  field.dataset.checked = field.value;
  field.dispatchEvent(new CustomEvent("hetu-complete", { bubbles: true }));
}
