"""An agent whose connection drops, and the last agent leaving a queue where customers wait.

The grace period is tested with fixed times: the presence rows (chat_staff_presence, kept by
the internal chat from real sockets) are written as a socket coming and going would leave them.
"""
import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from blueprints.chat import queues, service, staffing
from blueprints.chat.models import (
    AgentSession,
    ChatMessage,
    Conversation,
    ConversationState,
    StaffPresence,
)
from common.audit import AuditEvent
from common.mail import OutboxMail
from extensions import db, socketio
from tests.chat.conftest import conversation, log_in_to_service, queue, user
from tests.conftest import in_threads, logged_in, needs_local_socketio

T0 = datetime(2026, 3, 10, 9, 0, 0)
GRACE = timedelta(seconds=120)  # CHAT_AGENT_GRACE_SECONDS, the default
LIVE_TIMEOUT = timedelta(seconds=150)  # internal.LIVE_TIMEOUT: a count not heard of for longer is not live
SECOND = timedelta(seconds=1)


def session_of(user_id):
    return db.session.scalar(select(AgentSession).where(AgentSession.user_id == user_id)
                             .execution_options(populate_existing=True))


def sockets(user_id, count, last_seen):
    """The agent's presence as the internal chat keeps it: open sockets, last heard of."""
    row = db.session.get(StaffPresence, user_id) or StaffPresence(user_id=user_id)
    row.sockets, row.last_seen = count, last_seen
    db.session.add(row)
    db.session.commit()


def agent_lost_lines():
    return db.session.scalar(select(func.count()).select_from(ChatMessage).where(ChatMessage.body == "agent_lost"))


@pytest.fixture
def served(in_request, desk):
    """Aino is logged in to customer service (at T0) and serves Toni, with one page open since T0."""
    queues.log_in_to_service(user(desk["aino"]), [desk["queue"]], "Aino").started_at = T0
    toni = service.join(queue(desk["queue"]), "Toni")
    service.claim(toni.id, user(desk["aino"]))
    sockets(desk["aino"], 1, T0)
    return toni.id


def close_last_page(desk, at=T0):
    sockets(desk["aino"], 0, at)
    staffing.agent_maybe_gone(user(desk["aino"]), now=at)


def test_the_customers_return_to_the_queue_only_after_the_grace_period(desk, served):
    close_last_page(desk)
    assert session_of(desk["aino"]).disconnected_at == T0

    assert staffing.release_abandoned(T0 + GRACE - SECOND) == []
    assert conversation(served).state == ConversationState.SERVED

    assert staffing.release_abandoned(T0 + GRACE) == [served]
    toni = conversation(served)
    assert toni.state == ConversationState.WAITING and toni.agent_id is None and toni.agent_name is None
    assert toni.messages[-1].body == "agent_lost"
    # Her customer-service login ended, so the queue no longer looks staffed.
    assert session_of(desk["aino"]) is None
    assert not staffing.is_staffed(queue(desk["queue"]))
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["chat.released", "chat.service_logout"]


def test_the_grace_period_is_a_setting(app, desk, served):
    app.config["CHAT_AGENT_GRACE_SECONDS"] = 30
    try:
        close_last_page(desk)
        assert staffing.release_abandoned(T0 + timedelta(seconds=30)) == [served]
    finally:
        app.config["CHAT_AGENT_GRACE_SECONDS"] = 120


def test_reconnecting_within_the_grace_period_keeps_the_customers(desk, served):
    close_last_page(desk)
    sockets(desk["aino"], 1, T0 + 30 * SECOND)
    staffing.agent_back(user(desk["aino"]))

    assert session_of(desk["aino"]).disconnected_at is None
    assert staffing.release_abandoned(T0 + GRACE) == []
    assert conversation(served).agent_id == desk["aino"]


def test_closing_one_of_two_pages_is_not_a_disconnect(desk, served):
    sockets(desk["aino"], 1, T0)  # two pages were open; one closed, one still counts
    staffing.agent_maybe_gone(user(desk["aino"]), now=T0)

    assert session_of(desk["aino"]).disconnected_at is None
    assert staffing.release_abandoned(T0 + GRACE) == []


def test_an_agent_who_logs_out_of_the_site_starts_the_grace_period(app, desk):
    aino = logged_in(app, "aino")
    log_in_to_service(aino, desk["queue"], "Aino")

    aino.post("/logout")

    with app.app_context():
        assert session_of(desk["aino"]).disconnected_at is not None


