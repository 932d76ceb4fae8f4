"""HTTP routes and Socket.IO events of the chat: who gets in, who hears what."""
import re

import pytest

from blueprints.chat.models import ChatMessage, Conversation, ConversationState
from common.access import Role
from extensions import db, socketio
from tests.chat.conftest import conversation_of, customer_socket, join, log_in_to_service, staff_socket
from tests.conftest import logged_in, needs_local_socketio


def events(socket_client, namespace="/"):
    return [e["args"][0]["event"] for e in socket_client.get_received(namespace) if e["name"] == "live"]


def test_customer_joins_and_sees_waiting_message_and_place(app, client, desk):
    assert join(client, desk, question="Hei").status_code == 302
    page = client.get("/chat/customer/").get_data(as_text=True)
    assert "Odota hetki" in page and "You are next in the queue." in page
    other = app.test_client()
    join(other, desk, name="Sara")
    assert "1 customer is ahead of you." in other.get("/chat/customer/conversation").get_data(as_text=True)


def test_join_without_a_name_answers_422_and_keeps_values(client, desk):
    response = client.post("/chat/customer/", data={"queue": desk["queue"], "name": "", "question": "Kysymys"})
    assert response.status_code == 422
    assert "Give a name." in response.get_data(as_text=True) and "Kysymys" in response.get_data(as_text=True)


def test_customer_text_is_escaped_everywhere(app, client, auth, desk):
    join(client, desk, name="<script>alert(1)</script>", question="<img src=x onerror=alert(1)>")
    assert "<img src=x" not in client.get("/chat/customer/conversation").get_data(as_text=True)
    auth.login("aino")
    page = logged_in(app, "aino")
    c = conversation_of(app, "<script>alert(1)</script>")
    html = page.get(f"/chat/?conversation={c.id}").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_customer_message_too_long_is_refused_and_kept(client, desk):
    join(client, desk)
    response = client.post("/chat/customer/message", data={"body": "x" * 2001})
    assert response.status_code == 422 and "at most 2000" in response.get_data(as_text=True)


def test_reader_cannot_write_and_serving_agent_can(app, client, desk):
    join(client, desk)
    c = conversation_of(app)
    aino, erja = logged_in(app, "aino"), logged_in(app, "erja")
    log_in_to_service(aino, desk["queue"], "Aino")
    log_in_to_service(erja, desk["queue"], "Erja")
    assert aino.post(f"/chat/conversations/{c.id}/claim").status_code == 200
    assert erja.post(f"/chat/conversations/{c.id}/claim").status_code == 409
    html = erja.get(f"/chat/partials/chat?conversation={c.id}").get_data(as_text=True)
    assert "You can read the chat but not write in it." in html and 'name="body"' not in html
    assert erja.post(f"/chat/conversations/{c.id}/messages", data={"body": "Hei"}).status_code == 403
    assert aino.post(f"/chat/conversations/{c.id}/messages", data={"body": "Hei Toni"}).status_code == 200
    assert "Hei Toni" in client.get("/chat/customer/conversation").get_data(as_text=True)


def test_a_colleague_reading_a_served_chat_gets_no_controls_and_forged_requests_are_refused(app, client, desk):
    join(client, desk)
    c = conversation_of(app)
    aino, erja = logged_in(app, "aino"), logged_in(app, "erja")
    log_in_to_service(aino, desk["queue"], "Aino")
    log_in_to_service(erja, desk["queue"], "Erja")
    aino.post(f"/chat/conversations/{c.id}/claim")

    html = erja.get(f"/chat/partials/chat?conversation={c.id}").get_data(as_text=True)
    assert "Customer controls" not in html
    for control in ("/claim", "/video", "/release", "/remove", "/end", "/transfer"):
        assert f"/chat/conversations/{c.id}{control}" not in html
    mine = aino.get(f"/chat/partials/chat?conversation={c.id}").get_data(as_text=True)
    assert f"/chat/conversations/{c.id}/release" in mine and f"/chat/conversations/{c.id}/end" in mine

    for forged in ("release", "remove", "end", "video", "transfer"):
        assert erja.post(f"/chat/conversations/{c.id}/{forged}",
                         data={"transfer-target": desk["queue"]}).status_code == 403, forged
    assert erja.get(f"/chat/conversations/{c.id}/transfer").status_code == 403
    with app.app_context():
        toni = db.session.get(Conversation, c.id)
        assert toni.state == ConversationState.SERVED and toni.agent_id == desk["aino"]
        assert [m.body for m in toni.messages] == ["served"]


