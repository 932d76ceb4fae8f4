"""What real desks see: the chat benchmark with Chromium pages running the desk's own scripts.

One command: `python bench/bench_chat_browsers.py` (--quick: 10 desks only; --desks and
--waiting choose the grid). For each number of desks and of customers already waiting it starts
the site (bench_chat.py's server, threading mode, a fresh SQLite database), opens one Chromium
page per agent (Debian's /usr/bin/chromium driven by Playwright, each page its own logged-in
agent with the queue and one served chat open), and then:
  joins   a customer joins as the join form posts, one a second; the clock stops in each page
          when a MutationObserver sees the new customer's row (or, beyond the list's first page,
          the new waiting total) in the DOM. "frame" is when the page's socket delivered the
          event (Live.socket), "DOM" what the page spent after that.
  lines   a served customer sends a line (as the customer page's script posts it); the clock
          stops when the serving desk's page shows it.
The floor is the same number of real pages on a bare Flask-SocketIO app in the same threading
mode (bench_chat.py's relay: a POST that stores the row with Flask-SQLAlchemy, commits and emits
it; each page appends it), measured in the same run. One table: p50/p95/p99/max of what a desk
sees against the floor, the split server (POST to frame) / page (frame to DOM), requests and
bytes per desk per join, the server's CPU per join against the floor's, and the desks that
missed a row (each desk's list must end as the server's).
Page clocks and this script's clock are the same machine's wall clock (epoch milliseconds).
"""
import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_chat import (  # noqa: E402
    PASSWORD,
    Browser,
    cpu_seconds,
    free_port,
    percentile,
    start,
)
from playwright.sync_api import sync_playwright  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
JOIN_INTERVAL = 1.0  # seconds between joins, as in the measurement
LINE_INTERVAL = 0.5
# Installed before the page's own scripts: when each "Joined n" row, each waiting total and
# each "line n" first appears in the DOM, and when each live frame reached the page.
TRACKER = """
(() => {
  const now = () => performance.timeOrigin + performance.now();
  const seen = window.__seen = { rows: {}, totals: {}, lines: {}, frames: [] };
  function look() {
    const t = now();
    document.querySelectorAll(".chat-customers li").forEach((row) => {
      const m = /Joined (\\d+)/.exec(row.textContent);
      if (m && !(m[1] in seen.rows)) seen.rows[m[1]] = t;
    });
    const list = document.querySelector("[data-waiting-total]");
    if (list && !(list.dataset.waitingTotal in seen.totals)) seen.totals[list.dataset.waitingTotal] = t;
    document.querySelectorAll(".chat-line, .chat-customers li").forEach((line) => {
      const m = /line (\\d+) of chat/.exec(line.textContent);
      if (m && !(m[1] in seen.lines)) seen.lines[m[1]] = t;
    });
  }
  new MutationObserver(look).observe(document, { childList: true, subtree: true, attributes: true,
                                                  attributeFilter: ["data-waiting-total"] });
  const hook = setInterval(() => {
    const socket = (window.Live && window.Live.socket) || window.socket;
    if (!socket) return;
    clearInterval(hook);
    // onAny runs before the page's own handlers of the event: the moment the frame arrived.
    socket.onAny((name, message) => seen.frames.push([now(), JSON.stringify(message).slice(0, 4000)]));
  }, 5);
})();
"""


def site_pages(playwright_browser, base, desks, first_chat, chats):
    """One page per agent: logged in, in customer service, the queue and one served chat open."""
    pages = []
    for n in range(desks):
        context = playwright_browser.new_context(base_url=base, viewport={"width": 1600, "height": 1000})
        context.add_init_script(TRACKER)
        context.request.post("/login", form={"username": f"agent{n}", "password": PASSWORD})
        context.request.post("/chat/service/login", form={"queues": "1", "display_name": f"A{n}"})
        chat = first_chat + n if n < chats else None
        if chat is not None:
            context.request.post(f"/chat/conversations/{chat}/claim")
        page = context.new_page()
        page.goto("/chat/?queue=1" + (f"&conversation={chat}" if chat else ""))
        page.wait_for_selector("body[data-live=connected]")
        pages.append(page)
    return pages


