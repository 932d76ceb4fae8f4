"""Chat queues: the service admins' queue administration, the waiting message, and the agents'
customer-service login (the queues they serve under a name customers see).

The questions the conversation rules ask too (who may serve a queue, an agent's login, an
agent's queues) are answered in service.py, which this module builds on.
"""
from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from blueprints.accounts.models import Unit, User
from blueprints.chat import live as chat_live
from blueprints.chat import service, widget
from blueprints.chat.models import AgentSession, ChatQueue
from common import audit
from common.refusals import NotAllowed, Refused
from common.transactions import write_transaction
from extensions import db


def open_queues() -> Sequence[ChatQueue]:
    return db.session.scalars(select(ChatQueue).where(ChatQueue.is_open).order_by(ChatQueue.name)).all()


def all_queues() -> Sequence[ChatQueue]:
    """Every queue, open or closed, for the service admins' list."""
    return db.session.scalars(select(ChatQueue).order_by(ChatQueue.name)).all()


def queue_units() -> Sequence[Unit]:
    """The units a queue may belong to: the active ones."""
    return db.session.scalars(select(Unit).where(Unit.active).order_by(Unit.name)).all()


@write_transaction()
def save_queue(queue: ChatQueue | None, name: str, unit_id: int, is_open: bool, waiting_message: str | None,
               keep_days: int = 0, anonymise_after_days: int | None = None,
               contact_email: str | None = None, asks_rating: bool = False,
               instructions_url: str | None = None, embed_origins: str | None = None,
               widget_language: str | None = None) -> ChatQueue:
    """A service admin creates or changes a queue, with its retention setting (checked by the
    form: 0 <= anonymise_after_days <= keep_days <= retention.MAX_KEEP_DAYS), whether its
    customers are asked to rate a chat that ended (ratings.py), the address of the customers'
    instructions (an http or https address, checked by the form too) and the websites that may
    show its chat button (widget.parse_origins: refused at the field if one is not an origin)."""
    origins = widget.parse_origins(embed_origins)
    queue = queue or ChatQueue()
    queue.name, queue.unit_id, queue.is_open, queue.waiting_message = name, unit_id, is_open, waiting_message or ""
    queue.keep_days, queue.anonymise_after_days = keep_days, anonymise_after_days
    queue.contact_email = (contact_email or "").strip() or None
    queue.asks_rating = asks_rating
    queue.instructions_url = (instructions_url or "").strip() or None
    queue.embed_origins = "\n".join(origins)
    if widget_language:
        queue.widget_language = widget_language
    db.session.add(queue)
    db.session.flush()
    audit.record("chat.queue_saved", obj=queue, unit=unit_id, name=name, open=is_open,
                 keep_days=keep_days, anonymise_after_days=anonymise_after_days, asks_rating=asks_rating,
                 embed_origins=origins)
    chat_live.announce_chat_changed(queue=queue)
    return queue


@write_transaction()
def change_waiting_message(queue: ChatQueue, text: str | None, user: User) -> None:
    """An agent of the queue's unit changes the waiting message; waiting customers see it live."""
    if not service.may_serve(user, queue):
        raise NotAllowed()
    queue.waiting_message = (text or "").strip()[:service.WAITING_MESSAGE_MAX_LENGTH]
    audit.record("chat.waiting_message_changed", obj=queue, unit=queue.unit_id)
    chat_live.announce_chat_changed(queue=queue)


def active_agents(queue_id: int) -> Sequence[AgentSession]:
    return db.session.scalars(
        select(AgentSession)
        .where(AgentSession.queues.any(ChatQueue.id == queue_id))
        .order_by(AgentSession.display_name)
    ).all()


@write_transaction()
def log_in_to_service(user: User, queue_ids: Sequence[int], display_name: str | None) -> AgentSession:
    """Start serving the chosen queues (only of my units) under a name customers see.

    To change queues or name an agent logs out and in again, as the seed says.
    """
    chosen = db.session.scalars(select(ChatQueue).where(ChatQueue.id.in_(queue_ids)))
    queues = [q for q in chosen if service.may_serve(user, q)]
    if not queues or len(queues) != len(set(queue_ids)):
        raise NotAllowed()
    if service.agent_session(user):
        raise Refused(_l("You are already logged in to customer service."), field="queues")
    name = (display_name or "").strip()[:service.NAME_MAX_LENGTH] or user.display_name
    session = AgentSession(user_id=user.id, display_name=name, queues=queues)
    db.session.add(session)
    audit.record("chat.service_login", unit=queues[0].unit_id, queues=[q.id for q in queues])
    for queue in queues:
        chat_live.announce_chat_changed(queue=queue)
    return session


@write_transaction()
def log_out_of_service(user: User) -> None:
    session = service.agent_session(user)
    if session is None:
        return
    for queue in session.queues:
        chat_live.announce_chat_changed(queue=queue)
    audit.record("chat.service_logout")
    db.session.delete(session)
