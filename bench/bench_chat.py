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
ROW = '<li class="chat-line"><p class="chat-meta"><strong>{{ body }}</strong></p><p class="chat-body">{{ body }}</p></li>'
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

    from blueprints.chat.models import Conversation
    from config import DefaultConfig

    app = create_app({"SQLALCHEMY_DATABASE_URI": database, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
                      "SECRET_KEY": "bench", "REDIS_URL": None, "DEVELOPMENT": True,
                      "SOCKETIO_ASYNC_MODE": mode, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
                      "IDENTITY_HMAC_KEY": "00" * 32, "IDENTITY_ENCRYPTION_KEY": "A" * 43 + "=",
                      "CHAT_AGENT_GRACE_SECONDS": DefaultConfig.CHAT_AGENT_GRACE_SECONDS})
    with app.app_context():
        db.create_all()
        unit = service.create_unit("BENCH", "Bench library", UnitKind.LIBRARY)
        queue = ChatQueue(unit_id=unit.id, name="Bench", is_open=True, waiting_message="Wait")
        db.session.add(queue)
        for n in range(int(os.environ.get("BENCH_AGENTS", "20"))):
            service.create_user(f"agent{n}", f"Agent {n}", f"a{n}@x.invalid", "en", PASSWORD, [(Role.CHAT_AGENT, unit)])
        db.session.flush()
        # Customers already waiting when the run starts (they joined long ago, so they wait first).
        db.session.add_all(Conversation(queue_id=queue.id, token=f"waiting-{n}", customer_name=f"Waiting {n}")
                           for n in range(int(os.environ.get("BENCH_WAITING", "0"))))
        db.session.commit()
    socketio.run(app, host="127.0.0.1", port=port, allow_unsafe_werkzeug=True, use_reloader=False, log_output=False)


def stack_floor(server, database):
    """The stack under every chat message and nothing of ours: a Flask route that stores the line
    with Flask-SQLAlchemy in SQLite (tuned as app.py tunes it), commits, then emits it."""
    from flask import Flask, render_template_string, request
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

    @app.get("/row")
    def row():
        # What a desk re-reads after an event, on the bare stack: one row rendered from a template.
        line = db.session.get(Line, request.args.get("id", type=int)) if request.args.get("id") else None
        return render_template_string(ROW, body=line.body if line else request.args.get("body", ""))

    @app.post("/stored")
    def stored():
        line = Line(body=request.form["body"])
        db.session.add(line)
        db.session.commit()
        for room in request.form.getlist("to"):
            server.emit("live", {"text": request.form["body"], "id": line.id}, to=room)
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
        if environ["PATH_INFO"] in ("/stored", "/row"):
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

    def post(self, path, script=False, **data):
        """A form sent; with `script`, as the page's script sends it (static/js/chat.js)."""
        body = urllib.parse.urlencode(data, doseq=True)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": self.cookie_header()}
        if script:
            headers["HX-Request"] = "true"
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

    def __init__(self, base, namespace="/", cookie="", rooms=(), on_event=None):
        self.on_event = on_event
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
                    at = time.perf_counter()
                    with self.arrived:
                        self.events.append((at, packet))
                        self.arrived.notify_all()
                    if self.on_event:
                        name, message = json.loads(packet[len("42" + self.prefix):])
                        if "event" in message:
                            self.on_event(at, message["event"], message.get("data") or {})
                        else:  # the floor's relay names no event; its data name the row
                            self.on_event(at, name, message)
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
                customers[conversation_id - 1].post("/chat/customer/message", script=True, body=f"message {round_}")
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


# ---- what a person sees: a desk re-reads its regions after each event -------------------------

REGION = re.compile(r'<(?:div|section|ol)\s+id="([^"]+)"\s+data-live-region\s+data-live-events="([^"]*)"'
                    r'(?:\s+data-live-match=\'([^\']*)\')?\s+hx-get="([^"]+)"([^>]*)>')
ITEM = re.compile(r'data-item="(\d+)"')
LIST = re.compile(r'<ul[^>]*\sdata-live-list\s+data-live-capacity="(\d+)"([^>]*)>')
PAGER = re.compile(r'data-pager-text="([^"]*)"')


