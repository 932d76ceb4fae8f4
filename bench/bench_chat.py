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
After them come the tables of what a person sees (--visible), of the internal chat (--internal)
and of the desk's instruments (--desk-tools; each flag runs its table alone):
  chat.desk_tools.typing_events_said_per_chat_per_minute / _relayed_  with 100 served chats, the
                                        customer of each and the agent whose desk shows it typing
                                        lines in turn as people do (5 characters a second), each
                                        page sending the real `chat-typing` event by the rule of
                                        static/js/chat-typing.js: what the pages said, and what the
                                        other side's pages heard after the server's gate
  chat.desk_tools.server_cpu_ms_per_typing_event / _share_  the server's CPU for that traffic alone
  chat.desk_tools.message_visible_typing_off/on_p50/p99_ms  a served customer's line until the
                                        serving desk shows it (as --visible), in blocks with the
                                        typing off and on in turn; the ratio is on to off
  chat.desk_tools.canned_search_500_replies_p50/p99_ms  the message box's search of canned replies
                                        (500 in the queue; queries as one types them), against a bare
                                        Flask route doing the same LIKE query on the same rows
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
ROW = ('<li class="chat-line"><p class="chat-meta"><strong>{{ body }}</strong></p>'
       '<p class="chat-body">{{ body }}</p></li>')
sys.path.insert(0, ROOT)
PASSWORD = "bench-horse-battery-9"
SOCKETIO_CLIENT = next(name for name in os.listdir(os.path.join(ROOT, "static", "vendor"))
                       if name.startswith("socket.io-"))
FLOOR_PAGE = """<!doctype html><html lang="en"><head><title>floor</title>
<script src="/socket.io.min.js"></script></head><body><ul class="chat-customers"></ul>
<script>
const socket = window.socket = io("/", { transports: ["websocket"], query: { room: {{ rooms|join(",")|tojson }} } });
socket.on("live", function (data) {
  const row = document.createElement("li");
  row.className = "chat-customer";
  row.textContent = data.text;
  document.querySelector(".chat-customers").appendChild(row);
});
</script></body></html>"""
CANNED_OPTIONS = """{% for reply in replies %}<li role="option" data-canned-reply="{{ reply.id }}"
data-canned-text="{{ reply.text_en }}"><span>{{ reply.name }}</span>
<span>{{ reply.text_en|truncate(90, killwords=True) }}</span></li>{% endfor %}"""
# What a library's canned replies are about; each topic has variants (per queue, per season, ...).
CANNED_TOPICS = (
    ("Opening hours", "Aukioloajat ovat {queue}", "Öppettiderna är",
     "Our opening hours today are 9 to 20, {customer}.", "De openingstijden zijn"),
    ("Renewing loans", "Voit uusia lainasi", "Du kan förnya dina lån",
     "You can renew your loans online with your card.", "U kunt uw leningen verlengen"),
    ("E-library login", "Kirjaudu e-kirjastoon", "Logga in på e-biblioteket",
     "Log in to the e-library with your card number.", "Log in op de e-bibliotheek"),
    ("Lost library card", "Kadonnut kirjastokortti", "Förlorat bibliotekskort",
     "A lost card can be closed at once.", "Een verloren pas"),
    ("Reservations", "Varaukset", "Reservationer",
     "Your reservation is waiting at the desk for a week.", "Reserveringen"),
    ("Interlibrary loan", "Kaukolaina", "Fjärrlån",
     "An interlibrary loan takes about two weeks.", "Interbibliothecair leen"),
    ("Printing and copying", "Tulostus", "Utskrift",
     "Printing costs 0.20 per page, paid at the desk.", "Printen"),
    ("Wi-Fi", "Langaton verkko", "Trådlöst nät",
     "The Wi-Fi needs no password, {customer}.", "Wifi"),
    ("Fines and fees", "Maksut", "Avgifter",
     "Late fees are paid online or at the desk.", "Boetes"),
    ("Returning books", "Palautus", "Återlämning",
     "Books can be returned to any library of the region.", "Terugbrengen"),
)
# What an agent types in the list's search field: each word letter by letter (the box searches as
# one types), the list as it opens (empty), and a word that finds nothing.
CANNED_WORDS = ("", "hours", "renew", "login", "card", "wifi", "print", "fee", "kauko", "xyz")


