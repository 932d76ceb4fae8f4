"""Chat benchmark: the real server on loopback against simulated customers and agents.

One command: `python bench/bench_chat.py` (add --quick for a small run). For each async mode
(threading with simple-websocket, and gevent) it starts the site in a subprocess on a fresh
SQLite database, connects agents and customers as raw Socket.IO clients (simple-websocket
speaking Engine.IO 4 over a websocket; HTTP on one kept-alive connection per person, as a
browser does), and prints one JSON object per line:
  chat.join_to_agents_p50_ms / _p99_ms  a customer joins (HTTP POST) until every agent of the
                                        queue has received the live event
  chat.message_p50_ms / _p99_ms         a customer's message (HTTP POST) until the serving
                                        agent has received the live event
  chat.agent_events_per_message         live events all agents' sockets received per message (1:
                                        only the serving agent hears it, not the whole unit)
  chat.rss_mb_1000_sockets              the server's resident memory with N sockets connected
The floor is a bare python-socketio relay server in the same async mode (no database, no
templates, no login) measured in the same run on the same paths, with as many sockets connected
in the same rooms: a join is an HTTP POST the relay emits to the room of all agents, a message an
HTTP POST it emits to the serving agent's room and the customer's. Each figure carries that floor
and the ratio to it. Beside them:
  chat.stack_floor_message_p50_ms / _p99_ms  the stack under every message and nothing of ours:
                                        a Flask route that stores the line with Flask-SQLAlchemy
                                        in SQLite, commits, then emits (with its ratio to the relay)
  chat.relay_socket_p50_ms / _p99_ms    the relay socket to socket (one client emits)
The figures without a prefix are for the async mode the site runs in (SOCKETIO_ASYNC_MODE); the
other mode's carry its name as a prefix (chat.gevent.message_p99_ms). --mode measures one only.
"""
import sys

# gevent must patch the standard library before anything else imports it.
if len(sys.argv) > 2 and sys.argv[1] in ("--serve", "--relay") and sys.argv[-1] == "gevent":
    from gevent import monkey

    monkey.patch_all()

import argparse  # noqa: E402
import http.client  # noqa: E402
import http.cookies  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.parse  # noqa: E402
import urllib.request  # noqa: E402

from simple_websocket import Client  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
PASSWORD = "bench-horse-battery-9"


# ---- server processes -------------------------------------------------------------------------

def serve_site(port, database, mode):
    from app import create_app
    from blueprints.accounts import service
    from blueprints.accounts.models import UnitKind
    from blueprints.chat.models import ChatQueue
    from common.access import Role
    from extensions import db, socketio

    app = create_app({"SQLALCHEMY_DATABASE_URI": database, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
                      "SECRET_KEY": "bench", "REDIS_URL": None, "DEVELOPMENT": True,
                      "SOCKETIO_ASYNC_MODE": mode})
    with app.app_context():
        db.create_all()
        unit = service.create_unit("BENCH", "Bench library", UnitKind.LIBRARY)
        db.session.add(ChatQueue(unit_id=unit.id, name="Bench", is_open=True, waiting_message="Wait"))
        for n in range(int(os.environ.get("BENCH_AGENTS", "20"))):
            service.create_user(f"agent{n}", f"Agent {n}", f"a{n}@x.invalid", "en", PASSWORD, [(Role.CHAT_AGENT, unit)])
        db.session.commit()
    socketio.run(app, host="127.0.0.1", port=port, allow_unsafe_werkzeug=True, use_reloader=False, log_output=False)


def stack_floor(server, database):
    """The stack under every chat message and nothing of ours: a Flask route that stores the line
    with Flask-SQLAlchemy in SQLite (tuned as app.py tunes it), commits, then emits it."""
    from flask import Flask, request
    from flask_sqlalchemy import SQLAlchemy
    from sqlalchemy import event

    app = Flask("stack-floor")
    app.config["SQLALCHEMY_DATABASE_URI"] = database
    db = SQLAlchemy(app)

    class Line(db.Model):
        id = db.Column(db.Integer, primary_key=True)
        body = db.Column(db.Text)

    def tune(connection, record):
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")

    with app.app_context():
        event.listen(db.engine, "connect", tune)
        db.create_all()

    @app.post("/stored")
    def stored():
        db.session.add(Line(body=request.form["body"]))
        db.session.commit()
        for room in request.form.getlist("to"):
            server.emit("live", {"text": request.form["body"]}, to=room)
        return "ok"

    return app