def test_a_server_process_that_stopped_leaves_its_agents_gone_since_last_heard(desk, served):
    """No goodbye: the count stays at 1 but nobody hears of it after T0 (no heartbeat)."""
    assert staffing.sweep(T0 + LIVE_TIMEOUT) == []  # still live
    assert session_of(desk["aino"]).disconnected_at is None

    assert staffing.sweep(T0 + LIVE_TIMEOUT + SECOND) == [served]  # gone since T0, past the grace period
    assert conversation(served).state == ConversationState.WAITING


def test_a_second_sweep_releases_nothing_twice(desk, served):
    close_last_page(desk)
    assert staffing.release_abandoned(T0 + GRACE) == [served]
    assert staffing.release_abandoned(T0 + GRACE) == []
    assert agent_lost_lines() == 1


def test_two_processes_sweeping_at_once_release_the_customer_once(app, desk, served):
    close_last_page(desk)
    db.session.remove()
    barrier = threading.Barrier(2)
    results = []

    def sweep():
        with app.test_request_context(headers={"Accept-Language": "en"}):
            barrier.wait()
            try:
                results.append(staffing.release_abandoned(T0 + GRACE))
            finally:
                db.session.remove()

    in_threads(sweep, [()] * 2)
    assert sorted(results) == [[], [served]]
    assert agent_lost_lines() == 1


def test_an_agent_who_comes_back_after_the_sweep_looked_keeps_the_customers(desk, served):
    """The conditional DELETE of the service login: a sweep that saw the agent gone does
    nothing once the agent has a live socket again."""
    close_last_page(desk)
    [agent] = staffing.abandoned_agents(T0 + GRACE)
    sockets(desk["aino"], 1, T0 + GRACE)  # back, just in time; her agent_back has not run yet

    assert staffing.release_agent(agent, T0 + GRACE) == []
    assert conversation(served).agent_id == desk["aino"] and session_of(desk["aino"]) is not None


def test_the_same_gone_agent_is_taken_once(desk, served):
    close_last_page(desk)
    [agent] = staffing.abandoned_agents(T0 + GRACE)  # both processes saw the same agent

    assert staffing.release_agent(agent, T0 + GRACE) == [served]
    assert staffing.release_agent(agent, T0 + GRACE) == []
    assert agent_lost_lines() == 1


def test_a_customer_released_or_claimed_by_someone_else_meanwhile_is_not_taken_away(desk, served):
    """The conditional UPDATE: only a customer still served by the gone agent is released."""
    assert staffing.release_to_queue(served, desk["aino"]) is True
    assert staffing.release_to_queue(served, desk["aino"]) is False  # already back in the queue
    queues.log_in_to_service(user(desk["erja"]), [desk["queue"]], "Erja")
    service.claim(served, user(desk["erja"]))
    assert staffing.release_to_queue(served, desk["aino"]) is False  # Erja serves now
    toni = conversation(served)
    assert toni.agent_id == desk["erja"]
    assert [m.body for m in toni.messages].count("agent_lost") == 1


@needs_local_socketio
def test_a_real_socket_going_and_coming_back_sets_and_clears_the_disconnect_time(app, desk):
    aino = logged_in(app, "aino")
    log_in_to_service(aino, desk["queue"], "Aino")

    socket = socketio.test_client(app, flask_test_client=aino)
    with app.app_context():
        assert session_of(desk["aino"]).disconnected_at is None
    socket.disconnect()
    with app.app_context():
        assert session_of(desk["aino"]).disconnected_at is not None

    again = socketio.test_client(app, flask_test_client=aino)
    with app.app_context():
        assert session_of(desk["aino"]).disconnected_at is None
    again.disconnect()


# ---- the last agent of a queue -------------------------------------------------------------------

def test_the_last_agent_is_warned_only_while_customers_wait_and_nobody_else_serves(in_request, desk):
    aino = user(desk["aino"])
    queues.log_in_to_service(aino, [desk["queue"]], "Aino")
    assert staffing.queues_left_unstaffed(aino) == []  # nobody waits

    service.join(queue(desk["queue"]), "Toni")
    service.join(queue(desk["queue"]), "Sara")
    assert staffing.queues_left_unstaffed(aino) == [(queue(desk["queue"]), 2)]

    queues.log_in_to_service(user(desk["erja"]), [desk["queue"]], "Erja")
    assert staffing.queues_left_unstaffed(aino) == []  # Erja stays


