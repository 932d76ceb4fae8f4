"""The internal staff chat at the service level: colleagues, presence, one-to-one chats, purge."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from blueprints.accounts.models import RoleAssignment
from blueprints.chat import internal, queues, service
from blueprints.chat.internal import Presence
from blueprints.chat.models import (
    ChatQueue,
    InternalConversation,
    InternalMessage,
    StaffPresence,
)
from common.access import Role
from common.clock import utcnow
from common.refusals import NotAllowed, Refused
from extensions import db
from tests.chat.conftest import user


def presence(user_id):
    return internal.presence_of([user_id])[user_id]


def seen(user_id, sockets, ago):
    """Store a presence row as if the user's sockets were last heard of `ago` before now."""
    row = db.session.get(StaffPresence, user_id) or StaffPresence(user_id=user_id)
    row.sockets, row.last_seen = sockets, utcnow() - ago
    db.session.add(row)
    db.session.commit()


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


# ---- colleagues ----------------------------------------------------------------------------

def test_colleagues_are_the_chat_agents_of_my_units(in_request, desk, make_user):
    sirpa = make_user("sirpa", (Role.SERVICE_ADMIN, None))
    make_user("riikka", (Role.REGISTRAR, desk["library"]))  # same unit, but no chat agent
    aino, erja, olli = user(desk["aino"]), user(desk["erja"]), user(desk["olli"])
    assert [c.user.username for c in internal.colleagues_of(aino)] == ["erja"]
    assert internal.colleagues_of(olli) == []
    assert internal.are_colleagues(aino, erja) and internal.are_colleagues(erja, aino)
    assert not internal.are_colleagues(aino, olli) and not internal.are_colleagues(aino, aino)
    # A service admin reaches every chat agent, and they can answer.
    assert {c.user.username for c in internal.colleagues_of(user(sirpa))} == {"aino", "erja", "olli"}
    assert internal.are_colleagues(olli, user(sirpa))


def test_a_deactivated_colleague_is_neither_listed_nor_reachable(in_request, desk):
    erja = user(desk["erja"])
    erja.active = False
    db.session.commit()
    aino = user(desk["aino"])
    assert internal.colleagues_of(aino) == []
    with pytest.raises(NotAllowed):
        internal.start_chat(aino, erja)


# ---- presence --------------------------------------------------------------------------------

def test_presence_without_any_trace_is_offline(in_request, desk):
    assert presence(desk["erja"]) == (Presence.OFFLINE, 0)


def test_a_connected_agent_out_of_customer_service_is_away_and_online_once_in(in_request, desk):
    erja = user(desk["erja"])
    internal.socket_connected(erja)
    assert presence(erja.id) == (Presence.AWAY, 0)
    queues.log_in_to_service(erja, [desk["queue"]], "Erja")
    assert presence(erja.id) == (Presence.ONLINE, 0)


def test_an_online_agent_serving_customers_shows_how_many(in_request, desk):
    erja = user(desk["erja"])
    internal.socket_connected(erja)
    queues.log_in_to_service(erja, [desk["queue"]], "Erja")
    queue = db.session.get(ChatQueue, desk["queue"])
    for name in ("Toni", "Sara"):
        service.claim(service.join(queue, name).id, erja)
    assert presence(erja.id) == (Presence.ONLINE, 2)
    colleague = internal.colleagues_of(user(desk["aino"]))[0]
    assert (colleague.presence, colleague.serving) == (Presence.ONLINE, 2)


def test_sockets_are_counted_so_one_closed_tab_of_two_keeps_the_agent_online(in_request, desk):
    erja = user(desk["erja"])
    queues.log_in_to_service(erja, [desk["queue"]], "Erja")
    internal.socket_connected(erja)
    internal.socket_connected(erja)
    internal.socket_disconnected(erja)
    assert presence(erja.id)[0] == Presence.ONLINE
    internal.socket_disconnected(erja)
    assert db.session.get(StaffPresence, erja.id).sockets == 0
    # Logged in to customer service but no live socket: away.
    assert presence(erja.id)[0] == Presence.AWAY
    internal.socket_disconnected(erja)  # an extra disconnect never counts below zero
    assert db.session.get(StaffPresence, erja.id).sockets == 0


