"""The internal staff chat over HTTP and Socket.IO: who reaches whom, who hears what."""
import re

import pytest

from blueprints.accounts.models import RoleAssignment
from blueprints.chat.models import InternalConversation, InternalMessage, StaffPresence
from extensions import db, socketio
from tests.conftest import eventually, logged_in, needs_local_socketio


@pytest.fixture
def agents(app, desk):
    """Logged-in browsers of aino and erja (colleagues) and olli (another library)."""
    return {name: logged_in(app, name) for name in ("aino", "erja", "olli")}


def start(client, user_id):
    return client.post(f"/chat/colleagues/{user_id}/chat")


def internal_chat(app):
    with app.app_context():
        chat = db.session.scalar(db.select(InternalConversation))
        db.session.expunge(chat)
        return chat


def messages(app):
    with app.app_context():
        return db.session.scalars(db.select(InternalMessage.body).order_by(InternalMessage.id)).all()


def colleague_row(client, name):
    """(data-presence, the presence in words) of one colleague in the colleague list."""
    html = client.get("/chat/partials/colleagues?colleagues=1").get_data(as_text=True)
    row = re.search(r'data-presence="(\w+)"(?:(?!</li>).)*?>' + name
                    + r'</button>(?:(?!</li>).)*?class="chat-state">([^<]*)<',
                    html, re.S)
    return row.group(1), row.group(2).strip()


def events(socket_client):
    return [e["args"][0]["event"] for e in socket_client.get_received() if e["name"] == "live"]


def test_the_internal_chat_button_lists_my_colleagues_with_presence(agents, desk):
    page = agents["aino"].get("/chat/").get_data(as_text=True)
    assert 'href="/chat/?colleagues=1"' in page
    html = agents["aino"].get("/chat/?colleagues=1").get_data(as_text=True)
    assert 'id="colleagues-heading"' in html and "Olli" not in html
    assert colleague_row(agents["aino"], "Erja") == ("offline", "offline")
    partial = agents["aino"].get("/chat/partials/colleagues?colleagues=1").get_data(as_text=True)
    assert "Erja" in partial and "Olli" not in partial


def test_pressing_a_colleague_opens_our_chat_and_lists_it_as_active(app, agents, desk):
    response = start(agents["aino"], desk["erja"])
    chat = internal_chat(app)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/chat/?colleagues=1&internal={chat.id}"
    assert start(agents["aino"], desk["erja"]).headers["Location"] == response.headers["Location"]  # reused
    page = agents["aino"].get(response.headers["Location"]).get_data(as_text=True)
    assert 'class="chat-active-internal"' in page and 'id="internal-live"' in page
    assert "Erja" in agents["aino"].get("/chat/partials/active").get_data(as_text=True)


def test_staff_of_another_library_cannot_be_reached(app, agents, desk):
    assert start(agents["olli"], desk["aino"]).status_code == 403
    assert start(agents["aino"], desk["olli"]).status_code == 403
    assert start(agents["aino"], 999_999).status_code == 403
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(InternalConversation)) == 0


def test_only_the_two_participants_read_and_write(app, agents, desk, make_user):
    from common.access import Role

    make_user("saara", (Role.CHAT_AGENT, desk["library"]))
    saara = logged_in(app, "saara")
    start(agents["aino"], desk["erja"])
    chat = internal_chat(app)
    for outsider in (saara, agents["olli"]):
        assert outsider.get(f"/chat/partials/internal/{chat.id}").status_code == 404
        assert outsider.get(f"/chat/?colleagues=1&internal={chat.id}").status_code == 404
        assert outsider.post(f"/chat/internal/{chat.id}/messages", data={"body": "Hei"}).status_code == 404
    assert messages(app) == []
    assert agents["erja"].post(f"/chat/internal/{chat.id}/messages", data={"body": "Hei Aino"}).status_code == 200
    assert "Hei Aino" in agents["aino"].get(f"/chat/partials/internal/{chat.id}").get_data(as_text=True)


def test_new_messages_badge_for_the_colleague_until_they_open_the_chat(app, agents, desk):
    start(agents["aino"], desk["erja"])
    chat = internal_chat(app)
    assert "Aino" not in agents["erja"].get("/chat/partials/active").get_data(as_text=True)
    agents["aino"].post(f"/chat/internal/{chat.id}/messages", data={"body": "Ehditkö?"})
    active = agents["erja"].get("/chat/partials/active").get_data(as_text=True)
    assert "Aino" in active and "New messages!" in active
    assert "New messages!" not in agents["aino"].get("/chat/partials/active").get_data(as_text=True)
    # Opening the chat (the page or its partial) clears the badge.
    agents["erja"].get(f"/chat/?colleagues=1&internal={chat.id}")
    assert "New messages!" not in agents["erja"].get("/chat/partials/active").get_data(as_text=True)