def test_claiming_needs_the_service_login_for_that_queue(app, client, desk):
    join(client, desk)
    c = conversation_of(app)
    erja = logged_in(app, "erja")

    html = erja.get(f"/chat/partials/chat?conversation={c.id}").get_data(as_text=True)
    assert f"/chat/conversations/{c.id}/claim" not in html and f"/chat/conversations/{c.id}/video" not in html
    assert "Log in to customer service for this queue to serve its customers." in html
    assert f"/chat/conversations/{c.id}/remove" in html  # any agent of the queue removes a waiting customer
    assert erja.post(f"/chat/conversations/{c.id}/claim").status_code == 403
    assert erja.post(f"/chat/conversations/{c.id}/video").status_code == 403
    assert conversation_of(app).state == ConversationState.WAITING

    log_in_to_service(erja, desk["queue"], "Erja")
    html = erja.get(f"/chat/partials/chat?conversation={c.id}").get_data(as_text=True)
    assert f"/chat/conversations/{c.id}/claim" in html
    assert erja.post(f"/chat/conversations/{c.id}/claim").status_code == 200


def test_releasing_a_waiting_customer_is_refused_with_a_message(app, client, desk):
    join(client, desk)
    c = conversation_of(app)
    aino = logged_in(app, "aino")
    response = aino.post(f"/chat/conversations/{c.id}/release")
    assert response.status_code == 409 and "Nobody is serving this customer" in response.get_data(as_text=True)


def test_a_reload_restores_the_same_conversation_and_leave_ends_it(app, client, desk):
    join(client, desk, question="Ensimmäinen")
    client.post("/chat/customer/message", data={"body": "Toinen"})
    html = client.get("/chat/customer/").get_data(as_text=True)
    assert "Ensimmäinen" in html and "Toinen" in html
    client.post("/chat/customer/leave")
    assert conversation_of(app).state == ConversationState.ENDED
    assert "Join the queue" in client.get("/chat/customer/").get_data(as_text=True)


@needs_local_socketio
def test_customer_socket_needs_a_valid_token(app, client, desk):
    anonymous = socketio.test_client(app, namespace="/customer", flask_test_client=app.test_client())
    assert not anonymous.is_connected("/customer")
    join(client, desk)
    customer = socketio.test_client(app, namespace="/customer", flask_test_client=client)
    assert customer.is_connected("/customer")
    customer.disconnect(namespace="/customer")


@needs_local_socketio
def test_staff_namespace_refuses_customers(app, client, desk):
    join(client, desk)
    staff = socketio.test_client(app, flask_test_client=client)
    assert not staff.is_connected()


@needs_local_socketio
def test_customer_hears_claim_and_agents_of_the_unit_hear_a_join(app, client, desk):
    aino, aino_socket = staff_socket(app, "aino")
    log_in_to_service(aino, desk["queue"])
    _olli, olli_socket = staff_socket(app, "olli")
    join(client, desk)
    assert "chat-changed" in events(aino_socket)
    assert "chat-changed" not in events(olli_socket)
    customer = customer_socket(app, client)
    c = conversation_of(app)
    aino.post(f"/chat/conversations/{c.id}/claim")
    assert "customer-changed" in events(customer, "/customer")
    aino.post(f"/chat/conversations/{c.id}/release")
    assert "customer-changed" in events(customer, "/customer")
    with app.app_context():
        assert db.session.scalar(db.select(ChatMessage.body).order_by(ChatMessage.id.desc()).limit(1)) == "released"
    for s in (aino_socket, olli_socket, customer):
        s.disconnect(namespace="/customer") if s is customer else s.disconnect()


@needs_local_socketio
def test_other_customers_do_not_hear_a_private_message(app, client, desk):
    join(client, desk)
    other = app.test_client()
    join(other, desk, name="Sara")
    toni_socket = customer_socket(app, client)
    sara_socket = customer_socket(app, other)
    client.post("/chat/customer/message", data={"body": "Yksityinen"})
    assert "customer-line" in events(toni_socket, "/customer")
    # Sara hears only that her queue changed (to recount her place), never the message itself.
    received = sara_socket.get_received("/customer")
    assert all("Yksityinen" not in str(e) for e in received)