def floor_pages(playwright_browser, base, desks):
    pages = []
    for n in range(desks):
        context = playwright_browser.new_context(base_url=base)
        context.add_init_script(TRACKER)
        page = context.new_page()
        page.goto(f"/page?room=agents&room=agent{n}")
        page.wait_for_function("window.socket && window.socket.connected")
        pages.append(page)
    return pages


def resources(page, since):
    """Requests the page made after `since` (epoch ms), and their bytes on the wire."""
    return page.evaluate("""(since) => {
      const start = since - performance.timeOrigin;
      const made = performance.getEntriesByType("resource").filter((e) => e.startTime >= start);
      return [made.length, made.reduce((sum, e) => sum + (e.transferSize || e.encodedBodySize || 0), 0)];
    }""", since)


def seen(page):
    return page.evaluate("window.__seen")


def when_shown(pages, key, name, deadline):
    """Per page, the epoch ms when `name` appeared under `key` (None: not within the deadline)."""
    shown = [None] * len(pages)
    while time.monotonic() < deadline:
        for i, page in enumerate(pages):
            if shown[i] is None:
                shown[i] = seen(page)[key].get(name)
        if all(s is not None for s in shown):
            break
        time.sleep(0.02)
    return shown


def first_frame_after(page, moment, marker):
    for at, text in seen(page)["frames"]:
        if at >= moment and marker in text:
            return at
    return None


def run_site(playwright_browser, desks, waiting, joins, lines):
    from blueprints.chat.service import CUSTOMERS_PAGE_SIZE

    port = free_port()
    database = "sqlite:///" + os.path.join(tempfile.mkdtemp(), "browsers.db")
    os.environ.update(BENCH_AGENTS=str(desks), BENCH_WAITING=str(waiting))
    process = start(["--serve", str(port), database, "threading"], port)
    base = f"http://127.0.0.1:{port}"
    try:
        chats = min(desks, 5)
        customers = []
        for n in range(chats):
            customer = Browser(base)
            customer.post("/chat/customer/", queue=1, name=f"Chat {n}")
            customers.append(customer)
        pages = site_pages(playwright_browser, base, desks, waiting + 1, chats)
        time.sleep(1)
        result = dict(shown=[], frame=[], dom=[], missed=0)
        since = time.time() * 1000
        cpu = cpu_seconds(process.pid)
        for n in range(joins):
            place = waiting + n + 1
            key, name = ("rows", str(n)) if place <= CUSTOMERS_PAGE_SIZE else ("totals", str(place))
            moment = time.time() * 1000
            Browser(base).post("/chat/customer/", queue=1, name=f"Joined {n}")
            shown = when_shown(pages, key, name, time.monotonic() + 30)
            for page, at in zip(pages, shown, strict=True):
                if at is None:
                    result["missed"] += 1
                    continue
                frame = first_frame_after(page, moment, "chat-changed") or at
                result["shown"].append(at - moment)
                result["frame"].append(frame - moment)
                result["dom"].append(at - frame)
            time.sleep(max(0.0, JOIN_INTERVAL - (time.time() * 1000 - moment) / 1000))
        result["cpu"] = (cpu_seconds(process.pid) - cpu) * 1000 / joins
        made = [resources(page, since) for page in pages]
        result["requests"] = sum(m[0] for m in made) / len(pages) / joins
        result["bytes"] = sum(m[1] for m in made) / len(pages) / joins
        result["line_shown"] = []
        for round_ in range(lines):
            n = round_ % chats
            moment = time.time() * 1000
            customers[n].post("/chat/customer/message", script=True, body=f"line {round_} of chat {n}")
            at = when_shown([pages[n]], "lines", str(round_), time.monotonic() + 30)[0]
            if at is None:
                result["missed"] += 1
            else:
                result["line_shown"].append(at - moment)
            time.sleep(LINE_INTERVAL)
        for page in pages:
            page.context.close()
        return result
    finally:
        process.kill()


