// The customer's live connection: its own Socket.IO namespace, admitted by the signed token in
// the session. Events say that something changed; the page re-fetches its own conversation.
// A banner shows while the connection is down; after a reconnect the page resynchronises.
(function () {
  "use strict";
  if (typeof io === "undefined" || typeof htmx === "undefined") return;
  const holder = document.querySelector("[data-namespace]");
  if (!holder) return;
  const banner = document.getElementById("customer-connection");
  const socket = io(holder.dataset.namespace, { withCredentials: true });
  let connectedBefore = false;

  socket.on("connect", function () {
    if (banner) banner.hidden = true;
    document.body.dataset.live = "connected";
    if (connectedBefore) htmx.trigger(document.body, "live-resync");
    connectedBefore = true;
  });
  socket.on("disconnect", function () {
    if (banner) banner.hidden = false;
    document.body.dataset.live = "disconnected";
  });
  socket.on("connect_error", function () {
    if (banner) banner.hidden = false;
  });
  socket.on("live", function (message) {
    htmx.trigger(document.body, message.event, message.data || {});
  });
  window.customerSocket = socket;
})();