@needs_local_socketio
def test_a_new_line_reaches_only_the_serving_agent_and_the_desks_that_show_the_chat(app, client, desk, make_user):
    from common.access import Role

    make_user("mikko", (Role.CHAT_AGENT, desk["library"]))
    join(client, desk)
    c = conversation_of(app)
    aino, aino_socket = staff_socket(app, "aino")
    log_in_to_service(aino, desk["queue"])
    _erja, erja_socket = staff_socket(app, "erja")
    _mikko, mikko_socket = staff_socket(app, "mikko")
    aino.post(f"/chat/conversations/{c.id}/claim")
    client.post("/chat/customer/message", data={"body": "Ennen"})
    with app.app_context():
        lines = db.session.scalar(db.select(db.func.count()).select_from(ChatMessage)
                                  .where(ChatMessage.conversation_id == c.id))
    # The answer counts the chat's lines: a desk that rendered fewer reads the chat again.
    assert lines == 2 and erja_socket.emit("chat-watch", c.id, callback=True) == {"ok": True, "lines": 2}
    for s in (aino_socket, erja_socket, mikko_socket):
        s.get_received()
    client.post("/chat/customer/message", data={"body": "Hei"})
    assert events(aino_socket) == ["chat-message"] and events(erja_socket) == ["chat-message"]
    assert events(mikko_socket) == []  # an agent of the unit whose desk does not show the chat
    # Erja's desk moves on to no chat: she no longer hears this one; the serving agent still does.
    assert erja_socket.emit("chat-watch", None, callback=True) == {"ok": False}
    client.post("/chat/customer/message", data={"body": "Vielä"})
    assert events(erja_socket) == [] and events(aino_socket) == ["chat-message"]
    for s in (aino_socket, erja_socket, mikko_socket):
        s.disconnect()


def test_a_line_shown_as_it_came_is_read_for_the_serving_agent_up_to_the_line_shown(app, client, desk):
    join(client, desk)
    c = conversation_of(app)
    aino, erja = logged_in(app, "aino"), logged_in(app, "erja")
    log_in_to_service(aino, desk["queue"])
    aino.post(f"/chat/conversations/{c.id}/claim")
    client.post("/chat/customer/message", data={"body": "Yksi"})
    client.post("/chat/customer/message", data={"body": "Kaksi"})
    with app.app_context():
        first, last = db.session.scalars(db.select(ChatMessage.id).where(ChatMessage.conversation_id == c.id,
                                                                         ChatMessage.body.in_(("Yksi", "Kaksi")))
                                         .order_by(ChatMessage.id)).all()

    def unread():
        with app.app_context():
            return db.session.get(Conversation, c.id).unread_by_agent

    def shown(browser, header):
        return browser.get("/chat/partials/active", headers={"X-Chat-Shown": header}).status_code

    assert shown(aino, f"{c.id}:{first}") == 200 and unread()  # "Kaksi" came after the line shown
    assert shown(erja, f"{c.id}:{last}") == 200 and unread()  # a reading colleague's desk
    for garbage in ("x", f"{c.id}:", f"{10**30}:{last}", f"-1:{last}"):
        assert shown(aino, garbage) == 200 and unread()
    assert shown(aino, f"{c.id}:{last}") == 200 and not unread()


@needs_local_socketio
def test_an_agent_cannot_follow_a_chat_of_another_unit(app, client, desk):
    join(client, desk)
    c = conversation_of(app)
    _olli, olli_socket = staff_socket(app, "olli")
    assert olli_socket.emit("chat-watch", c.id, callback=True) == {"ok": False}
    assert olli_socket.emit("chat-watch", str(c.id), callback=True) == {"ok": False}
    olli_socket.get_received()
    client.post("/chat/customer/message", data={"body": "Yksityinen"})
    assert olli_socket.get_received() == []
    olli_socket.disconnect()