def list_of(html, append):
    """The items (ids) a region's list shows and how many it may show, as live.js reads them:
    an append region is the list, another region may hold one (data-live-list)."""
    if append:
        return {"items": ITEM.findall(html[:html.find("</ol>")]), "capacity": float("inf"), "first_page": True}
    found = LIST.search(html)
    if not found:
        return None
    return {"items": ITEM.findall(html[found.end():html.find("</ul>", found.end())]), "capacity": int(found.group(1)),
            "first_page": "data-live-first-page" in found.group(2)}


def live_regions(html):
    """The page's live regions as static/js/live.js reads them: id, events, match, url, and the
    list each shows, if any."""
    import html as html_module

    regions = []
    found = list(REGION.finditer(html))
    for n, match_ in enumerate(found):
        rid, events, match, url, rest = match_.groups()
        append = "data-live-append" in rest
        end = found[n + 1].start() if n + 1 < len(found) and not append else len(html)
        pager = PAGER.search(html[match_.end():end])
        regions.append({"id": rid, "events": events.split(), "url": html_module.unescape(url),
                        "match": json.loads(html_module.unescape(match)) if match else {}, "append": append,
                        "list": list_of(html[match_.end():end], append),
                        "pager": html_module.unescape(pager.group(1)) if pager else None})
    return regions


def pushed(region, data):
    """live.js's rule: a list that shows the item the new one follows takes the item that came
    rendered with the event; a full page passes its last item on (the pager, a region of its
    own, counts a new page). Its HTML, or None when the region must read itself."""
    shown = region.get("list")
    if shown is None or "html" not in data:
        return None
    items, previous, capacity = shown["items"], data["previous"], shown["capacity"]
    if str(data["item"]) in items:
        return ""
    full = len(items) >= capacity
    if previous is None and items and not shown["first_page"]:
        return None
    if previous is not None and str(previous) not in items:
        return None
    at = items.index(str(previous)) + 1 if previous is not None else 0
    if full and at == len(items):
        return ""  # it goes on the next page
    items.insert(at, str(data["item"]))
    if full:
        items.pop()
    return next(iter(data["html"].values()))


def pager_pushed(region, data):
    """live.js's rule: a live pager writes the page count a join brings into its text. The text
    it shows then, or None."""
    if region.get("pager") is None or "pages" not in data:
        return None
    return region["pager"].replace("{pages}", str(data["pages"])) + "<"


def concerns(match, name, data):
    """live.js's rule: a condition holds when every key it names that the event names agrees."""
    def agrees(expected, actual):
        if isinstance(expected, list):
            return str(actual) in [str(e) for e in expected]
        if isinstance(expected, dict):
            return str(expected["not"]) != str(actual) if "not" in expected else float(actual) <= expected["max"]
        return str(expected) == str(actual)

    named = {"event": name, **data}
    alternatives = match if isinstance(match, list) else [match]
    return any(all(key not in named or agrees(value, named[key]) for key, value in condition.items())
               for condition in alternatives)