def test_logging_out_as_the_last_agent_asks_first_then_tells_the_waiting_customers(app, client, desk):
    with app.app_context():
        queue(desk["queue"]).contact_email = "neuvonta@example.org"
        db.session.commit()
    aino = logged_in(app, "aino")
    log_in_to_service(aino, desk["queue"], "Aino")
    client.post("/chat/customer/", data={"queue": desk["queue"], "name": "Toni"})
    assert "Nobody is serving this queue" not in client.get("/chat/customer/conversation").get_data(as_text=True)

    warning = aino.post("/chat/service/logout")

    html = warning.get_data(as_text=True)
    assert warning.status_code == 200
    assert "Customers are waiting" in html
    assert "<strong>Neuvonta</strong>: 1 waiting" in html
    assert "Log out anyway" in html
    assert "In these queues they may leave their question by email instead: Neuvonta." in html
    with app.app_context():
        assert session_of(desk["aino"]) is not None  # still logged in

    assert aino.post("/chat/service/logout", data={"confirm": "yes"}).status_code == 302
    with app.app_context():
        assert session_of(desk["aino"]) is None
    page = client.get("/chat/customer/conversation").get_data(as_text=True)
    assert "Nobody is serving this queue at the moment." in page
    assert 'id="customer-question"' in page and "Leave your question by email" in page


def test_the_warning_offers_email_only_for_queues_with_a_contact_address(app, client, desk):
    aino = logged_in(app, "aino")
    log_in_to_service(aino, desk["queue"], "Aino")
    client.post("/chat/customer/", data={"queue": desk["queue"], "name": "Toni"})

    html = aino.post("/chat/service/logout").get_data(as_text=True)

    assert "Customers are waiting" in html and "the waiting customers are told that nobody is serving." in html
    assert "by email" not in html


def test_an_agent_who_is_not_the_last_logs_out_at_once(app, client, desk):
    aino, erja = logged_in(app, "aino"), logged_in(app, "erja")
    for agent in (aino, erja):
        log_in_to_service(agent, desk["queue"], "A")
    client.post("/chat/customer/", data={"queue": desk["queue"], "name": "Toni"})

    assert aino.post("/chat/service/logout").status_code == 302
    assert "Nobody is serving" not in client.get("/chat/customer/conversation").get_data(as_text=True)


@needs_local_socketio
def test_waiting_customers_hear_live_that_the_last_agent_left(app, client, desk):
    aino = logged_in(app, "aino")
    log_in_to_service(aino, desk["queue"], "Aino")
    client.post("/chat/customer/", data={"queue": desk["queue"], "name": "Toni"})
    customer = socketio.test_client(app, namespace="/customer", flask_test_client=client)
    customer.get_received("/customer")

    aino.post("/chat/service/logout", data={"confirm": "yes"})

    events = [e["args"][0]["event"] for e in customer.get_received("/customer") if e["name"] == "live"]
    assert "customer-changed" in events
    customer.disconnect(namespace="/customer")


def test_without_a_contact_address_the_customer_is_told_but_offered_no_form(app, client, desk):
    client.post("/chat/customer/", data={"queue": desk["queue"], "name": "Toni"})
    page = client.get("/chat/customer/conversation").get_data(as_text=True)
    assert "Nobody is serving this queue at the moment." in page and "You can keep waiting, or come back later." in page
    assert 'id="customer-question"' not in page
    assert client.post("/chat/customer/question",
                       data={"email": "toni@example.org", "question": "Hei"}).status_code == 409


def test_a_waiting_customer_leaves_the_question_by_email(app, client, desk):
    with app.app_context():
        queue(desk["queue"]).contact_email = "neuvonta@example.org"
        db.session.commit()
    client.post("/chat/customer/", data={"queue": desk["queue"], "name": "Toni"})

    bad = client.post("/chat/customer/question", data={"email": "toni", "question": "Miten uusin lainat?"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert 'id="email-error"' in html and "Enter an email address like name@example.fi." in html
    assert "Miten uusin lainat?" in html and 'hx-preserve' not in html  # values kept; the answer replaces the form
    empty = client.post("/chat/customer/question", data={"email": "toni@example.org", "question": " "})
    assert empty.status_code == 422 and "Write your question." in empty.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(OutboxMail.id)) is None

    sent = client.post("/chat/customer/question", data={"email": "toni@example.org", "question": "Miten uusin lainat?"})

    assert sent.status_code == 200
    assert "Your question has been sent to the library by email." in sent.get_data(as_text=True)
    with app.app_context():
        mail = db.session.scalar(select(OutboxMail))
        assert mail.recipient == "neuvonta@example.org"
        assert "Miten uusin lainat?" in mail.body and "toni@example.org" in mail.body and "Toni" in mail.body
        toni = db.session.scalar(select(Conversation))
        assert toni.state == ConversationState.ENDED
        assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "chat.question_emailed"))

    # The live refresh that follows (the visit has ended) still says the question went out.
    after = client.get("/chat/customer/conversation").get_data(as_text=True)
    assert "Your question has been sent to the library by email." in after and "The chat has ended." in after
    assert "Miten uusin lainat?" not in after  # nothing of what was said

