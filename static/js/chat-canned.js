// The agent desk's message box: canned replies and internal notes.
//
// Canned replies: "/" typed at the start of the message box (templates/chat/_message_form.html,
// a box with data-canned-search) opens the list of canned replies under it, with the focus in its
// search field, a combobox whose options are read from the server as one types (the server fills
// each reply's placeholders for the chat). Up and Down move the active option
// (aria-activedescendant), Enter puts its text in the message box where the "/" was typed, for
// the agent to edit before sending: it is never sent by itself. Escape (or leaving the list)
// closes it and gives the focus back to the box. "/" in the empty search field writes a "/" in
// the box instead. Each insertion is counted on the server (data-canned-used).
//
// Internal notes: the note form answers with itself; its note comes with the chat's live event,
// and the lines are read once more here in case the page's socket missed it.
(function () {
  "use strict";
  let picker = null;  // {box, panel, input, list, status, start, end, timer, request}

  function pickerOf(box) {
    const form = box.closest("form");
    return form && form.querySelector("[data-canned-picker]");
  }

  function open(box) {
    const panel = pickerOf(box);
    if (!panel) return;
    const input = panel.querySelector("[role=combobox]");
    picker = { box: box, panel: panel, input: input, list: panel.querySelector("[role=listbox]"),
               status: panel.querySelector("[data-canned-status]"),
               start: box.selectionStart, end: box.selectionEnd, timer: null, request: 0 };
    input.value = "";
    panel.hidden = false;
    input.setAttribute("aria-expanded", "true");
    input.focus();
    search();
  }

  function close(backToBox) {
    if (!picker) return;
    const current = picker;
    picker = null;
    clearTimeout(current.timer);
    current.panel.hidden = true;
    current.list.replaceChildren();
    current.list.hidden = true;
    current.status.textContent = "";
    current.input.setAttribute("aria-expanded", "false");
    current.input.removeAttribute("aria-activedescendant");
    if (backToBox && current.box.isConnected) {
      current.box.focus();
      current.box.setSelectionRange(current.start, current.start);
    }
  }

  function search() {
    const current = picker;
    const number = ++current.request;
    const url = new URL(current.box.dataset.cannedSearch, window.location.href);
    url.searchParams.set("q", current.input.value);
    fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) {
        if (picker !== current || number !== current.request) return;  // closed, or typed on meanwhile
        current.list.innerHTML = html;
        const options = current.list.querySelectorAll("[role=option]");
        current.list.hidden = !options.length;
        current.status.textContent = options.length ? "" : current.status.dataset.textNone;
        activate(options.length ? options[0] : null);
      });
  }

  function options() {
    return picker ? Array.from(picker.list.querySelectorAll("[role=option]")) : [];
  }

  function active() {
    const id = picker && picker.input.getAttribute("aria-activedescendant");
    return id ? document.getElementById(id) : null;
  }

  function activate(option) {
    options().forEach(function (o) { o.setAttribute("aria-selected", o === option ? "true" : "false"); });
    if (option) {
      picker.input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      picker.input.removeAttribute("aria-activedescendant");
    }
  }

  function move(step) {
    const all = options();
    if (!all.length) return;
    const index = all.indexOf(active());
    activate(all[(index + step + all.length) % all.length]);
  }

  function insert(option) {
    const current = picker;
    const text = option.dataset.cannedText;
    const box = current.box;
    box.value = box.value.slice(0, current.start) + text + box.value.slice(current.end);
    const caret = current.start + text.length;
    close(false);
    box.focus();
    box.setSelectionRange(caret, caret);
    box.dispatchEvent(new Event("input", { bubbles: true }));
    count(box, option.dataset.cannedReply);
  }

  function count(box, reply) {
    const form = box.closest("form");
    const token = form && form.querySelector("input[name=csrf_token]");
    const data = new FormData();
    if (token) data.set("csrf_token", token.value);
    fetch(box.dataset.cannedUsed.replace("987654321", reply), {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "HX-Request": "true", "X-CSRFToken": token ? token.value : "" },
    }).then(function () {
      document.body.dataset.cannedCounted = String(Number(document.body.dataset.cannedCounted || 0) + 1);
    });
  }

  // "/" at the start of the message box opens the list (not with a modifier: AltGr and the like).
  document.addEventListener("keydown", function (e) {
    const box = e.target;
    if (box.tagName !== "TEXTAREA" || !box.dataset.cannedSearch || e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
    if (box.selectionStart !== 0) return;
    e.preventDefault();
    open(box);
  });

  document.addEventListener("keydown", function (e) {
    if (!picker || e.target !== picker.input) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      move(e.key === "ArrowDown" ? 1 : -1);
    } else if (e.key === "Enter") {
      e.preventDefault();  // never the form's submit
      const option = active();
      if (option) insert(option);
    } else if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      close(true);
    } else if (e.key === "/" && !picker.input.value) {
      // "//": a message that starts with "/".
      e.preventDefault();
      const current = picker;
      const box = current.box;
      close(false);
      box.value = box.value.slice(0, current.start) + "/" + box.value.slice(current.end);
      box.focus();
      box.setSelectionRange(current.start + 1, current.start + 1);
    }
  });

  document.addEventListener("input", function (e) {
    if (!picker || e.target !== picker.input) return;
    clearTimeout(picker.timer);
    picker.timer = setTimeout(search, 120);
  });

  // A click (or tap) on an option inserts it; mousedown keeps the focus in the search field.
  document.addEventListener("mousedown", function (e) {
    if (picker && e.target.closest("[role=option]") && picker.list.contains(e.target)) e.preventDefault();
  });
  document.addEventListener("click", function (e) {
    const option = picker && e.target.closest("[role=option]");
    if (option && picker.list.contains(option)) insert(option);
  });

  // Leaving the list (Tab, a click elsewhere) closes it.
  document.addEventListener("focusout", function (e) {
    if (!picker || e.target !== picker.input) return;
    const current = picker;
    setTimeout(function () {
      if (picker === current && document.activeElement !== current.input) close(false);
    }, 0);
  });

  // ---- internal notes ----------------------------------------------------------------------------
  document.body.addEventListener("htmx:afterRequest", function (e) {
    const form = e.detail.elt;
    if (!e.detail.successful || !form || !form.matches || !form.matches("form[data-chat-note]")) return;
    const lines = document.querySelector("#chat-view [data-conversation] [data-live-append]");
    if (lines && window.Live) Live.refreshRegion(lines);
  });
})();