@needs_local_socketio
def test_waiting_customers_hear_a_claim_ahead_of_them_but_not_a_join_behind(app, client, desk):
    join(client, desk)
    sara = app.test_client()
    join(sara, desk, name="Sara")
    sara_socket = customer_socket(app, sara)
    join(app.test_client(), desk, name="Mikko")
    assert events(sara_socket, "/customer") == []  # her place did not move
    aino, aino_socket = staff_socket(app, "aino")
    log_in_to_service(aino, desk["queue"])
    aino.post(f"/chat/conversations/{conversation_of(app).id}/claim")
    assert "customer-changed" in events(sara_socket, "/customer")
    assert "You are next in the queue." in sara.get("/chat/customer/conversation").get_data(as_text=True)
    sara_socket.disconnect(namespace="/customer")
    aino_socket.disconnect()


def test_queue_admin_creates_a_queue(app, make_user, desk):
    from common.access import Role

    make_user("sirpa", (Role.SERVICE_ADMIN, None))
    admin = logged_in(app, "sirpa")
    bad = admin.post("/chat/admin/queues/new", data={"name": "", "unit": desk["library"]})
    assert bad.status_code == 422
    ok = admin.post("/chat/admin/queues/new", data={"name": "Tietokoneopastus", "unit": desk["library"], "is_open": "y",
                                                   "waiting_message": "Hetki"})
    assert ok.status_code == 302
    assert "Tietokoneopastus" in admin.get("/chat/admin/queues").get_data(as_text=True)


def test_agent_service_login_lists_only_chosen_queues(app, desk):
    aino = logged_in(app, "aino")
    assert "You are logged out" in aino.get("/chat/").get_data(as_text=True)
    assert aino.post("/chat/service/login", data={"queues": [], "display_name": "A"}).status_code == 422
    assert aino.post("/chat/service/login",
                     data={"queues": [desk["queue"]], "display_name": "Aino A."}).status_code == 302
    html = aino.get("/chat/").get_data(as_text=True)
    assert "Logged in as Aino A." in html and "Neuvonta" in html
    aino.post("/chat/service/logout")
    assert "You are logged out" in aino.get("/chat/").get_data(as_text=True)


def test_waiting_message_change_by_agent(app, client, desk):
    join(client, desk)
    aino = logged_in(app, "aino")
    assert aino.post(f"/chat/queues/{desk['queue']}/settings",
                     data={"waiting_message": "Uusi viesti"}).status_code == 200
    assert "Uusi viesti" in client.get("/chat/customer/conversation").get_data(as_text=True)


def test_messages_are_rate_limited(app, client, desk):
    from extensions import limiter

    limiter.reset()
    limiter.enabled = True
    try:
        join(client, desk)
        sent = [client.post("/chat/customer/message", data={"body": f"m{i}"}).status_code for i in range(31)]
        assert sent[:30] == [200] * 30 and sent[30] == 429
    finally:
        limiter.enabled = False
        limiter.reset()


@pytest.fixture
def join_limits(app, monkeypatch):
    from extensions import limiter

    monkeypatch.setitem(app.config, "CHAT_JOIN_RATE_LIMIT", "4 per minute")
    monkeypatch.setitem(app.config, "CHAT_JOIN_SESSION_RATE_LIMIT", "2 per minute")
    limiter.reset()
    limiter.enabled = True
    yield
    limiter.enabled = False
    limiter.reset()


def test_only_successful_joins_count_against_the_limit_of_a_browser(app, desk, join_limits):
    browser = app.test_client()
    for _ in range(6):  # a name forgotten, again and again: refused at the field, never counted
        assert browser.post("/chat/customer/", data={"queue": desk["queue"], "name": ""}).status_code == 422
    assert join(browser, desk).status_code == 302
    browser.post("/chat/customer/leave")
    assert join(browser, desk).status_code == 302
    browser.post("/chat/customer/leave")

    assert join(browser, desk).status_code == 429  # this browser session's own limit
    assert join(app.test_client(), desk, name="Sara").status_code == 302  # the next PC of the room joins


def test_an_address_is_limited_too_with_its_limit_in_the_configuration(app, desk, join_limits):
    statuses = [join(app.test_client(), desk, name=f"C{i}").status_code for i in range(5)]  # five browsers, one address
    assert statuses == [302, 302, 302, 302, 429]


