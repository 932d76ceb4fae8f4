"""Rolling restart benchmark: do chat lines wait or get lost while the web processes restart one
after the other?

One command, on PostgreSQL and Redis (DATABASE_URL: a database this benchmark may empty, as
bench_load.py does; REDIS_URL; live events go on a channel of the run's own):

    DATABASE_URL=postgresql://... REDIS_URL=redis://... python bench/bench_rolling_restart.py

It sets up deploy/ as tests/browser/test_deployment.py does (nginx's site and the web unit's
command as they are: two gunicorn processes behind nginx, over https), then one agent serves a
few customers; every second each customer writes a line to the agent and the agent one to each
customer, each side as its page does: the line POSTed as static/js/chat.js sends it (a key of
its own; a failed send again after 3 s), received as static/js/live.js receives it (the live
event brings it rendered, or the chat's lines are read again; a dropped socket reconnects with
the page's back-off, a socket whose process says it stops within half a second, and then reads
again), all through nginx. Meanwhile process 1 is restarted
as systemd restarts it (SIGTERM, the process ends, the unit's command again) until its /healthz
answers, then process 2 the same way.

A line's delay runs from the moment it was written until the other side has it; it counts in the
phase it was written in. Lost: never had by the other side. Prints a table (phase: before /
restarting 1 / restarting 2 / after; lines; lost; delay p50 / p99 / max; and the time until the
sender's POST was answered, "stored") and one JSON object per phase.
"""
import argparse
import html
import http.client
import json
import os
import random
import re
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_load import reset_postgresql  # noqa: E402
from simple_websocket import Client  # noqa: E402

from tests.browser.test_deployment import Deployment, unit_command, wait_for_health  # noqa: E402
from tests.conftest import PASSWORD  # noqa: E402

CSRF = re.compile(r'"X-CSRFToken": "([^"]+)"|name="csrf_token"[^>]*value="([^"]+)"')
LINE = re.compile(r'data-item="(\d+)".*?<p class="chat-body">(.*?)</p>', re.S)
TLS = ssl._create_unverified_context()  # nginx's self-signed certificate of the run
PHASES = ("before", "restarting 1", "restarting 2", "after")


class Page:
    """One person's page: cookies, kept-alive https connections through nginx (a new one when
    one fails, as a browser opens), and the CSRF token the page carries."""

    def __init__(self, port):
        self.port = port
        self.cookies = {}
        self.token = ""
        self.lock = threading.Lock()

    def connection(self):
        return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=60, context=TLS)

    def cookie_header(self):
        with self.lock:
            return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def request(self, connection, method, path, form=None, script=False):
        """(status, text); raises OSError or HTTPException when the connection fails."""
        headers = {"Accept-Language": "en", "Cookie": self.cookie_header(),
                   "Referer": f"https://127.0.0.1:{self.port}/"}
        body = None
        if script:
            headers.update({"HX-Request": "true", "X-CSRFToken": self.token})
        if method == "POST":
            body = urllib.parse.urlencode({"csrf_token": self.token, **(form or {})})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode()
        with self.lock:
            for header in response.headers.get_all("Set-Cookie") or []:
                name, value = header.split(";", 1)[0].split("=", 1)
                self.cookies[name] = value
        found = CSRF.search(text)
        if found:
            self.token = found.group(1) or found.group(2)
        return response.status, text


class WebSocket(Client):
    """simple-websocket's client, minus one trap: a frame that arrives in the same read as the
    handshake's answer stays in its buffer until more data comes (bench/bench_chat.py)."""

    def handshake(self):
        super().handshake()
        self._handle_events()


