// Video chat between the serving agent and the customer, on both pages (templates/chat/_video.html).
// A WebRTC peer-to-peer call: the media go browser to browser; only the signals (invite, accept,
// decline, offer, answer, ICE candidates, end) travel over the page's Socket.IO connection, and
// the server relays them only between the serving agent and that conversation's customer
// (blueprints/chat/video.py). Each call has an id made at the invitation, so a page ignores
// signals of calls it is not in (another tab of the same agent, an old call).
// No ICE servers by default: on a local network the host candidates connect.
(function () {
  "use strict";
  const first = document.getElementById("chat-video");
  if (!first) return;
  const side = first.dataset.videoSide; // "agent" or "customer"
  const socket = Live.socket;
  if (!socket) return;

  let call = null; // {id, conversation, accepted, media, peer, candidates}

  // The panel is looked up each time: boosted navigation on the desk may move it (hx-preserve).
  function panel() { return document.getElementById("chat-video"); }
  function part(name) { return panel().querySelector("[data-video-" + name + "]"); }
  function text(key) { return panel().dataset["text" + key.replace(/(^|-)(\w)/g, function (m, d, c) { return c.toUpperCase(); })] || ""; }

  // state: "invited" | "waiting" | "connecting" | "connected" | "ended"; the status line says it in words.
  function show(state, message) {
    const box = panel();
    box.hidden = false;
    box.dataset.videoState = state;
    part("status").textContent = message;
    const live = state === "waiting" || state === "connecting" || state === "connected";
    // One call at a time: while one runs, the desk offers no "Start video chat" (static/css/chat.css).
    if (side === "agent") document.body.toggleAttribute("data-video-call", live);
    part("screens").hidden = !live;
    part("end").hidden = !live;
    const prompt = part("prompt");
    if (prompt) prompt.hidden = state !== "invited";
  }

  function send(kind, extra) {
    if (!call) return;
    const message = Object.assign({ conversation: call.conversation, call: call.id, kind: kind }, extra || {});
    socket.emit("video", message, function (answer) {
      // Refused: the conversation is no longer ours to call in (ended, released, taken over).
      if (!(answer && answer.ok) && call && call.id === message.call) hangUp("ended");
    });
  }

  // Let go of the call: close the connection, switch off the own camera and microphone.
  function cleanUp() {
    if (call) {
      if (call.peer) call.peer.close();
      if (call.media) call.media.then(function (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); }, function () {});
    }
    call = null;
    part("remote").srcObject = null;
    part("own").srcObject = null;
  }

  function hangUp(messageKey) {
    cleanUp();
    show("ended", text(messageKey));
  }

  function problem(error) {
    const name = error && error.name;
    if (name === "NotFoundError" || name === "OverconstrainedError") return "no-camera";
    if (name === "NotAllowedError" || name === "SecurityError") return "not-allowed";
    return "unavailable";
  }

  function openCamera(current) {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      // Not a secure context (plain http outside localhost) or a browser without WebRTC.
      return Promise.reject(new Error("getUserMedia is not available"));
    }
    return navigator.mediaDevices.getUserMedia({ video: true, audio: true }).then(function (stream) {
      if (call === current) part("own").srcObject = stream;
      return stream;
    });
  }

  function iceServers() {
    try { return JSON.parse(panel().dataset.iceServers || "[]"); } catch (e) { return []; }
  }

  function openPeer(stream) {
    const current = call;
    const peer = new RTCPeerConnection({ iceServers: iceServers() });
    current.peer = peer;
    stream.getTracks().forEach(function (track) { peer.addTrack(track, stream); });
    peer.addEventListener("icecandidate", function (e) {
      if (e.candidate && call === current) {
        send("candidate", { candidate: { candidate: e.candidate.candidate, sdpMid: e.candidate.sdpMid, sdpMLineIndex: e.candidate.sdpMLineIndex } });
      }
    });
    peer.addEventListener("track", function (e) {
      // The other side adds its tracks with their stream, so audio and video arrive as one.
      const remote = part("remote");
      if (e.streams[0] && remote.srcObject !== e.streams[0]) {
        remote.srcObject = e.streams[0];
        remote.play().catch(function () {});
      }
    });
    peer.addEventListener("connectionstatechange", function () {
      if (call !== current) return;
      if (peer.connectionState === "connected") show("connected", text("connected"));
      if (peer.connectionState === "failed") { send("end", { reason: "connection" }); hangUp("connection"); }
    });
    return peer;
  }

  // Candidates may arrive before the other side's description is set; they wait until it is.
  function addCandidate(candidate) {
    if (call.peer && call.peer.remoteDescription) {
      call.peer.addIceCandidate(candidate).catch(function () {});
    } else {
      call.candidates.push(candidate);
    }
  }

  function takeDescription(description) {
    const current = call;
    return current.peer.setRemoteDescription(description).then(function () {
      current.candidates.splice(0).forEach(function (c) { current.peer.addIceCandidate(c).catch(function () {}); });
    });
  }

  // Setting up the connection threw (a description the browser cannot use): the call is over for both.
  function connectionFailed() {
    if (!call) return;
    send("end", { reason: "connection" });
    hangUp("connection");
  }

  // ---- the agent: invites (over HTTP, confirmed), then calls once the customer accepts ------------

  function agentInvited(detail) {
    if (call) { send("end", { reason: "closed" }); hangUp("ended"); }
    call = { id: detail.call, conversation: detail.conversation, candidates: [] };
    part("who").textContent = detail.customer || "";
    show("waiting", text("waiting"));
    const current = call;
    // The own camera starts at once: a missing camera shows before the customer is bothered.
    current.media = openCamera(current);
    current.media.catch(function (error) {
      if (call !== current) return;
      send("end", { reason: problem(error) });
      hangUp(problem(error));
    });
  }

  function agentSignal(signal) {
    const current = call;
    if (signal.kind === "accept" && !current.accepted) {
      current.accepted = true;
      show("connecting", text("connecting"));
      current.media.then(function (stream) {
        if (call !== current) return;
        const peer = openPeer(stream);
        return peer.createOffer()
          .then(function (offer) { return peer.setLocalDescription(offer); })
          .then(function () { send("offer", { description: { type: "offer", sdp: peer.localDescription.sdp } }); });
      }, function () {}).catch(connectionFailed);
    } else if (signal.kind === "answer" && current.peer) {
      takeDescription(signal.description).catch(connectionFailed);
    } else if (signal.kind === "candidate") {
      addCandidate(signal.candidate);
    } else if (signal.kind === "decline") {
      hangUp("declined");
    } else if (signal.kind === "failed") {
      hangUp("other-" + (signal.reason || "unavailable"));
    } else if (signal.kind === "end") {
      // "closed": the customer's page went (closed, reloaded, left) rather than their End button.
      hangUp(signal.reason === "connection" ? "connection" : signal.reason === "closed" ? "other-closed" : "other-ended");
    }
  }

  // ---- the customer: accepts or declines, then answers the agent's offer -------------------------

  function customerSignal(signal) {
    if (signal.kind === "invite") {
      cleanUp();
      call = { id: signal.call, conversation: signal.conversation, candidates: [] };
      show("invited", text("invited"));
      return;
    }
    if (!call || signal.call !== call.id) return;
    const current = call;
    if (signal.kind === "offer" && current.media && !current.peer) {
      current.media.then(function (stream) {
        if (call !== current) return;
        const peer = openPeer(stream);
        return takeDescription(signal.description)
          .then(function () { return peer.createAnswer(); })
          .then(function (answer) { return peer.setLocalDescription(answer); })
          .then(function () { send("answer", { description: { type: "answer", sdp: peer.localDescription.sdp } }); });
      }).catch(connectionFailed);
    } else if (signal.kind === "candidate") {
      addCandidate(signal.candidate);
    } else if (signal.kind === "end") {
      hangUp(signal.reason === "connection" ? "connection" : current.media ? "other-ended" : "ended");
    }
  }

  function accept() {
    if (!call || call.media) return;
    const current = call;
    show("connecting", text("starting"));
    current.media = openCamera(current);
    current.media.then(function () {
      if (call !== current) return;
      show("connecting", text("connecting"));
      send("accept");
    }, function (error) {
      if (call !== current) return;
      send("failed", { reason: problem(error) });
      hangUp(problem(error));
    });
  }

  function decline() {
    if (!call) return;
    send("decline");
    hangUp("declined");
  }

  // ---- wiring -------------------------------------------------------------------------------------

  document.body.addEventListener("live:video-signal", function (e) {
    const signal = e.detail || {};
    if (side === "customer") { customerSignal(signal); return; }
    if (call && signal.call === call.id && signal.conversation === call.conversation) agentSignal(signal);
  });

  // A successful "Start video chat" names the new call in a response header (blueprints/chat/routes.py).
  // It is read from the request itself: a live update may re-render the chat column, button and
  // all, while the request runs, and an event fired on a removed button would reach nobody.
  document.body.addEventListener("htmx:beforeRequest", function (e) {
    if (side !== "agent" || !e.target.matches("[data-video-start]")) return;
    const xhr = e.detail.xhr;
    xhr.addEventListener("load", function () {
      const invited = xhr.getResponseHeader("X-Chat-Video-Call");
      if (xhr.status === 200 && invited) agentInvited(JSON.parse(invited));
    });
  });

  document.body.addEventListener("click", function (e) {
    if (e.target.closest("[data-video-accept]")) accept();
    else if (e.target.closest("[data-video-decline]")) decline();
    else if (e.target.closest("[data-video-end]") && call) { send("end"); hangUp("ended"); }
  });

  // The conversation stopped being a served one of ours (ended, released, left): the call is over.
  document.body.addEventListener("htmx:afterSettle", function () {
    if (!call || !(call.accepted || call.media)) return;
    if (side === "agent") {
      const chat = document.querySelector('.chat-panel[data-conversation="' + call.conversation + '"]');
      if (chat && chat.dataset.callable !== "yes") hangUp("ended");
    } else {
      const chat = document.querySelector(".customer-chat[data-state]");
      if (chat && chat.dataset.state !== "served") hangUp("ended");
    }
  });

  // Leaving the page (or the chat) ends the call for the other side too; a page that goes says
  // so ("closed"), so that the agent does not read that the customer pressed End.
  function leave(reason) { if (call) { send("end", reason ? { reason: reason } : {}); hangUp("ended"); } }
  // The customer's page going: a beacon, which the browser still delivers after the page is gone
  // (a socket message sent now may never get out). The agent's page leaving ends the call as
  // usual: its socket is the one it signals with, and a desk is rarely closed mid-call.
  function closedBeacon() {
    const url = panel().dataset.closedUrl;
    if (!url || !navigator.sendBeacon) return false;
    const form = new FormData();
    form.append("csrf_token", JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "");
    form.append("conversation", call.conversation);
    form.append("call", call.id);
    return navigator.sendBeacon(url, form);
  }
  window.addEventListener("pagehide", function () {
    if (side === "customer" && call && closedBeacon()) { hangUp("ended"); return; }
    leave(side === "customer" ? "closed" : null);
  });
  document.body.addEventListener("submit", function (e) { if (e.target.closest(".chat-leave")) leave(null); });
})();