class Desk:
    """One agent's page: on each live event it re-reads the regions the event concerns, as live.js
    does (one request at a time per region; a refresh asked for meanwhile runs once afterwards),
    each region on a kept-alive connection of its own as a browser's parallel requests are. Every
    answer is kept with the moment it arrived."""

    def __init__(self, base, browser, path, relay_rooms=None):
        self.base, self.browser = base, browser
        if relay_rooms is None:
            html = self.get(http.client.HTTPConnection(urllib.parse.urlsplit(base).netloc, timeout=30), path)[1]
            self.regions = live_regions(html)
        else:  # the floor: one region, a bare route rendering the row the event names
            self.regions = [{"id": "row", "events": ["*"], "match": {}, "url": "/row"}]
        self.answers = []  # (arrived, region id, body)
        self.requests = self.bytes = 0
        self.lock = threading.Lock()
        self.wanted = {}
        self.wake = {r["id"]: threading.Event() for r in self.regions}
        for region in self.regions:
            threading.Thread(target=self.reader, args=(region,), daemon=True).start()
        self.socket = Socket(base, "/", browser.cookie_header(), rooms=relay_rooms or (), on_event=self.heard)

    def get(self, connection, path):
        connection.request("GET", path, headers={"Cookie": self.browser.cookie_header(), "HX-Request": "true"})
        response = connection.getresponse()
        return response.status, response.read().decode()

    def heard(self, at, name, data):
        if name == "chat-changed" and "waiting" in data:
            # static/js/chat.js writes the queue's new count from the event into the page (one queue here).
            with self.lock:
                self.answers.append((at, "pushed", f'data-waiting-total="{data["waiting"]}"'))
        for region in self.regions:
            if ("*" in region["events"] or name in region["events"]) and concerns(region["match"], name, data):
                with self.lock:
                    html = pushed(region, data)
                    if html is None:
                        html = pager_pushed(region, data)
                    if html is not None:
                        self.answers.append((at, region["id"], html))
                        continue
                with self.lock:
                    self.wanted[region["id"]] = data
                self.wake[region["id"]].set()

    def reader(self, region):
        connection = http.client.HTTPConnection(urllib.parse.urlsplit(self.base).netloc, timeout=30)
        while True:
            self.wake[region["id"]].wait()
            self.wake[region["id"]].clear()
            with self.lock:
                data = self.wanted.pop(region["id"], {})
            url = region["url"] if region["id"] != "row" else f"/row?id={data.get('id', '')}"
            with self.lock:
                items = region["list"]["items"] if region.get("append") else []
            if items:  # live.js asks an append region for what came after its last item
                url += ("&" if "?" in url else "?") + f"after={items[-1]}"
            _status, body = self.get(connection, url)
            with self.lock:
                if region.get("append"):
                    region["list"]["items"] += ITEM.findall(body)
                elif region.get("list") is not None:
                    region["list"] = list_of(body, False)
            with self.lock:
                self.requests += 1
                self.bytes += len(body)
                self.answers.append((time.perf_counter(), region["id"], body))

    def shown_after(self, moment, marker, timeout=30):
        """When an answer that arrived after `moment` first contained `marker`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for at, _region, body in self.answers:
                    if at >= moment and marker in body:
                        return at
            time.sleep(0.002)
        raise TimeoutError(f"never shown: {marker}")

    def counters(self):
        with self.lock:
            return self.requests, self.bytes


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def visible_run(agents, waiting, conversations, joins, messages):
    from blueprints.chat.service import CUSTOMERS_PAGE_SIZE

    """The site with `waiting` customers in the line and `conversations` served chats: each agent's
    desk shows the queue and one of its chats. Joins: until every desk's queue list shows the new
    count. Messages (in the chats the desks show): until the serving desk's chat shows the line."""
    port = free_port()
    database = "sqlite:///" + os.path.join(tempfile.mkdtemp(), "visible.db")
    os.environ.update(BENCH_AGENTS=str(agents), BENCH_WAITING=str(waiting))
    process = start(["--serve", str(port), database, "threading"], port)
    base = f"http://127.0.0.1:{port}"
    desks = []
    try:
        browsers = []
        for n in range(agents):
            browser = Browser(base)
            browser.post("/login", username=f"agent{n}", password=PASSWORD)
            browser.post("/chat/service/login", queues=1, display_name=f"A{n}")
            browsers.append(browser)
        customers = []
        for n in range(conversations):
            customer = Browser(base)
            customer.post("/chat/customer/", queue=1, name=f"Chat {n}")
            customers.append(customer)
        first = waiting + 1  # the chats were numbered after the customers already waiting
        for n in range(conversations):
            browsers[n % agents].post(f"/chat/conversations/{first + n}/claim")
        desks = [Desk(base, browsers[n], f"/chat/?queue=1&conversation={first + n}") for n in range(agents)]
        time.sleep(1)

        heard, shown = [], []
        requests, volume, cpu = sum(d.counters()[0] for d in desks), sum(d.counters()[1] for d in desks), cpu_seconds(process.pid)
        for n in range(joins):
            moment = time.perf_counter()
            Browser(base).post("/chat/customer/", queue=1, name=f"Joined {n}")
            # The new count, and the new customer's row where the desk's page of the list reaches
            # their place (every desk shows the list's first page); and the pager, when the join
            # adds a page to the list (the served customers are in it too).
            place, listed = waiting + n + 1, waiting + conversations + n + 1
            changes = [f">Joined {n}</a>" if place <= CUSTOMERS_PAGE_SIZE else f'data-waiting-total="{place}"']
            if listed > CUSTOMERS_PAGE_SIZE and listed % CUSTOMERS_PAGE_SIZE == 1:
                changes.append(f"Page 1 of {-(-listed // CUSTOMERS_PAGE_SIZE)}<")
            shown.append((max(d.shown_after(moment, change) for d in desks for change in changes) - moment) * 1000)
            heard.append((max(d.socket.wait_after(moment, '"chat-changed"') for d in desks) - moment) * 1000)
        time.sleep(0.5)
        join_requests = (sum(d.counters()[0] for d in desks) - requests) / joins
        join_bytes = (sum(d.counters()[1] for d in desks) - volume) / joins
        join_cpu = (cpu_seconds(process.pid) - cpu) * 1000 / joins

        message_heard, message_shown = [], []
        requests = sum(d.counters()[0] for d in desks)
        for round_ in range(messages):
            n = round_ % min(agents, conversations)
            moment = time.perf_counter()
            text = f"line {round_} of chat {n}"
            customers[n].post("/chat/customer/message", script=True, body=text)
            message_shown.append((desks[n].shown_after(moment, text) - moment) * 1000)
            message_heard.append((desks[n].socket.wait_after(moment, '"chat-message"') - moment) * 1000)
        time.sleep(0.5)
        message_requests = (sum(d.counters()[0] for d in desks) - requests) / messages
        return dict(join_shown=shown, join_heard=heard, join_requests=join_requests, join_bytes=join_bytes,
                    join_cpu=join_cpu, message_shown=message_shown, message_heard=message_heard,
                    message_requests=message_requests)
    finally:
        for desk in desks:
            desk.socket.close()
        process.kill()


