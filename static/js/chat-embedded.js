// The customer page inside the panel of the chat button on the library's website
// (templates/chat/widget.js): Escape pressed here closes the panel as it does on the website,
// unless it closes a dialog of this page first. Nothing is said but that Escape was pressed.
(function () {
  "use strict";
  if (window.parent === window) return;
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || event.defaultPrevented || document.querySelector("dialog[open]")) return;
    window.parent.postMessage({libraryChat: "escape"}, "*");
  });
})();