def test_the_join_limits_are_settings_the_environment_can_set():
    from config import DefaultConfig, environment_settings

    assert DefaultConfig.CHAT_JOIN_RATE_LIMIT == "30 per minute"
    assert DefaultConfig.CHAT_JOIN_SESSION_RATE_LIMIT == "5 per minute"
    assert environment_settings({"CHAT_JOIN_RATE_LIMIT": "60 per minute",
                                 "CHAT_JOIN_SESSION_RATE_LIMIT": "3 per minute"}) == {
        "CHAT_JOIN_RATE_LIMIT": "60 per minute", "CHAT_JOIN_SESSION_RATE_LIMIT": "3 per minute"}


def test_the_customer_list_shows_state_as_text_and_waiting_time(app, client, desk):
    join(client, desk)
    aino = logged_in(app, "aino")
    html = aino.get(f"/chat/partials/customers?queue={desk['queue']}").get_data(as_text=True)
    assert "chat-dot-waiting" in html and "waiting" in html and ">0 min</span>" in html and "data-waited-since=" in html


def test_new_messages_badge_shows_until_the_serving_agent_opens_the_chat(app, client, desk):
    join(client, desk)
    c = conversation_of(app)
    aino = logged_in(app, "aino")
    log_in_to_service(aino, desk["queue"])
    aino.post(f"/chat/conversations/{c.id}/claim")
    aino.get(f"/chat/partials/chat?conversation={c.id}")
    assert "New messages!" not in aino.get("/chat/partials/active").get_data(as_text=True)
    client.post("/chat/customer/message", data={"body": "Hei?"})
    assert "New messages!" in aino.get("/chat/partials/active").get_data(as_text=True)
    assert "New messages!" in aino.get(f"/chat/partials/customers?queue={desk['queue']}").get_data(as_text=True)
    # The open chat itself shows no badge for its own conversation, and opening it clears the flag.
    assert "New messages!" not in aino.get(f"/chat/partials/active?conversation={c.id}").get_data(as_text=True)
    aino.get(f"/chat/partials/chat?conversation={c.id}")
    assert "New messages!" not in aino.get("/chat/partials/active").get_data(as_text=True)


@pytest.mark.parametrize("language, state, joined", [("fi", "jonossa", "saapui"), ("nl", "wacht", "binnengekomen")])
def test_the_customer_list_names_the_state_once_in_each_language(app, client, desk, language, state, joined):
    join(client, desk)
    aino = logged_in(app, "aino")
    aino.post("/language", data={"language": language})
    html = aino.get(f"/chat/partials/customers?queue={desk['queue']}",
                    headers={"Accept-Language": language}).get_data(as_text=True)
    row = html[html.index('class="chat-customer"'):html.index("</li>")]
    # Said for screen readers (a waiting customer's minutes show instead); the joining in the name's title.
    assert f'<span class="chat-state visually-hidden">{state}</span>' in row and f'title="{joined} ' in row
    assert len(re.findall(rf"\b{state}\b", row)) == 1  # not "jonossa jonossa"


def test_the_customer_pages_speak_for_the_library_not_the_staff(app, client, desk):
    joining = client.get("/chat/customer/").get_data(as_text=True)
    join(client, desk)
    waiting = client.get("/chat/customer/").get_data(as_text=True)
    for page in (joining, waiting):
        assert "Library staff" not in page
        assert "<title>Chat with the library · The library</title>" in page
        assert '<a class="site-name" href="/chat/customer/">The library</a>' in page
    staff = logged_in(app, "aino")
    assert "<title>Chat queue · Library staff</title>" in staff.get("/chat/").get_data(as_text=True)


@pytest.mark.parametrize("language", ["fi", "sv", "nl", "en"])
def test_logging_out_of_customer_service_and_of_the_site_are_told_apart(app, desk, language):
    aino = logged_in(app, "aino")
    aino.post("/language", data={"language": language})
    log_in_to_service(aino, desk["queue"])
    html = aino.get("/chat/").get_data(as_text=True)
    labels = dict(re.findall(r'<form method="post" action="(/chat/service/logout|/logout)">'
                             r'.*?<button type="submit"[^>]*>([^<]+)</button>', html, re.S))
    assert set(labels) == {"/chat/service/logout", "/logout"}
    assert labels["/chat/service/logout"] != labels["/logout"]


