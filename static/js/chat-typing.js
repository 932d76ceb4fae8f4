// Typing indicators, both ways (blueprints/chat/typing_indicator.py): the page says over its socket
// that its person is typing in a customer chat, never what: once every four seconds while typing
// (the other side's indicator lasts six; the server relays at most one in two), and once when the box is emptied, the message is sent or nothing has been typed for a
// few seconds. The other side shows "The customer is typing…" (the desk: the chat in view and the
// active list) or "The librarian is typing…" (the customer's page) until told it stopped, or until
// nothing more has come for a while (a page that went without saying so).
(function () {
  "use strict";
  // One "typing" per chat in this time while typing: it renews the other side's indicator before
  // it goes (SHOWN), and stays clear of the server's own gate of two seconds, which a renewal
  // every two seconds met with the network's jitter. Every event costs the server some CPU.
  const INTERVAL = 4000;
  const IDLE = 4000;  // nothing typed for this long: stopped
  const SHOWN = 6000;  // an indicator not renewed for this long goes by itself
  let typing = null;  // {key, payload, last, timer}: what this page last said it types in

  // The chat the box writes in: a customer chat of the desk ({conversation}), or the customer's
  // own ({}); not the internal chat.
  function chatOf(box) {
    if (box.tagName !== "TEXTAREA" || !box.closest("form[data-chat-send]")) return null;
    const desk = box.closest("#chat-view [data-conversation]");
    if (desk) return { key: desk.dataset.conversation, payload: { conversation: Number(desk.dataset.conversation) } };
    if (box.closest(".customer-chat")) return { key: "mine", payload: {} };
    return null;
  }

  function say(payload, on) {
    const socket = window.Live && Live.socket;
    if (socket && socket.connected) socket.emit("chat-typing", Object.assign({ typing: on }, payload));
  }

  function stop() {
    if (!typing) return;
    clearTimeout(typing.timer);
    say(typing.payload, false);
    typing = null;
  }

  document.addEventListener("input", function (e) {
    const chat = chatOf(e.target);
    if (!chat) return;
    if (!e.target.value.trim()) { stop(); return; }
    if (typing && typing.key !== chat.key) stop();
    if (!typing) typing = { key: chat.key, payload: chat.payload, last: 0, timer: null };
    const now = Date.now();
    if (now - typing.last >= INTERVAL) {
      typing.last = now;
      say(typing.payload, true);
    }
    clearTimeout(typing.timer);
    typing.timer = setTimeout(stop, IDLE);
  });
  // Sent: stopped. (On window, in the capture phase: chat.js takes the submit on the document.)
  window.addEventListener("submit", function (e) {
    if (e.target.closest && e.target.closest("form[data-chat-send]")) stop();
  }, true);
  // Another chat in view: the one left behind is no longer being typed in.
  document.body.addEventListener("htmx:afterSettle", function () {
    if (typing && typing.key !== "mine" && !document.querySelector('#chat-view [data-conversation="' + typing.key + '"]')) stop();
  });

  // ---- the other side typing -------------------------------------------------------------------
  const until = {};  // chat ("mine" on the customer's page) -> when its indicator goes
  let timer = null;

  function show() {
    const now = Date.now();
    document.querySelectorAll("[data-chat-typing]").forEach(function (indicator) {
      const holder = indicator.closest("[data-conversation]");
      const key = holder ? holder.dataset.conversation : "mine";
      const text = (until[key] || 0) > now ? indicator.dataset.textTyping : "";
      if (indicator.textContent !== text) indicator.textContent = text;
    });
    clearTimeout(timer);
    const next = Math.min.apply(null, Object.values(until).filter(function (t) { return t > now; }).concat([Infinity]));
    if (next !== Infinity) timer = setTimeout(show, next - now + 50);
  }

  function heard(key, on) {
    until[key] = on ? Date.now() + SHOWN : 0;
    show();
  }
  document.body.addEventListener("live:customer-typing", function (e) { heard(String(e.detail.conversation), e.detail.typing); });
  document.body.addEventListener("live:agent-typing", function (e) { heard("mine", e.detail.typing); });
  document.body.addEventListener("htmx:afterSettle", show);
  document.body.addEventListener("live:appended", show);
})();
