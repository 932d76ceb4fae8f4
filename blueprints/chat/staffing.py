"""Reliability for a desk that is open all day: agents who are gone, and queues nobody serves.

- Whether an agent has a live staff socket is the internal chat's presence (chat_staff_presence,
  blueprints/chat/internal.py). When an agent's last socket goes, their AgentSession gets
  disconnected_at; a socket or the desk's heartbeat clears it.
- After CHAT_AGENT_GRACE_SECONDS without a live socket, `release_abandoned` returns the agent's
  customers to the queue with a notice and ends the agent's customer-service login, so a queue
  nobody really serves is shown as unstaffed. The background worker's chat sweep (jobs.py)
  runs it; conditional statements make sure two processes never release the same agent twice.
- An agent whose presence went silent without a goodbye (their server process stopped) is
  taken for gone since they were last heard of.
- Customers who close the tab: the sockets of a customer's page are kept on their conversation
  the same way (a count, when one was last heard of, the page's heartbeat). After
  CHAT_CUSTOMER_GRACE_SECONDS without a live socket, a waiting customer leaves the queue (a
  customer who left before being served) and a served customer's chat ends with "The customer
  has left"; a reload or a network blip within the grace period changes nothing. The same sweep
  does it, with conditional updates.
- When the last agent of a queue logs out while customers wait, the agent is warned first, and
  the waiting customers are offered to leave their question by email instead.
"""
from collections.abc import Sequence
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Exists, Row, case, delete, exists, func, or_, select, update
from sqlalchemy.orm import QueryableAttribute

from blueprints.accounts.models import User
from blueprints.chat import internal, service
from blueprints.chat import live as chat_live
from blueprints.chat.models import (
    AgentSession,
    ChatQueue,
    Conversation,
    ConversationState,
    StaffPresence,
    agent_session_queue,
)
from common import audit, mail
from common.access import Role
from common.clock import utcnow
from common.refusals import Conflict
from common.transactions import write_transaction
from extensions import db


def _grace() -> timedelta:
    return timedelta(seconds=current_app.config["CHAT_AGENT_GRACE_SECONDS"])


def _live_socket(user_id: int | QueryableAttribute[int], now: datetime) -> Exists:
    """The person has a live staff socket: counted, and heard of within internal.LIVE_TIMEOUT
    (so a count left behind by a stopped process is not live). `user_id` may be a column."""
    return exists().where(StaffPresence.user_id == user_id, StaffPresence.sockets > 0,
                          StaffPresence.last_seen >= now - internal.LIVE_TIMEOUT)


# ---- coming and going ---------------------------------------------------------------------------

@write_transaction()
def agent_back(user: User) -> None:
    """A staff socket of the agent connected, or the desk said it is still there."""
    if not user.has_any_role(Role.CHAT_AGENT):  # service admins included
        return
    db.session.execute(
        update(AgentSession).where(AgentSession.user_id == user.id, AgentSession.disconnected_at.is_not(None))
        .values(disconnected_at=None).execution_options(synchronize_session=False)
    )


@write_transaction()
def agent_maybe_gone(user: User, now: datetime | None = None) -> None:
    """A staff socket of the agent went away (or they logged out of the site): if no live socket
    is left, their grace period starts now."""
    if not user.has_any_role(Role.CHAT_AGENT):
        return
    now = now or utcnow()
    db.session.execute(
        update(AgentSession)
        .where(AgentSession.user_id == user.id, AgentSession.disconnected_at.is_(None), ~_live_socket(user.id, now))
        .values(disconnected_at=now).execution_options(synchronize_session=False)
    )


@write_transaction()
def mark_silent_agents(now: datetime) -> int:
    """Agents in customer service without a live socket and no disconnect heard (their process
    stopped, or their page stopped beating): gone since they were last heard of, but never since
    before their login. A login sent while the desk's socket was away (a page reconnecting, the
    form sent from another tab) starts its own grace period: dated from an older presence, the
    next sweep would end it seconds later."""
    last_seen = select(StaffPresence.last_seen).where(StaffPresence.user_id == AgentSession.user_id).scalar_subquery()
    gone_since = case((last_seen.is_(None), now), (last_seen < AgentSession.started_at, AgentSession.started_at),
                      else_=last_seen)
    marked = service.changed_rows(
        update(AgentSession)
        .where(AgentSession.disconnected_at.is_(None), ~_live_socket(AgentSession.user_id, now))
        .values(disconnected_at=gone_since).execution_options(synchronize_session=False)
    )
    return marked


# ---- the grace period -------------------------------------------------------------------------

# (session id, user id, disconnected_at) of an agent gone past the grace period.
GoneAgent = Row[tuple[int, int, datetime | None]]

def release_abandoned(now: datetime) -> list[int]:
    """Agents gone for longer than the grace period: their customers go back to the queue
    (state waiting, agent cleared, a notice in the chat) and their service login ends.
    Returns the ids of the released conversations."""
    released: list[int] = []
    for agent in abandoned_agents(now):
        released += release_agent(agent, now)
    return released