def canned_replies(count):
    """`count` canned replies: the topics in turn, numbered, a text in each language."""
    replies = []
    for n in range(count):
        name, fi, sv, en, nl = CANNED_TOPICS[n % len(CANNED_TOPICS)]
        replies.append(dict(name=f"{name} {n // len(CANNED_TOPICS) + 1}", text_fi=f"{fi} ({n}).",
                            text_sv=f"{sv} ({n}).", text_en=f"{en} ({n}) Best wishes, {{agent}}",
                            text_nl=f"{nl} ({n})."))
    return replies


def canned_queries(count):
    """`count` searches as the message box sends them: each word's prefixes, in turn."""
    typed = [word[:n] for word in CANNED_WORDS for n in range(1 if word else 0, len(word) + 1)]
    return [typed[n % len(typed)] for n in range(count)]


# ---- server processes -------------------------------------------------------------------------

def serve_site(port, database, mode):
    from app import create_app
    from blueprints.accounts import service
    from blueprints.accounts.models import UnitKind
    from blueprints.chat.models import CannedReply, ChatQueue, Conversation
    from common.access import Role
    from config import DefaultConfig
    from extensions import db, socketio

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
        db.session.add_all(CannedReply(queue_id=queue.id, **reply)
                           for reply in canned_replies(int(os.environ.get("BENCH_CANNED", "0"))))
        db.session.commit()
    socketio.run(app, host="127.0.0.1", port=port, allow_unsafe_werkzeug=True, use_reloader=False, log_output=False)


def stack_floor(server, database):
    """The stack under every chat message and nothing of ours: a Flask route that stores the line
    with Flask-SQLAlchemy in SQLite (tuned as app.py tunes it), commits, then emits it."""
    from flask import Flask, render_template_string, request, send_from_directory
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

    class Reply(db.Model):  # the shape of chat_canned_reply
        id = db.Column(db.Integer, primary_key=True)
        queue_id = db.Column(db.Integer, index=True)
        owner_id = db.Column(db.Integer, index=True)
        name = db.Column(db.String(60))
        text_fi = db.Column(db.Text)
        text_sv = db.Column(db.Text)
        text_en = db.Column(db.Text)
        text_nl = db.Column(db.Text)

    with app.app_context():
        event.listen(db.engine, "connect", tune)
        db.create_all()
        replies = canned_replies(int(os.environ.get("BENCH_CANNED", "0")))
        db.session.add_all(Reply(queue_id=1, **reply) for reply in replies)
        db.session.commit()

    @app.get("/canned")
    def canned():
        # The canned-reply search on the bare stack: the same LIKE over the name and the four
        # texts, names first, at most 20, rendered as a list; no login, no placeholders.
        from sqlalchemy import func, or_, select

        statement = select(Reply).where(or_(Reply.owner_id == 1, Reply.queue_id.in_([1])))
        query = request.args.get("q", "").strip()
        if query:
            pattern = f"%{query.lower()}%"
            fields = [func.lower(getattr(Reply, f)) for f in ("name", "text_fi", "text_sv", "text_en", "text_nl")]
            statement = statement.where(or_(*(f.like(pattern) for f in fields)))
            statement = statement.order_by(func.lower(Reply.name).like(pattern).desc())
        statement = statement.order_by(func.lower(Reply.name), Reply.id).limit(20)
        return render_template_string(CANNED_OPTIONS, replies=db.session.scalars(statement).all())

    @app.get("/page")
    def page():
        # A bare page for real browsers (bench/bench_chat_browsers.py): the vendored Socket.IO
        # client, the rooms named in the query, each event's row appended to a list.
        return render_template_string(FLOOR_PAGE, rooms=request.args.getlist("room"))

    @app.get("/socket.io.min.js")
    def socketio_client():
        return send_from_directory(os.path.join(ROOT, "static", "vendor"), SOCKETIO_CLIENT)

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
        for rooms in urllib.parse.parse_qs(environ.get("QUERY_STRING", "")).get("room", []):
            for room in rooms.split(","):  # a browser's Socket.IO client sends one value per name
                server.enter_room(sid, room)

    @server.on("relay")
    def relay(sid, data):
        server.emit("live", data, to=data["to"])

    def post(environ, start_response):
        """The same path as a chat message or a join: an HTTP POST, one emit to each room named."""
        if environ["PATH_INFO"] in ("/stored", "/row", "/page", "/socket.io.min.js", "/canned"):
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

    def get(self, path):
        """A GET as the page's script sends it; the status and the body."""
        self.connection.request("GET", path, headers={"Cookie": self.cookie_header(), "HX-Request": "true"})
        response = self.connection.getresponse()
        return response.status, response.read().decode()

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