def visible_floor(agents, joins, messages):
    """The same person's view on the bare stack: a POST that stores and commits, the relay's emit,
    and each desk's one GET of a bare route rendering the row."""
    port = free_port()
    process = start(["--relay", str(port), "sqlite:///" + os.path.join(tempfile.mkdtemp(), "floor.db"), "threading"], port)
    base = f"http://127.0.0.1:{port}"
    desks = []
    try:
        desks = [Desk(base, Browser(base), None, relay_rooms=("agents", f"agent{n}")) for n in range(agents)]
        sender = Browser(base)
        sender.post("/stored", to="agents", body="warm-up")
        time.sleep(1)
        shown, message_shown = [], []
        cpu = cpu_seconds(process.pid)
        for n in range(joins):
            moment = time.perf_counter()
            sender.post("/stored", to="agents", body=f"Joined {n}")
            shown.append((max(d.shown_after(moment, f"Joined {n}<") for d in desks) - moment) * 1000)
        join_cpu = (cpu_seconds(process.pid) - cpu) * 1000 / joins
        for round_ in range(messages):
            n = round_ % agents
            moment = time.perf_counter()
            sender.post("/stored", to=f"agent{n}", body=f"line {round_}")
            message_shown.append((desks[n].shown_after(moment, f"line {round_}<") - moment) * 1000)
        return dict(join_shown=shown, join_cpu=join_cpu, message_shown=message_shown)
    finally:
        for desk in desks:
            desk.socket.close()
        process.kill()


COLLEAGUE = re.compile(r'action="/chat/colleagues/(\d+)/chat"')
# One line every 100 ms, faster than anyone writes: back to back, each line would wait for the
# write the reader's active list makes for the line before it (it marks the open chat read).
LINE_INTERVAL = 0.1


def internal_run(lines, messages):
    """Two colleagues' internal chat with `lines` lines already: one writes (every LINE_INTERVAL),
    until the other's desk, which shows the chat, shows the line; and the requests that desk makes
    for it."""
    port = free_port()
    database = "sqlite:///" + os.path.join(tempfile.mkdtemp(), "internal.db")
    os.environ.update(BENCH_AGENTS="2", BENCH_WAITING="0")
    process = start(["--serve", str(port), database, "threading"], port)
    base = f"http://127.0.0.1:{port}"
    desk = None
    try:
        writer, reader = Browser(base), Browser(base)
        writer.post("/login", username="agent0", password=PASSWORD)
        reader.post("/login", username="agent1", password=PASSWORD)
        writer.connection.request("GET", "/chat/partials/colleagues?colleagues=1",
                                  headers={"Cookie": writer.cookie_header()})
        colleague = COLLEAGUE.search(writer.connection.getresponse().read().decode()).group(1)
        writer.post(f"/chat/colleagues/{colleague}/chat")
        for n in range(lines):
            writer.post("/chat/internal/1/messages", script=True, body=f"earlier line {n}")
        desk = Desk(base, reader, "/chat/?colleagues=1&internal=1")
        time.sleep(1)
        shown, heard = [], []
        requests, volume = desk.counters()
        for n in range(messages):
            moment = time.perf_counter()
            text = f"internal line {n}"
            writer.post("/chat/internal/1/messages", script=True, body=text)
            shown.append((desk.shown_after(moment, text) - moment) * 1000)
            heard.append((desk.socket.wait_after(moment, '"internal-') - moment) * 1000)
            time.sleep(LINE_INTERVAL)
        time.sleep(0.5)
        after_requests, after_volume = desk.counters()
        return dict(shown=shown, heard=heard, requests=(after_requests - requests) / messages,
                    bytes=(after_volume - volume) / messages)
    finally:
        if desk is not None:
            desk.socket.close()
        process.kill()


