// Guide checklist: let htmx swap an answer of 422 or 409 so its error shows in place.
(function () {
  "use strict";
  document.body.addEventListener("htmx:beforeSwap", function (e) {
    if (e.detail.xhr.status === 422 || e.detail.xhr.status === 409) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });
  // The print view's button: the browser's own print dialog.
  document.addEventListener("click", function (e) {
    if (e.target && e.target.matches("[data-print]")) window.print();
  });
})();