class Person:
    """A page with a live socket: the lines it has had (text -> moment), each chat's items shown."""

    def __init__(self, name, page, namespace, lines_url, chats, run):
        self.name, self.page, self.namespace, self.run = name, page, namespace, run
        self.lines_url = lines_url  # chat -> the path of its lines (after=: those after an item)
        self.chats = chats
        self.had = {}
        self.items = {chat: set() for chat in chats}
        self.lock = threading.Lock()
        self.wanted = threading.Condition(self.lock)
        self.to_read = set()
        self.connected = threading.Event()
        self.connections = self.reconnects = 0
        self.early = []
        self.jitter = random.Random(name)
        threading.Thread(target=self.live, daemon=True).start()
        threading.Thread(target=self.reader, daemon=True).start()

    # ---- static/js/live.js ----------------------------------------------------------------------
    def live(self):
        attempts, before = 0, False
        while not self.run.over.is_set():
            try:
                socket = self.connect()
            except Exception:  # noqa: BLE001 - refused or no answer: Socket.IO tries again
                attempts += 1
                time.sleep(self.backoff(attempts))
                continue
            attempts = 0
            self.connections += 1
            self.connected.set()
            if before:  # after a drop, every region reads itself again
                self.reconnects += 1
                self.read_again(self.chats)
            before = True
            moved = self.listen(socket)
            self.connected.clear()
            if not self.run.over.is_set() and moved:
                # Told that its process stops: a new socket within half a second (socket.connect():
                # if it fails, the back-off from its start).
                time.sleep(self.jitter.random() * 0.5)
                attempts = -1
            elif not self.run.over.is_set():
                time.sleep(self.backoff(0))

    def backoff(self, attempts):
        """The page's reconnection delay (static/js/live.js): 0.5 s doubling up to 5 s, each ±50 %."""
        delay = min(0.5 * 2 ** attempts, 5.0)
        return delay + (self.jitter.random() * 2 - 1) * 0.5 * delay

    def connect(self):
        url = f"wss://127.0.0.1:{self.page.port}/socket.io/?EIO=4&transport=websocket"
        socket = WebSocket(url, headers={"Cookie": self.page.cookie_header()}, ssl_context=TLS)
        prefix = "" if self.namespace == "/" else self.namespace + ","
        packet = socket.receive(timeout=10)
        while packet is not None and not packet.startswith("0"):
            packet = socket.receive(timeout=10)
        socket.send("40" + prefix)
        reply = socket.receive(timeout=10)
        self.early = []  # events sent before the connect's answer: socket.io-client has them after it
        while reply is not None and reply[:2] not in ("40", "44"):
            self.early.append(reply)
            reply = socket.receive(timeout=10)
        if reply is None or not reply.startswith("40"):
            socket.close()
            raise ConnectionError(f"{self.name}: refused {reply}")
        return socket

    def listen(self, socket):
        """Hear the socket's events until it closes, or until the server says its process stops
        (then True: the page moves to another process)."""
        prefix = "42" + ("" if self.namespace == "/" else self.namespace + ",")
        try:
            while not self.run.over.is_set():
                packet = self.early.pop(0) if self.early else socket.receive(timeout=1)
                if packet is None:
                    if not socket.connected:
                        return False
                    continue
                if packet == "2":
                    socket.send("3")
                elif packet.startswith(prefix):
                    at = time.monotonic()
                    _name, message = json.loads(packet[len(prefix):])
                    if message.get("event") == "server-leaving":
                        socket.send("41" + prefix[2:])  # socket.disconnect(), as the page does
                        return True
                    if message.get("event") in ("chat-message", "customer-line"):
                        self.heard(at, message["data"])
        except Exception:  # noqa: BLE001 - the socket closed
            return False
        finally:
            try:
                socket.close()
            except Exception:  # noqa: BLE001
                pass

    def heard(self, at, data):
        """live.js's rule: a line that follows one the page shows is added as it came; else the chat
        reads what it lacks."""
        chat = data.get("conversation", self.chats[0])
        if chat not in self.items:
            return
        with self.lock:
            shown = self.items[chat]
            if data["previous"] is None or data["previous"] in shown:
                self.add(at, chat, LINE.findall(next(iter(data["html"].values()))))
                return
        self.read_again([chat])

    def add(self, at, chat, found):
        for item, text in found:
            self.items[chat].add(int(item))
            self.had.setdefault(html.unescape(text), at)

    def read_again(self, chats):
        with self.wanted:
            self.to_read.update(chats)
            self.wanted.notify()

    def reader(self):
        connection = self.page.connection()
        while True:
            with self.wanted:
                while not self.to_read:
                    self.wanted.wait()
                chats, self.to_read = sorted(self.to_read), set()
            for chat in chats:
                with self.lock:
                    after = max(self.items[chat], default=0)
                while True:
                    try:
                        path = self.lines_url(chat) + (f"?after={after}" if after else "")
                        status, text = self.page.request(connection, "GET", path, script=True)
                        break
                    except (OSError, http.client.HTTPException):
                        connection.close()
                        connection = self.page.connection()
                        time.sleep(0.5)
                if status == 200:
                    with self.lock:
                        self.add(time.monotonic(), chat, LINE.findall(text))

    # ---- static/js/chat.js: sending ---------------------------------------------------------------
    def write(self, path, texts, chat, offset):
        """A line every second (from `offset`) until the run's writing ends, through one outbox: a
        line waits for the one before it; a failed send goes again in 3 s, or when the socket is back."""
        connection = self.page.connection()
        start = self.run.writing_from + offset
        for n in range(10**6):
            written = start + n
            while time.monotonic() < written:
                time.sleep(min(0.05, max(0.0, written - time.monotonic())))
            if written >= self.run.writing_until:
                return
            text = f"{self.name} to {texts} line {n}"
            key = uuid.uuid4().hex
            self.run.lines.append({"text": text, "written": written, "to": texts, "chat": chat})
            while True:
                try:
                    status, _ = self.page.request(connection, "POST", path, {"body": text, "key": key}, script=True)
                except (OSError, http.client.HTTPException):
                    status = None
                    connection.close()
                    connection = self.page.connection()
                if status is not None and status < 500:
                    self.run.stored[text] = (time.monotonic(), status)
                    break
                connections, again = self.connections, time.monotonic() + 3
                while time.monotonic() < again and self.connections == connections:
                    time.sleep(0.05)