def start_site(name):
    """The site on a fresh SQLite database (the BENCH_* variables say what it holds)."""
    port = free_port()
    database = "sqlite:///" + os.path.join(tempfile.mkdtemp(), name)
    return start(["--serve", str(port), database, "threading"], port), f"http://127.0.0.1:{port}"


def open_desks(base, agents, waiting, conversations):
    """Agents logged in to the queue, `conversations` customers who joined it, each chat claimed
    by an agent in turn; each agent's desk shows the queue and its first chat."""
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
    return browsers, customers, desks


def visible_run(agents, waiting, conversations, joins, messages):
    from blueprints.chat.service import CUSTOMERS_PAGE_SIZE

    """The site with `waiting` customers in the line and `conversations` served chats: each agent's
    desk shows the queue and one of its chats. Joins: until every desk's queue list shows the new
    count. Messages (in the chats the desks show): until the serving desk's chat shows the line."""
    os.environ.update(BENCH_AGENTS=str(agents), BENCH_WAITING=str(waiting))
    process, base = start_site("visible.db")
    desks = []
    try:
        browsers, customers, desks = open_desks(base, agents, waiting, conversations)

        heard, shown = [], []
        requests, volume = sum(d.counters()[0] for d in desks), sum(d.counters()[1] for d in desks)
        cpu = cpu_seconds(process.pid)
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
    database = "sqlite:///" + os.path.join(tempfile.mkdtemp(), "floor.db")
    process = start(["--relay", str(port), database, "threading"], port)
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


# ---- the desk's instruments: the typing indicator and the canned replies ------------------------

TYPING_CHARACTERS_PER_SECOND = 5  # a person writing a chat line
TYPING_LINE = 40  # characters in a line
TYPING_TURN_SECONDS = 20.0  # a line on each side of a chat in this time: one types while the other reads
TYPING_INTERVAL_SECONDS = 4.0  # static/js/chat-typing.js: one "typing" per chat in this time while typing


def typing_schedule():
    """What static/js/chat-typing.js sends while its person types one line and sends it: a
    keystroke every 1/TYPING_CHARACTERS_PER_SECOND s, "typing" on a keystroke when the last one
    said is TYPING_INTERVAL_SECONDS old, "stopped" when the line is sent. (Offset, typing) pairs."""
    said, last = [], None
    for key in range(TYPING_LINE):
        at = key / TYPING_CHARACTERS_PER_SECOND
        if last is None or at - last >= TYPING_INTERVAL_SECONDS:
            said.append((at, True))
            last = at
    said.append((TYPING_LINE / TYPING_CHARACTERS_PER_SECOND, False))
    return said


class Typists:
    """People typing in every chat as its page reports it: the customer of each chat writes a line,
    sends it, and reads for the rest of the turn; the agent whose desk shows the chat writes half a
    turn later. Each says it over its own socket with the real `chat-typing` event while `on` is
    set; nothing is posted (the lines measured are the only messages). One thread sleeps until the
    next thing a page says."""

    def __init__(self, talkers):
        import heapq
        import random

        self.on = threading.Event()
        self.said = 0
        self.schedule = typing_schedule()
        self.heap = []
        start_at = time.monotonic() + 1
        chance = random.Random(21)
        for n, (socket, payload, offset) in enumerate(talkers):
            phase = chance.uniform(0, TYPING_TURN_SECONDS / 2) + offset
            for step, (at, typing) in enumerate(self.schedule):
                heapq.heappush(self.heap, (start_at + phase + at, n, step, socket, payload, typing))
        self.heapq = heapq
        self.stopping = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stopping:
            at, n, step, socket, payload, typing = self.heapq.heappop(self.heap)
            delay = at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            if self.on.is_set():
                socket.emit("chat-typing", {"typing": typing, **payload})
                self.said += 1
            self.heapq.heappush(self.heap, (at + TYPING_TURN_SECONDS, n, step, socket, payload, typing))

    def stop(self):
        self.stopping = True


