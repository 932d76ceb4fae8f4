"""Socket flood benchmark: another person's requests while one socket floods the server.

One command: `python bench/bench_socket_flood.py` (--seconds to change the length of each phase).
It starts the site as bench/bench_chat.py does (a subprocess, threading with simple-websocket, a
fresh SQLite database, two chat agents), and measures one agent's GET of the chat desk (/chat/,
on one kept-alive connection, one every 20 ms) in three phases of ten seconds:
  quiet, flood, quiet again
During the flood the other agent's socket sends 10,000 `chat-watch` events in ten seconds (one
a millisecond, each asking for an acknowledgement), as the issue's abuse did. The floor is the
quiet phases of the same run. It prints one JSON object per line:
  flood.request_p50_ms / _p99_ms        the desk's GET during the flood, with the floor and ratio
  flood.quiet_request_p50_ms / _p99_ms  the same GET in the quiet phases (the floor)
  flood.events_sent, .events_answered, .events_throttled, .events_handled
                                        what the flooding socket sent before the server cut it
                                        off, and what came back: throttled, or handled
  flood.disconnected_after_ms           when the server disconnected the flooding socket
and a table of the same figures. Target: the p99 during the flood at most twice the floor.
"""
import argparse
import json
import os
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_chat  # noqa: E402  (starts the site, its Browser and its WebSocket client)
from bench_chat import PASSWORD, Browser, WebSocket, free_port, percentile, start  # noqa: E402


def get(browser, path):
    """One GET on the person's kept-alive connection; returns (status, milliseconds)."""
    began = time.perf_counter()
    browser.connection.request("GET", path, headers={"Cookie": browser.cookie_header()})
    response = browser.connection.getresponse()
    response.read()
    return response.status, (time.perf_counter() - began) * 1000


def requests_for(browser, seconds, every=0.02):
    timings, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        status, ms = get(browser, "/chat/")
        if status != 200:
            raise SystemExit(f"the desk answered {status}")
        timings.append(ms)
        time.sleep(every)
    return timings


class Flooder:
    """A staff socket that sends `count` chat-watch events over `seconds` and counts the answers."""

    def __init__(self, base, cookie):
        self.ws = WebSocket(base.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket",
                            headers={"Cookie": cookie})
        packet = self.ws.receive(timeout=10)
        while packet is not None and not packet.startswith("0"):
            packet = self.ws.receive(timeout=10)
        self.ws.send("40")
        self.answers, self.throttled, self.sent = 0, 0, 0
        self.cut_off_at = None
        self.started = None
        threading.Thread(target=self.listen, daemon=True).start()

    def listen(self):
        try:
            while (packet := self.ws.receive()) is not None:
                if packet == "2":
                    self.ws.send("3")
                elif packet.startswith("43"):
                    self.answers += 1
                    self.throttled += '"throttled"' in packet
                elif packet.startswith("41") and self.cut_off_at is None and self.started:
                    self.cut_off_at = time.perf_counter()  # the server disconnected the namespace
        except Exception:  # noqa: BLE001 - closed
            pass
        if self.cut_off_at is None and self.started:
            self.cut_off_at = time.perf_counter()

    def flood(self, count, seconds):
        self.started = time.perf_counter()
        for n in range(count):
            due = self.started + n * seconds / count
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            try:
                self.ws.send(f"42{n}" + json.dumps(["chat-watch", None]))
            except Exception:  # noqa: BLE001 - the server closed the connection
                break
            self.sent += 1
        remaining = self.started + seconds - time.perf_counter()
        if remaining > 0:
            time.sleep(remaining)  # the flood's ten seconds, whether or not the socket is still there


def figure(name, value, unit="ms", floor=None):
    line = {"name": name, "value": round(value, 2), "unit": unit}
    if floor is not None:
        line["floor"] = round(floor, 2)
        line["ratio"] = round(value / floor, 2) if floor else None
    print(json.dumps(line), flush=True)
    return line


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10, help="length of each phase (10)")
    parser.add_argument("--events", type=int, default=10_000, help="chat-watch events the flood sends (10,000)")
    args = parser.parse_args()
    port = free_port()
    folder = tempfile.mkdtemp()
    os.environ["BENCH_AGENTS"] = "2"
    server = start(["--serve", str(port), f"sqlite:///{folder}/bench.db", "threading"], port)
    base = f"http://127.0.0.1:{port}"
    try:
        person, flooding = Browser(base), Browser(base)
        for browser, name in ((person, "agent0"), (flooding, "agent1")):
            browser.post("/login", username=name, password=PASSWORD)
            browser.post("/chat/service/login", queues=1, display_name=name)
        requests_for(person, 1)  # warm up
        quiet = requests_for(person, args.seconds)
        flooder = Flooder(base, flooding.cookie_header())
        time.sleep(0.5)
        results = {}
        measuring = threading.Thread(target=lambda: results.setdefault("flood", requests_for(person, args.seconds)))
        measuring.start()
        flooder.flood(args.events, args.seconds)
        measuring.join()
        quiet += requests_for(person, args.seconds)
        time.sleep(0.5)
        flood = results["flood"]
        rows = [
            figure("flood.request_p50_ms", percentile(flood, 50), floor=percentile(quiet, 50)),
            figure("flood.request_p99_ms", percentile(flood, 99), floor=percentile(quiet, 99)),
            figure("flood.quiet_request_p50_ms", percentile(quiet, 50)),
            figure("flood.quiet_request_p99_ms", percentile(quiet, 99)),
            figure("flood.requests", len(flood), unit="requests"),
            figure("flood.events_sent", flooder.sent, unit="events"),
            figure("flood.events_answered", flooder.answers, unit="events"),
            figure("flood.events_throttled", flooder.throttled, unit="events"),
            figure("flood.events_handled", flooder.answers - flooder.throttled, unit="events"),
            figure("flood.disconnected_after_ms",
                   (flooder.cut_off_at - flooder.started) * 1000 if flooder.cut_off_at else float("nan")),
        ]
        print()
        print("| figure | value | floor (quiet) | ratio |")
        print("|---|---|---|---|")
        for row in rows:
            print(f"| {row['name']} | {row['value']} {row['unit']} | {row.get('floor', '')} | {row.get('ratio', '')} |")
        ratio = rows[1]["ratio"]
        print(f"\nanother person's GET /chat/ p99: {rows[1]['value']} ms during the flood, "
              f"{rows[1]['floor']} ms quiet: "
              f"x{ratio} ({'within' if ratio <= 2 else 'over'} the target of x2)")
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    bench_chat.sys.argv = [sys.argv[0]]  # bench_chat reads its own arguments only when run itself
    main()
