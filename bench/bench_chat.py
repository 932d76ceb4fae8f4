"""Chat benchmark: the real server on loopback against simulated customers and agents.

One command: `python bench/bench_chat.py` (add --quick for a small run). It starts the site in
a subprocess on a fresh SQLite database, connects agents and customers as raw Socket.IO clients
(simple-websocket speaking Engine.IO 4 over a websocket), and prints one JSON object per line:
  chat.join_to_agents_p50_ms / _p99_ms  a customer joins (HTTP POST) until every agent of the
                                        queue has received the live event
  chat.message_p50_ms / _p99_ms         a customer's message (HTTP POST) until the serving
                                        agent has received the live event
  chat.rss_mb_1000_sockets              the server's resident memory with N sockets connected
The floor is a bare python-socketio relay server (no database, no templates) measured in the
same run: one client emits, the relay forwards to another client.
"""
import argparse
import http.cookiejar
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

from simple_websocket import Client

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
PASSWORD = "bench-horse-battery-9"


# ---- server processes -------------------------------------------------------------------------

def serve_site(port, database):
    from app import create_app, db, socketio
    from blueprints.accounts import service
    from blueprints.accounts.models import UnitKind
    from blueprints.chat.models import ChatQueue
    from common.access import Role

    app = create_app({"SQLALCHEMY_DATABASE_URI": database, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
                      "SECRET_KEY": "bench", "REDIS_URL": None, "DEVELOPMENT": True})
    with app.app_context():
        db.create_all()
        unit = service.create_unit("BENCH", "Bench library", UnitKind.LIBRARY)
        db.session.add(ChatQueue(unit_id=unit.id, name="Bench", is_open=True, waiting_message="Wait"))
        for n in range(int(os.environ.get("BENCH_AGENTS", "20"))):
            service.create_user(f"agent{n}", f"Agent {n}", f"a{n}@x.invalid", "en", PASSWORD, [(Role.CHAT_AGENT, unit)])
        db.session.commit()
    socketio.run(app, host="127.0.0.1", port=port, allow_unsafe_werkzeug=True, use_reloader=False, log_output=False)


def serve_relay(port):
    import socketio as sio
    from werkzeug.serving import run_simple

    server = sio.Server(async_mode="threading")

    @server.on("relay")
    def relay(sid, data):
        server.emit("live", data, to=data["to"])

    run_simple("127.0.0.1", port, sio.WSGIApp(server), threaded=True)


