"""Typing indicators, both ways, over the pages' sockets: the customer's typing reaches the desks
that show the chat and the serving agent, the serving agent's reaches the customer; at most one
"typing" per two seconds per chat and side, one "stopped", never any text; nobody else may say it."""
import pytest

from blueprints.chat import typing_indicator
from extensions import socketio
from tests.chat.conftest import conversation_of, customer_socket, join, log_in_to_service
from tests.conftest import logged_in, needs_local_socketio

pytestmark = needs_local_socketio


@pytest.fixture
def clock(monkeypatch):
    """The typing gate's clock, moved on by hand."""
    now = [1000.0]
    monkeypatch.setattr(typing_indicator, "clock", lambda: now[0])
    typing_indicator.forget()
    yield now
    typing_indicator.forget()


def heard(socket, event, namespace="/"):
    return [e["args"][0]["data"] for e in socket.get_received(namespace)
            if e["name"] == "live" and e["args"][0]["event"] == event]


def served(app, client, desk):
    """Toni served by Aino; the sockets of Toni's page, Aino's desk and Erja's desk showing the chat."""
    join(client, desk)
    c = conversation_of(app)
    aino, erja = logged_in(app, "aino"), logged_in(app, "erja")
    log_in_to_service(aino, desk["queue"], "Aino")
    aino.post(f"/chat/conversations/{c.id}/claim")
    customer = customer_socket(app, client)
    aino_socket = socketio.test_client(app, flask_test_client=aino)
    erja_socket = socketio.test_client(app, flask_test_client=erja)
    assert erja_socket.emit("chat-watch", c.id, callback=True)["ok"]
    for socket in (aino_socket, erja_socket):
        socket.get_received()
    return c.id, customer, aino_socket, erja_socket


def test_the_customer_typing_reaches_the_desks_at_most_once_in_two_seconds_and_once_stopped(app, client, desk,
                                                                                             clock):
    conversation_id, customer, aino, erja = served(app, client, desk)

    for _ in range(3):  # a page (or a forged client) that says it three times at once
        assert customer.emit("chat-typing", {"typing": True, "text": "salainen"}, namespace="/customer",
                             callback=True) == {"ok": True}
    for desk_socket in (aino, erja):  # the serving agent (active list) and the desk showing the chat
        assert heard(desk_socket, "customer-typing") == [{"conversation": conversation_id, "typing": True}]
    clock[0] += 1.5
    customer.emit("chat-typing", {"typing": True}, namespace="/customer")
    assert heard(erja, "customer-typing") == []
    clock[0] += 0.5
    customer.emit("chat-typing", {"typing": True}, namespace="/customer")
    assert heard(erja, "customer-typing") == [{"conversation": conversation_id, "typing": True}]
    customer.emit("chat-typing", {"typing": False}, namespace="/customer")
    customer.emit("chat-typing", {"typing": False}, namespace="/customer")
    assert heard(erja, "customer-typing") == [{"conversation": conversation_id, "typing": False}]
    assert heard(aino, "customer-typing") == [{"conversation": conversation_id, "typing": True},
                                              {"conversation": conversation_id, "typing": False}]
    for socket in (customer, aino, erja):
        socket.disconnect(*(["/customer"] if socket is customer else []))


def test_only_the_serving_agent_typing_reaches_the_customer_and_never_any_text(app, client, desk, clock):
    conversation_id, customer, aino, erja = served(app, client, desk)
    olli = socketio.test_client(app, flask_test_client=logged_in(app, "olli"))

    # A colleague reading the chat, an agent of another library, a chat that does not exist: refused.
    assert erja.emit("chat-typing", {"conversation": conversation_id, "typing": True}, callback=True) == {"ok": False}
    assert olli.emit("chat-typing", {"conversation": conversation_id, "typing": True}, callback=True) == {"ok": False}
    assert aino.emit("chat-typing", {"conversation": 999999, "typing": True}, callback=True) == {"ok": False}
    assert aino.emit("chat-typing", {"conversation": conversation_id, "typing": "yes"}, callback=True) == {"ok": False}
    assert heard(customer, "agent-typing", "/customer") == []

    assert aino.emit("chat-typing", {"conversation": conversation_id, "typing": True, "text": "Hei To"},
                     callback=True) == {"ok": True}
    aino.emit("chat-typing", {"conversation": conversation_id, "typing": True})
    aino.emit("chat-typing", {"conversation": conversation_id, "typing": False})
    assert heard(customer, "agent-typing", "/customer") == [{"typing": True}, {"typing": False}]
    for socket in (customer, aino, erja, olli):
        socket.disconnect(*(["/customer"] if socket is customer else []))


def test_a_customer_whose_chat_ended_says_nothing(app, client, desk, clock):
    conversation_id, customer, aino, erja = served(app, client, desk)
    client.post("/chat/customer/leave")
    erja.get_received()

    assert customer.emit("chat-typing", {"typing": True}, namespace="/customer", callback=True) == {"ok": False}
    assert heard(erja, "customer-typing") == []
    for socket in (aino, erja):
        socket.disconnect()
