"""The rules of the chat queue, at the service level."""
import threading

import pytest
from sqlalchemy import select

from blueprints.chat import queues, service, video
from blueprints.chat.models import (
    ChatMessage,
    ChatQueue,
    Conversation,
    ConversationState,
)
from common.refusals import Conflict, NotAllowed, Refused
from extensions import db
from tests.chat.conftest import on_duty, queue, user
from tests.conftest import in_threads


def test_join_puts_the_customer_in_line_with_the_first_question(in_request, desk):
    first = service.join(queue(desk["queue"]), "Toni", "Miten uusin lainat?")
    second = service.join(queue(desk["queue"]), "Sara")
    assert first.state == ConversationState.WAITING
    assert [m.body for m in first.messages] == ["Miten uusin lainat?"]
    assert first.unread_by_agent is True
    assert service.ahead_of(first) == 0 and service.ahead_of(second) == 1


def test_a_closed_queue_cannot_be_joined(in_request, desk):
    q = queue(desk["queue"])
    q.is_open = False
    db.session.commit()
    with pytest.raises(Refused):
        service.join(q, "Toni")


def test_claim_serves_the_customer_and_a_second_claim_is_refused(in_request, desk):
    on_duty(desk, "aino", "erja")
    c = service.join(queue(desk["queue"]), "Toni")
    service.claim(c.id, user(desk["aino"]))
    assert c.state == ConversationState.SERVED and c.agent_id == desk["aino"] and c.served_at
    with pytest.raises(Refused, match="already being served"):
        service.claim(c.id, user(desk["erja"]))
    db.session.refresh(c)
    assert c.agent_id == desk["aino"]


def test_an_agent_of_another_unit_cannot_claim(in_request, desk):
    c = service.join(queue(desk["queue"]), "Toni")
    with pytest.raises(NotAllowed):
        service.claim(c.id, user(desk["olli"]))


def test_only_an_agent_logged_in_to_the_queue_claims_its_customers(in_request, desk):
    other = ChatQueue(unit_id=desk["library"], name="Tietokoneopastus", is_open=True, waiting_message="")
    db.session.add(other)
    db.session.commit()
    on_duty(desk, "aino", queue_ids=[other.id])  # in customer service, but for another queue
    toni = service.join(queue(desk["queue"]), "Toni")
    for agent in ("aino", "erja"):  # erja is not in customer service at all
        with pytest.raises(NotAllowed):
            service.claim(toni.id, user(desk[agent]))
    db.session.refresh(toni)
    assert toni.state == ConversationState.WAITING and toni.messages == []
    on_duty(desk, "erja")
    service.claim(toni.id, user(desk["erja"]))
    assert toni.agent_id == desk["erja"]


def test_claim_race_with_real_threads_gives_the_customer_to_exactly_one_agent(app, desk):
    with app.test_request_context():
        on_duty(desk, "aino", "erja")
        conversation_id = service.join(queue(desk["queue"]), "Toni").id
    barrier = threading.Barrier(2)
    outcomes = {}

    def try_claim(agent):
        with app.test_request_context(headers={"Accept-Language": "en"}):
            barrier.wait()
            try:
                service.claim(conversation_id, user(desk[agent]))
                outcomes[agent] = "got it"
            except Refused as refusal:
                outcomes[agent] = str(refusal)
            finally:
                db.session.remove()

    in_threads(try_claim, [(a,) for a in ("aino", "erja")])
    assert sorted(outcomes.values()) == ["This customer is already being served.", "got it"]
    with app.app_context():
        c = db.session.get(Conversation, conversation_id)
        winner = next(a for a, o in outcomes.items() if o == "got it")
        assert c.agent_id == desk[winner]
        assert db.session.scalar(select(db.func.count()).select_from(ChatMessage).where(
            ChatMessage.conversation_id == conversation_id, ChatMessage.body == "served")) == 1