def start(args, port):
    process = subprocess.Popen([sys.executable, __file__, *args], cwd=ROOT, env=dict(os.environ),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/socket.io/?EIO=4&transport=polling", timeout=1)
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("server did not start")


def free_port():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


# ---- clients ----------------------------------------------------------------------------------

class Browser:
    """Cookies and HTTP for one simulated person."""

    def __init__(self, base):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def post(self, path, **data):
        body = urllib.parse.urlencode(data, doseq=True).encode()
        with self.opener.open(self.base + path, body, timeout=30) as response:
            return response.status

    def cookie_header(self):
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


class Socket:
    """A Socket.IO client on one namespace; records when each 'live' event arrived."""

    def __init__(self, base, namespace="/", cookie=""):
        url = base.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
        self.ws = Client(url, headers={"Cookie": cookie} if cookie else None)
        self.prefix = "" if namespace == "/" else namespace + ","
        self.events = []
        self.arrived = threading.Condition()
        packet = self.ws.receive(timeout=10)
        while packet is not None and not packet.startswith("0"):  # the Engine.IO open packet
            packet = self.ws.receive(timeout=10)
        self.ws.send("40" + self.prefix)
        reply = self.ws.receive(timeout=10)
        while reply is not None and reply[:2] not in ("40", "44"):
            reply = self.ws.receive(timeout=10)
        if reply is None or not reply.startswith("40"):
            raise RuntimeError(f"refused: {reply}")
        self.thread = threading.Thread(target=self.listen, daemon=True)
        self.thread.start()

    def listen(self):
        try:
            while True:
                packet = self.ws.receive()
                if packet is None:
                    return
                if packet == "2":
                    self.ws.send("3")
                elif packet.startswith("42" + self.prefix):
                    with self.arrived:
                        self.events.append((time.perf_counter(), packet))
                        self.arrived.notify_all()
        except Exception:  # noqa: BLE001 - the socket closed
            return

    def emit(self, name, data):
        self.ws.send("42" + self.prefix + json.dumps([name, data]))

    def wait_after(self, moment, timeout=10):
        """The arrival time of the first event after `moment`."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                for at, _packet in self.events:
                    if at >= moment:
                        return at
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("no event")
                self.arrived.wait(remaining)

    def close(self):
        self.ws.close()


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def emit_figure(name, value, unit="ms", floor=None):
    line = {"name": name, "value": round(value, 2), "unit": unit}
    if floor is not None:
        line.update(floor=round(floor, 2), ratio=round(value / floor, 2) if floor else None)
    print(json.dumps(line), flush=True)


# ---- the run ------------------------------------------------------------------------------------

def measure_relay(rounds):
    port = free_port()
    process = start(["--relay", str(port)], port)
    try:
        base = f"http://127.0.0.1:{port}"
        a, b = Socket(base), Socket(base)
        sid = None  # to=None: the relay broadcasts (a and b both receive; b's arrival is timed)
        latencies = []
        for _ in range(rounds):
            moment = time.perf_counter()
            a.emit("relay", {"to": sid, "text": "hello"})
            latencies.append((b.wait_after(moment) - moment) * 1000)
            time.sleep(0.005)
        a.close(), b.close()
        return latencies
    finally:
        process.kill()


def measure_site(args):
    port = free_port()
    database = "sqlite:///" + os.path.join(tempfile.mkdtemp(), "bench.db")
    os.environ["BENCH_AGENTS"] = str(args.agents)
    process = start(["--serve", str(port), database], port)
    base = f"http://127.0.0.1:{port}"
    sockets = []
    try:
        agents = []
        for n in range(args.agents):
            browser = Browser(base)
            browser.post("/login", username=f"agent{n}", password=PASSWORD)
            browser.post("/chat/service/login", queues=1, display_name=f"A{n}")
            agents.append((browser, Socket(base, "/", browser.cookie_header())))
        sockets += [s for _b, s in agents]

        # (a) joins, with the queue filling up to `customers` waiting customers
        join_latencies, customers = [], []
        for n in range(args.customers):
            browser = Browser(base)
            moment = time.perf_counter()
            browser.post("/chat/customer/", queue=1, name=f"Customer {n}")
            join_latencies.append((max(s.wait_after(moment) for _b, s in agents) - moment) * 1000)
            customers.append(browser)
        customer_sockets = [Socket(base, "/customer", c.cookie_header()) for c in customers]
        sockets += customer_sockets

        # (b) messages in active conversations: agent k serves conversations k, k+agents, ...
        for conversation_id in range(1, args.conversations + 1):
            agent_browser = agents[(conversation_id - 1) % args.agents][0]
            agent_browser.post(f"/chat/conversations/{conversation_id}/claim")
        time.sleep(0.5)
        message_latencies = []
        for round_ in range(args.rounds):
            for conversation_id in range(1, args.conversations + 1):
                agent_socket = agents[(conversation_id - 1) % args.agents][1]
                moment = time.perf_counter()
                customers[conversation_id - 1].post("/chat/customer/message", body=f"message {round_}")
                message_latencies.append((agent_socket.wait_after(moment) - moment) * 1000)

        # (c) memory with N sockets: add idle customer-page sockets on existing conversations
        while len(sockets) < args.sockets:
            customer = customers[len(sockets) % len(customers)]
            sockets.append(Socket(base, "/customer", customer.cookie_header()))
        time.sleep(1)
        memory = rss_mb(process.pid)
        return join_latencies, message_latencies, memory, len(sockets)
    finally:
        for s in sockets:
            try:
                s.close()
            except Exception:  # noqa: BLE001
                pass
        process.kill()


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        return serve_site(int(sys.argv[2]), sys.argv[3])
    if len(sys.argv) > 1 and sys.argv[1] == "--relay":
        return serve_relay(int(sys.argv[2]))
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a small run (50 customers, 5 agents, 20 chats, 200 sockets)")
    parsed = parser.parse_args()
    full = dict(customers=500, agents=20, conversations=100, rounds=3, sockets=1000)
    quick = dict(customers=50, agents=5, conversations=20, rounds=3, sockets=200)
    args = argparse.Namespace(**(quick if parsed.quick else full))

    relay = measure_relay(max(100, args.conversations * args.rounds))
    joins, messages, memory, connected = measure_site(args)
    floor50, floor99 = percentile(relay, 50), percentile(relay, 99)
    emit_figure("chat.join_to_agents_p50_ms", percentile(joins, 50), floor=floor50)
    emit_figure("chat.join_to_agents_p99_ms", percentile(joins, 99), floor=floor99)
    emit_figure("chat.message_p50_ms", percentile(messages, 50), floor=floor50)
    emit_figure("chat.message_p99_ms", percentile(messages, 99), floor=floor99)
    emit_figure(f"chat.rss_mb_{connected}_sockets" if connected != 1000 else "chat.rss_mb_1000_sockets", memory, unit="MB")


if __name__ == "__main__":
    main()
