// Lists that grow by one item, for static/js/live.js (loaded before it): window.LiveItems.
//
// - An append region (data-live-append: the lines of a chat) asks only for the items after its
//   last one and adds them at its end; items carry data-item (their id), each is kept once.
// - An event may bring its new item rendered once for everyone, in each language, with the item
//   it follows: the list that shows that one takes it without a request (pushed).
// - A join tells a paged list's page count: its pager writes it in (pagerPushed).
// - A region read again keeps the lines its lists showed after the answer's last
//   (keepShownLines before the swap, keepLines after it).
// A list that took items dispatches "live:appended" (bubbling) from itself.
(function () {
  "use strict";
  if (typeof htmx === "undefined") return;

  // An append region (the lines of a chat) asks for what came after its last item and adds it at
  // the end. A whole redraw of the region around it may have brought the same items meanwhile:
  // kept once. Items carry data-item (their id).
  function items(list) {
    return list.querySelectorAll(":scope > [data-item]");
  }
  function lastItem(region) {
    const all = items(region);
    return all.length ? all[all.length - 1].dataset.item : null;
  }
  document.body.addEventListener("htmx:configRequest", function (e) {
    const region = e.detail.elt;
    if (!region.hasAttribute("data-live-append")) return;
    const after = lastItem(region);
    if (after !== null) e.detail.parameters.after = after;
  });
  function appended(list) {
    const seen = new Set();
    items(list).forEach(function (item) {
      if (seen.has(item.dataset.item)) item.remove();
      else seen.add(item.dataset.item);
    });
    if (seen.size) list.querySelectorAll(":scope > [data-live-empty]").forEach(function (n) { n.remove(); });
  }

  // An event may bring its new item rendered once for everyone (in each language) with the item
  // it follows (`previous`, null for the first). The list that shows that one (or its first page,
  // data-live-first-page, for the first) takes it as it is: no request. A full page of a paged
  // list (data-live-capacity) passes its last item on to the next page (a new page changes only
  // the pager, a live region of its own); any other list reads itself again.
  function pushed(region, data) {
    const list = region.hasAttribute("data-live-append") ? region : region.querySelector("[data-live-list]");
    if (!list || !data.html || data.item === undefined) return false;
    if (list.querySelector(':scope > [data-item="' + data.item + '"]')) return true;
    const html = data.html[document.documentElement.lang];
    const shown = items(list);
    const capacity = Number(list.dataset.liveCapacity || Infinity);
    const full = shown.length >= capacity;
    if (!html) return false;
    let previous = null;
    if (data.previous === null) {  // the first: at the start of the list's first page
      if (shown.length && !list.hasAttribute("data-live-first-page")) return false;
    } else {
      previous = list.querySelector(':scope > [data-item="' + data.previous + '"]');
      if (!previous) return false;
    }
    if (full && previous === shown[shown.length - 1]) return true;  // it goes on the next page
    let added;
    if (previous === null) {
      list.insertAdjacentHTML("afterbegin", html);
      added = list.firstElementChild;
    } else {
      previous.insertAdjacentHTML("afterend", html);
      added = previous.nextElementSibling;
    }
    if (full) shown[shown.length - 1].remove();
    htmx.process(added);  // its links go through htmx like the rest of the page's (hx-boost)
    appended(list);
    list.dispatchEvent(new CustomEvent("live:appended", { bubbles: true }));
    return true;
  }

  // A join tells the queue's list's page count: a pager (data-live-pager) writes it into its
  // text (data-pager-text) and shows itself and its Next once there is a page after its own.
  function pagerPushed(region, data) {
    const pager = region.querySelector("[data-live-pager]");
    if (!pager || data.pages === undefined) return false;
    const text = pager.querySelector("[data-pager-text]");
    text.textContent = text.dataset.pagerText.replace("{pages}", data.pages);
    pager.hidden = data.pages <= 1;
    pager.querySelector("[data-pager-next]").hidden = Number(pager.dataset.pagerNumber) >= data.pages;
    return true;
  }

  // A region read again may answer with lists inside it as they were when the answer was
  // rendered: a line that came with its event meanwhile (pushed, below) would go. Such a list
  // keeps the lines it showed after the answer's last (kept here until the swap is done).
  let keptLines = [];
  function keepShownLines(region) {
    keptLines = shownLines(region);
  }
  function shownLines(region) {
    return Array.from(region.querySelectorAll("[data-live-append][id]")).map(function (list) {
      return { id: list.id, url: list.getAttribute("hx-get"), lines: Array.from(items(list)).map(function (item) {
        return { id: Number(item.dataset.item), html: item.outerHTML };
      }) };
    });
  }
  function keepLines() {
    keptLines.forEach(function (shown) {
      const list = document.getElementById(shown.id);
      if (!list || list.getAttribute("hx-get") !== shown.url) return;  // another chat now
      const last = lastItem(list);
      shown.lines.forEach(function (line) {
        if (last !== null && line.id <= Number(last)) return;
        list.insertAdjacentHTML("beforeend", line.html);
        htmx.process(list.lastElementChild);
      });
      appended(list);
    });
    keptLines = [];
  }

  window.LiveItems = {
    pushed: pushed,
    pagerPushed: pagerPushed,
    appended: appended,
    keepShownLines: keepShownLines,
    keepLines: keepLines,
  };
})();