def test_a_desk_reads_only_the_lines_after_its_last_and_a_line_pushed_to_the_open_chat_counts_as_read(app, agents,
                                                                                                      desk):
    start(agents["aino"], desk["erja"])
    chat = internal_chat(app)
    for body in ("Yksi", "Kaksi"):
        agents["aino"].post(f"/chat/internal/{chat.id}/messages", data={"body": body})
    with app.app_context():
        first = db.session.scalar(db.select(InternalMessage.id).order_by(InternalMessage.id))
    after = agents["erja"].get(f"/chat/partials/internal/{chat.id}/lines?after={first}").get_data(as_text=True)
    assert "Kaksi" in after and "Yksi" not in after and "chat-line-colleague" in after
    agents["aino"].post(f"/chat/internal/{chat.id}/messages", data={"body": "Kolme"})
    with app.app_context():
        second, third = db.session.scalars(db.select(InternalMessage.id).where(InternalMessage.id > first)
                                           .order_by(InternalMessage.id)).all()

    def badge_after(browser, header):
        """Whether the desk's next request, telling the lines it showed as they came, still finds
        the chat unread."""
        browser.get("/chat/partials/colleagues?colleagues=1", headers={"X-Chat-Shown": header})
        return "New messages!" in browser.get("/chat/partials/active").get_data(as_text=True)

    # Erja's desk shows the chat, and the lines came with their events: no request of hers read it.
    assert badge_after(agents["erja"], f"i{chat.id}:{second}")  # "Kolme" came after the line shown
    olli = agents["olli"].get("/chat/partials/colleagues?colleagues=1", headers={"X-Chat-Shown": f"i{chat.id}:{third}"})
    assert olli.status_code == 200 and badge_after(agents["erja"], "")  # not his chat: Erja's stays unread
    assert badge_after(agents["erja"], f"i{chat.id}:{third}") is False
    agents["aino"].post(f"/chat/internal/{chat.id}/messages", data={"body": "Neljä"})
    assert badge_after(agents["erja"], f"{chat.id}:{third + 10}")  # a customer chat's number, not this one
    for garbage in ("i", f"i{chat.id}:", f"i{10**30}:{third}", f"ii{chat.id}:{third + 1}"):
        assert badge_after(agents["erja"], garbage)


def test_the_internal_chat_offers_no_transfer_or_video_but_suggests_an_appointment(app, agents, desk):
    start(agents["aino"], desk["erja"])
    chat = internal_chat(app)
    html = agents["aino"].get(f"/chat/partials/internal/{chat.id}").get_data(as_text=True)
    assert "book an appointment that starts now" in html
    for control in ("video", "Transfer", "Release to queue", "Remove from queue"):
        assert control not in html.replace("has no video", "")
    assert 'name="body"' in html and "Enter sends, Shift+Enter starts a new line." in html


def test_a_bad_message_answers_422_keeps_the_text_and_stores_nothing(app, agents, desk):
    start(agents["aino"], desk["erja"])
    chat = internal_chat(app)
    empty = agents["aino"].post(f"/chat/internal/{chat.id}/messages", data={"body": "  "})
    assert empty.status_code == 422 and "Write a message first." in empty.get_data(as_text=True)
    long = agents["aino"].post(f"/chat/internal/{chat.id}/messages", data={"body": "pitkä " * 500})
    assert long.status_code == 422 and "at most 2000" in long.get_data(as_text=True)
    assert "pitkä pitkä" in long.get_data(as_text=True)
    assert messages(app) == []


def test_internal_messages_are_escaped(app, agents, desk):
    start(agents["aino"], desk["erja"])
    chat = internal_chat(app)
    agents["aino"].post(f"/chat/internal/{chat.id}/messages", data={"body": "<img src=x onerror=alert(1)>"})
    html = agents["erja"].get(f"/chat/partials/internal/{chat.id}").get_data(as_text=True)
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_a_colleague_moved_out_of_the_unit_is_refused(app, agents, desk):
    start(agents["aino"], desk["erja"])
    chat = internal_chat(app)
    with app.app_context():
        db.session.execute(db.delete(RoleAssignment).where(RoleAssignment.user_id == desk["erja"]))
        db.session.commit()
    assert agents["aino"].get(f"/chat/partials/internal/{chat.id}").status_code == 404
    assert agents["aino"].post(f"/chat/internal/{chat.id}/messages", data={"body": "Hei"}).status_code == 404