def test_new_customer_shows_at_the_queue_where_they_wait(app, client, desk):
    from blueprints.chat.models import ChatQueue

    with app.app_context():
        other = ChatQueue(unit_id=desk["library"], name="Tietokoneopastus", is_open=True, waiting_message="")
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    aino = logged_in(app, "aino")
    aino.post("/chat/service/login", data={"queues": [desk["queue"], other_id], "display_name": "Aino"})
    client.post("/chat/customer/", data={"queue": other_id, "name": "Toni"})

    html = aino.get("/chat/partials/queues").get_data(as_text=True)
    items = dict(re.findall(r"<li><a [^>]*>([^<]+)</a>(.*?)</li>", html, re.S))
    assert "New customer!" in items["Tietokoneopastus"] and "1 waiting" in items["Tietokoneopastus"]
    assert f'data-queue-new="{other_id}">' in items["Tietokoneopastus"]  # shown
    assert f'data-queue-new="{desk["queue"]}" hidden>' in items["Neuvonta"]
    assert html.count("hidden>New customer!") == 1


def test_once_the_chat_has_ended_the_customer_page_shows_no_transcript(app, client, desk):
    """A library PC after a chat: the next person at it sees nothing of it; the token ends with the chat."""
    assert join(client, desk, question="Lainani myöhästyi").status_code == 302
    assert "Lainani myöhästyi" in client.get("/chat/customer/conversation").text
    with app.app_context():
        c = db.session.scalar(db.select(Conversation))
        db.session.add(ChatMessage(conversation_id=c.id, sender="agent", author_name="Aino",
                                   body="Uusin sen puolestasi"))
        c.state = ConversationState.ENDED
        db.session.commit()
    ended = client.get("/chat/customer/conversation").text
    assert "The chat has ended." in ended
    assert "Lainani myöhästyi" not in ended and "Uusin sen puolestasi" not in ended
    with client.session_transaction() as session:
        assert "chat_customer" not in session
    for page in (client.get("/chat/customer/conversation").text, client.get("/chat/customer/").text):
        assert "Lainani myöhästyi" not in page and "Uusin sen puolestasi" not in page


def line_ids(html):
    return [int(n) for n in re.findall(r'data-item="(\d+)"', html)]


def test_a_page_reads_only_the_lines_after_the_last_it_shows(app, client, desk):
    join(client, desk, question="Ensimmäinen")
    for body in ("Toinen", "Kolmas"):
        client.post("/chat/customer/message", data={"body": body})
    with app.app_context():
        ids = list(db.session.scalars(db.select(ChatMessage.id).order_by(ChatMessage.id)))
    c = conversation_of(app)
    aino, olli = logged_in(app, "aino"), logged_in(app, "olli")

    # The desk: all three lines at first, then just those after the one it shows last.
    assert line_ids(aino.get(f"/chat/partials/conversations/{c.id}/lines").get_data(as_text=True)) == ids
    after_first = aino.get(f"/chat/partials/conversations/{c.id}/lines?after={ids[0]}").get_data(as_text=True)
    assert line_ids(after_first) == ids[1:] and "Kolmas" in after_first and "Ensimmäinen" not in after_first
    assert aino.get(f"/chat/partials/conversations/{c.id}/lines?after={ids[-1]}").get_data(as_text=True).strip() == ""
    # The customer's page the same, for their own chat only; another unit's agent reads nothing.
    assert line_ids(client.get(f"/chat/customer/lines?after={ids[1]}").get_data(as_text=True)) == ids[2:]
    assert olli.get(f"/chat/partials/conversations/{c.id}/lines").status_code == 404
    assert aino.get(f"/chat/partials/conversations/{c.id}/lines?after=x").status_code == 404


def test_the_page_lists_each_line_for_reading_on(app, client, desk):
    join(client, desk, question="Hei")
    html = client.get("/chat/customer/conversation").get_data(as_text=True)
    assert 'id="chat-lines"' in html and "data-live-append" in html and 'data-live-events="customer-line"' in html
    assert len(line_ids(html)) == 1


