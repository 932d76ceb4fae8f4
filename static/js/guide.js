// Guide checklist: the print button.
(function () {
  "use strict";
  // The print view's button: the browser's own print dialog.
  document.addEventListener("click", function (e) {
    if (e.target && e.target.matches("[data-print]")) window.print();
  });
})();