def abandoned_agents(now: datetime) -> Sequence[GoneAgent]:
    """(session id, user id, disconnected_at) of agents without a live socket since before the grace period."""
    return db.session.execute(
        select(AgentSession.id, AgentSession.user_id, AgentSession.disconnected_at)
        .where(AgentSession.disconnected_at.is_not(None), AgentSession.disconnected_at <= now - _grace(),
               ~_live_socket(AgentSession.user_id, now))
    ).all()


@write_transaction()
def release_agent(agent: GoneAgent, now: datetime) -> list[int]:
    """Take one gone agent's service login and release their customers. The login is taken with
    a conditional DELETE (still gone since then, still no live socket) and each customer with a
    conditional UPDATE (still served by this agent): of two processes sweeping at once, or
    against an agent who just came back, exactly one outcome wins. Returns the released ids."""
    session_id, user_id, disconnected_at = agent
    queue_ids = db.session.scalars(
        select(agent_session_queue.c.queue_id).where(agent_session_queue.c.session_id == session_id)
    ).all()
    taken = service.changed_rows(
        delete(AgentSession)
        .where(AgentSession.id == session_id, AgentSession.disconnected_at == disconnected_at,
               ~_live_socket(user_id, now))
        .execution_options(synchronize_session=False)
    )
    if taken != 1:  # another process took this agent, or they came back: nothing changed
        return []
    db.session.execute(agent_session_queue.delete().where(agent_session_queue.c.session_id == session_id))
    customers = db.session.scalars(
        select(Conversation.id).where(Conversation.agent_id == user_id, Conversation.state == ConversationState.SERVED)
    ).all()
    released = [c for c in customers if release_to_queue(c, user_id)]
    audit.record("chat.service_logout", object_type="User", object_id=user_id, reason="connection lost",
                 released=released)
    for queue in db.session.scalars(select(ChatQueue).where(ChatQueue.id.in_(queue_ids))):
        chat_live.announce_chat_changed(queue=queue)
    return released


def release_to_queue(conversation_id: int, agent_id: int) -> bool:
    """Put a customer of a gone agent back in the queue with a notice, if that agent still
    serves them (a conditional UPDATE); False when someone else got there first."""
    if not service.change_if(conversation_id, Conversation.state == ConversationState.SERVED,
                             Conversation.agent_id == agent_id, **service.BACK_TO_WAITING):
        return False
    conversation = db.session.get_one(Conversation, conversation_id)
    db.session.refresh(conversation)
    service.system_line(conversation, "agent_lost")
    conversation.unread_by_customer = True
    audit.record("chat.released", obj=conversation, unit=conversation.queue.unit_id, agent=agent_id,
                 reason="connection lost")
    chat_live.announce_chat_changed(conversation, agent_id=agent_id)
    return True


# ---- customers who close the tab ----------------------------------------------------------------

OPEN = (ConversationState.WAITING, ConversationState.SERVED)
# (id, state, customer_gone_at) of an open conversation whose page is gone.
GoneCustomer = Row[tuple[int, ConversationState, datetime | None]]


def _customer_grace() -> timedelta:
    return timedelta(seconds=current_app.config["CHAT_CUSTOMER_GRACE_SECONDS"])


def _customer_absent(now: datetime) -> ColumnElement[bool]:
    """The customer's page has no live socket: none counted, or not heard of within
    internal.LIVE_TIMEOUT (a count left behind by a stopped server process is not live)."""
    return or_(Conversation.customer_sockets <= 0, Conversation.customer_seen_at.is_(None),
               Conversation.customer_seen_at < now - internal.LIVE_TIMEOUT)


@write_transaction()
def _change_presence(conversation_id: int, **values: object) -> None:
    db.session.execute(
        update(Conversation).where(Conversation.id == conversation_id)
        .values(**values).execution_options(synchronize_session=False)
    )


def customer_connected(conversation_id: int, now: datetime | None = None) -> None:
    """A socket of the customer's page connected: one UPDATE, so sockets connecting to several
    processes at once all count; a count not heard of for LIVE_TIMEOUT starts again."""
    now = now or utcnow()
    stale = Conversation.customer_seen_at.is_(None) | (Conversation.customer_seen_at < now - internal.LIVE_TIMEOUT)
    _change_presence(conversation_id, customer_sockets=case((stale, 1), else_=Conversation.customer_sockets + 1),
                     customer_seen_at=now, customer_gone_at=None)


def customer_heard(conversation_id: int, now: datetime | None = None) -> None:
    """The customer page's heartbeat: still there."""
    now = now or utcnow()
    _change_presence(conversation_id, customer_sockets=case((Conversation.customer_sockets < 1, 1),
                                                            else_=Conversation.customer_sockets),
                     customer_seen_at=now, customer_gone_at=None)


def customer_disconnected(conversation_id: int, now: datetime | None = None) -> None:
    """A socket of the customer's page went away; with the last one the grace period starts."""
    now = now or utcnow()
    last = Conversation.customer_sockets <= 1
    _change_presence(conversation_id,
                     customer_sockets=case((last, 0), else_=Conversation.customer_sockets - 1),
                     customer_gone_at=case((last & Conversation.customer_gone_at.is_(None), now),
                                           else_=Conversation.customer_gone_at))


