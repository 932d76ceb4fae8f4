"""Video chat: starting a call, and the relay of its signals between the serving agent and the
conversation's own customer only (Socket.IO test clients)."""
import json

import pytest

from blueprints.chat.models import Conversation, ConversationState
from common.audit import AuditEvent
from extensions import db, socketio
from tests.chat.conftest import log_in_to_service
from tests.conftest import audited, logged_in, needs_local_socketio

OFFER = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}
ANSWER = {"type": "answer", "sdp": "v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\n"}
CANDIDATE = {"candidate": "candidate:1 1 udp 2122260223 192.0.2.2 50000 typ host", "sdpMid": "0", "sdpMLineIndex": 0}


def staff(app, username, in_service_for=None):
    """An agent's browser; with a queue, logged in to customer service for it (to pick up its customers)."""
    client = logged_in(app, username)
    if in_service_for is not None:
        log_in_to_service(client, in_service_for, username.title())
    return client


def customer(app, desk, name):
    client = app.test_client()
    client.post("/chat/customer/", data={"queue": desk["queue"], "name": name})
    return client


def conversation_id(app, name):
    with app.app_context():
        return db.session.scalar(db.select(Conversation.id).where(Conversation.customer_name == name))


def signals(socket_client, namespace="/"):
    """The video signals a socket heard since last asked."""
    return [e["args"][0]["data"] for e in socket_client.get_received(namespace)
            if e["name"] == "live" and e["args"][0]["event"] == "video-signal"]


@pytest.fixture
def call(app, desk):
    """Toni served by Aino with a call started; Sara served by Erja; sockets for all of them."""
    people = {"aino": staff(app, "aino", desk["queue"]), "erja": staff(app, "erja", desk["queue"]),
              "olli": staff(app, "olli"),
              "toni": customer(app, desk, "Toni"), "sara": customer(app, desk, "Sara")}
    people["toni_id"], people["sara_id"] = conversation_id(app, "Toni"), conversation_id(app, "Sara")
    people["erja"].post(f"/chat/conversations/{people['sara_id']}/claim")
    sockets = {name: socketio.test_client(app, flask_test_client=people[name]) for name in ("aino", "erja", "olli")}
    for name in ("toni", "sara"):
        sockets[name] = socketio.test_client(app, namespace="/customer", flask_test_client=people[name])
    response = people["aino"].post(f"/chat/conversations/{people['toni_id']}/video")
    assert response.status_code == 200
    people["call"] = json.loads(response.headers["X-Chat-Video-Call"])["call"]
    people["sockets"] = sockets
    for name, s in sockets.items():
        s.get_received("/customer" if name in ("toni", "sara") else "/")
    yield people
    for name, s in sockets.items():
        if name in ("toni", "sara"):
            s.disconnect(namespace="/customer")
        else:
            s.disconnect()


@needs_local_socketio
def test_starting_video_claims_a_waiting_customer_and_invites_only_them(app, desk):
    aino, toni, sara = staff(app, "aino", desk["queue"]), customer(app, desk, "Toni"), customer(app, desk, "Sara")
    toni_socket = socketio.test_client(app, namespace="/customer", flask_test_client=toni)
    sara_socket = socketio.test_client(app, namespace="/customer", flask_test_client=sara)
    toni_socket.get_received("/customer")
    sara_socket.get_received("/customer")
    toni_id = conversation_id(app, "Toni")

    response = aino.post(f"/chat/conversations/{toni_id}/video")

    assert response.status_code == 200
    invited = json.loads(response.headers["X-Chat-Video-Call"])
    assert invited["conversation"] == toni_id and invited["customer"] == "Toni"
    with app.app_context():
        assert db.session.get(Conversation, toni_id).state == ConversationState.SERVED
    assert [s["kind"] for s in signals(toni_socket, "/customer")] == ["invite"]
    assert signals(sara_socket, "/customer") == []
    [started] = audited(app, "chat.video_started")
    assert started.object_id == str(toni_id) and started.detail["call"] == invited["call"]
    toni_socket.disconnect(namespace="/customer")
    sara_socket.disconnect(namespace="/customer")