def test_without_a_socket_one_stays_away_for_a_while_then_is_offline(in_request, desk):
    erja = desk["erja"]
    seen(erja, 0, internal.AWAY_WINDOW - timedelta(minutes=1))
    assert presence(erja)[0] == Presence.AWAY
    seen(erja, 0, internal.AWAY_WINDOW + timedelta(minutes=1))
    assert presence(erja)[0] == Presence.OFFLINE


def test_a_socket_count_not_heard_of_for_long_is_not_live_and_starts_again(in_request, desk):
    erja = user(desk["erja"])
    queues.log_in_to_service(erja, [desk["queue"]], "Erja")
    # Left behind by a server process that stopped without its disconnects.
    seen(erja.id, 3, internal.LIVE_TIMEOUT + timedelta(seconds=30))
    assert presence(erja.id)[0] == Presence.AWAY
    internal.socket_connected(erja)
    db.session.expire_all()
    assert db.session.get(StaffPresence, erja.id).sockets == 1
    assert presence(erja.id)[0] == Presence.ONLINE


def test_the_desk_heartbeat_keeps_an_agent_online(in_request, desk):
    erja = user(desk["erja"])
    queues.log_in_to_service(erja, [desk["queue"]], "Erja")
    seen(erja.id, 1, internal.LIVE_TIMEOUT + timedelta(seconds=30))
    assert presence(erja.id)[0] == Presence.AWAY
    internal.heard_from(erja)
    assert presence(erja.id)[0] == Presence.ONLINE


def test_logging_out_of_the_site_makes_one_offline(in_request, desk):
    erja = user(desk["erja"])
    internal.socket_connected(erja)
    internal.logged_out(erja)
    assert presence(erja.id)[0] == Presence.OFFLINE


def test_presence_is_not_kept_for_staff_who_are_not_chat_agents(in_request, desk, make_user):
    riikka = user(make_user("riikka", (Role.REGISTRAR, desk["library"])))
    internal.socket_connected(riikka)
    assert count(StaffPresence) == 0


# ---- one-to-one chats ---------------------------------------------------------------------------

def test_starting_a_chat_twice_from_either_side_reuses_the_same_conversation(in_request, desk):
    aino, erja = user(desk["aino"]), user(desk["erja"])
    first = internal.start_chat(aino, erja)
    assert internal.start_chat(aino, erja).id == first.id
    assert internal.start_chat(erja, aino).id == first.id
    assert count(InternalConversation) == 1


def test_a_chat_the_colleague_stored_at_the_same_moment_is_the_one_opened(in_request, desk, monkeypatch):
    """Another process stored the pair's chat after this one looked (on PostgreSQL, which takes no
    lock for the look): the unique pair is met in a savepoint, and that chat is opened."""
    aino, erja = user(desk["aino"]), user(desk["erja"])
    stored = internal.start_chat(erja, aino)
    looks = []
    pair = internal._pair

    def first_look_misses(*ids):
        looks.append(ids)
        return None if len(looks) == 1 else pair(*ids)

    monkeypatch.setattr(internal, "_pair", first_look_misses)
    opened = internal.start_chat(aino, erja)
    assert len(looks) == 2
    assert opened.id == stored.id and count(InternalConversation) == 1
    assert internal.conversations_of(aino) == [opened]


def test_a_started_chat_is_listed_for_the_starter_and_for_the_colleague_once_written_in(in_request, desk):
    aino, erja = user(desk["aino"]), user(desk["erja"])
    chat = internal.start_chat(aino, erja)
    assert internal.conversations_of(aino) == [chat]
    assert internal.conversations_of(erja) == []
    internal.send(chat, aino, "Hei Erja")
    assert internal.conversations_of(erja) == [chat]


def test_staff_of_another_unit_and_oneself_cannot_be_reached(in_request, desk):
    aino = user(desk["aino"])
    with pytest.raises(NotAllowed):
        internal.start_chat(aino, user(desk["olli"]))
    with pytest.raises(NotAllowed):
        internal.start_chat(aino, aino)
    assert count(InternalConversation) == 0