@needs_local_socketio
def test_a_new_line_comes_rendered_in_its_readers_languages_after_the_line_before_it(app, client, desk,
                                                                                     make_user):
    make_user("stina", (Role.CHAT_AGENT, desk["library"]), language="sv")
    make_user("nelleke", (Role.CHAT_AGENT, desk["other"]), language="nl")  # another library's
    client.post("/language", data={"language": "fi"})  # the customer's page in Finnish
    join(client, desk, question="Ensin")
    c = conversation_of(app)
    aino, aino_socket = staff_socket(app, "aino")
    log_in_to_service(aino, desk["queue"])
    aino.post(f"/chat/conversations/{c.id}/claim")
    toni_socket = customer_socket(app, client)
    aino_socket.get_received()
    with app.app_context():
        before = db.session.scalar(db.select(db.func.max(ChatMessage.id)).where(ChatMessage.conversation_id == c.id))

    client.post("/chat/customer/message", data={"body": "Hei <b>kirjasto</b>"})

    with app.app_context():
        line = db.session.scalar(db.select(db.func.max(ChatMessage.id)).where(ChatMessage.conversation_id == c.id))
    staff = [e["args"][0]["data"] for e in aino_socket.get_received() if e["name"] == "live"]
    customer = [e["args"][0]["data"] for e in toni_socket.get_received("/customer") if e["name"] == "live"]
    for data in (staff[0], customer[0]):
        assert data["item"] == line and data["previous"] == before
        assert sorted(data["html"]) == ["en", "fi", "sv"]  # the library's staff's and the customer's
        assert all(f'data-item="{line}"' in html and "Hei &lt;b&gt;kirjasto&lt;/b&gt;" in html
                   for html in data["html"].values())
    aino_socket.disconnect()
    toni_socket.disconnect(namespace="/customer")


@needs_local_socketio
def test_a_join_tells_the_queues_page_count_to_a_pager_that_waits_for_a_second_page(app, client, desk):
    from blueprints.chat.service import CUSTOMERS_PAGE_SIZE

    aino, aino_socket = staff_socket(app, "aino")
    for n in range(CUSTOMERS_PAGE_SIZE - 1):
        join(app.test_client(), desk, name=f"Jonottaja {n}")
    pager = f"/chat/partials/customers/pager?queue={desk['queue']}"
    one_page = aino.get(pager).text
    assert re.search(r"<nav [^>]*data-live-pager[^>]* hidden>", one_page)  # there, waiting for a second page
    assert 'data-pager-text="Page 1 of {pages}"' in one_page
    assert re.search(r'<a href="[^"]*page=2[^"]*" rel="next" data-pager-next hidden>', one_page)
    aino_socket.get_received()

    pages = []
    for n in range(3):
        join(app.test_client(), desk, name=f"Lisää {n}")
        pages += [e["args"][0]["data"]["pages"] for e in aino_socket.get_received() if e["name"] == "live"]
    assert pages == [1, 2, 2]  # the 25th fills the page, the 26th starts the next
    two_pages = aino.get(pager).text
    assert "Page 1 of 2" in two_pages and "hidden" not in two_pages
    assert "Page 2 of 2" in aino.get(pager + "&page=2").text
    aino_socket.disconnect()


@needs_local_socketio
def test_a_join_brings_the_new_customers_row_after_the_customer_before_them(app, client, desk, make_user):
    make_user("stina", (Role.CHAT_AGENT, desk["library"]), language="sv")
    make_user("nelleke", (Role.CHAT_AGENT, desk["other"]), language="nl")  # another library's
    aino, aino_socket = staff_socket(app, "aino")
    join(client, desk, name="Sara")
    sara = conversation_of(app, "Sara")
    aino_socket.get_received()

    join(app.test_client(), desk, name="Toni <i>")

    toni = conversation_of(app, "Toni <i>")
    joined = [e["args"][0]["data"] for e in aino_socket.get_received() if e["name"] == "live"][0]
    assert joined["kind"] == "join" and joined["item"] == toni.id and joined["previous"] == sara.id
    assert sorted(joined["html"]) == ["en", "sv"]  # rendered in the languages of the library's staff only
    row = joined["html"]["en"]
    assert f'data-item="{toni.id}"' in row and "Toni &lt;i&gt;" in row and ">0 min</span>" in row
    # Its minutes grow in each page (static/js/chat-waits.js), from when the customer joined.
    assert f'data-waited-since="{toni.joined_at:%Y-%m-%dT%H:%M:%SZ}"' in row
    # The same row as the desk's own list shows it.
    page = aino.get(f"/chat/partials/customers?queue={desk['queue']}").get_data(as_text=True)
    assert f'data-item="{toni.id}"' in page and 'data-live-list data-live-capacity="25"' in page
    aino_socket.disconnect()
