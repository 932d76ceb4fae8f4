// The customer's live connection: its own Socket.IO namespace, admitted by the signed token in
// the session. Events say that something changed; the page re-fetches its own conversation.
// A banner shows while the connection is down; after a reconnect the page resynchronises.
(function () {
  "use strict";
  if (typeof io === "undefined" || typeof htmx === "undefined") return;
  const holder = document.querySelector("[data-namespace]");
  if (!holder) return;
  const banner = document.getElementById("customer-connection");
  const socket = io(holder.dataset.namespace, { withCredentials: true, transports: ["websocket"] });  // as in live.js
  let connectedBefore = false;

  socket.on("connect", function () {
    if (banner) banner.hidden = true;
    document.body.dataset.live = "connected";
    if (connectedBefore) htmx.trigger(document.body, "live-resync");
    connectedBefore = true;
  });
  socket.on("disconnect", function (reason) {
    if (reason === "io client disconnect") return;  // our own reconnect after a transfer
    if (banner) banner.hidden = false;
    document.body.dataset.live = "disconnected";
  });
  socket.on("connect_error", function () {
    if (banner) banner.hidden = false;
  });
  socket.on("live", function (message) {
    htmx.trigger(document.body, message.event, message.data || {});
  });
  // A transfer moves the customer to another queue: reconnect, so that the server admits the
  // socket to the new queue's room and the place in that line stays current.
  let queue = (document.querySelector("[data-queue]") || {dataset: {}}).dataset.queue;
  document.body.addEventListener("htmx:afterSettle", function () {
    const section = document.querySelector("[data-queue]");
    if (!section || section.dataset.queue === queue) return;
    queue = section.dataset.queue;
    socket.disconnect();
    socket.connect();
  });
  window.customerSocket = socket;
})();