def test_release_returns_a_served_customer_and_keeps_the_place(in_request, desk):
    on_duty(desk, "aino")
    first = service.join(queue(desk["queue"]), "Toni")
    second = service.join(queue(desk["queue"]), "Sara")
    service.claim(first.id, user(desk["aino"]))
    assert service.ahead_of(second) == 0
    service.release(first, user(desk["aino"]))
    assert first.state == ConversationState.WAITING and first.agent_id is None
    assert first.messages[-1].body == "released"
    assert service.ahead_of(second) == 1


def test_releasing_a_customer_nobody_serves_is_refused(in_request, desk):
    c = service.join(queue(desk["queue"]), "Toni")
    with pytest.raises(Refused, match="Nobody is serving"):
        service.release(c, user(desk["aino"]))


def test_remove_takes_the_customer_out_and_tells_them(in_request, desk):
    c = service.join(queue(desk["queue"]), "Toni")
    service.remove(c, user(desk["erja"]))
    assert c.state == ConversationState.REMOVED and c.messages[-1].body == "removed"
    assert service.customers_of(desk["queue"]) == []
    with pytest.raises(Refused):
        service.send_as_customer(c, "Hei?")


def test_changing_the_waiting_message(in_request, desk):
    queues.change_waiting_message(queue(desk["queue"]), "  Palaamme pian  ", user(desk["aino"]))
    assert queue(desk["queue"]).waiting_message == "Palaamme pian"
    with pytest.raises(NotAllowed):
        queues.change_waiting_message(queue(desk["queue"]), "x", user(desk["olli"]))


def test_a_colleague_reads_but_cannot_write(in_request, desk):
    on_duty(desk, "aino")
    c = service.join(queue(desk["queue"]), "Toni")
    service.claim(c.id, user(desk["aino"]))
    erja = user(desk["erja"])
    assert service.may_read(erja, c) and not service.may_write(erja, c)
    with pytest.raises(NotAllowed):
        service.send_as_agent(c, erja, "Hei")
    assert not service.may_read(user(desk["olli"]), c)


def test_unread_flags_follow_who_wrote_and_who_read(in_request, desk):
    on_duty(desk, "aino")
    c = service.join(queue(desk["queue"]), "Toni")
    aino = user(desk["aino"])
    service.claim(c.id, aino)
    service.mark_read_by_agent(c, aino)
    assert not c.unread_by_agent
    service.send_as_customer(c, "Oletko siellä?")
    assert c.unread_by_agent
    service.mark_read_by_agent(c, user(desk["erja"]))  # a reader does not clear it
    assert c.unread_by_agent
    service.mark_read_by_agent(c, aino)
    assert not c.unread_by_agent
    service.send_as_agent(c, aino, "Olen")
    assert c.unread_by_customer
    service.mark_read_by_customer(c)
    assert not c.unread_by_customer


def test_messages_are_length_limited_and_not_empty(in_request, desk):
    c = service.join(queue(desk["queue"]), "Toni")
    with pytest.raises(Refused):
        service.send_as_customer(c, "   ")
    with pytest.raises(Refused):
        service.send_as_customer(c, "x" * (service.MESSAGE_MAX_LENGTH + 1))
    assert c.messages == []


def test_service_login_takes_only_queues_of_my_units(in_request, desk):
    with pytest.raises(NotAllowed):
        queues.log_in_to_service(user(desk["olli"]), [desk["queue"]], "Olli")
    session = queues.log_in_to_service(user(desk["aino"]), [desk["queue"]], "Aino A.")
    assert [a.display_name for a in queues.active_agents(desk["queue"])] == ["Aino A."]
    with pytest.raises(Refused):
        queues.log_in_to_service(user(desk["aino"]), [desk["queue"]], "Again")
    c = service.join(queue(desk["queue"]), "Toni")
    service.claim(c.id, user(desk["aino"]))
    assert c.agent_name == session.display_name == "Aino A."
    queues.log_out_of_service(user(desk["aino"]))
    assert queues.active_agents(desk["queue"]) == []


