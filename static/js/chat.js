// Chat queue behaviour shared by the agent desk and the customer page:
// Enter sends (Shift+Enter is a new line), new messages are announced through an aria-live
// region, and on the agent desk a beep plays when customers wait (repeated every 30 s) and when
// a new line comes in one of my chats not in view, each kind switchable, once sound is on.
(function () {
  "use strict";
  let audio = null;
  let lastWaiting = 0;
  let lastMessages = null;
  let lastUnread = null;
  let reminder = null;

  document.body.addEventListener("keydown", function (e) {
    const box = e.target;
    if (box.tagName === "TEXTAREA" && box.closest("form[data-chat-send]") && e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      if (box.value.trim()) box.form.requestSubmit();
    }
  });

  // ---- sending: every message stored once, in the order written --------------------------------
  // The text leaves the box at once (the box is free for the next message) and waits in a list
  // under it until the server has it. Each message has a key of its own, so sending it again
  // after a lost answer stores it once. Refused (too long, the chat ended): the text comes back
  // to the box with the reason. Not reachable: the message stays, marked as not sent, and goes
  // when the connection returns. The new line itself arrives with its live event.
  const outbox = [];
  let sending = false;

  function newKey() {
    return (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
  }

  document.addEventListener("submit", function (e) {
    const form = e.target.closest("form[data-chat-send]");
    if (!form) return;
    // Handled here, never natively nor twice: the form may be new on the page (not yet htmx's).
    e.preventDefault();
    e.stopImmediatePropagation();
    const box = form.querySelector("textarea[name=body]");
    if (!box.value.trim()) return;
    const item = { action: form.action, form: form, body: box.value, key: newKey(), node: document.createElement("li") };
    item.node.className = "chat-pending-line";
    item.node.textContent = box.value;
    item.list = form.querySelector("[data-chat-pending]");
    if (item.list) item.list.appendChild(item.node);
    box.value = "";
    box.defaultValue = "";
    outbox.push(item);
    pump();
  }, true);

  function token(form) {
    const field = form.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  }

  function pump() {
    if (sending || !outbox.length) return;
    const item = outbox[0];
    sending = true;
    item.node.dataset.state = "sending";
    const data = new FormData(item.form);
    data.set("body", item.body);
    data.set("key", item.key);
    fetch(item.action, { method: "POST", body: data, credentials: "same-origin",
                         headers: { "HX-Request": "true", "X-CSRFToken": token(item.form) } })
      .then(function (response) {
        if (response.ok) return sent(item, response.headers.get("X-Chat-Line"));
        if (response.status >= 500) return failed(item);
        return response.text().then(function (html) { refused(item, html); });
      }, function () { failed(item); });
  }

  function next() {
    sending = false;
    pump();
  }

  // How long a sent line may take to arrive with its event before the page asks for it.
  const LINE_EVENT_WAIT_MS = 3000;

  function sent(item, line) {
    outbox.shift();
    document.body.dataset.chatSent = String(Number(document.body.dataset.chatSent || 0) + 1);
    item.node.remove();
    // The new line comes with its live event, as everyone else's. Only when the socket is down,
    // or the event has not brought it after a while, does the page read the lines after the last
    // one shown (where the page has such a list, else the region around the form).
    const panel = item.form.closest("[data-chat-panel]");
    const region = (panel && panel.querySelector("[data-live-append]")) || item.form.closest("[data-live-region]");
    if (region && line && Live.socket && Live.socket.connected) {
      const id = region.id;
      setTimeout(function () {
        const now = document.getElementById(id);
        if (now && !now.querySelector('[data-item="' + line + '"]')) Live.refreshRegion(now);
      }, LINE_EVENT_WAIT_MS);
    } else if (region) {
      Live.refreshRegion(region);
    }
    next();
  }

  function refused(item, html) {
    outbox.shift();
    item.node.remove();
    const reason = new DOMParser().parseFromString(html, "text/html").querySelector("#chat-error");
    const form = document.querySelector('form[data-chat-send][action="' + item.form.getAttribute("action") + '"]');
    if (form) {
      const box = form.querySelector("textarea[name=body]");
      box.value = box.value ? item.body + "\n" + box.value : item.body;
      const error = form.querySelector("[data-chat-send-error]");
      if (error) { error.textContent = reason ? reason.textContent.trim() : ""; error.hidden = !reason; }
    }
    next();
  }

  function failed(item) {
    item.node.dataset.state = "unsent";
    if (!item.note && item.list) {
      item.note = document.createElement("span");
      item.note.className = "chat-pending-note";
      item.note.textContent = item.list.dataset.textUnsent;
      item.node.appendChild(item.note);
    }
    sending = false;
    // Again when the connection is back, or in a few seconds if it never dropped.
    setTimeout(pump, 3000);
  }
  document.body.addEventListener("live:connected", pump);

  // ---- sound: for new customers and for new lines in my chats not in view ----------------------
  // The choice is kept in this browser (localStorage) and survives reloads. Browsers let a page
  // play sound only after the person has touched it, so after a reload the sound starts at the
  // first click or key press.
  const stored = window.localStorage;
  function setting(name, fallback) {
    const value = stored && stored.getItem("chat-sound-" + name);
    return value === null || value === undefined ? fallback : value === "on";
  }
  function remember(name, on) {
    if (stored) stored.setItem("chat-sound-" + name, on ? "on" : "off");
  }

  function startAudio() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!audio && Context) audio = new Context();
    if (audio && audio.state === "suspended") audio.resume();
  }

  function beep(kind) {
    if (!audio || !setting("on", false) || (kind && !setting(kind, true))) return;
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = kind === "messages" ? 660 : 880;
    gain.gain.setValueAtTime(0.2, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.4);
    document.body.dataset.chatBeeps = String(Number(document.body.dataset.chatBeeps || 0) + 1);
    document.body.dataset.chatLastBeep = String(Date.now());
  }

  // The settings say in words whether sound is on; the button to turn it on hides while it is.
  function soundButton() {
    const box = document.querySelector("[data-chat-sound-settings]");
    if (!box) return;
    const on = setting("on", false);
    box.querySelector("[data-chat-sound]").hidden = on;
    box.querySelector("[data-chat-sound-off]").hidden = !on;
    const state = box.querySelector("[data-chat-sound-state]");
    state.textContent = on ? state.dataset.textOn : state.dataset.textOff;
    box.querySelectorAll("[data-chat-sound-kind]").forEach(function (choice) {
      choice.checked = setting(choice.dataset.chatSoundKind, true);
    });
    document.body.dataset.soundOn = on ? "yes" : "no";
  }

  document.body.addEventListener("click", function (e) {
    if (e.target.closest("[data-chat-sound]")) {
      remember("on", true);
      startAudio();
      soundButton();
      beep();
    } else if (e.target.closest("[data-chat-sound-off]")) {
      remember("on", false);
      soundButton();
    }
  });
  document.body.addEventListener("change", function (e) {
    const choice = e.target.closest("[data-chat-sound-kind]");
    if (choice) remember(choice.dataset.chatSoundKind, choice.checked);
  });
  ["pointerdown", "keydown"].forEach(function (name) {
    document.addEventListener(name, function () { if (setting("on", false)) startAudio(); }, { once: true });
  });
  if (setting("on", false)) startAudio();  // allowed at once where the browser permits it

  // The transfer box: Cancel empties it and gives the focus back to the button that opened it.
  document.body.addEventListener("click", function (e) {
    const cancel = e.target.closest("[data-chat-transfer-cancel]");
    const box = cancel && cancel.closest("[data-chat-transfer]");
    if (!box) return;
    box.replaceChildren();
    box.removeAttribute("data-opened");
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
      // The title counts who needs me: customers waiting, and my chats with new lines.
      const waiting = Number(list.dataset.waitingTotal);
      const unread = document.querySelectorAll("#chat-active .chat-badge").length;
      document.title = (waiting + unread ? "(" + (waiting + unread) + ") " : "") + desk.dataset.title;
      if (waiting > lastWaiting) beep("customers");
      if (lastUnread !== null && unread > lastUnread) beep("messages");
      lastWaiting = waiting;
      lastUnread = unread;
      remindWhileWaiting(waiting);
    } else {
      remindWhileWaiting(0);
    }
    const panel = document.querySelector("[data-chat-panel]");
    if (panel) {
      const count = panel.querySelectorAll(".chat-line").length;
      if (lastMessages !== null && count > lastMessages) {
        const lines = panel.querySelectorAll(".chat-line");
        if (lines.length) announce(lines[lines.length - 1].textContent.replace(/\s+/g, " ").trim());
      }
      lastMessages = count;
      const list = panel.querySelector(".chat-messages");
      if (list) list.scrollTop = list.scrollHeight;
    }
  }

  // A queue's new count comes with the event: written into its count, no re-read (a join).
  document.body.addEventListener("live:chat-changed", function (e) {
    const count = document.querySelector('[data-queue-count="' + e.detail.queue + '"]');
    const list = document.querySelector("[data-waiting-total]");
    if (!count || !list || e.detail.waiting === undefined) return;
    const n = Number(e.detail.waiting);
    count.dataset.count = String(n);
    count.textContent = n === 1 ? count.dataset.one : count.dataset.many.replace("999999", String(n));
    let total = 0;
    list.querySelectorAll("[data-queue-count]").forEach(function (c) { total += Number(c.dataset.count); });
    list.dataset.waitingTotal = String(total);
    const notice = list.querySelector('[data-queue-new="' + e.detail.queue + '"]');
    if (notice) notice.hidden = n === 0;
    afterSwap();
  });

  document.body.addEventListener("htmx:afterSettle", afterSwap);
  document.body.addEventListener("live:appended", afterSwap);  // a line that came with its event
  document.addEventListener("DOMContentLoaded", afterSwap);
  if (document.readyState !== "loading") afterSwap();

  // While someone waits unclaimed, remind every 30 seconds from the moment they appeared:
  // a beep, and the notice again for screen readers.
  function remindWhileWaiting(waiting) {
    if (waiting > 0 && reminder === null) {
      reminder = setInterval(function () {
        beep("customers");
        const notice = document.querySelector(".chat-new-customer:not([hidden])");
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
    const socket = Live.socket;
    if (!socket || !socket.connected || !document.querySelector(".chat-desk")) return;
    const panel = document.querySelector("#chat-view [data-conversation]");
    const shown = panel ? Number(panel.dataset.conversation) : null;
    if (shown === watching && !again) return;
    watching = shown;
    socket.emit("chat-watch", shown, function (answer) {
      const now = document.querySelector("#chat-view [data-conversation]");
      if (!answer || !answer.ok || !now || Number(now.dataset.conversation) !== shown) return;
      const lines = now.querySelector("[data-live-append]");
      if (lines && answer.lines !== now.querySelectorAll(".chat-line").length) Live.refreshRegion(lines);
    });
  }
  // A line that came with its event was shown without a request: the desk's next request says so
  // (X-Chat-Shown: the chat and its last line shown, "i" before an internal chat's number), and
  // the server takes the chat as read up to there before it answers, so "New messages!" does not
  // come back. No request or write of its own for each line.
  let shownLine = null;
  document.body.addEventListener("live:appended", function (e) {
    const panel = e.target.closest("#chat-view [data-conversation], #chat-view [data-internal]");
    const lines = panel ? e.target.querySelectorAll(":scope > [data-item]") : [];
    const chat = panel && (panel.dataset.conversation || "i" + panel.dataset.internal);
    if (lines.length) shownLine = chat + ":" + lines[lines.length - 1].dataset.item;
  });
  document.body.addEventListener("htmx:configRequest", function (e) {
    if (shownLine) e.detail.headers["X-Chat-Shown"] = shownLine;
  });
  document.body.addEventListener("htmx:afterRequest", function (e) {
    const sent = e.detail.requestConfig && e.detail.requestConfig.headers && e.detail.requestConfig.headers["X-Chat-Shown"];
    if (e.detail.successful && sent && sent === shownLine) shownLine = null;
  });
  document.body.addEventListener("live:connected", function () { watchOpenChat(true); });
  document.body.addEventListener("htmx:afterSettle", function () { watchOpenChat(false); });

  // The agent desk tells the server it is still open, so colleagues see this agent online
  // (blueprints/chat/internal.py: HEARTBEAT_SECONDS); the customer page too, so that a page whose
  // server process stopped is not kept in the queue for ever (blueprints/chat/staffing.py).
  setInterval(function () {
    if (Live.socket && Live.socket.connected && document.querySelector(".chat-desk, .customer-chat")) {
      Live.socket.emit("chat-presence");
    }
  }, 60000);

  // A transfer moves a customer to another queue: the page asks for a new socket, so that the
  // server admits it to the new queue's room and the place in that line stays current.
  let customerQueue = (document.querySelector(".customer-chat[data-queue]") || { dataset: {} }).dataset.queue;
  document.body.addEventListener("htmx:afterSettle", function () {
    const section = document.querySelector(".customer-chat[data-queue]");
    if (!section || section.dataset.queue === customerQueue) return;
    customerQueue = section.dataset.queue;
    document.body.dispatchEvent(new CustomEvent("live:reconnect"));
  });
})();
