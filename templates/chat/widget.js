/* The chat button of the library's website (blueprints/chat/widget.py). The website pastes one
   line, <script src=".../chat/widget/QUEUE.js" async>; this script adds a button that says
   whether the queue is served now and opens the chat in a panel. It needs no inline script or
   style on the website: its styles come from this site's stylesheet. */
(function (config) {
  "use strict";
  var doc = document;
  var siteOrigin = new URL(config.page).origin;
  var prefix = "library-chat-" + config.queue;
  var root, button, label, state, contact, panel, closeButton, frame, status, timer;

  function element(tag, className, attributes) {
    var node = doc.createElement(tag);
    if (className) node.className = className;
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    return node;
  }

  function language() {
    return (doc.documentElement.getAttribute("lang") || "").trim();
  }

  function build() {
    var link = element("link", "", {rel: "stylesheet", href: config.stylesheet});
    doc.head.appendChild(link);
    root = element("div", "library-chat", {"data-state": "offline"});
    button = element("button", "library-chat-button",
                     {type: "button", "aria-expanded": "false", "aria-controls": prefix + "-panel"});
    label = element("span", "library-chat-label");
    state = element("span", "library-chat-state");
    button.appendChild(element("span", "library-chat-dot", {"aria-hidden": "true"}));
    button.appendChild(label);
    button.appendChild(state);
    contact = element("p", "library-chat-contact");
    panel = element("div", "library-chat-panel", {id: prefix + "-panel", role: "dialog"});
    panel.hidden = true;
    var bar = element("div", "library-chat-bar");
    closeButton = element("button", "library-chat-close", {type: "button"});
    closeButton.textContent = "×";
    bar.appendChild(closeButton);
    panel.appendChild(bar);
    root.appendChild(panel);
    root.appendChild(contact);
    root.appendChild(button);
    doc.body.appendChild(root);
    button.addEventListener("click", function () { if (panel.hidden) open(); else close(); });
    closeButton.addEventListener("click", close);
    doc.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && !panel.hidden) close();
    });
    // Escape pressed inside the chat page (static/js/chat-embedded.js).
    window.addEventListener("message", function (event) {
      if (frame && event.source === frame.contentWindow && event.origin === siteOrigin
          && event.data && event.data.libraryChat === "escape" && !panel.hidden) close();
    });
  }

  function open() {
    if (!frame) {  // made at the first opening: a visitor who never opens it starts no chat session
      var address = new URL(config.page);
      address.searchParams.set("lang", status.language);
      frame = element("iframe", "library-chat-frame", {src: address.href, title: status.texts.title});
      panel.appendChild(frame);
    }
    panel.hidden = false;
    button.setAttribute("aria-expanded", "true");
    frame.focus();
  }

  function close() {
    panel.hidden = true;
    button.setAttribute("aria-expanded", "false");
    button.focus();
  }

  function show(answer) {
    status = answer;
    if (!root) build();
    root.setAttribute("data-state", answer.online ? "online" : "offline");
    root.setAttribute("lang", answer.language);
    label.textContent = answer.texts.button;
    state.textContent = answer.texts.state;
    panel.setAttribute("aria-label", answer.texts.title);
    closeButton.setAttribute("aria-label", answer.texts.close);
    if (frame) frame.title = answer.texts.title;
    contact.textContent = "";
    contact.hidden = !answer.contact_email;
    if (answer.contact_email) {
      var text = answer.texts.contact.split(answer.contact_email);
      var mail = element("a", "", {href: "mailto:" + answer.contact_email});
      mail.textContent = answer.contact_email;
      contact.appendChild(doc.createTextNode(text[0]));
      contact.appendChild(mail);
      contact.appendChild(doc.createTextNode(text.slice(1).join(answer.contact_email)));
    }
  }

  function poll() {
    clearTimeout(timer);
    var address = new URL(config.status);
    if (language()) address.searchParams.set("lang", language());
    fetch(address.href, {credentials: "omit", cache: "no-store"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) { if (answer) show(answer); })
      .catch(function () { /* not listed for this website, or offline: try again later */ })
      .then(function () {
        var seconds = (status && status.poll_seconds) || 60;
        timer = setTimeout(function () { if (!doc.hidden) poll(); }, seconds * 1000);
      });
  }

  doc.addEventListener("visibilitychange", function () { if (!doc.hidden) poll(); });
  if (doc.readyState === "loading") doc.addEventListener("DOMContentLoaded", poll);
  else poll();
})({{ config|tojson }});
