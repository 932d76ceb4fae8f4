"""Abuse over the socket: events are throttled per socket and kind (common/socket_limits.py),
a socket that keeps flooding is disconnected, and a socket that drops, however it drops (an
oversized payload, pings unanswered while one is still arriving), still has its presence
bookkeeping done."""
import http.client
import json
import socket as tcp
import struct
import threading
import time
import urllib.parse

import pytest
from simple_websocket import Client
from werkzeug.serving import make_server

from app import create_app
from blueprints.chat.models import AgentSession, StaffPresence
from common import socket_limits
from extensions import db, limiter, socketio
from tests.chat.conftest import customer_socket, join, log_in_to_service, staff_socket
from tests.conftest import PASSWORD, eventually, make_config, needs_local_socketio

RESERVED = {"connect", "disconnect"}


class Clock:
    """time.monotonic() for socket_limits, moved by hand."""

    def __init__(self):
        self.now = 1000.0

    def monotonic(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(socket_limits, "time", fake)
    return fake


def presence(app, user_id):
    with app.app_context():
        row = db.session.get(StaffPresence, user_id)
        return row.sockets if row else None


def disconnected_at(app, user_id):
    with app.app_context():
        return db.session.scalar(db.select(AgentSession.disconnected_at).where(AgentSession.user_id == user_id))


def test_every_event_a_page_sends_has_a_rate():
    for namespace in ("/", "/customer"):
        for name in set(socketio.server.handlers.get(namespace, {})) - RESERVED:
            assert (namespace, name) in socket_limits.RATES, f"{name} on {namespace} is not throttled"
    with pytest.raises(KeyError):
        socket_limits.throttled("not-declared")


@needs_local_socketio
def test_a_flood_of_chat_watch_is_throttled_and_the_socket_disconnected_once(app, desk, clock, caplog):
    _browser, aino = staff_socket(app, "aino")
    assert presence(app, desk["aino"]) == 1
    answers = []
    for _ in range(10_000):
        if not aino.is_connected():
            break
        answers.append(aino.emit("chat-watch", None, callback=True))
        clock.now += 0.001  # 10,000 in ten seconds
    accepted = [a for a in answers if a == {"ok": False}]  # None is refused as a chat, but was handled
    throttled = [a for a in answers if a == socket_limits.THROTTLED]
    assert len(accepted) + len(throttled) == len(answers)
    burst = socket_limits.RATES[("/", "chat-watch")].burst
    assert burst <= len(accepted) <= burst + 2
    assert len(throttled) == socket_limits.FLOOD_STRIKES
    assert not aino.is_connected()  # the server disconnected it, long before 10,000
    logged = [r.getMessage() for r in caplog.records]
    assert len([m for m in logged if "disconnected" in m and "events over their rate" in m]) == 1
    # Its disconnect is the ordinary one: the presence bookkeeping runs, the buckets go.
    assert eventually(lambda: presence(app, desk["aino"]) == 0)
    assert socket_limits.tracked_sockets() == 0


@needs_local_socketio
def test_a_desk_in_ordinary_use_is_never_throttled(app, client, desk, clock):
    """Ten minutes of a busy desk: switching chats three times a second in bursts of eight,
    heartbeats every minute, a video call's burst of 40 ICE candidates; and the customer's page
    beside it."""
    browser, aino = staff_socket(app, "aino")
    log_in_to_service(browser, desk["queue"], "Aino")
    join(client, desk, question="Hei")
    customer = customer_socket(app, client)
    answers = []
    for second in range(600):
        if second % 10 < 3:
            for _ in range(8):
                answers.append(aino.emit("chat-watch", None, callback=True))
                clock.now += 0.05
        if second % 60 == 0:
            answers.append(aino.emit("chat-presence", callback=True))
            answers.append(customer.emit("chat-presence", namespace="/customer", callback=True))
        if second % 120 == 5:
            for _ in range(40):
                answers.append(aino.emit("video", {"kind": "candidate"}, callback=True))
                answers.append(customer.emit("video", {"kind": "candidate"}, namespace="/customer", callback=True))
        clock.now += 1
    assert socket_limits.THROTTLED not in answers
    assert aino.is_connected() and customer.is_connected("/customer")
    aino.disconnect()
    customer.disconnect("/customer")
    assert socket_limits.tracked_sockets() == 0


@needs_local_socketio
def test_each_socket_and_each_kind_has_its_own_bucket(app, desk, clock):
    _one, first = staff_socket(app, "aino")
    _other, second = staff_socket(app, "erja")
    burst = socket_limits.RATES[("/", "chat-watch")].burst
    for _ in range(burst):
        assert first.emit("chat-watch", None, callback=True) == {"ok": False}
    assert first.emit("chat-watch", None, callback=True) == socket_limits.THROTTLED
    assert second.emit("chat-watch", None, callback=True) == {"ok": False}  # another socket
    assert first.emit("chat-presence", callback=True) != socket_limits.THROTTLED  # another kind: handled
    clock.now += 1 / socket_limits.RATES[("/", "chat-watch")].per_second
    assert first.emit("chat-watch", None, callback=True) == {"ok": False}  # a token came back
    first.disconnect()
    second.disconnect()
    assert socket_limits.tracked_sockets() == 0


# ---- a real server: sockets that drop ----------------------------------------------------------

@pytest.fixture(scope="module")
def live_app(app, tmp_path_factory):
    """The site as a real server runs it, on the tests' database: an app of its own, whose
    Socket.IO server no test client has patched (as tests/browser/conftest.py's)."""
    live = create_app(make_config(tmp_path_factory.mktemp("live"),
                                  SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"]))
    limiter.enabled = False  # create_app switched the shared limiter on again; the other tests log in often
    return live


@pytest.fixture
def live_site(live_app):
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_port}"
    server.shutdown()


def log_in_over_http(site, username, desk):
    connection = http.client.HTTPConnection(site, timeout=10)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    connection.request("POST", "/login", urllib.parse.urlencode({"username": username, "password": PASSWORD}), form)
    response = connection.getresponse()
    response.read()
    cookie = "; ".join(h.split(";")[0] for h in response.headers.get_all("Set-Cookie"))
    login = urllib.parse.urlencode({"queues": desk["queue"], "display_name": username})
    connection.request("POST", "/chat/service/login", login, {**form, "Cookie": cookie})
    assert connection.getresponse().status == 302
    return cookie


class Heard:
    """A colleague's desk socket (Engine.IO 4 over a websocket) and the live events it heard."""

    def __init__(self, site, cookie):
        self.ws = Client(f"ws://{site}/socket.io/?EIO=4&transport=websocket", headers={"Cookie": cookie})
        assert self.ws.receive(timeout=5).startswith("0")
        self.ws.send("40")
        self.events = []
        threading.Thread(target=self.listen, daemon=True).start()

    def listen(self):
        try:
            while (packet := self.ws.receive()) is not None:
                if packet == "2":
                    self.ws.send("3")
                elif packet.startswith("42"):
                    self.events.append(json.loads(packet[2:])[1])
        except Exception:  # noqa: BLE001 - closed
            return

    def heard_presence_of(self, user_id):
        return any(e.get("event") == "presence-changed" and e["data"].get("user") == user_id for e in self.events)


def raw_websocket(site, cookie):
    """A staff socket on a bare TCP connection: it answers nothing unless told to."""
    host, port = site.split(":")
    sock = tcp.create_connection((host, int(port)), timeout=10)
    sock.sendall((f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {site}\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                  f"Cookie: {cookie}\r\n\r\n").encode())
    assert b"101" in sock.recv(4096).split(b"\r\n", 1)[0]
    sock.sendall(frame(b"40"))
    time.sleep(0.3)
    return sock


def frame(payload, length=None):
    """A masked text frame (mask 0: the payload as it is); `length` may promise more than is sent."""
    length = len(payload) if length is None else length
    header = b"\x81" + (bytes([0x80 | length]) if length < 126 else
                        b"\xfe" + struct.pack("!H", length) if length < 65536 else b"\xff" + struct.pack("!Q", length))
    return header + b"\x00\x00\x00\x00" + payload


@needs_local_socketio
def test_after_an_oversized_payload_the_agent_goes_offline_for_colleagues(app, desk, live_site):
    cookie = log_in_over_http(live_site, "aino", desk)
    sock = raw_websocket(live_site, cookie)
    erja = Heard(live_site, log_in_over_http(live_site, "erja", desk))
    assert eventually(lambda: presence(app, desk["aino"]) == 1 and presence(app, desk["erja"]) == 1)
    payload = b'42["chat-watch","' + b"x" * 1_100_000 + b'"]'
    sock.sendall(frame(payload))
    assert eventually(lambda: presence(app, desk["aino"]) == 0)
    assert eventually(lambda: erja.heard_presence_of(desk["aino"]))
    assert eventually(lambda: disconnected_at(app, desk["aino"]) is not None)  # the grace period started
    assert presence(app, desk["erja"]) == 1
    sock.close()
    erja.ws.close()


@needs_local_socketio
def test_a_socket_dropped_while_a_large_payload_still_arrives_has_its_bookkeeping_done(app, desk, live_site,
                                                                                      monkeypatch):
    """A 1 MB payload arriving slowly answers no ping; the server notices the socket gone when it
    next sends to it, inside another transaction's after-commit emit. That disconnect ran in the
    emitting request's app context: its SQL met a session in 'committed' state (and its user
    was the request's), so the agent stayed online and their grace period never started."""
    eio = socketio.server.eio
    monkeypatch.setattr(eio, "ping_interval", 1)
    monkeypatch.setattr(eio, "ping_timeout", 1)
    # Engine.IO's own sweep looks at each socket once per ping timeout (20 s in production, in
    # its own thread); a page's colleagues send to it far more often, so a send usually finds the
    # socket gone first. Here the sweep is stopped, so that the send does.
    monkeypatch.setattr(eio, "start_service_task", False)
    if eio.service_task_event:
        eio.service_task_event.set()
    cookie, erja_cookie = log_in_over_http(live_site, "aino", desk), log_in_over_http(live_site, "erja", desk)
    erja = Heard(live_site, erja_cookie)
    sock = raw_websocket(live_site, cookie)
    assert eventually(lambda: presence(app, desk["aino"]) == 1 and presence(app, desk["erja"]) == 1)
    sock.sendall(frame(b'42["chat-watch","', length=1_100_000))
    stop = threading.Event()

    def trickle():  # the rest of the megabyte on a slow line: never a whole frame, never a pong
        while not stop.wait(0.05):
            try:
                sock.sendall(b"x" * 64)
            except OSError:
                return

    threading.Thread(target=trickle, daemon=True).start()
    time.sleep(3)  # the server's ping (after 1 s) went unanswered for more than 1 s
    try:
        assert presence(app, desk["aino"]) == 1  # nobody noticed yet
        # erja logs out of customer service: her request's commit tells the unit's desks, aino's
        # socket among them.
        connection = http.client.HTTPConnection(live_site, timeout=10)
        connection.request("POST", "/chat/service/logout", "", {"Cookie": erja_cookie,
                           "Content-Type": "application/x-www-form-urlencoded"})
        assert connection.getresponse().status in (200, 302)
        assert eventually(lambda: presence(app, desk["aino"]) == 0), "aino's disconnect did not count"
        assert eventually(lambda: disconnected_at(app, desk["aino"]) is not None)
        assert eventually(lambda: erja.heard_presence_of(desk["aino"]))
        assert presence(app, desk["erja"]) == 1  # not erja's socket taken down in aino's place
    finally:
        stop.set()
        sock.close()
        erja.ws.close()