class Run:
    def __init__(self):
        self.over = threading.Event()
        self.lines = []
        self.stored = {}
        self.writing_from = self.writing_until = 0.0


def prepare_database(env):
    """The schema by the migrations, a library, its agent and an open queue."""
    reset_postgresql(env)
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    script = f"""
from app import create_app
from blueprints.accounts import service
from blueprints.accounts.models import UnitKind
from blueprints.chat.models import ChatQueue
from common.access import Role
from extensions import db
app = create_app()
with app.app_context():
    unit = service.create_unit("HKI", "Library", UnitKind.LIBRARY)
    service.create_user("aino", "Aino", "aino@example.org", "en", {PASSWORD!r}, [(Role.CHAT_AGENT, unit)])
    queue = ChatQueue(unit_id=unit.id, name="Neuvonta", is_open=True, waiting_message="")
    db.session.add(queue)
    db.session.commit()
    print(queue.id)
"""
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return int(out.stdout.split()[-1])


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else None


def start_web(deployment, n, name):
    """The web unit's command for process `n` (its log: `name`.log), once its /healthz answers."""
    port = deployment.web_ports[n]
    process = deployment.start(name, *unit_command("library-desk-web@.service", port))
    wait_for_health(f"http://127.0.0.1:{port}", process, timeout=120)
    return process


