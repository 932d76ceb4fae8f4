"""Customers who close the tab: their page's sockets are kept on the conversation, and after the
grace period a waiting customer leaves the queue and a served customer's chat ends.

Fixed times, as in test_staffing.py: the presence columns are written by the same functions the
customer namespace's connect, disconnect and heartbeat handlers call.
"""
import threading
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from blueprints.chat import queues, service, staffing, statistics
from blueprints.chat.models import ChatMessage, ChatQueue, Conversation, ConversationState
from common.audit import AuditEvent
from config import environment_settings
from extensions import db, socketio
from tests.chat.conftest import conversation, queue, user
from tests.conftest import in_threads, needs_local_socketio

T0 = datetime(2026, 3, 10, 9, 0, 0)  # 11:00 in Helsinki
GRACE = timedelta(seconds=60)  # CHAT_CUSTOMER_GRACE_SECONDS, the default
LIVE_TIMEOUT = timedelta(seconds=150)  # internal.LIVE_TIMEOUT
SECOND = timedelta(seconds=1)


def gone_lines(conversation_id):
    return db.session.scalar(select(func.count()).select_from(ChatMessage).where(
        ChatMessage.conversation_id == conversation_id, ChatMessage.body == "customer_gone"))


def joined(desk, name="Toni"):
    """A customer who joined just before T0 and whose page connected at T0."""
    c = service.join(queue(desk["queue"]), name)
    c.joined_at = T0 - 10 * SECOND
    db.session.commit()
    staffing.customer_connected(c.id, now=T0)
    return c.id


@pytest.fixture
def waiting(in_request, desk):
    return joined(desk)


@pytest.fixture
def served(in_request, desk):
    toni = joined(desk)
    queues.log_in_to_service(user(desk["aino"]), [desk["queue"]], "Aino")
    service.claim(toni, user(desk["aino"]))
    return toni


def test_a_waiting_customer_whose_page_closed_leaves_the_queue_after_the_grace_period(desk, waiting):
    staffing.customer_disconnected(waiting, now=T0)
    assert conversation(waiting).customer_gone_at == T0

    staffing.sweep(T0 + GRACE - SECOND)
    assert conversation(waiting).state == ConversationState.WAITING

    staffing.sweep(T0 + GRACE)
    toni = conversation(waiting)
    assert toni.state == ConversationState.ENDED and toni.ended_at == T0 + GRACE
    assert toni.messages[-1].body == "customer_gone"
    assert service.waiting(desk["queue"]) == []
    assert db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc())) == "chat.customer_gone"
    # In the statistics: a customer who left before being served.
    figures = statistics.figures([db.session.get(ChatQueue, desk["queue"])], date(2026, 3, 10), date(2026, 3, 10))
    assert figures.left_unserved == 1 and figures.chats == 0


def test_a_reload_within_the_grace_period_changes_nothing(desk, waiting):
    staffing.customer_disconnected(waiting, now=T0)
    staffing.customer_connected(waiting, now=T0 + 2 * SECOND)  # the reloaded page's socket

    assert conversation(waiting).customer_gone_at is None
    staffing.sweep(T0 + GRACE + SECOND)
    assert conversation(waiting).state == ConversationState.WAITING
    assert gone_lines(waiting) == 0


def test_closing_one_of_two_tabs_is_not_leaving(desk, waiting):
    staffing.customer_connected(waiting, now=T0)  # a second tab of the same browser
    staffing.customer_disconnected(waiting, now=T0 + SECOND)

    assert conversation(waiting).customer_gone_at is None
    staffing.sweep(T0 + GRACE + 2 * SECOND)
    assert conversation(waiting).state == ConversationState.WAITING


def test_a_served_customers_chat_ends_with_a_line_for_the_agent_who_can_still_email_it(desk, served):
    staffing.customer_disconnected(served, now=T0 + SECOND)
    staffing.sweep(T0 + GRACE)
    assert conversation(served).state == ConversationState.SERVED

    staffing.sweep(T0 + SECOND + GRACE)

    toni = conversation(served)
    assert toni.state == ConversationState.ENDED and toni.agent_id == desk["aino"]
    assert toni.messages[-1].body == "customer_gone" and toni.unread_by_agent
    assert service.SYSTEM_NOTICES["customer_gone"] == "The customer has left."
    assert service.served_by(user(desk["aino"])) == []
    assert service.may_email_transcript(user(desk["aino"]), toni)