def run_floor(playwright_browser, desks, joins, lines):
    port = free_port()
    database = "sqlite:///" + os.path.join(tempfile.mkdtemp(), "floor.db")
    process = start(["--relay", str(port), database, "threading"], port)
    base = f"http://127.0.0.1:{port}"
    try:
        pages = floor_pages(playwright_browser, base, desks)
        sender = Browser(base)
        time.sleep(1)
        result = dict(shown=[], frame=[], dom=[], line_shown=[], missed=0)
        cpu = cpu_seconds(process.pid)
        for n in range(joins):
            moment = time.time() * 1000
            sender.post("/stored", to="agents", body=f"Joined {n}")
            for page, at in zip(pages, when_shown(pages, "rows", str(n), time.monotonic() + 30), strict=True):
                if at is None:
                    result["missed"] += 1
                    continue
                frame = first_frame_after(page, moment, f"Joined {n}") or at
                result["shown"].append(at - moment)
                result["frame"].append(frame - moment)
                result["dom"].append(at - frame)
            time.sleep(max(0.0, JOIN_INTERVAL - (time.time() * 1000 - moment) / 1000))
        result["cpu"] = (cpu_seconds(process.pid) - cpu) * 1000 / joins
        for round_ in range(lines):
            n = round_ % min(desks, 5)
            moment = time.time() * 1000
            sender.post("/stored", to=f"agent{n}", body=f"line {round_} of chat {n}")
            at = when_shown([pages[n]], "lines", str(round_), time.monotonic() + 30)[0]
            if at is not None:
                result["line_shown"].append(at - moment)
            time.sleep(LINE_INTERVAL)
        for page in pages:
            page.context.close()
        return result
    finally:
        process.kill()


def quantiles(values):
    if not values:
        return "-"
    return " / ".join(f"{percentile(values, p):.0f}" for p in (50, 95, 99)) + f" / {max(values):.0f}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="10 desks, 0 and 500 waiting, 10 joins")
    parser.add_argument("--desks", type=int, action="append", help="desks (default 10, 20, 50)")
    parser.add_argument("--waiting", type=int, action="append", help="customers waiting (default 0, 500, 2000)")
    parser.add_argument("--joins", type=int, default=20)
    parser.add_argument("--lines", type=int, default=20)
    parsed = parser.parse_args()
    grid_desks = parsed.desks or ([10] if parsed.quick else [10, 20, 50])
    grid_waiting = parsed.waiting or ([0, 500] if parsed.quick else [0, 500, 2000])
    joins = 10 if parsed.quick else parsed.joins
    print("| desks | waiting | join visible p50/p95/p99/max ms | floor p50/p95/p99/max ms | ratio p99 "
          "| server: POST to frame p50/p99 (floor) | page: frame to DOM p50/p99 (floor) "
          "| requests / KB per desk per join | server CPU ms per join (floor) | line visible p50/p99 (floor) "
          "| missed rows |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=["--no-sandbox", "--disable-gpu"])
        for desks in grid_desks:
            floor = run_floor(chromium, desks, joins, parsed.lines)
            for waiting in grid_waiting:
                ours = run_site(chromium, desks, waiting, joins, parsed.lines)
                ratio = percentile(ours["shown"], 99) / percentile(floor["shown"], 99) if ours["shown"] else 0
                print(f"| {desks} | {waiting} | {quantiles(ours['shown'])} | {quantiles(floor['shown'])} "
                      f"| {ratio:.1f} "
                      f"| {percentile(ours['frame'], 50):.0f} / {percentile(ours['frame'], 99):.0f} "
                      f"({percentile(floor['frame'], 50):.0f} / {percentile(floor['frame'], 99):.0f}) "
                      f"| {percentile(ours['dom'], 50):.0f} / {percentile(ours['dom'], 99):.0f} "
                      f"({percentile(floor['dom'], 50):.0f} / {percentile(floor['dom'], 99):.0f}) "
                      f"| {ours['requests']:.2f} / {ours['bytes'] / 1024:.1f} "
                      f"| {ours['cpu']:.0f} ({floor['cpu']:.0f}) "
                      f"| {percentile(ours['line_shown'], 50):.0f} / {percentile(ours['line_shown'], 99):.0f} "
                      f"({percentile(floor['line_shown'], 50):.0f} / {percentile(floor['line_shown'], 99):.0f}) "
                      f"| {ours['missed']} |", flush=True)
        chromium.close()


if __name__ == "__main__":
    main()
