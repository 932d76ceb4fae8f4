// The desk's waiting times ("4 min"), kept current in this page: every 30 seconds, and at once when
// a list is drawn or a row arrives with its live event, each [data-waited-since] (when the customer
// joined, UTC) gets its whole minutes in the page's language (data-one; data-many with 999999 for
// the number). No request: a row pushed to every desk is the same for all, and its minutes grow here.
(function () {
  "use strict";

  function update() {
    const now = Date.now();
    document.querySelectorAll("[data-waited-since]").forEach(function (wait) {
      const since = Date.parse(wait.dataset.waitedSince);
      if (isNaN(since)) return;
      const minutes = Math.max(0, Math.floor((now - since) / 60000));
      const text = minutes === 1 ? wait.dataset.one : wait.dataset.many.replace("999999", String(minutes));
      if (wait.textContent !== text) wait.textContent = text;
    });
  }

  document.addEventListener("DOMContentLoaded", update);
  if (document.readyState !== "loading") update();
  document.body.addEventListener("htmx:afterSettle", update);
  document.body.addEventListener("live:appended", update);
  document.body.addEventListener("htmx:historyRestore", update);
  setInterval(update, 30000);
})();