def restart(deployment, process, n):
    """As `systemctl restart library-desk-web@PORT`: SIGTERM, wait until it has ended, start the
    unit's command again; then, as the README says, wait for its /healthz."""
    process.send_signal(signal.SIGTERM)
    process.wait(60)
    return start_web(deployment, n, f"web{n}-restarted")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10,
                        help="of writing before the first restart and after the last")
    parser.add_argument("--keep", action="store_true", help="keep the processes' logs (their folder is printed)")
    args = parser.parse_args()
    if not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        print(json.dumps({"name": "rolling_restart", "skipped": "DATABASE_URL and REDIS_URL are not set"}), flush=True)
        return
    folder = Path(tempfile.mkdtemp(prefix="rolling-restart-"))
    deployment = Deployment(folder)
    deployment.env.update(RATELIMIT_ENABLED="0", SOCKETIO_CHANNEL=f"rolling-restart-{uuid.uuid4().hex}")
    deployment.env.pop("DEVELOPMENT", None)
    queue = prepare_database(deployment.env)
    run = Run()
    try:
        deployment.start_nginx()
        web = [start_web(deployment, n, f"web{n}") for n in (0, 1)]

        agent_page = Page(deployment.https_port)
        connection = agent_page.connection()
        for method, path, form in (("GET", "/login", None),
                                   ("POST", "/login", {"username": "aino", "password": PASSWORD}),
                                   ("GET", "/chat/", None),
                                   ("POST", "/chat/service/login", {"queues": queue, "display_name": "Aino"})):
            status, _ = agent_page.request(connection, method, path, form)
            assert status in (200, 302), (path, status)
        customer_pages = []
        for n in range(args.customers):
            page = Page(deployment.https_port)
            customer_connection = page.connection()
            page.request(customer_connection, "GET", "/chat/customer/")
            status, _ = page.request(customer_connection, "POST", "/chat/customer/", {"queue": queue, "name": f"c{n}"})
            assert status == 302, status
            page.request(customer_connection, "GET", "/chat/customer/")
            customer_pages.append(page)
        chats = list(range(1, args.customers + 1))  # numbered in join order in the fresh database
        for chat in chats:
            status, _ = agent_page.request(connection, "POST", f"/chat/conversations/{chat}/claim")
            assert status in (200, 302), (chat, status)
        agent_page.request(connection, "GET", "/chat/")

        agent = Person("agent", agent_page, "/",
                       lambda chat: f"/chat/partials/conversations/{chat}/lines", chats, run)
        customers = [Person(f"c{n}", page, "/customer", lambda chat: "/chat/customer/lines",
                            [chat], run) for n, (page, chat) in enumerate(zip(customer_pages, chats, strict=True))]
        for person in (agent, *customers):
            assert person.connected.wait(30), person.name
            person.read_again(person.chats)
        time.sleep(1)

        run.writing_from = time.monotonic() + 0.5
        run.writing_until = float("inf")
        writes = [(c, "/chat/customer/message", "agent", c.chats[0]) for c in customers]
        writes += [(agent, f"/chat/conversations/{chat}/messages", f"c{n}", chat) for n, chat in enumerate(chats)]
        writers = [threading.Thread(target=person.write, args=(*write, n / len(writes)), daemon=True)
                   for n, (person, *write) in enumerate(writes)]
        for writer in writers:
            writer.start()
        time.sleep(0.5 + args.seconds)
        moments = [time.monotonic()]
        restart(deployment, web[0], 0)
        moments.append(time.monotonic())
        restart(deployment, web[1], 1)
        moments.append(time.monotonic())
        time.sleep(args.seconds)
        run.writing_until = time.monotonic()
        moments.append(run.writing_until)
        for writer in writers:
            writer.join(60)
        time.sleep(5)  # the last lines' way to the other side
        run.over.set()
    finally:
        run.over.set()
        deployment.stop_all()

    receivers = {"agent": agent, **{c.name: c for c in customers}}
    bounds = [run.writing_from, *moments]
    rows = []
    for n, phase in enumerate(PHASES):
        lines = [line for line in run.lines if bounds[n] <= line["written"] < bounds[n + 1]]
        delays, stored, lost = [], [], 0
        for line in lines:
            had = receivers[line["to"]].had.get(line["text"])
            if had is None:
                lost += 1
            else:
                delays.append((had - line["written"]) * 1000)
            if line["text"] in run.stored:
                stored.append((run.stored[line["text"]][0] - line["written"]) * 1000)
        row = {"name": "rolling_restart", "phase": phase, "seconds": round(bounds[n + 1] - bounds[n], 1),
               "lines": len(lines), "lost": lost, "not_stored": len(lines) - len(stored),
               "refused": sum(1 for line in lines if run.stored.get(line["text"], (0, 204))[1] != 204)}
        for label, values in (("delay", delays), ("stored", stored)):
            for p in (50, 99):
                value = percentile(values, p)
                row[f"{label}_p{p}_ms"] = round(value) if value is not None else None
            row[f"{label}_max_ms"] = round(max(values)) if values else None
        rows.append(row)
    reconnects = {person.name: person.reconnects for person in (agent, *customers)}
    print(f"\nRolling restart, {args.customers} customers and an agent, a line a second each way "
          f"(delay: written until the other side has it; stored: until the POST was answered)\n")
    print(f"{'phase':<14}{'s':>6}{'lines':>7}{'lost':>6}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
          f"{'stored p99':>12}{'stored max':>12}")
    for row in rows:
        print(f"{row['phase']:<14}{row['seconds']:>6}{row['lines']:>7}{row['lost']:>6}" + "".join(
            f"{row[key] if row[key] is not None else '-':>{width}}"
            for key, width in (("delay_p50_ms", 9), ("delay_p99_ms", 9), ("delay_max_ms", 9),
                               ("stored_p99_ms", 12), ("stored_max_ms", 12))))
    print(f"\nsockets reconnected: {reconnects}\n")
    for row in rows:
        print(json.dumps(row), flush=True)
    if args.keep:
        print(json.dumps({"name": "rolling_restart.logs", "folder": str(folder)}), flush=True)
    else:
        subprocess.run(["rm", "-rf", str(folder)], check=False)


if __name__ == "__main__":
    main()
