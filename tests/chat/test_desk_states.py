"""The desk never shows a control or a state that is wrong for the state it shows (issue: the last
wrong states): a transfer leaves the old queue's list on the transferring desk, a served customer
offers no removal, and a new login to customer service has its own grace period."""
import json
import re
from datetime import datetime, timedelta

from sqlalchemy import select

from blueprints.chat import queues, service, staffing
from blueprints.chat.models import AgentSession, ChatQueue, ConversationState, StaffPresence
from common.refusals import Conflict
from extensions import db
from tests.chat.conftest import conversation, conversation_of, join, log_in_to_service, queue, staff_socket, user
from tests.conftest import logged_in, needs_local_socketio


def region_match(html, region_id):
    """The data-live-match of one live region of a page (templates/_macros.html: live_region)."""
    found = re.search(r'id="' + region_id + r'" data-live-region[^>]*?data-live-match=\'([^\']*)\'', html)
    assert found, region_id
    return json.loads(found.group(1))


def concerns(match, name, data):
    """static/js/live.js's rule: does the event concern a region with this data-live-match?"""
    def agrees(expected, actual):
        if isinstance(expected, list):
            return str(actual) in [str(e) for e in expected]
        if isinstance(expected, dict):
            return str(expected["not"]) != str(actual) if "not" in expected else float(actual) <= expected["max"]
        return str(expected) == str(actual)

    named = {"event": name, **data}
    return any(all(key not in named or agrees(value, named[key]) for key, value in condition.items())
               for condition in (match if isinstance(match, list) else [match]))


@needs_local_socketio
def test_after_a_transfer_within_the_unit_the_transferring_desk_re_reads_the_old_queues_list(app, client, desk):
    """Aino's desk shows Neuvonta's list with Toni being served; she transfers him to another queue
    of the same library. Her list must hear of it, and then no longer shows him."""
    with app.app_context():
        other = ChatQueue(unit_id=desk["library"], name="Tietokoneopastus", is_open=True, waiting_message="")
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    join(client, desk)
    toni = conversation_of(app)
    aino, socket = staff_socket(app, "aino")
    log_in_to_service(aino, desk["queue"], "Aino")
    aino.post(f"/chat/conversations/{toni.id}/claim")
    desk_page = aino.get(f"/chat/?queue={desk['queue']}&conversation={toni.id}").get_data(as_text=True)
    customers = region_match(desk_page, "chat-customers")
    socket.get_received()

    answer = aino.post(f"/chat/conversations/{toni.id}/transfer", data={"transfer-target": other_id})

    assert answer.status_code == 200
    heard = [e["args"][0] for e in socket.get_received() if e["name"] == "live"]
    assert any(concerns(customers, e["event"], e["data"]) for e in heard), heard
    listing = aino.get(f"/chat/partials/customers?queue={desk['queue']}&conversation={toni.id}").get_data(as_text=True)
    assert "Toni" not in listing and "Nobody in the queue." in listing
    socket.disconnect()


def test_a_served_customer_offers_no_removal_from_the_queue(app, client, desk):
    join(client, desk)
    toni = conversation_of(app)
    aino = logged_in(app, "aino")
    log_in_to_service(aino, desk["queue"], "Aino")
    waiting = aino.get(f"/chat/partials/chat?conversation={toni.id}").get_data(as_text=True)
    assert "Remove from queue" in waiting  # a waiting customer may be removed

    aino.post(f"/chat/conversations/{toni.id}/claim")

    served = aino.get(f"/chat/partials/chat?conversation={toni.id}").get_data(as_text=True)
    assert "Release to queue" in served and "End chat" in served
    assert "Remove from queue" not in served and f"/chat/conversations/{toni.id}/remove" not in served


def test_removing_a_served_customer_is_refused_and_changes_nothing(app, client, desk):
    join(client, desk)
    toni = conversation_of(app)
    aino = logged_in(app, "aino")
    log_in_to_service(aino, desk["queue"], "Aino")
    aino.post(f"/chat/conversations/{toni.id}/claim")

    answer = aino.post(f"/chat/conversations/{toni.id}/remove")

    assert answer.status_code == 409
    assert "release them to the queue or end the chat" in answer.get_data(as_text=True)
    with app.app_context():
        still = conversation(toni.id)
        assert still.state == ConversationState.SERVED and still.agent_id == desk["aino"]
        assert [m.body for m in still.messages] == ["served"]


def test_the_service_refuses_to_remove_a_served_customer(in_request, desk):
    queues.log_in_to_service(user(desk["aino"]), [desk["queue"]], "Aino")
    toni = service.join(queue(desk["queue"]), "Toni")
    service.claim(toni.id, user(desk["aino"]))
    try:
        service.remove(toni, user(desk["aino"]))
    except Conflict:
        pass
    else:
        raise AssertionError("a served customer was removed")
    db.session.rollback()
    assert conversation(toni.id).state == ConversationState.SERVED


T0 = datetime(2026, 3, 10, 9, 0, 0)
GRACE = timedelta(seconds=120)  # CHAT_AGENT_GRACE_SECONDS, the default


def test_a_new_login_without_a_live_socket_has_its_own_grace_period(in_request, desk):
    """Aino's presence was last heard of at T0 (her pages closed). Ten minutes later she logs in to
    customer service from a page whose socket is still reconnecting: the sweep a few seconds later
    must not log her out as if she had been gone since T0."""
    db.session.add(StaffPresence(user_id=desk["aino"], sockets=0, last_seen=T0))
    db.session.commit()
    logged_in_at = T0 + timedelta(minutes=10)
    queues.log_in_to_service(user(desk["aino"]), [desk["queue"]], "Aino")
    session = db.session.scalar(select(AgentSession).where(AgentSession.user_id == desk["aino"]))
    session.started_at = logged_in_at
    db.session.commit()

    staffing.sweep(logged_in_at + timedelta(seconds=5))

    db.session.expire_all()
    session = db.session.scalar(select(AgentSession).where(AgentSession.user_id == desk["aino"]))
    assert session is not None, "logged out seconds after logging in"
    assert session.disconnected_at == logged_in_at
    staffing.sweep(logged_in_at + GRACE - timedelta(seconds=1))
    assert service.agent_session(user(desk["aino"])) is not None
    staffing.sweep(logged_in_at + GRACE)  # still no socket after her own grace period: logged out
    db.session.expire_all()
    assert service.agent_session(user(desk["aino"])) is None


def test_an_agent_silent_since_after_the_login_is_gone_since_last_heard(in_request, desk):
    """The other side of the rule: heard of after logging in, gone since then."""
    queues.log_in_to_service(user(desk["aino"]), [desk["queue"]], "Aino")
    session = db.session.scalar(select(AgentSession).where(AgentSession.user_id == desk["aino"]))
    session.started_at = T0
    db.session.add(StaffPresence(user_id=desk["aino"], sockets=0, last_seen=T0 + timedelta(minutes=5)))
    db.session.commit()

    staffing.mark_silent_agents(T0 + timedelta(minutes=6))

    db.session.expire_all()
    assert db.session.scalar(select(AgentSession.disconnected_at)) == T0 + timedelta(minutes=5)
