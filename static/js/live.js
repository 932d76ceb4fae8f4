// Live updates for staff pages: the server names what changed ("notice-changed"),
// this script fires that name as an htmx event on <body>, and every partial listening
// with hx-trigger="notice-changed from:body" re-fetches itself from its own route.
(function () {
  "use strict";
  if (typeof io === "undefined" || typeof htmx === "undefined") return;

  const status = document.getElementById("connection-status");
  // WebSocket only: a page left mid-long-poll is not noticed by the server until its ping
  // timeout, which would keep a colleague "online"; and with several server processes,
  // polling would need sticky sessions. The TLS proxy forwards WebSocket upgrades (README).
  const socket = io({ withCredentials: true, transports: ["websocket"] });
  let connectedBefore = false;

  socket.on("connect", function () {
    if (status) status.hidden = true;
    document.body.dataset.live = "connected";
    // After a drop, events may have been missed: every live partial refreshes itself.
    if (connectedBefore) htmx.trigger(document.body, "live-resync");
    connectedBefore = true;
  });

  socket.on("disconnect", function () {
    if (status) status.hidden = false;
    document.body.dataset.live = "disconnected";
  });

  socket.on("live", function (message) {
    htmx.trigger(document.body, message.event, message.data || {});
  });

  window.liveSocket = socket;
})();
