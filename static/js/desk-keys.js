// The chat desk by keyboard: one key for each daily action, a help dialog ("?"), and the focus
// moved where the agent works next after each action.
//
// Keys (templates/chat/_desk_keys.html lists them; its help dialog's rows say what each does):
// a key acts only while the focus is not in a field and no dialog is open, and never with Ctrl,
// Alt or Meta held, so typing and the browser's own shortcuts are left alone. In the message box
// Escape leaves the box for the chat's heading, from where the keys work. A key presses the
// desk's own control (data-desk-action): what the control asks first (hx-confirm, the in-page
// dialog of static/js/confirm.js) is asked as well. Ending a chat is not asked when pressed, but
// its key asks: a key pressed by mistake, when the focus is not where the agent thinks, would end
// a customer's chat. A key with nothing to do here says so through the desk's announcer.
//
// Focus: the answer to an action names where the agent works next (blueprints/chat/routes.py:
// FOCUS_AFTER, sent as the "desk-focus" event of HX-Trigger-After-Settle); this script moves the
// focus to the element of that name (data-desk-focus), or to the chat's heading when the page
// has none (the customers of a queue are not shown beside the colleagues).
(function () {
  "use strict";

  function help() { return document.getElementById("desk-keys"); }

  function announce(text) {
    const region = document.getElementById("chat-announcer");
    if (!region || !text) return;
    // The same text again is not a change a screen reader announces: cleared first.
    region.textContent = "";
    setTimeout(function () { region.textContent = text; }, 50);
  }

  function shown(element) {
    return element && element.isConnected && !element.closest("[hidden]") && !element.disabled;
  }

  function focusOn(name) {
    const target = [name, "chat"].map(function (n) {
      return document.querySelector('[data-desk-focus="' + n + '"]');
    }).find(shown);
    if (target) target.focus();
    return !!target;
  }

  document.addEventListener("desk-focus", function (e) { focusOn(e.detail.value); });

  // Ending a video chat (the call ends in the page, the button goes): back to the text chat.
  document.addEventListener("click", function (e) {
    if (e.target.closest(".chat-desk-page [data-video-end]")) setTimeout(function () { focusOn("message"); }, 0);
  });

  // ---- what the keys do ---------------------------------------------------------------------------

  // A control of the desk: pressed as a click would (htmx may not have bound it yet, a moment
  // after a swap: bound first).
  function press(name) {
    return function () {
      const control = document.querySelector('[data-desk-action="' + name + '"]');
      if (!shown(control)) return false;
      if (typeof htmx !== "undefined") htmx.process(control);
      control.click();
      return true;
    };
  }

  function endChat() {
    const control = document.querySelector('[data-desk-action="end"]');
    if (!shown(control)) return false;
    Confirm.ask(control.dataset.deskConfirm, control).then(function (yes) {
      if (yes && control.isConnected) control.click();
    });
    return true;
  }

  // The next waiting customer: in the queue shown, the one after the customer open (the longest
  // waiting first); else the first of my queues where someone waits, opened, and its first.
  let openFirstOf = null;  // the queue link followed, whose list then opens its first waiting customer

  function waitingRows() {
    return Array.from(document.querySelectorAll('.chat-customers > [data-state="waiting"] .chat-customer-name'));
  }

  function nextWaiting() {
    const rows = waitingRows();
    if (rows.length) {
      const open = rows.findIndex(function (a) { return a.getAttribute("aria-current") === "true"; });
      rows[(open + 1) % rows.length].click();
      return true;
    }
    const count = Array.from(document.querySelectorAll("[data-queue-count]")).find(function (c) {
      return Number(c.dataset.count) > 0;
    });
    const link = count && count.closest("li").querySelector("a");
    if (!link) {
      announce(help().dataset.textNobody);
      return true;
    }
    openFirstOf = link;
    link.click();
    return true;
  }

  document.addEventListener("htmx:afterSettle", function (e) {
    if (!openFirstOf || !(e.detail.requestConfig && e.detail.requestConfig.elt === openFirstOf)) return;
    openFirstOf = null;
    const rows = waitingRows();
    if (rows.length) rows[0].click();
  });

  // The next of my chats with new messages, as the active list orders them.
  function nextUnread() {
    const badge = document.querySelector("#chat-active .chat-badge");
    const link = badge && badge.closest("li").querySelector("a");
    if (!link) {
      announce(help().dataset.textNoNews);
      return true;
    }
    link.click();
    return true;
  }

  // ---- the help dialog ------------------------------------------------------------------------------
  let returnTo = null;

  function openHelp() {
    const box = help();
    if (box.open) { box.close(); return true; }
    returnTo = document.activeElement;
    box.showModal();
    box.querySelector("[data-desk-keys-close]").focus();
    return true;
  }

  document.addEventListener("click", function (e) {
    if (e.target.closest("[data-desk-keys-open]")) openHelp();
    else if (e.target.closest("#desk-keys [data-desk-keys-close]")) help().close();
  });
  // Closed by its button, "?" or Escape: the focus goes back where it was.
  document.addEventListener("close", function (e) {
    if (e.target.id !== "desk-keys") return;
    if (returnTo && returnTo.isConnected && returnTo !== document.body) returnTo.focus();
    returnTo = null;
  }, true);

  const actions = {
    next: nextWaiting,
    claim: press("claim"),
    video: press("video"),
    message: function () { return shown(document.querySelector('[data-desk-focus="message"]')) && focusOn("message"); },
    unread: nextUnread,
    release: press("release"),
    end: endChat,
    transfer: press("transfer"),
    colleagues: press("colleagues"),
    help: openHelp,
  };

  function typing(target) {
    return target.closest && target.closest("input, textarea, select, [contenteditable]:not([contenteditable=false])");
  }

  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.isComposing || e.ctrlKey || e.altKey || e.metaKey || !help()) return;
    const target = e.target;
    // Escape in the message box: out of the box, to the chat's heading (a dialog's Escape is its own).
    if (e.key === "Escape") {
      if (target.matches && target.matches("form[data-chat-send] textarea") && !document.querySelector("dialog[open]")) {
        e.preventDefault();
        focusOn("chat");
      }
      return;
    }
    if (typing(target) || e.repeat) return;
    const open = document.querySelector("dialog[open]");
    if (open && !(open.id === "desk-keys" && e.key === "?")) return;
    const row = Array.from(help().querySelectorAll("[data-desk-key]")).find(function (r) {
      return r.dataset.deskKey === e.key;
    });
    if (!row) return;
    e.preventDefault();
    if (!actions[row.dataset.deskDo]()) {
      const label = row.cells[1].textContent.trim();
      announce(help().dataset.textUnavailable.replace("{action}", label));
    }
  });
})();