def measure_internal(quick):
    """The internal chat's table: what the colleague sees as the chat grows."""
    sizes, messages = ((0, 100), 20) if quick else ((0, 100, 1000), 200)
    floor = visible_floor(2, 1, messages)
    for lines in sizes:
        run = internal_run(lines, messages)
        prefix = f"chat.internal.{lines}_lines."
        for p in (50, 99):
            emit_figure(f"{prefix}line_visible_p{p}_ms", percentile(run["shown"], p),
                        floor=percentile(floor["message_shown"], p))
        for p in (50, 99):
            emit_figure(f"{prefix}line_heard_p{p}_ms", percentile(run["heard"], p))
        emit_figure(f"{prefix}requests_per_line", run["requests"], unit="requests")
        emit_figure(f"{prefix}bytes_per_line", run["bytes"], unit="bytes")


def measure_visible(quick):
    """The table: for each number of agents and of customers already waiting, what a person sees."""
    agent_counts, waiting_counts = ((5, 10), (0, 100)) if quick else ((20, 50), (0, 100, 500, 2000))
    # Enough samples for a p99 that is not one stray wake-up: 50 joins and 200 messages a row.
    joins, messages, conversations = (10, 20, 10) if quick else (50, 200, 100)
    for agents in agent_counts:
        floor = visible_floor(agents, joins, messages)
        for waiting in waiting_counts:
            run = visible_run(agents, waiting, max(conversations, agents), joins, messages)
            prefix = f"chat.visible.{agents}_agents.{waiting}_waiting."
            for p in (50, 99):
                emit_figure(f"{prefix}join_visible_p{p}_ms", percentile(run["join_shown"], p),
                            floor=percentile(floor["join_shown"], p))
            for p in (50, 99):
                emit_figure(f"{prefix}join_heard_p{p}_ms", percentile(run["join_heard"], p))
            for p in (50, 99):
                emit_figure(f"{prefix}message_visible_p{p}_ms", percentile(run["message_shown"], p),
                            floor=percentile(floor["message_shown"], p))
            for p in (50, 99):
                emit_figure(f"{prefix}message_heard_p{p}_ms", percentile(run["message_heard"], p))
            emit_figure(f"{prefix}requests_per_join", run["join_requests"], unit="requests", floor=agents)
            emit_figure(f"{prefix}bytes_per_join", run["join_bytes"], unit="bytes")
            emit_figure(f"{prefix}server_cpu_ms_per_join", run["join_cpu"], floor=floor["join_cpu"])
            emit_figure(f"{prefix}requests_per_message", run["message_requests"], unit="requests")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        return serve_site(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    if len(sys.argv) > 1 and sys.argv[1] == "--relay":
        return serve_relay(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a small run (50 customers, 5 agents, 20 chats, 200 sockets)")
    parser.add_argument("--mode", choices=("threading", "gevent"), action="append",
                        help="measure only this async mode (default: both)")
    parser.add_argument("--visible", action="store_true",
                        help="only the table of what a person sees (desks re-reading their regions)")
    parser.add_argument("--internal", action="store_true",
                        help="only the internal chat's table (a colleague's line as the chat grows)")
    parsed = parser.parse_args()
    if parsed.visible:
        return measure_visible(parsed.quick)
    if parsed.internal:
        return measure_internal(parsed.quick)
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
    measure_visible(parsed.quick)
    measure_internal(parsed.quick)


if __name__ == "__main__":
    main()