# ---- Socket.IO -------------------------------------------------------------------------------

@needs_local_socketio
def test_presence_follows_sockets_and_only_colleagues_hear_of_it(app, agents, desk):
    erja_socket = socketio.test_client(app, flask_test_client=agents["erja"])
    olli_socket = socketio.test_client(app, flask_test_client=agents["olli"])
    erja_socket.get_received()
    olli_socket.get_received()
    aino_socket = socketio.test_client(app, flask_test_client=agents["aino"])
    with app.app_context():
        assert db.session.get(StaffPresence, desk["aino"]).sockets == 1
    assert "presence-changed" in events(erja_socket)
    assert "presence-changed" not in events(olli_socket)
    # Connected, but not logged in to customer service: away; logged in: online.
    assert colleague_row(agents["erja"], "Aino") == ("away", "away")
    agents["aino"].post("/chat/service/login", data={"queues": [desk["queue"]], "display_name": "Aino"})
    assert colleague_row(agents["erja"], "Aino") == ("online", "online")
    aino_socket.disconnect()
    with app.app_context():
        assert db.session.get(StaffPresence, desk["aino"]).sockets == 0
    assert "presence-changed" in events(erja_socket)
    assert "presence-changed" not in events(olli_socket)
    erja_socket.disconnect()
    olli_socket.disconnect()


@needs_local_socketio
def test_the_desk_heartbeat_is_heard_only_from_a_logged_in_socket(app, agents, desk):
    from datetime import timedelta

    from blueprints.chat import internal
    from common.clock import utcnow

    aino_socket = socketio.test_client(app, flask_test_client=agents["aino"])
    with app.app_context():
        row = db.session.get(StaffPresence, desk["aino"])
        row.last_seen = utcnow() - internal.LIVE_TIMEOUT - timedelta(minutes=1)
        db.session.commit()
    aino_socket.emit("chat-presence")
    with app.app_context():
        assert db.session.get(StaffPresence, desk["aino"]).last_seen > utcnow() - internal.LIVE_TIMEOUT
    aino_socket.disconnect()
    anonymous = socketio.test_client(app, flask_test_client=app.test_client())
    assert not anonymous.is_connected()


@needs_local_socketio
def test_an_internal_message_is_heard_by_the_two_participants_only(app, agents, desk):
    start(agents["aino"], desk["erja"])
    chat = internal_chat(app)
    sockets = {name: socketio.test_client(app, flask_test_client=agents[name]) for name in agents}
    for s in sockets.values():
        s.get_received()
    agents["aino"].post(f"/chat/internal/{chat.id}/messages", data={"body": "Salainen"})
    heard = {name: s.get_received() for name, s in sockets.items()}
    lines = {name: [e["args"][0]["data"] for e in received if e["args"][0]["event"] == "internal-line"]
             for name, received in heard.items()}
    # Each of the two gets the line rendered as they read it; nobody else hears of it.
    (mine,), (theirs,) = lines["aino"], lines["erja"]
    assert mine["internal"] == theirs["internal"] == chat.id and mine["item"] == theirs["item"]
    assert "chat-line-mine" in mine["html"]["en"] and "Salainen" in mine["html"]["en"]  # in the reader's language
    assert "chat-line-colleague" in theirs["html"]["en"]
    assert lines["olli"] == [] and all("Salainen" not in str(e) for e in heard["olli"])
    for s in sockets.values():
        s.disconnect()


@needs_local_socketio
def test_logging_out_of_the_site_makes_one_offline_for_colleagues(app, agents, desk):
    aino_socket = socketio.test_client(app, flask_test_client=agents["aino"])
    agents["aino"].post("/chat/service/login", data={"queues": [desk["queue"]], "display_name": "Aino"})
    agents["aino"].post("/chat/service/logout")
    agents["aino"].post("/logout")
    # The logout ends the session, and the server closes the socket of the page left behind.
    assert eventually(lambda: not aino_socket.is_connected(), timeout=30)
    with app.app_context():
        assert db.session.get(StaffPresence, desk["aino"]) is None
    assert colleague_row(agents["erja"], "Aino") == ("offline", "offline")
