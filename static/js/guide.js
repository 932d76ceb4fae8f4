// Guide checklist: let htmx swap a form answered with 422 so its field errors show.
(function () {
  "use strict";
  document.body.addEventListener("htmx:beforeSwap", function (e) {
    if (e.detail.xhr.status === 422) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });
  // The print view's button: the browser's own print dialog.
  document.addEventListener("click", function (e) {
    if (e.target && e.target.matches("[data-print]")) window.print();
  });
})();