def test_only_the_serving_agent_may_start_video(app, desk):
    toni = customer(app, desk, "Toni")
    toni_id = conversation_id(app, "Toni")
    aino, erja, olli = staff(app, "aino", desk["queue"]), staff(app, "erja", desk["queue"]), staff(app, "olli")
    aino.post(f"/chat/conversations/{toni_id}/claim")

    refused = erja.post(f"/chat/conversations/{toni_id}/video")  # a colleague's customer
    assert refused.status_code == 403 and "X-Chat-Video-Call" not in refused.headers
    assert olli.post(f"/chat/conversations/{toni_id}/video").status_code == 404
    toni.post("/chat/customer/leave")
    assert aino.post(f"/chat/conversations/{toni_id}/video").status_code == 409
    assert audited(app, "chat.video_started") == []


def test_the_video_button_shows_for_waiting_and_own_customers_only(app, desk):
    customer(app, desk, "Toni")
    toni_id = conversation_id(app, "Toni")
    aino, erja = staff(app, "aino", desk["queue"]), staff(app, "erja", desk["queue"])
    assert "Start video chat" in erja.get(f"/chat/partials/chat?conversation={toni_id}").get_data(as_text=True)
    aino.post(f"/chat/conversations/{toni_id}/claim")
    assert "Start video chat" in aino.get(f"/chat/partials/chat?conversation={toni_id}").get_data(as_text=True)
    assert "Start video chat" not in erja.get(f"/chat/partials/chat?conversation={toni_id}").get_data(as_text=True)


@needs_local_socketio
def test_signals_go_between_the_serving_agent_and_their_customer_only(app, call):
    s, toni_id = call["sockets"], call["toni_id"]

    accepted = s["toni"].emit("video", {"conversation": toni_id, "call": call["call"], "kind": "accept"},
                              namespace="/customer", callback=True)
    assert accepted == {"ok": True}
    assert [x["kind"] for x in signals(s["aino"])] == ["accept"]

    sent = s["aino"].emit("video",
                          {"conversation": toni_id, "call": call["call"], "kind": "offer", "description": OFFER},
                          callback=True)
    assert sent == {"ok": True}
    [offer] = signals(s["toni"], "/customer")
    assert offer == {"conversation": toni_id, "call": call["call"], "kind": "offer", "description": OFFER}

    s["toni"].emit("video", {"conversation": toni_id, "call": call["call"], "kind": "answer", "description": ANSWER},
                   namespace="/customer", callback=True)
    s["toni"].emit("video",
                   {"conversation": toni_id, "call": call["call"], "kind": "candidate", "candidate": CANDIDATE},
                   namespace="/customer", callback=True)
    heard = signals(s["aino"])
    assert [x["kind"] for x in heard] == ["answer", "candidate"]
    assert heard[0]["description"] == ANSWER and heard[1]["candidate"] == CANDIDATE

    # Nobody else heard any of it: not Sara, not her agent, not an agent of another library.
    assert signals(s["sara"], "/customer") == []
    assert signals(s["erja"]) == [] and signals(s["olli"]) == []


@needs_local_socketio
def test_signals_of_others_are_refused(app, call):
    s, toni_id, sara_id = call["sockets"], call["toni_id"], call["sara_id"]
    offer = {"conversation": toni_id, "call": call["call"], "kind": "offer", "description": OFFER}

    # A colleague reading the chat, and an agent of another library, cannot signal Toni.
    assert s["erja"].emit("video", offer, callback=True) == {"ok": False}
    assert s["olli"].emit("video", offer, callback=True) == {"ok": False}
    # Aino cannot signal Sara, whom Erja serves.
    assert s["aino"].emit("video", dict(offer, conversation=sara_id), callback=True) == {"ok": False}
    # Sara cannot signal into Toni's conversation, nor Toni into Sara's.
    accept_toni = {"conversation": toni_id, "call": call["call"], "kind": "accept"}
    assert s["sara"].emit("video", accept_toni, namespace="/customer", callback=True) == {"ok": False}
    assert s["toni"].emit("video", dict(accept_toni, conversation=sara_id), namespace="/customer",
                          callback=True) == {"ok": False}
    # A customer cannot send what only the agent sends, nor a malformed description.
    assert s["toni"].emit("video", dict(offer), namespace="/customer", callback=True) == {"ok": False}
    bad = {"conversation": toni_id, "call": call["call"], "kind": "answer",
           "description": {"type": "offer", "sdp": "x"}}
    assert s["toni"].emit("video", bad, namespace="/customer", callback=True) == {"ok": False}
    assert s["aino"].emit("video", "offer", callback=True) == {"ok": False}

    assert signals(s["toni"], "/customer") == [] and signals(s["sara"], "/customer") == []
    assert signals(s["aino"]) == [] and signals(s["erja"]) == []