def test_unread_flags_are_per_participant(in_request, desk):
    aino, erja = user(desk["aino"]), user(desk["erja"])
    chat = internal.start_chat(aino, erja)
    internal.send(chat, aino, "Ehditkö hetken?")
    assert chat.unread_for(erja) and not chat.unread_for(aino)
    internal.mark_read(chat, aino)  # my own reading does not clear my colleague's flag
    assert chat.unread_for(erja)
    internal.mark_read(chat, erja)
    assert not chat.unread_for(erja)
    internal.send(chat, erja, "Ehdin")
    assert chat.unread_for(aino) and not chat.unread_for(erja)


def test_only_the_two_participants_write_and_bad_messages_store_nothing(in_request, desk, make_user):
    aino, erja = user(desk["aino"]), user(desk["erja"])
    saara = user(make_user("saara", (Role.CHAT_AGENT, desk["library"])))  # a colleague, but not of this chat
    chat = internal.start_chat(aino, erja)
    with pytest.raises(NotAllowed):
        internal.send(chat, saara, "Hei")
    with pytest.raises(NotAllowed):
        internal.send(chat, user(desk["olli"]), "Hei")
    with pytest.raises(Refused):
        internal.send(chat, aino, "   ")
    with pytest.raises(Refused):
        internal.send(chat, aino, "x" * (service.MESSAGE_MAX_LENGTH + 1))
    assert count(InternalMessage) == 0 and not chat.unread_for(erja)


def test_a_colleague_who_leaves_the_unit_can_no_longer_be_reached(in_request, desk):
    aino, erja = user(desk["aino"]), user(desk["erja"])
    chat = internal.start_chat(aino, erja)
    internal.send(chat, aino, "Hei")
    db.session.execute(db.delete(RoleAssignment).where(RoleAssignment.user_id == erja.id))
    db.session.commit()
    db.session.expire_all()
    assert not internal.may_take_part(aino, chat)
    assert internal.conversations_of(aino) == []
    with pytest.raises(NotAllowed):
        internal.send(chat, aino, "Oletko siellä?")


# ---- retention ---------------------------------------------------------------------------------

def test_purge_removes_only_messages_sent_before_the_cutoff(in_request, desk):
    aino, erja = user(desk["aino"]), user(desk["erja"])
    chat = internal.start_chat(aino, erja)
    cutoff = utcnow() - timedelta(days=30)
    for body, sent_at in (("older", cutoff - timedelta(microseconds=1)), ("at the cutoff", cutoff),
                          ("newer", cutoff + timedelta(seconds=1))):
        db.session.add(InternalMessage(conversation=chat, author_id=aino.id, author_name="Aino", body=body,
                                       sent_at=sent_at))
    db.session.commit()
    assert internal.purge_internal_messages(cutoff) == 1
    assert db.session.scalars(select(InternalMessage.body).order_by(InternalMessage.id)).all() == ["at the cutoff",
                                                                                                   "newer"]
    assert internal.purge_internal_messages(cutoff) == 0  # safe to run again


def test_purge_drops_old_conversations_left_empty_and_keeps_the_rest(in_request, desk, make_user):
    aino, erja = user(desk["aino"]), user(desk["erja"])
    saara = user(make_user("saara", (Role.CHAT_AGENT, desk["library"])))
    cutoff = utcnow() - timedelta(days=30)
    emptied = internal.start_chat(aino, erja)
    emptied.started_at = cutoff - timedelta(days=5)
    db.session.add(InternalMessage(conversation=emptied, author_id=aino.id, author_name="Aino", body="vanha",
                                   sent_at=cutoff - timedelta(days=1)))
    fresh = internal.start_chat(aino, saara)  # started now, nothing written yet
    db.session.commit()
    fresh_id = fresh.id
    assert internal.purge_internal_messages(cutoff) == 1
    assert db.session.scalars(select(InternalConversation.id)).all() == [fresh_id]


def test_the_retention_cutoff_follows_the_setting(in_request, desk):
    now = utcnow()
    assert internal.internal_retention_cutoff(now) == now - timedelta(days=30)
    in_request.config["CHAT_INTERNAL_RETENTION_DAYS"] = 7
    try:
        assert internal.internal_retention_cutoff(now) == now - timedelta(days=7)
    finally:
        in_request.config["CHAT_INTERNAL_RETENTION_DAYS"] = 30
