// Live updates for every page, staff and customer alike.
//
// The server names what changed ("chat-changed", with the queue and chat it concerns). Each
// live region (templates/_macros.html: live_region) says which events it listens to and which
// of their data concern it; this script re-fetches exactly those regions. A region is swapped
// by morphing (idiomorph), under rules that keep what the person is doing: the field with the
// focus, text typed and not yet sent, a box the person opened, an open <details>. Lists that
// grow by one item (a chat's lines, a queue's customers) are static/js/live-items.js's.
//
// The page scripts' API, one object:
//   Live.socket                  the page's Socket.IO connection (undefined without one)
//   Live.refresh(event, data)    re-read the regions `event` concerns (null: every region)
//   Live.refreshRegion(region)   one region reads itself again
//   Live.edited(field)           the person changed the field from what the page came with
// Events on <body> (CustomEvent) that page scripts may listen to:
//   live:<event>        every event the server sends, its data as `detail` (sound, video)
//   live:connected      the socket is up (again: every region has read itself again)
//   live:disconnected   the socket dropped (the page says "Reconnecting…")
//   live:appended       (bubbles from a list) items were added to the list
// and the one a page script sends:
//   live:reconnect      take a new socket, admitted to the rooms the person has now
// The server's own events, handled here: roles-changed (reconnect), server-leaving (its process
// stops: reconnect to another), live-interrupted and live-restored (the message queue between
// the server processes is away, or back).
(function () {
  "use strict";
  const Live = window.Live = { socket: undefined, refresh: refresh, refreshRegion: refreshRegion, edited: edited };
  if (typeof htmx === "undefined") return;

  // ---- morphing that keeps what the person holds ----------------------------------------------
  // The request being swapped: a region's own re-fetch, or a person's action (the form they sent).
  let swapping = null;

  function edited(node) {
    if (node.nodeType !== 1) return false;
    if (node.matches("textarea, input:not([type=hidden]):not([type=checkbox]):not([type=radio])")) {
      return node.value !== node.defaultValue;
    }
    if (node.matches("input[type=checkbox], input[type=radio]")) return node.checked !== node.defaultChecked;
    if (node.matches("select")) return Array.from(node.options).some(function (o) { return o.selected !== o.defaultSelected; });
    return false;
  }

  // The person's requests on their way (a live region's own re-reads are not theirs).
  const requests = new Set();
  function requester(e) { return (e.detail.requestConfig && e.detail.requestConfig.elt) || e.detail.elt; }
  document.body.addEventListener("htmx:beforeRequest", function (e) {
    if (!requester(e).hasAttribute("data-live-region")) requests.add(requester(e));
  });
  document.body.addEventListener("htmx:afterRequest", function (e) { requests.delete(requester(e)); });

  function holdsRequest(node) {
    if (node.nodeType !== 1) return false;
    return Array.from(requests).some(function (elt) { return node.contains(elt); });
  }

  function sentByThisAction(node) {
    return swapping && !swapping.live && swapping.elt && swapping.elt.contains(node);
  }

  if (typeof Idiomorph !== "undefined") {
    Idiomorph.defaults.ignoreActiveValue = true;
    Idiomorph.defaults.callbacks.beforeNodeMorphed = function (oldNode, newNode) {
      if (oldNode.nodeType !== 1) return true;
      if (!(swapping && swapping.boosted)) {
        // What the page's own script keeps there (messages on their way) is the script's.
        if (oldNode.hasAttribute("data-live-keep")) return false;
        // A box the person opened (a transfer form, the queue settings) stays until they close it.
        if (oldNode.hasAttribute("data-opened") && !sentByThisAction(oldNode)) return false;
        // Text typed and not sent is the person's, unless this answer is to the form that sent it.
        if (edited(oldNode) && !sentByThisAction(oldNode)) return false;
      }
      // Idiomorph leaves what is inside the focused element as it was (ignoreActiveValue, for the
      // field being typed in) but gives it its new attributes: a button just pressed would keep
      // its old words over its new action (Start text chat that starts a video chat), a focused
      // heading the name of the chat before. Anything but a field takes its new content.
      if (oldNode === document.activeElement && !oldNode.matches("input, textarea, select")
          && oldNode.innerHTML !== newNode.innerHTML) {
        oldNode.innerHTML = newNode.innerHTML;
      }
      return true;
    };
    // The element of a request still on its way (the transfer form just sent, while the
    // transfer's own event redraws the chat) stays until its answer comes: without it the
    // answer would have no place to land (HX-Retarget is found from it) and be lost.
    Idiomorph.defaults.callbacks.beforeNodeRemoved = function (node) {
      return !(swapping && swapping.live && holdsRequest(node));
    };
    Idiomorph.defaults.callbacks.beforeAttributeUpdated = function (name, node) {
      // Open or closed is the person's choice, except in the answer to their own action.
      if (name === "open" && swapping && swapping.live) return false;
      return true;
    };
  }

  // The swap the answer gets: its own (HX-Reswap), or the one its element has or inherits (a
  // boosted link inside a live region morphs the page as the region does).
  function morphs(e, elt) {
    const source = elt && elt.closest("[hx-swap]");
    const style = e.detail.swapOverride || (source ? source.getAttribute("hx-swap") : htmx.config.defaultSwapStyle);
    return style.indexOf("morph") === 0;
  }

  document.body.addEventListener("htmx:beforeSwap", function (e) {
    const elt = e.detail.requestConfig && e.detail.requestConfig.elt;
    const live = !!(elt && elt.hasAttribute("data-live-region"));
    // A region's answer for what it no longer shows (it was asked for before a boosted link or
    // the person's action turned the region to another chat) would bring the old one back.
    if (live && e.detail.requestConfig.path !== elt.getAttribute("hx-get")) {
      e.detail.shouldSwap = false;
      return;
    }
    // A boosted link goes to another page of the desk: nothing of the old one is kept.
    swapping = { live: live, boosted: !!e.detail.boosted, elt: elt, morph: morphs(e, elt),
                 focus: document.activeElement };
    if (elt && !swapping.boosted && !elt.hasAttribute("data-live-append")) LiveItems.keepShownLines(elt);
  });
  document.body.addEventListener("htmx:afterSwap", function (e) {
    const target = e.detail.target;
    if (target && target.hasAttribute("data-live-append")) {
      LiveItems.appended(target);
      swapping = null;
      return;
    }
    // htmx would bind morphed content only when it settles, a moment later: a click in that
    // moment on a button the morph has just turned into another (Start video chat of one chat
    // into Start text chat of the next, by a region's refresh or by a boosted link to the next
    // chat) would still do the old button's action. Bind it now, as settling would.
    // Only what was swapped in: processing the region itself would reset its request state
    // (htmx re-initialises an element whose attributes, the request's own class among them,
    // changed) and drop the refresh queued behind the one in flight.
    if (target && target.isConnected && swapping && swapping.morph) {
      Array.from(target.children).forEach(function (child) { htmx.process(child); });
    }
    LiveItems.keepLines();
    // Content loaded into a box by the person's own request is theirs until they close it.
    const action = swapping && !swapping.live;
    if (action && target && target.hasAttribute("data-openable")) {
      if (target.childElementCount) target.setAttribute("data-opened", "");
      else target.removeAttribute("data-opened");
    }
    // After the person's own step the page puts the focus where they work next ([autofocus]),
    // unless they have put it somewhere themselves since the answer came; a live refresh never
    // moves it. htmx would focus [autofocus] again when the content settles (20 ms later, more on
    // a busy machine), out of the field the person had meanwhile clicked into, and their typing
    // went into another field (a refused "End customer": the reason typed into the date).
    const next = action && target && target.querySelector("[autofocus]");
    if (target) target.querySelectorAll("[autofocus]").forEach(function (elt) { elt.removeAttribute("autofocus"); });
    if (next) {
      const before = swapping.focus;
      setTimeout(function () {
        // Where it was: the same element, or its new copy (htmx gives the focus to the element
        // with the id of the one that had it).
        const now = document.activeElement;
        if (!now || now === document.body || now === before || (before && before.id && now.id === before.id)) {
          next.focus();
        }
      }, 0);
    }
    swapping = null;
  });

  // ---- no native fallback ---------------------------------------------------------------------
  // A form put on the page a moment ago may not be processed by htmx yet: a submit then would go
  // out natively and the page would leave. Process it first and submit it again through htmx.
  document.addEventListener("submit", function (e) {
    const form = e.target;
    if (!form.matches("[hx-post]")) return;
    const data = form["htmx-internal-data"];
    if (data && data.initHash) return;
    e.preventDefault();
    e.stopImmediatePropagation();
    htmx.process(form);
    const submitter = e.submitter;
    setTimeout(function () { form.requestSubmit(submitter && submitter.form === form ? submitter : undefined); }, 0);
  }, true);

  // ---- which regions an event concerns --------------------------------------------------------
  // An expected value is one value, a list of them, {"max": n} for a number up to n, or
  // {"not": value} for anything else.
  function agrees(expected, actual) {
    if (Array.isArray(expected)) return expected.map(String).indexOf(String(actual)) !== -1;
    if (expected !== null && typeof expected === "object") {
      return "not" in expected ? String(expected.not) !== String(actual) : Number(actual) <= expected.max;
    }
    return String(expected) === String(actual);
  }

  // A region's data-live-match is one condition or a list of alternatives; a condition holds
  // when every key it names that the event also names agrees ("event" names the event itself).
  function concerns(region, name, data) {
    const match = JSON.parse(region.dataset.liveMatch || "{}");
    const alternatives = Array.isArray(match) ? match : [match];
    const named = Object.assign({ event: name }, data);
    return alternatives.some(function (condition) {
      return Object.keys(condition).every(function (key) {
        return !(key in named) || agrees(condition[key], named[key]);
      });
    });
  }

  // One region reads itself again. The event does not bubble: a region inside another (the
  // lines of a chat inside the chat) would otherwise make the outer one read itself too.
  function refreshRegion(region) {
    region.dispatchEvent(new CustomEvent("live-refresh", { bubbles: false }));
  }

  function refresh(name, data) {
    document.querySelectorAll("[data-live-region]").forEach(function (region) {
      const events = region.dataset.liveEvents.split(" ");
      if (name === null || (events.indexOf(name) !== -1 && concerns(region, name, data))) {
        if (name === null || !(LiveItems.pushed(region, data) || LiveItems.pagerPushed(region, data))) refreshRegion(region);
      }
    });
  }

  // ---- the socket -----------------------------------------------------------------------------
  if (typeof io === "undefined" || !document.body.dataset.liveNamespace) return;
  const banner = document.getElementById("connection-status");
  // WebSocket only: a page left mid-long-poll is not noticed by the server until its ping
  // timeout, which would keep a colleague "online"; and with several server processes,
  // polling would need sticky sessions. The TLS proxy forwards WebSocket upgrades (README).
  // Reconnecting: the first try after half a second (±50 %), doubling up to 5 s. Socket.IO's
  // default, a second, is what a desk waited after each restart of a server process.
  const socket = io(document.body.dataset.liveNamespace, {
    withCredentials: true, transports: ["websocket"], reconnectionDelay: 500, reconnectionDelayMax: 5000,
  });
  let connectedBefore = false;

  function shown(connected) {
    if (banner) banner.hidden = connected;
    document.body.dataset.live = connected ? "connected" : "disconnected";
  }
  socket.on("connect", function () {
    shown(true);
    // After a drop, events may have been missed: every live region reads itself again.
    if (connectedBefore) refresh(null, {});
    connectedBefore = true;
    document.body.dispatchEvent(new CustomEvent("live:connected"));
  });
  socket.on("disconnect", function (reason) {
    if (reason === "io client disconnect") return;  // our own reconnect (live:reconnect below)
    shown(false);
    document.body.dispatchEvent(new CustomEvent("live:disconnected"));
  });
  socket.on("connect_error", function () { shown(false); });
  // The server's message queue is away (Redis): this page hears only what its own server
  // process does, so it says so; when the queue is back, it reads every region again.
  const interrupted = document.getElementById("live-interrupted");
  socket.on("live", function (message) {
    const data = message.data || {};
    if (message.event === "live-interrupted" || message.event === "live-restored") {
      if (interrupted) interrupted.hidden = message.event === "live-restored";
      document.body.dataset.liveQueue = message.event === "live-restored" ? "restored" : "interrupted";
      if (message.event === "live-restored") refresh(null, {});
      return;
    }
    // The server process is stopping (a restart): a new socket now, through nginx to another
    // process, not after the back-off; spread over half a second, not all of its pages at once.
    if (message.event === "server-leaving") {
      socket.disconnect();
      setTimeout(function () { socket.connect(); }, Math.random() * 500);
      return;
    }
    // My roles changed: a new socket joins the rooms they now give (and reads every region again).
    if (message.event === "roles-changed") { socket.disconnect(); socket.connect(); return; }
    refresh(message.event, data);
    // Page scripts (sound, video) hear the event too.
    document.body.dispatchEvent(new CustomEvent("live:" + message.event, { detail: data }));
  });
  // A page asks for a new socket when the server must admit it to other rooms (a transfer).
  document.body.addEventListener("live:reconnect", function () { socket.disconnect(); socket.connect(); });
  Live.socket = socket;
})();
