// Desktop notifications on the agent desk, for an agent whose tab is in the background: a new
// customer in one of my queues (or one waiting again: released to it, transferred to it), and a
// new line from a customer in one of my chats. Asked for by the button (never on page load); the
// kinds chosen are the agent's own, kept on the server
// (blueprints/chat/notify.py) so that they follow the agent to another browser. A notification
// shows only while the tab is hidden, tagged per customer or chat so a newer one replaces it. A
// waiting customer nobody has picked up is announced again every CHAT_NOTIFY_ESCALATE_SECONDS
// until someone serves (or removes) them. Clicking one brings the desk forward on that customer,
// opened through the desk's own (boosted) links.
(function () {
  "use strict";
  const waiting = {};  // conversation -> {queue, name, timer, note}
  const shown = {};  // tag -> the notification shown

  function box() { return document.querySelector("[data-chat-notify-settings]"); }
  function supported() { return "Notification" in window; }
  function permitted() { return supported() && window.Notification.permission === "granted"; }
  function chosen(kind) {
    const b = box();
    return !!b && b.dataset["notify" + kind.charAt(0).toUpperCase() + kind.slice(1)] === "on";
  }
  function hidden() { return document.visibilityState === "hidden"; }
  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (all, key) { return values[key] === undefined ? all : values[key]; });
  }

  // ---- the settings: in words, the button, the kinds -------------------------------------------
  function showState() {
    const b = box();
    if (!b) return;
    const on = permitted() && (chosen("customers") || chosen("messages"));
    const state = b.querySelector("[data-chat-notify-state]");
    const blocked = supported() && window.Notification.permission === "denied";
    state.textContent = !supported() ? state.dataset.textUnsupported
      : blocked ? state.dataset.textDenied : on ? state.dataset.textOn : state.dataset.textOff;
    b.querySelector("[data-chat-notify]").hidden = on || !supported() || blocked;
    b.querySelector("[data-chat-notify-off]").hidden = !on;
    b.querySelectorAll("[data-chat-notify-kind]").forEach(function (choice) {
      choice.checked = chosen(choice.dataset.chatNotifyKind);
    });
    document.body.dataset.notifyOn = on ? "yes" : "no";
  }

  function save(values) {
    const b = box();
    const data = new FormData();
    Object.keys(values).forEach(function (k) { data.set(k, values[k]); });
    const csrf = document.querySelector("input[name=csrf_token]");
    const error = b.querySelector("[data-chat-notify-error]");
    return fetch(b.dataset.url, { method: "POST", body: data, credentials: "same-origin",
                                   headers: { "X-CSRFToken": csrf ? csrf.value : "" } })
      .then(function (response) {
        return response.json().then(function (answer) {
          const now = box();
          if (!now) return;
          if (response.ok) {
            now.dataset.notifyCustomers = answer.customers ? "on" : "off";
            now.dataset.notifyMessages = answer.messages ? "on" : "off";
            error.hidden = true;
          } else {
            error.textContent = answer.error || "";
            error.hidden = false;
          }
          showState();
        });
      }, function () { showState(); });
  }

  document.body.addEventListener("click", function (e) {
    if (e.target.closest("[data-chat-notify]")) {
      window.Notification.requestPermission().then(function (answer) {
        // Turned on with no kind chosen yet: both kinds; the kinds chosen before are kept.
        if (answer === "granted" && !chosen("customers") && !chosen("messages")) {
          save({ customers: "on", messages: "on" });
        } else {
          showState();
        }
      });
    } else if (e.target.closest("[data-chat-notify-off]")) {
      save({ customers: "off", messages: "off" });
    }
  });
  document.body.addEventListener("change", function (e) {
    const choice = e.target.closest("[data-chat-notify-kind]");
    if (!choice) return;
    const values = {};
    values[choice.dataset.chatNotifyKind] = choice.checked ? "on" : "off";
    save(values);
  });

  // ---- showing one -----------------------------------------------------------------------------
  function notify(tag, title, again, conversation, queue) {
    if (!permitted() || !hidden()) return;
    const b = box();
    const note = new window.Notification(title, { tag: tag, body: b.dataset.textClick, renotify: again,
                                                  lang: document.documentElement.lang });
    shown[tag] = note;
    note.onclick = function () { open(queue, conversation); note.close(); };
    note.onclose = function () { if (shown[tag] === note) delete shown[tag]; };
    document.body.dataset.notifications = String(Number(document.body.dataset.notifications || 0) + 1);
  }

  // The desk's own navigation: the customer's link where the desk shows one, else one made for it.
  function open(queue, conversation) {
    window.focus();
    const b = box();
    const url = b.dataset.openUrl + "?queue=" + queue + "&conversation=" + conversation;
    const existing = document.querySelector('.chat-desk a[href="' + url + '"]');
    if (existing) { existing.click(); return; }
    const desk = document.querySelector(".chat-desk");
    if (!desk || !window.htmx) { window.location.href = url; return; }
    const link = document.createElement("a");
    link.href = url;
    link.hidden = true;
    desk.appendChild(link);
    htmx.process(link);
    link.click();
    link.remove();
  }

  function queueName(queue) {
    const count = document.querySelector('[data-queue-count="' + queue + '"]');
    const link = count && count.parentElement.querySelector("a");
    return link ? link.textContent.trim() : "";
  }

  function rendered(detail, selector) {
    const html = detail.html && detail.html[document.documentElement.lang];
    if (!html) return null;
    return new DOMParser().parseFromString(html, "text/html").querySelector(selector);
  }

  // ---- new customers, and again while nobody serves them ----------------------------------------
  function escalateSeconds() {
    const b = box();
    return Math.max(1, Number(b ? b.dataset.escalateSeconds : 120) || 120);
  }

  function remind(conversation) {
    const entry = waiting[conversation];
    if (!entry) return;
    entry.timer = setTimeout(function () {
      if (!waiting[conversation]) return;
      if (chosen("customers")) {
        notify("chat-customer-" + conversation,
               fill(box().dataset.textStillWaiting, { queue: queueName(entry.queue), name: entry.name }),
               true, conversation, entry.queue);
      }
      remind(conversation);
    }, escalateSeconds() * 1000);
  }

  function served(conversation) {
    const entry = waiting[conversation];
    if (!entry) return;
    clearTimeout(entry.timer);
    delete waiting[conversation];
    const note = shown["chat-customer-" + conversation];
    if (note) note.close();
  }

  document.body.addEventListener("live:chat-changed", function (e) {
    const d = e.detail || {};
    if (!box() || d.conversation === null || d.conversation === undefined) return;
    const conversation = String(d.conversation);
    const again = d.kind === "state" && d.state === "waiting";  // released to the queue, or transferred to it
    if (d.kind !== "join" && !again) {
      // Served, removed or gone; the event of the queue a transferred customer left says nothing of the next.
      const entry = waiting[conversation];
      if (!entry || String(entry.queue) === String(d.queue)) served(conversation);
      return;
    }
    if (again && waiting[conversation] && String(waiting[conversation].queue) !== String(d.queue)) served(conversation);
    // Only my queues: those I am logged in to customer service for show their count.
    if (!document.querySelector('[data-queue-count="' + d.queue + '"]') || waiting[conversation]) return;
    const row = again ? null : rendered(d, ".chat-customer-name");
    const name = again ? d.customer || box().dataset.textAnonymous : row ? row.textContent.trim() : "";
    waiting[conversation] = { queue: d.queue, name: name };
    if (chosen("customers")) {
      notify("chat-customer-" + conversation,
             fill(again ? box().dataset.textAgain : box().dataset.textCustomer, { queue: queueName(d.queue), name: name }),
             again, conversation, d.queue);
    }
    remind(conversation);
  });

  // ---- a customer's new line in one of my chats ------------------------------------------------
  document.body.addEventListener("live:chat-message", function (e) {
    const d = e.detail || {};
    const b = box();
    if (!b || !chosen("messages") || String(d.agent) !== b.dataset.user) return;
    const line = rendered(d, ".chat-line");
    if (!line || !line.classList.contains("chat-line-customer")) return;  // the agent's own, a note, the system
    const link = document.querySelector('#chat-active a[href*="conversation=' + d.conversation + '"]');
    const author = line.querySelector(".chat-meta strong");
    const name = link ? link.textContent.trim() : author ? author.textContent.trim() : "";
    notify("chat-line-" + d.conversation, fill(b.dataset.textMessage, { name: name }), true, d.conversation, d.queue);
  });

  // Back in the tab: what the notifications said is on the page now.
  document.addEventListener("visibilitychange", function () {
    if (hidden()) return;
    Object.keys(shown).forEach(function (tag) { shown[tag].close(); });
  });

  document.body.addEventListener("htmx:afterSettle", showState);
  document.addEventListener("DOMContentLoaded", showState);
  if (document.readyState !== "loading") showState();
})();