def serve_relay(port, database, mode):
    import socketio as sio

    server = sio.Server(async_mode=mode)
    stack = stack_floor(server, database)

    @server.on("connect")
    def connect(sid, environ):
        # Each socket joins the rooms it names, as the site's sockets join theirs.
        for room in urllib.parse.parse_qs(environ.get("QUERY_STRING", "")).get("room", []):
            server.enter_room(sid, room)

    @server.on("relay")
    def relay(sid, data):
        server.emit("live", data, to=data["to"])

    def post(environ, start_response):
        """The same path as a chat message or a join: an HTTP POST, one emit to each room named."""
        if environ["PATH_INFO"] == "/stored":
            return stack(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = urllib.parse.parse_qs(environ["wsgi.input"].read(length).decode())
        for room in form["to"]:
            server.emit("live", {"text": form["body"][0]}, to=room)
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]

    app = sio.WSGIApp(server, post)
    if mode == "gevent":
        from gevent import pywsgi

        pywsgi.WSGIServer(("127.0.0.1", port), app, log=None).serve_forever()
    else:
        from werkzeug.serving import run_simple

        run_simple("127.0.0.1", port, app, threaded=True)


def start(args, port):
    process = subprocess.Popen([sys.executable, __file__, *args], cwd=ROOT, env=dict(os.environ),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180  # creating the agents hashes 20 passwords first
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
    """Cookies and one kept-alive HTTP connection for one simulated person (redirects are not
    followed: the benchmark needs only the cookies they set)."""

    def __init__(self, base):
        self.base = base
        self.cookies = http.cookies.SimpleCookie()
        self.connection = http.client.HTTPConnection(urllib.parse.urlsplit(base).netloc, timeout=30)

    def post(self, path, **data):
        body = urllib.parse.urlencode(data, doseq=True)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": self.cookie_header()}
        self.connection.request("POST", path, body, headers)
        response = self.connection.getresponse()
        response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            self.cookies.load(header)
        return response.status

    def cookie_header(self):
        return "; ".join(f"{name}={morsel.value}" for name, morsel in self.cookies.items())


class WebSocket(Client):
    """simple-websocket's client, minus one trap: a frame that arrives in the same read as the
    handshake's answer stays in its buffer until more data comes. gevent's server sends the
    Engine.IO open packet right behind the answer, so a socket would wait for it forever."""

    def handshake(self):
        super().handshake()
        self._handle_events()


class Socket:
    """A Socket.IO client on one namespace; records when each 'live' event arrived."""

    def __init__(self, base, namespace="/", cookie="", rooms=()):
        url = base.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
        url += "".join(f"&room={room}" for room in rooms)  # for the relay only
        self.ws = WebSocket(url, headers={"Cookie": cookie} if cookie else None)
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

    def wait_after(self, moment, about, timeout=10):
        """The arrival time of the first event after `moment` that is `about` this: a pattern
        in the packet. Other events (a colleague's chat, the previous round's late echo) do not count."""
        pattern = re.compile(about)
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                for at, packet in self.events:
                    if at >= moment and pattern.search(packet):
                        return at
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("no event")
                self.arrived.wait(remaining)

    def close(self):
        self.ws.close()


def conversation_event(conversation_id):
    return rf'"conversation":\s*{conversation_id}\b'


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def emit_figure(name, value, unit="ms", floor=None):
    line = {"name": name, "value": round(value, 2), "unit": unit}
    if floor is not None:
        line.update(floor=round(floor, 2), ratio=round(value / floor, 2) if floor else None)
    print(json.dumps(line), flush=True)


# ---- the run ------------------------------------------------------------------------------------

def measure_relay(args, mode):
    """The floor: a bare relay on the site's paths, with as many sockets connected and the same
    rooms. A join is one POST emitted to the room of all agents; a message is one POST emitted to
    the serving agent's room and to the customer's. Socket to socket: one client emits, the relay
    forwards to the other's room."""
    port = free_port()
    process = start(["--relay", str(port), "sqlite:///" + os.path.join(tempfile.mkdtemp(), "stack.db"), mode], port)
    sockets = []
    try:
        base = f"http://127.0.0.1:{port}"
        agents = [Socket(base, rooms=("agents", f"agent{n}")) for n in range(args.agents)]
        sockets = list(agents)
        sender = Browser(base)
        for path in ("/relay", "/stored"):  # the first delivery to each socket is not the floor
            moment = time.perf_counter()
            sender.post(path, to="agents", body=f"warm-up {path}")
            for agent in agents:
                agent.wait_after(moment, f"warm-up {path}")
        joins, messages, stored, by_socket = [], [], [], []
        for n in range(args.customers):
            moment = time.perf_counter()
            sender.post("/relay", to="agents", body=f"join {n}")
            joins.append((max(a.wait_after(moment, f"join {n}\\b") for a in agents) - moment) * 1000)
        customers = [Socket(base, rooms=(f"customer{n}",)) for n in range(args.customers)]
        sockets += customers
        for round_ in range(args.rounds):
            for n in range(args.conversations):
                agent = agents[n % args.agents]
                moment = time.perf_counter()
                sender.post("/relay", to=[f"agent{n % args.agents}", f"customer{n}"], body=f"message {round_} {n}")
                messages.append((agent.wait_after(moment, f"message {round_} {n}\\b") - moment) * 1000)
                moment = time.perf_counter()
                sender.post("/stored", to=[f"agent{n % args.agents}", f"customer{n}"], body=f"stored {round_} {n}")
                stored.append((agent.wait_after(moment, f"stored {round_} {n}\\b") - moment) * 1000)
                moment = time.perf_counter()
                customers[n].emit("relay", {"to": f"agent{n % args.agents}", "text": f"socket {round_} {n}"})
                by_socket.append((agent.wait_after(moment, f"socket {round_} {n}\\b") - moment) * 1000)
        return joins, messages, stored, by_socket
    finally:
        for s in sockets:
            s.close()
        process.kill()


def measure_site(args, mode):
    port = free_port()
    database = "sqlite:///" + os.path.join(tempfile.mkdtemp(), "bench.db")
    os.environ["BENCH_AGENTS"] = str(args.agents)
    process = start(["--serve", str(port), database, mode], port)
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
            about = conversation_event(n + 1)  # conversations are numbered from 1 in join order
            join_latencies.append((max(s.wait_after(moment, about) for _b, s in agents) - moment) * 1000)
            customers.append(browser)
        customer_sockets = [Socket(base, "/customer", c.cookie_header()) for c in customers]
        sockets += customer_sockets

        # (b) messages in active conversations: agent k serves conversations k, k+agents, ...
        for conversation_id in range(1, args.conversations + 1):
            agent_browser = agents[(conversation_id - 1) % args.agents][0]
            agent_browser.post(f"/chat/conversations/{conversation_id}/claim")
        time.sleep(0.5)
        message_latencies = []
        heard_before = sum(len(s.events) for _b, s in agents)
        for round_ in range(args.rounds):
            for conversation_id in range(1, args.conversations + 1):
                agent_socket = agents[(conversation_id - 1) % args.agents][1]
                moment = time.perf_counter()
                customers[conversation_id - 1].post("/chat/customer/message", body=f"message {round_}")
                about = conversation_event(conversation_id)
                message_latencies.append((agent_socket.wait_after(moment, about) - moment) * 1000)
        time.sleep(0.5)  # late events count too
        heard = (sum(len(s.events) for _b, s in agents) - heard_before) / len(message_latencies)

        # (c) memory with N sockets: add idle customer-page sockets on existing conversations
        while len(sockets) < args.sockets:
            customer = customers[len(sockets) % len(customers)]
            sockets.append(Socket(base, "/customer", customer.cookie_header()))
        time.sleep(1)
        memory = rss_mb(process.pid)
        return join_latencies, message_latencies, heard, memory, len(sockets)
    finally:
        for s in sockets:
            try:
                s.close()
            except Exception:  # noqa: BLE001
                pass
        process.kill()


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        return serve_site(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    if len(sys.argv) > 1 and sys.argv[1] == "--relay":
        return serve_relay(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a small run (50 customers, 5 agents, 20 chats, 200 sockets)")
    parser.add_argument("--mode", choices=("threading", "gevent"), action="append",
                        help="measure only this async mode (default: both)")
    parsed = parser.parse_args()
    full = dict(customers=500, agents=20, conversations=100, rounds=3, sockets=1000)
    quick = dict(customers=50, agents=5, conversations=20, rounds=3, sockets=200)
    args = argparse.Namespace(**(quick if parsed.quick else full))

    from config import DefaultConfig

    site_mode = DefaultConfig.SOCKETIO_ASYNC_MODE
    modes = [site_mode] + [m for m in ("threading", "gevent") if m != site_mode]
    for mode in [m for m in modes if not parsed.mode or m in parsed.mode]:
        prefix = "chat." if mode == site_mode else f"chat.{mode}."
        relay_joins, relay_messages, stored, by_socket = measure_relay(args, mode)
        joins, messages, heard, memory, connected = measure_site(args, mode)
        for name, ours, floor in (("join_to_agents", joins, relay_joins), ("message", messages, relay_messages)):
            for p in (50, 99):
                emit_figure(f"{prefix}{name}_p{p}_ms", percentile(ours, p), floor=percentile(floor, p))
        for p in (50, 99):
            emit_figure(f"{prefix}stack_floor_message_p{p}_ms", percentile(stored, p), floor=percentile(relay_messages, p))
        emit_figure(prefix + "relay_socket_p50_ms", percentile(by_socket, 50))
        emit_figure(prefix + "relay_socket_p99_ms", percentile(by_socket, 99))
        emit_figure(prefix + "agent_events_per_message", heard, unit="events")
        sockets = "1000" if connected == 1000 else str(connected)
        emit_figure(f"{prefix}rss_mb_{sockets}_sockets", memory, unit="MB")


if __name__ == "__main__":
    main()
