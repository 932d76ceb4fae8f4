// Every page: an answer of 422 (invalid input) or 409 (a rule refused) carries the form or
// partial with its message, so htmx swaps it in instead of treating it as a failure.
document.body.addEventListener("htmx:beforeSwap", function (e) {
  const status = e.detail.xhr.status;
  if (status === 422 || status === 409) {
    e.detail.shouldSwap = true;
    e.detail.isError = false;
  }
});
