// The queue form: "Copy the code" copies the website snippet and says so in a status region.
// Where the clipboard is not allowed (http other than localhost), the text is selected instead.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-from]");
    if (!button) return;
    var source = document.getElementById(button.dataset.copyFrom);
    var status = button.parentElement.querySelector("[role=status]");
    function copied() { if (status) status.textContent = button.dataset.copied; }
    source.focus();
    source.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(source.value).then(copied, function () {});
    } else {
      try { if (document.execCommand("copy")) copied(); } catch (e) { /* the text stays selected */ }
    }
  });
})();
