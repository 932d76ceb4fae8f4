"""Every Socket.IO event, sent with hostile payloads by a staff socket and a customer's socket:
each is answered with a refusal (or ignored), none raises, and the reserved names connect and
disconnect sent as events move nothing."""
import pytest

from blueprints.chat.models import StaffPresence
from extensions import db, socketio
from tests.chat.conftest import customer_socket, join, staff_socket
from tests.conftest import needs_local_socketio

HOSTILE = [(), (None,), (10**30,), (-1,), (True,), ("1",), ("\x00",), ([],), ({},), ({"conversation": 10**30},),
           ({"conversation": "1", "kind": "offer"},), ({"conversation": None, "kind": None, "call": 10**30},),
           ({"a": {"b": {"c": [1, 2, 3] * 100}}},), (1, 2, 3), ("x" * 100_000,)]
RESERVED = {"connect", "disconnect"}


def handled_events(namespace):
    return sorted(set(socketio.server.handlers.get(namespace, {})) - RESERVED)


@needs_local_socketio
@pytest.mark.parametrize("namespace", ["/", "/customer"])
def test_every_event_refuses_hostile_payloads_with_an_acknowledgement(app, client, desk, namespace):
    names = handled_events(namespace)
    assert names, f"no events on {namespace}"
    if namespace == "/":
        _browser, socket = staff_socket(app, "aino")
    else:
        join(client, desk, question="Hei")
        socket = customer_socket(app, client)
    assert socket.is_connected(namespace)
    for name in names:
        for payload in HOSTILE:
            answer = socket.emit(name, *payload, namespace=namespace, callback=True)
            refused = isinstance(answer, dict) and answer.get("ok") is False
            ignored = answer == []  # an acknowledgement with nothing in it: the heartbeat's, whatever it is sent
            assert refused or (ignored and name == "chat-presence"), f"{name}{payload!r:.60} answered {answer!r:.80}"
    assert socket.is_connected(namespace)
    socket.disconnect(namespace)


@needs_local_socketio
def test_a_watch_or_video_with_a_huge_or_missing_id_is_refused(app, desk):
    _browser, socket = staff_socket(app, "aino")
    assert socket.emit("chat-watch", 10**30, callback=True) == {"ok": False}
    assert socket.emit("video", callback=True) == {"ok": False}
    assert socket.emit("video", {"conversation": 10**30, "kind": "offer"}, callback=True) == {"ok": False}
    socket.disconnect()


@needs_local_socketio
def test_the_reserved_names_sent_as_events_are_ignored(app, desk):
    _browser, socket = staff_socket(app, "aino")

    def sockets():
        with app.app_context():
            return db.session.get(StaffPresence, desk["aino"]).sockets

    assert sockets() == 1
    for _ in range(3):
        socket.emit("connect")
    assert sockets() == 1
    socket.emit("disconnect")
    assert sockets() == 1 and socket.is_connected()
    socket.disconnect()
    assert sockets() == 0