@pytest.fixture
def toni_served_by_aino(in_request, desk):
    on_duty(desk, "aino", "erja")
    c = service.join(queue(desk["queue"]), "Toni")
    service.claim(c.id, user(desk["aino"]))
    return c


@pytest.mark.parametrize("action", ["release", "remove", "end", "transfer", "video"])
def test_a_colleague_may_not_act_on_a_served_chat_and_nothing_changes(desk, toni_served_by_aino, action):
    other = ChatQueue(unit_id=desk["library"], name="Tietokoneopastus", is_open=True, waiting_message="")
    db.session.add(other)
    db.session.commit()
    erja, c = user(desk["erja"]), toni_served_by_aino
    lines = len(c.messages)
    act = {
        "release": lambda: service.release(c, erja),
        "remove": lambda: service.remove(c, erja),
        "end": lambda: service.end(c, erja),
        "transfer": lambda: service.transfer(c, other.id, "", erja),
        "video": lambda: video.start(c, erja),
    }[action]
    with pytest.raises(NotAllowed):
        act()
    db.session.rollback()
    db.session.refresh(c)
    assert c.state == ConversationState.SERVED and c.agent_id == desk["aino"] and c.queue_id == desk["queue"]
    assert len(c.messages) == lines


def test_any_agent_removes_a_waiting_customer_and_nobody_a_served_one(desk, toni_served_by_aino):
    with pytest.raises(Conflict):  # the serving agent releases Toni or ends the chat instead
        service.remove(toni_served_by_aino, user(desk["aino"]))
    db.session.rollback()
    assert toni_served_by_aino.state == ConversationState.SERVED
    sara = service.join(queue(desk["queue"]), "Sara")
    queues.log_out_of_service(user(desk["erja"]))  # removing a waiting customer needs no service login
    service.remove(sara, user(desk["erja"]))
    assert sara.state == ConversationState.REMOVED


def test_a_forged_customer_token_names_no_conversation(in_request, desk):
    c = service.join(queue(desk["queue"]), "Toni")
    assert service.conversation_for_token(service.customer_token(c)).id == c.id
    assert service.conversation_for_token(c.token) is None
    assert service.conversation_for_token("x.y") is None


def test_my_active_chats_put_the_longest_unanswered_first_with_the_customers_latest_line(in_request, desk):
    from datetime import timedelta

    from common.clock import utcnow

    on_duty(desk, "aino")
    aino = user(desk["aino"])
    a, b, c = (service.join(queue(desk["queue"]), name) for name in ("Anna", "Bertta", "Cecilia"))
    for chat in (a, b, c):
        service.claim(chat.id, aino)
    service.send_as_agent(b, aino, "Hei Bertta!")
    service.send_as_customer(c, "Cecilia kysyy ensin")
    service.send_as_customer(a, "Anna kysyy sitten")
    service.send_as_customer(a, "ja vielä toisen kerran")
    lines = {m.body: m for m in db.session.scalars(select(ChatMessage))}
    # Cecilia wrote first and waits longest; Anna's wait began at her first unanswered line.
    lines["Cecilia kysyy ensin"].sent_at = utcnow() - timedelta(minutes=5)
    lines["Anna kysyy sitten"].sent_at = utcnow() - timedelta(minutes=3)
    db.session.commit()

    active = service.served_by(aino)
    assert [chat.conversation.customer_name for chat in active] == ["Cecilia", "Anna", "Bertta"]
    assert [chat.last_line.body if chat.last_line else None for chat in active] == [
        "Cecilia kysyy ensin", "ja vielä toisen kerran", None]
    assert active[1].unanswered_since == lines["Anna kysyy sitten"].sent_at
    assert active[2].unanswered_since is None
    service.send_as_agent(c, aino, "Hei Cecilia!")  # answered: back among the answered, in the order taken
    assert [chat.conversation.customer_name for chat in service.served_by(aino)] == ["Anna", "Bertta", "Cecilia"]