@write_transaction()
def mark_silent_customers(now: datetime) -> int:
    """Open conversations without a live socket and no disconnect heard (the page's process
    stopped, or it never connected): gone since the page was last heard of, or since joining."""
    marked = service.changed_rows(
        update(Conversation)
        .where(Conversation.state.in_(OPEN), Conversation.customer_gone_at.is_(None),
               _customer_absent(now))
        .values(customer_gone_at=func.coalesce(Conversation.customer_seen_at, Conversation.joined_at))
        .execution_options(synchronize_session=False)
    )
    return marked


def gone_customers(now: datetime) -> Sequence[GoneCustomer]:
    """(id, state, customer_gone_at) of open conversations whose page has been gone for longer
    than the grace period."""
    return db.session.execute(
        select(Conversation.id, Conversation.state, Conversation.customer_gone_at)
        .where(Conversation.state.in_(OPEN), Conversation.customer_gone_at <= now - _customer_grace(),
               _customer_absent(now))
        .order_by(Conversation.id)
    ).all()


@write_transaction()
def end_gone_customer(gone: GoneCustomer, now: datetime) -> bool:
    """A waiting customer leaves the queue, a served customer's chat ends: one conditional UPDATE
    (still in the state seen, still gone since then, still no live socket), so of two processes,
    or against a page that just came back, exactly one outcome wins. True if this call ended it."""
    conversation_id, state, gone_at = gone
    if not service.change_if(conversation_id, Conversation.state == state, Conversation.customer_gone_at == gone_at,
                             _customer_absent(now), state=ConversationState.ENDED, ended_at=now):
        return False  # nothing changed
    conversation = db.session.get_one(Conversation, conversation_id)
    db.session.refresh(conversation)
    service.system_line(conversation, "customer_gone")
    if state == ConversationState.SERVED:
        conversation.unread_by_agent = True
    audit.record("chat.customer_gone", obj=conversation, unit=conversation.queue.unit_id, state=state.value)
    chat_live.announce_chat_changed(conversation)
    return True


def end_gone_customers(now: datetime) -> list[int]:
    """Every customer gone past the grace period; returns the ids of the conversations ended here."""
    return [gone.id for gone in gone_customers(now) if end_gone_customer(gone, now)]


def sweep(now: datetime | None = None) -> list[int]:
    """One round of the chat sweeps, as the background worker runs it (jobs.py): agents, then
    customers, who are gone. Returns the ids of the conversations released back to the queue."""
    now = now or utcnow()
    mark_silent_agents(now)
    released = release_abandoned(now)
    mark_silent_customers(now)
    end_gone_customers(now)
    return released


# ---- staffing ---------------------------------------------------------------------------------

def is_staffed(queue: ChatQueue) -> bool:
    """Some agent is logged in to customer service in this queue."""
    return bool(db.session.scalar(select(exists().where(agent_session_queue.c.queue_id == queue.id))))


def queues_left_unstaffed(user: User) -> list[tuple[ChatQueue, int]]:
    """The queues where this agent is the last one logged in and customers wait, with how many
    wait: what the agent is warned about before logging out."""
    session = service.agent_session(user)
    if session is None:
        return []
    counts = service.waiting_counts([q.id for q in session.queues])
    warned = []
    for queue in session.queues:
        if not counts.get(queue.id):
            continue
        others = db.session.scalar(
            select(func.count()).select_from(agent_session_queue)
            .where(agent_session_queue.c.queue_id == queue.id, agent_session_queue.c.session_id != session.id)
        )
        if not others:
            warned.append((queue, counts[queue.id]))
    return warned


def may_leave_question(conversation: Conversation) -> bool:
    """A waiting customer of a queue nobody serves may leave their question by email, when
    the queue has a contact address."""
    return (conversation.state == ConversationState.WAITING and bool(conversation.queue.contact_email)
            and not is_staffed(conversation.queue))


@write_transaction()
def leave_question_by_email(conversation: Conversation, address: str, question: str) -> None:
    """Send the waiting customer's question to the queue's contact address through the outbox
    (in the library's language), and end their visit to the queue."""
    if conversation.state != ConversationState.WAITING or not conversation.queue.contact_email:
        raise Conflict(_l("You cannot leave a question by email in this queue now."))
    queue = conversation.queue
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject = _("Question from the chat queue %(queue)s", queue=queue.name)
        body = "\n\n".join([
            _("A customer waited in the chat queue %(queue)s while nobody was serving it and left this question.",
              queue=queue.name),
            _("Name: %(name)s", name=conversation.customer_name),
            _("Answer to: %(address)s", address=address),
            question.strip(),
        ])
    mail.send_mail(queue.contact_email, subject, body)
    conversation.state = ConversationState.ENDED
    conversation.ended_at = utcnow()
    service.system_line(conversation, "question_emailed")
    audit.record("chat.question_emailed", obj=conversation, unit=queue.unit_id)
    chat_live.announce_chat_changed(conversation)