@needs_local_socketio
def test_no_signals_once_the_chat_has_ended(app, call):
    s, toni_id = call["sockets"], call["toni_id"]
    call["aino"].post(f"/chat/conversations/{toni_id}/end")
    s["aino"].get_received("/")
    s["toni"].get_received("/customer")
    assert s["aino"].emit("video", {"conversation": toni_id, "call": call["call"], "kind": "end"},
                          callback=True) == {"ok": False}
    assert signals(s["toni"], "/customer") == []


@needs_local_socketio
def test_accept_decline_and_end_are_audited_without_media(app, call):
    s, toni_id = call["sockets"], call["toni_id"]
    s["toni"].emit("video", {"conversation": toni_id, "call": call["call"], "kind": "accept"},
                   namespace="/customer", callback=True)
    s["aino"].emit("video", {"conversation": toni_id, "call": call["call"], "kind": "offer", "description": OFFER},
                   callback=True)
    s["aino"].emit("video", {"conversation": toni_id, "call": call["call"], "kind": "end"}, callback=True)

    [accepted] = audited(app, "chat.video_accepted")
    assert accepted.object_id == str(toni_id) and accepted.actor_id is None and accepted.detail["by"] == "customer"
    [ended] = audited(app, "chat.video_ended")
    assert ended.detail == {"call": call["call"], "by": "agent"} and ended.actor_id is not None
    assert [x["kind"] for x in signals(s["toni"], "/customer")] == ["offer", "end"]
    with app.app_context():
        details = json.dumps([e.detail for e in db.session.scalars(db.select(AuditEvent))])
    assert "sdp" not in details and "v=0" not in details

    # A decline (of a new invitation) is recorded and told to the agent.
    s["toni"].emit("video", {"conversation": toni_id, "call": "another", "kind": "decline"},
                   namespace="/customer", callback=True)
    assert [x["kind"] for x in signals(s["aino"])] == ["accept", "decline"]
    assert len(audited(app, "chat.video_declined")) == 1


def test_no_ice_servers_by_default_and_the_setting_reaches_both_pages(app, client, desk, monkeypatch):
    from config import environment_settings

    client.post("/chat/customer/", data={"queue": desk["queue"], "name": "Toni"})
    assert "data-ice-servers='[]'" in client.get("/chat/customer/").get_data(as_text=True)
    monkeypatch.setenv("CHAT_ICE_SERVERS", '[{"urls": "turn:turn.example.org", "username": "u", "credential": "p"}]')
    servers = environment_settings()["CHAT_ICE_SERVERS"]
    monkeypatch.setitem(app.config, "CHAT_ICE_SERVERS", servers)
    expected = '[{"credential": "p", "urls": "turn:turn.example.org", "username": "u"}]'
    assert f"data-ice-servers='{expected}'" in client.get("/chat/customer/").get_data(as_text=True)
    assert f"data-ice-servers='{expected}'" in staff(app, "aino").get("/chat/").get_data(as_text=True)


@needs_local_socketio
def test_the_customers_closing_page_ends_the_call_for_their_own_agent_only(app, call):
    """A page that goes sends a beacon over HTTP (static/js/chat-video.js): the agent serving
    that customer hears "end" with the reason "closed"; another browser cannot end it."""
    s, toni_id, sara_id = call["sockets"], call["toni_id"], call["sara_id"]
    closed = {"conversation": toni_id, "call": call["call"]}
    assert call["sara"].post("/chat/customer/video/closed", data=closed).status_code == 409
    assert call["toni"].post("/chat/customer/video/closed", data=dict(closed, conversation=sara_id)).status_code == 409
    assert app.test_client().post("/chat/customer/video/closed", data=closed).status_code == 409
    assert signals(s["aino"]) == [] and signals(s["erja"]) == []

    assert call["toni"].post("/chat/customer/video/closed", data=closed).status_code == 204
    assert [(x["kind"], x["reason"], x["call"]) for x in signals(s["aino"])] == [("end", "closed", call["call"])]
    assert signals(s["erja"]) == [] and signals(s["sara"], "/customer") == []
    [ended] = audited(app, "chat.video_ended")
    assert ended.detail == {"call": call["call"], "by": "customer", "reason": "closed"}
