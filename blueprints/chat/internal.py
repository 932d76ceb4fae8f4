"""The internal chat: colleagues see who is at work and chat one to one beside the customers.

Colleagues are the chat agents of the units where I am a chat agent (a unit has no parent
unit, so my organisation is exactly my units); a service admin is a colleague of every chat
agent. Nobody else can be reached, and only the two people of a conversation read or write it.

Presence is kept in the database (chat_staff_presence), not in a server process, so that
every process of a Redis-joined deployment answers alike: a count of connected staff sockets
and when one was last heard of. The agent desk says "still here" every HEARTBEAT_SECONDS
(static/js/chat.js), so a count left behind by a process that stopped cannot keep anyone
online for longer than LIVE_TIMEOUT.
"""
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, case, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from blueprints.accounts.models import RoleAssignment, User
from blueprints.chat import live as chat_live
from blueprints.chat.models import (
    AgentSession,
    Conversation,
    ConversationState,
    InternalConversation,
    InternalMessage,
    StaffPresence,
)
from blueprints.chat.service import changed_rows, clean_body, stored_once
from common.access import Role
from common.clock import utcnow
from common.refusals import NotAllowed
from common.transactions import write_transaction
from extensions import db

HEARTBEAT_SECONDS = 60
LIVE_TIMEOUT = timedelta(seconds=HEARTBEAT_SECONDS * 5 // 2)
# Without a live socket, someone heard of this recently is "away" rather than "offline".
AWAY_WINDOW = timedelta(minutes=30)


class Presence(enum.StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


PRESENCE_ORDER = {Presence.ONLINE: 0, Presence.AWAY: 1, Presence.OFFLINE: 2}


@dataclass
class Colleague:
    user: User
    presence: Presence
    serving: int  # customers this colleague is serving now


# ---- who is a colleague -------------------------------------------------------------------

def are_colleagues(user: User, other: User) -> bool:
    """Two different active people who are chat agents of a common unit (a service admin is a
    colleague of every chat agent)."""
    if user.id == other.id or not (user.active and other.active):
        return False
    if user.is_service_admin or other.is_service_admin:
        return user.has_any_role(Role.CHAT_AGENT) and other.has_any_role(Role.CHAT_AGENT)
    return bool(user.unit_ids(Role.CHAT_AGENT) & other.unit_ids(Role.CHAT_AGENT))


def colleagues_of(user: User) -> list[Colleague]:
    """The chat agents of my units with their presence: online first, then away, then offline."""
    is_agent_here = RoleAssignment.role == Role.CHAT_AGENT
    if not user.is_service_admin:
        is_agent_here &= RoleAssignment.unit_id.in_(user.unit_ids(Role.CHAT_AGENT))
    users = db.session.scalars(
        select(User).where(User.active, User.id != user.id, User.role_assignments.any(is_agent_here))
        .order_by(User.display_name, User.id)
    ).all()
    states = presence_of([u.id for u in users])
    colleagues = [Colleague(u, *states[u.id]) for u in users]
    return sorted(colleagues, key=lambda c: PRESENCE_ORDER[c.presence])


# ---- presence -------------------------------------------------------------------------------

def _presence(row: StaffPresence | None, in_service: bool, now: datetime) -> Presence:
    """Online: a live socket and logged in to customer service. Away: a live socket but logged
    out of customer service, or logged in to it without a live socket, or heard of within
    AWAY_WINDOW. Otherwise offline."""
    live_socket = row is not None and row.sockets > 0 and row.last_seen >= now - LIVE_TIMEOUT
    if live_socket and in_service:
        return Presence.ONLINE
    if live_socket or in_service or (row is not None and row.last_seen >= now - AWAY_WINDOW):
        return Presence.AWAY
    return Presence.OFFLINE


def presence_of(user_ids: Sequence[int]) -> dict[int, tuple[Presence, int]]:
    """{user id: (presence, customers being served)} for these people."""
    if not user_ids:
        return {}
    now = utcnow()
    rows = {p.user_id: p for p in db.session.scalars(select(StaffPresence).where(StaffPresence.user_id.in_(user_ids)))}
    in_service = set(db.session.scalars(select(AgentSession.user_id).where(AgentSession.user_id.in_(user_ids))))
    serving = {agent_id: count for agent_id, count in db.session.execute(
        select(Conversation.agent_id, func.count())
        .where(Conversation.agent_id.in_(user_ids), Conversation.state == ConversationState.SERVED)
        .group_by(Conversation.agent_id)
    )}
    return {uid: (_presence(rows.get(uid), uid in in_service, now), serving.get(uid, 0)) for uid in user_ids}


def _tracked(user: User) -> bool:
    return user.is_authenticated and user.has_any_role(Role.CHAT_AGENT)


def _ensure_presence_row(user_id: int) -> None:
    if db.session.get(StaffPresence, user_id) is None:
        try:
            with db.session.begin_nested():
                db.session.add(StaffPresence(user_id=user_id, sockets=0, last_seen=utcnow()))
                db.session.flush()
        except IntegrityError:  # another process added it at the same moment (PostgreSQL)
            pass


def _update_presence(user: User, sockets: ColumnElement[int]) -> None:
    db.session.execute(
        update(StaffPresence).where(StaffPresence.user_id == user.id)
        .values(sockets=sockets, last_seen=utcnow())
        .execution_options(synchronize_session=False)
    )


def socket_connected(user: User) -> None:
    """A staff browser connected. One UPDATE, so sockets connecting to several processes at
    once all count; a count not heard of for LIVE_TIMEOUT is left over and starts again."""
    if not _tracked(user):
        return
    with write_transaction():
        _ensure_presence_row(user.id)
        stale = StaffPresence.last_seen < utcnow() - LIVE_TIMEOUT
        _update_presence(user, case((stale, 1), else_=StaffPresence.sockets + 1))
        chat_live.announce_presence(user)


def socket_disconnected(user: User) -> None:
    if not _tracked(user):
        return
    with write_transaction():
        _update_presence(user, case((StaffPresence.sockets > 1, StaffPresence.sockets - 1), else_=0))
        chat_live.announce_presence(user)


def heard_from(user: User) -> None:
    """The desk's heartbeat: the socket is still there. Colleagues hear of it only when the
    person had been taken for gone."""
    if not _tracked(user):
        return
    with write_transaction():
        _ensure_presence_row(user.id)
        row = db.session.get_one(StaffPresence, user.id)
        was_live = row.sockets > 0 and row.last_seen >= utcnow() - LIVE_TIMEOUT
        _update_presence(user, case((StaffPresence.sockets < 1, 1), else_=StaffPresence.sockets))
        if not was_live:
            chat_live.announce_presence(user)


def logged_out(user: User) -> None:
    """Logging out of the site makes one offline at once (unless still in customer service)."""
    if not _tracked(user):
        return
    with write_transaction():
        db.session.execute(delete(StaffPresence).where(StaffPresence.user_id == user.id))
        chat_live.announce_presence(user)


# ---- conversations --------------------------------------------------------------------------

def may_take_part(user: User, conversation: InternalConversation) -> bool:
    """Only the two people of a conversation, and only while they are still colleagues."""
    return conversation.has(user) and are_colleagues(user, conversation.other(user))


def _pair(first_id: int, second_id: int) -> InternalConversation | None:
    return db.session.scalar(select(InternalConversation).where(
        InternalConversation.first_id == first_id, InternalConversation.second_id == second_id))


def start_chat(user: User, other: User | None) -> InternalConversation:
    """Open my one-to-one chat with a colleague, the same one every time; it shows in my
    active conversations (in theirs once someone writes)."""
    if other is None or not are_colleagues(user, other):
        raise NotAllowed()
    first_id, second_id = sorted((user.id, other.id))
    with write_transaction():
        conversation = _pair(first_id, second_id)
        if conversation is None:
            try:
                with db.session.begin_nested():
                    conversation = InternalConversation(first_id=first_id, second_id=second_id)
                    db.session.add(conversation)
                    db.session.flush()
            except IntegrityError:  # both started it at the same moment: take the one stored
                stored = _pair(first_id, second_id)
                if stored is None:
                    raise
                conversation = stored
        if not conversation.listed_for(user):
            conversation.set_listed(user, True)
            chat_live.announce_internal(conversation, [user.id])
    return conversation


def conversations_of(user: User) -> list[InternalConversation]:
    """My internal chats for the active-conversations list, oldest first."""
    listed = db.session.scalars(
        select(InternalConversation).where(or_(
            (InternalConversation.first_id == user.id) & InternalConversation.listed_by_first,
            (InternalConversation.second_id == user.id) & InternalConversation.listed_by_second,
        )).order_by(InternalConversation.started_at, InternalConversation.id)
    ).all()
    return [c for c in listed if may_take_part(user, c)]


@write_transaction()
def send(conversation: InternalConversation, user: User, body: str | None, key: str | None = None) -> InternalMessage:
    """A participant writes; the other gets "New messages!" and both desks hear of it. A message
    whose `key` the chat has already is not stored again."""
    if not may_take_part(user, conversation):
        raise NotAllowed()
    body = clean_body(body)

    def add(key: str | None) -> InternalMessage:
        conversation.listed_by_first = conversation.listed_by_second = True
        conversation.set_unread(conversation.other(user), True)
        # One new line at a time in a chat, as in a customer chat (service._add_line): the line
        # before it is then known for sure.
        db.session.execute(select(InternalConversation.id).where(InternalConversation.id == conversation.id)
                           .with_for_update())
        previous = db.session.scalar(select(func.max(InternalMessage.id))
                                     .where(InternalMessage.conversation_id == conversation.id))
        message = InternalMessage(conversation_id=conversation.id, author_id=user.id, author_name=user.display_name,
                                  body=body, client_key=key)
        db.session.add(message)
        db.session.flush()  # its id, for the line the desks are sent
        chat_live.announce_internal_line(conversation, message, previous)
        return message

    return stored_once(InternalMessage, conversation.id, key, add)


def lines_after(conversation: InternalConversation, after: int) -> Sequence[InternalMessage]:
    """The lines of an internal chat after the one with id `after` (0: all)."""
    return db.session.scalars(select(InternalMessage).where(InternalMessage.conversation_id == conversation.id,
                                                            InternalMessage.id > after)
                              .order_by(InternalMessage.id)).all()


def mark_shown(conversation_id: int, line_id: int, user: User) -> None:
    """My desk showed the internal chat's lines up to `line_id` as they came (with their events, no
    request): it is read, unless my colleague has written after that line."""
    conversation = db.session.get(InternalConversation, conversation_id)
    if conversation is None or not conversation.has(user) or not conversation.unread_for(user):
        return
    newer = db.session.scalar(select(InternalMessage.id).where(
        InternalMessage.conversation_id == conversation.id, InternalMessage.author_id != user.id,
        InternalMessage.id > line_id,
    ).limit(1))
    if newer is None:
        mark_read(conversation, user)


def mark_read(conversation: InternalConversation, user: User) -> None:
    """Opening the chat clears "New messages!" for me (not for my colleague)."""
    if conversation.unread_for(user):  # read first: most views find nothing to mark
        with write_transaction():
            conversation.set_unread(user, False)


# ---- retention ------------------------------------------------------------------------------

def internal_retention_cutoff(now: datetime | None = None) -> datetime:
    """Internal messages sent before this are due for removal (CHAT_INTERNAL_RETENTION_DAYS)."""
    return (now or utcnow()) - timedelta(days=current_app.config["CHAT_INTERNAL_RETENTION_DAYS"])


def purge_internal_messages(older_than: datetime) -> int:
    """Delete the internal messages sent before `older_than` (UTC; one sent exactly then stays),
    and the conversations started before it that have no message left. Returns how many
    messages were deleted."""
    with write_transaction():
        deleted = changed_rows(
            delete(InternalMessage).where(InternalMessage.sent_at < older_than)
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            delete(InternalConversation)
            .where(InternalConversation.started_at < older_than, ~InternalConversation.messages.any())
            .execution_options(synchronize_session=False)
        )
    return deleted