def test_a_page_whose_server_stopped_is_gone_since_it_was_last_heard_of(desk, waiting):
    """No goodbye: the count stays at 1, but nobody hears of it after T0 (no heartbeat)."""
    staffing.sweep(T0 + LIVE_TIMEOUT)
    assert conversation(waiting).customer_gone_at is None

    staffing.sweep(T0 + LIVE_TIMEOUT + SECOND)
    assert conversation(waiting).customer_gone_at == T0  # gone since last heard of, past the grace period
    assert conversation(waiting).state == ConversationState.ENDED


def test_the_heartbeat_keeps_the_page_live(desk, waiting):
    staffing.customer_heard(waiting, now=T0 + 100 * SECOND)
    staffing.sweep(T0 + LIVE_TIMEOUT + GRACE)
    assert conversation(waiting).state == ConversationState.WAITING


def test_a_page_that_came_back_after_the_sweep_looked_stays(desk, waiting):
    staffing.customer_disconnected(waiting, now=T0)
    [gone] = staffing.gone_customers(T0 + GRACE)
    staffing.customer_connected(waiting, now=T0 + GRACE)  # back at the last moment

    assert staffing.end_gone_customer(gone, T0 + GRACE) is False
    assert conversation(waiting).state == ConversationState.WAITING


def test_a_customer_claimed_after_the_sweep_looked_is_not_ended_as_waiting(desk, waiting):
    staffing.customer_disconnected(waiting, now=T0)
    [gone] = staffing.gone_customers(T0 + GRACE)
    queues.log_in_to_service(user(desk["aino"]), [desk["queue"]], "Aino")
    service.claim(waiting, user(desk["aino"]))

    assert staffing.end_gone_customer(gone, T0 + GRACE) is False
    assert conversation(waiting).state == ConversationState.SERVED
    staffing.sweep(T0 + GRACE)  # the next round sees a served customer who is gone
    assert conversation(waiting).state == ConversationState.ENDED and gone_lines(waiting) == 1


def test_a_second_sweep_ends_nothing_twice(desk, waiting):
    staffing.customer_disconnected(waiting, now=T0)
    assert staffing.end_gone_customers(T0 + GRACE) == [waiting]
    assert staffing.end_gone_customers(T0 + GRACE) == []
    assert gone_lines(waiting) == 1


def test_two_processes_sweeping_at_once_end_the_customer_once(app, desk, waiting):
    staffing.customer_disconnected(waiting, now=T0)
    db.session.remove()
    barrier = threading.Barrier(2)
    results = []

    def sweep():
        with app.test_request_context(headers={"Accept-Language": "en"}):
            barrier.wait()
            try:
                staffing.mark_silent_customers(T0 + GRACE)
                results.append(staffing.end_gone_customers(T0 + GRACE))
            finally:
                db.session.remove()

    in_threads(sweep, [()] * 2)
    assert sorted(results) == [[], [waiting]]
    assert gone_lines(waiting) == 1


def test_the_grace_period_is_a_setting_the_environment_can_set(app, desk, waiting):
    assert environment_settings({"CHAT_CUSTOMER_GRACE_SECONDS": "5"}) == {"CHAT_CUSTOMER_GRACE_SECONDS": 5}
    app.config["CHAT_CUSTOMER_GRACE_SECONDS"] = 5
    try:
        staffing.customer_disconnected(waiting, now=T0)
        assert staffing.end_gone_customers(T0 + 5 * SECOND) == [waiting]
    finally:
        app.config["CHAT_CUSTOMER_GRACE_SECONDS"] = 60


def test_leave_ends_the_visit_at_once_with_the_page_still_open(app, client, desk):
    client.post("/chat/customer/", data={"queue": desk["queue"], "name": "Toni"})
    with app.app_context():
        toni = db.session.scalar(select(Conversation))
        staffing.customer_connected(toni.id)

    client.post("/chat/customer/leave")

    with app.app_context():
        toni = db.session.scalar(select(Conversation))
        assert toni.state == ConversationState.ENDED and toni.messages[-1].body == "left"


@needs_local_socketio
def test_the_customers_real_socket_is_counted_and_its_going_starts_the_grace_period(app, client, desk):
    client.post("/chat/customer/", data={"queue": desk["queue"], "name": "Toni"})
    socket = socketio.test_client(app, namespace="/customer", flask_test_client=client)
    with app.app_context():
        toni = db.session.scalar(select(Conversation))
        assert toni.customer_sockets == 1 and toni.customer_gone_at is None and toni.customer_seen_at

    socket.emit("chat-presence", namespace="/customer")
    socket.disconnect(namespace="/customer")

    with app.app_context():
        toni = db.session.scalar(select(Conversation))
        assert toni.customer_sockets == 0 and toni.customer_gone_at is not None