def desk_tools_run(agents, conversations, messages, blocks, queries, canned_floor_base):
    """The site with `conversations` served chats and 500 canned replies in the queue. The served
    customers' lines, as in the --visible table, in blocks with the typing indicator's traffic off
    and on in turn (the same sockets connected either way); how many typing events the pages said
    and the server relayed; then the canned-reply search as the message box calls it, in turn with
    the same search on the bare stack at `canned_floor_base`."""
    os.environ.update(BENCH_AGENTS=str(agents), BENCH_WAITING="0", BENCH_CANNED="500")
    process, base = start_site("desk-tools.db")
    desks, customer_sockets = [], []
    try:
        browsers, customers, desks = open_desks(base, agents, 0, conversations)
        customer_sockets = [Socket(base, "/customer", c.cookie_header()) for c in customers]
        talkers = [(s, {}, 0.0) for s in customer_sockets]
        talkers += [(desk.socket, {"conversation": n + 1}, TYPING_TURN_SECONDS / 2) for n, desk in enumerate(desks)]
        typists = Typists(talkers)
        time.sleep(1)

        shown = {False: [], True: []}
        round_ = 0
        for block in range(2 * blocks):
            typing = block % 2 == 1
            if typing:  # the chats are at random points of their turns: the traffic is steady at once
                typists.on.set()
            time.sleep(1)
            for _n in range(messages // blocks):
                n = round_ % min(agents, conversations)
                moment = time.perf_counter()
                text = f"line {round_} of chat {n}"
                customers[n].post("/chat/customer/message", script=True, body=text)
                shown[typing].append((desks[n].shown_after(moment, text) - moment) * 1000)
                round_ += 1
            typists.on.clear()

        # The typing traffic alone, over one whole turn of every chat: what the pages said, what
        # the other side heard, and the server's CPU for it (less as long a time without).
        window = TYPING_TURN_SECONDS
        cpu = cpu_seconds(process.pid)
        time.sleep(window)
        idle_cpu = cpu_seconds(process.pid) - cpu
        said_before, heard_before, cpu = typists.said, relayed(desks, customer_sockets), cpu_seconds(process.pid)
        typists.on.set()
        time.sleep(window)
        typists.on.clear()
        typing_cpu, said = cpu_seconds(process.pid) - cpu, typists.said - said_before
        time.sleep(0.2)  # late events count too
        heard = relayed(desks, customer_sockets) - heard_before
        typists.stop()
        per_chat_minute = conversations * window / 60

        # The search, query by query in turn with the floor's, so that both see the same machine.
        searcher, floor_browser = browsers[0], Browser(canned_floor_base)
        searcher.get("/chat/canned/search?conversation=1&q=")  # the first answer is not the figure
        floor_browser.get("/canned?q=")
        answers, floor_answers = [], []
        for query in canned_queries(queries):
            moment = time.perf_counter()
            status, body = searcher.get("/chat/canned/search?" + urllib.parse.urlencode(dict(conversation=1, q=query)))
            answers.append((time.perf_counter() - moment) * 1000)
            assert status == 200 and ("data-canned-reply" in body or not query.startswith("h")), (status, query)
            moment = time.perf_counter()
            floor_browser.get("/canned?" + urllib.parse.urlencode({"q": query}))
            floor_answers.append((time.perf_counter() - moment) * 1000)
        return dict(off=shown[False], on=shown[True], said=said / per_chat_minute, relayed=heard / per_chat_minute,
                    cpu_per_event=(typing_cpu - idle_cpu) * 1000 / max(said, 1),
                    cpu_share=(typing_cpu - idle_cpu) / window, search=answers, search_floor=floor_answers)
    finally:
        for s in [d.socket for d in desks] + customer_sockets:
            try:
                s.close()
            except Exception:  # noqa: BLE001
                pass
        process.kill()


def relayed(desks, customer_sockets):
    """Typing events the pages heard so far: the desks' "customer is typing", the customers' pages'
    "librarian is typing"."""
    with_name = [(d.socket, '"customer-typing"') for d in desks] + [(s, '"agent-typing"') for s in customer_sockets]
    count = 0
    for socket, name in with_name:
        with socket.arrived:
            count += sum(1 for _at, packet in socket.events if name in packet)
    return count


def start_canned_floor():
    """The canned-reply search on the bare stack: a bare Flask route doing the same LIKE query on a
    table of the same shape holding the same 500 replies (bench_chat.py --relay, /canned)."""
    port = free_port()
    os.environ["BENCH_CANNED"] = "500"
    database = "sqlite:///" + os.path.join(tempfile.mkdtemp(), "canned.db")
    return start(["--relay", str(port), database, "threading"], port), f"http://127.0.0.1:{port}"


def measure_desk_tools(quick):
    """The desk's instruments (issue #21): the typing indicator's events per chat per minute and
    a served customer's line visible with typing off and on (100 active chats); the canned-reply
    search with 500 replies against the bare stack's."""
    agents, conversations = (5, 100) if quick else (20, 100)
    # Short blocks, off and on in turn, so that both see the same machine; 200 lines each for a p99.
    messages, blocks, queries = (40, 4, 100) if quick else (200, 20, 500)
    floor_process, floor_base = start_canned_floor()
    try:
        run = desk_tools_run(agents, conversations, messages, blocks, queries, floor_base)
    finally:
        floor_process.kill()
    prefix = "chat.desk_tools."
    emit_figure(prefix + "typing_events_said_per_chat_per_minute", run["said"], unit="events")
    emit_figure(prefix + "typing_events_relayed_per_chat_per_minute", run["relayed"], unit="events")
    emit_figure(prefix + "server_cpu_ms_per_typing_event", run["cpu_per_event"])
    emit_figure(prefix + "server_cpu_share_of_typing_100_chats", run["cpu_share"] * 100, unit="% of a core")
    for p in (50, 99):
        emit_figure(f"{prefix}message_visible_typing_off_p{p}_ms", percentile(run["off"], p))
    for p in (50, 99):  # the ratio is to the same figure without typing (the issue: at most 1.5)
        emit_figure(f"{prefix}message_visible_typing_on_p{p}_ms", percentile(run["on"], p),
                    floor=percentile(run["off"], p))
    for p in (50, 99):
        emit_figure(f"{prefix}canned_search_500_replies_p{p}_ms", percentile(run["search"], p),
                    floor=percentile(run["search_floor"], p))


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
    parser.add_argument("--quick", action="store_true",
                        help="a small run (50 customers, 5 agents, 20 chats, 200 sockets)")
    parser.add_argument("--mode", choices=("threading", "gevent"), action="append",
                        help="measure only this async mode (default: both)")
    parser.add_argument("--visible", action="store_true",
                        help="only the table of what a person sees (desks re-reading their regions)")
    parser.add_argument("--internal", action="store_true",
                        help="only the internal chat's table (a colleague's line as the chat grows)")
    parser.add_argument("--desk-tools", action="store_true",
                        help="only the desk's instruments: the typing indicator's cost, the canned-reply search")
    parsed = parser.parse_args()
    if parsed.visible:
        return measure_visible(parsed.quick)
    if parsed.internal:
        return measure_internal(parsed.quick)
    if parsed.desk_tools:
        return measure_desk_tools(parsed.quick)
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
            emit_figure(f"{prefix}stack_floor_message_p{p}_ms", percentile(stored, p),
                        floor=percentile(relay_messages, p))
        emit_figure(prefix + "relay_socket_p50_ms", percentile(by_socket, 50))
        emit_figure(prefix + "relay_socket_p99_ms", percentile(by_socket, 99))
        emit_figure(prefix + "agent_events_per_message", heard, unit="events")
        sockets = "1000" if connected == 1000 else str(connected)
        emit_figure(f"{prefix}rss_mb_{sockets}_sockets", memory, unit="MB")
    measure_visible(parsed.quick)
    measure_internal(parsed.quick)
    measure_desk_tools(parsed.quick)


if __name__ == "__main__":
    main()
