// Chat queue behaviour shared by the agent desk and the customer page:
// Enter sends (Shift+Enter is a new line), new messages are announced through an aria-live
// region, and on the agent desk a beep plays (after a one-time
// "Enable sound" click, as browsers block autoplay) when customers wait, repeated every 30 s.
(function () {
  "use strict";
  let audio = null;
  let lastWaiting = 0;
  let lastMessages = null;
  let reminder = null;

  document.body.addEventListener("keydown", function (e) {
    const box = e.target;
    if (box.tagName === "TEXTAREA" && box.closest("form[data-chat-send]") && e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      if (box.value.trim()) box.form.requestSubmit();
    }
  });

  function beep() {
    if (!audio) return;
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.2, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.4);
    document.body.dataset.chatBeeps = String(Number(document.body.dataset.chatBeeps || 0) + 1);
    document.body.dataset.chatLastBeep = String(Date.now());
  }

  function soundButton() {
    const button = document.querySelector("button[data-chat-sound]");
    if (button) button.hidden = audio !== null;
  }

  document.body.addEventListener("click", function (e) {
    const button = e.target.closest("[data-chat-sound]");
    if (!button) return;
    const Context = window.AudioContext || window.webkitAudioContext;
    if (Context) { audio = new Context(); document.body.dataset.soundOn = "yes"; }
    soundButton();
    beep();
  });

  // A live refresh re-renders the chat while someone may be typing: carry the unsent text over
  // to the new message box of the same chat (htmx itself restores the focus and the caret).
  // The answer to a send is left alone: it clears the box, or keeps the text with the error.
  const drafts = new WeakMap();
  document.body.addEventListener("htmx:beforeSwap", function (e) {
    const box = e.detail.target.querySelector("form[data-chat-send] textarea");
    if (e.detail.requestConfig.verb === "get" && box && box.value) {
      drafts.set(e.detail.target, { form: box.form.getAttribute("hx-post"), text: box.value });
    }
  });
  document.body.addEventListener("htmx:afterSwap", function (e) {
    const draft = drafts.get(e.detail.target);
    if (!draft) return;
    drafts.delete(e.detail.target);
    const box = e.detail.target.querySelector("form[data-chat-send] textarea");
    if (box && !box.value && box.form.getAttribute("hx-post") === draft.form) {
      const focused = document.activeElement === box;
      box.value = draft.text;
      if (focused) box.setSelectionRange(box.value.length, box.value.length);
    }
  });

  // The transfer box: Cancel empties it and gives the focus back to the button that opened it.
  document.body.addEventListener("click", function (e) {
    const cancel = e.target.closest("[data-chat-transfer-cancel]");
    const box = cancel && cancel.closest("[data-chat-transfer]");
    if (!box) return;
    box.replaceChildren();
    const opener = document.querySelector('[aria-controls="' + box.id + '"]');
    if (opener) opener.focus();
  });

  function announce(text) {
    const region = document.getElementById("chat-announcer");
    if (!region || !text) return;
    // The same text again is not a change a screen reader announces: clear it first.
    region.textContent = "";
    setTimeout(function () { region.textContent = text; }, 50);
  }

  function afterSwap() {
    soundButton();
    const list = document.querySelector("[data-waiting-total]");
    const desk = document.querySelector("[data-title]");
    if (list && desk) {
      const waiting = Number(list.dataset.waitingTotal);
      document.title = (waiting ? "(" + waiting + ") " : "") + desk.dataset.title;
      if (waiting > lastWaiting) beep();
      lastWaiting = waiting;
      remindWhileWaiting(waiting);
    } else {
      remindWhileWaiting(0);
    }
    const panel = document.querySelector("[data-messages]");
    if (panel) {
      const count = Number(panel.dataset.messages);
      if (lastMessages !== null && count > lastMessages) {
        const lines = panel.querySelectorAll(".chat-line");
        if (lines.length) announce(lines[lines.length - 1].textContent.replace(/\s+/g, " ").trim());
      }
      lastMessages = count;
      const list = panel.querySelector(".chat-messages");
      if (list) list.scrollTop = list.scrollHeight;
    }
  }

  document.body.addEventListener("htmx:afterSettle", afterSwap);
  document.addEventListener("DOMContentLoaded", afterSwap);
  if (document.readyState !== "loading") afterSwap();

  // While someone waits unclaimed, remind every 30 seconds from the moment they appeared:
  // a beep, and the notice again for screen readers.
  function remindWhileWaiting(waiting) {
    if (waiting > 0 && reminder === null) {
      reminder = setInterval(function () {
        beep();
        const notice = document.querySelector(".chat-new-customer");
        if (notice) announce(notice.textContent.trim());
      }, 30000);
    } else if (waiting === 0 && reminder !== null) {
      clearInterval(reminder);
      reminder = null;
    }
  }

  // The agent desk follows the chat it shows: the server tells a new line only to the desks that
  // show the chat (and to its serving agent). Told again after every reconnect, as a new socket
  // follows nothing. The answer counts the chat's lines: one written between the rendering and
  // the following makes the desk read the chat again.
  let watching;
  function watchOpenChat(again) {
    const socket = window.liveSocket;
    if (!socket || !socket.connected || !document.querySelector(".chat-desk")) return;
    const panel = document.querySelector("#chat-view [data-conversation]");
    const shown = panel ? Number(panel.dataset.conversation) : null;
    if (shown === watching && !again) return;
    watching = shown;
    socket.emit("chat-watch", shown, function (answer) {
      const now = document.querySelector("#chat-view [data-conversation]");
      if (!answer || !answer.ok || !now || Number(now.dataset.conversation) !== shown) return;
      if (answer.lines !== Number(now.dataset.messages)) htmx.trigger(document.body, "chat-watched");
    });
  }
  if (window.liveSocket) window.liveSocket.on("connect", function () { watchOpenChat(true); });
  document.body.addEventListener("htmx:afterSettle", function () { watchOpenChat(false); });

  // The agent desk tells the server it is still open, so colleagues see this agent online
  // (blueprints/chat/internal.py: HEARTBEAT_SECONDS).
  setInterval(function () {
    if (window.liveSocket && window.liveSocket.connected && document.querySelector(".chat-desk")) {
      window.liveSocket.emit("chat-presence");
    }
  }, 60000);
})();
