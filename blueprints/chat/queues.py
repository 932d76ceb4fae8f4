"""Chat queues: the service admins' queue administration, the waiting message, and the agents'
customer-service login (the queues they serve under a name customers see).

The questions the conversation rules ask too (who may serve a queue, an agent's login, an
agent's queues) are answered in service.py, which this module builds on.
"""
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from blueprints.chat import live as chat_live
from blueprints.chat import service
from blueprints.chat.models import AgentSession, ChatQueue
from common import audit
from common.refusals import NotAllowed, Refused
from extensions import db


def open_queues():
    return db.session.scalars(select(ChatQueue).where(ChatQueue.is_open).order_by(ChatQueue.name)).all()


def save_queue(queue, name, unit_id, is_open, waiting_message, keep_days=0, anonymise_after_days=None, contact_email=None):
    """A service admin creates or changes a queue, with its retention setting (checked by the
    form: 0 <= anonymise_after_days <= keep_days <= retention.MAX_KEEP_DAYS)."""
    queue = queue or ChatQueue()
    queue.name, queue.unit_id, queue.is_open, queue.waiting_message = name, unit_id, is_open, waiting_message or ""
    queue.keep_days, queue.anonymise_after_days = keep_days, anonymise_after_days
    queue.contact_email = (contact_email or "").strip() or None
    db.session.add(queue)
    db.session.flush()
    audit.record("chat.queue_saved", obj=queue, unit=unit_id, name=name, open=is_open,
                 keep_days=keep_days, anonymise_after_days=anonymise_after_days)
    chat_live.announce_chat_changed(queue=queue)
    db.session.commit()
    return queue


def change_waiting_message(queue, text, user):
    """An agent of the queue's unit changes the waiting message; waiting customers see it live."""
    if not service.may_serve(user, queue):
        raise NotAllowed()
    queue.waiting_message = (text or "").strip()[:service.WAITING_MESSAGE_MAX_LENGTH]
    audit.record("chat.waiting_message_changed", obj=queue, unit=queue.unit_id)
    chat_live.announce_chat_changed(queue=queue)
    db.session.commit()


def active_agents(queue_id):
    return db.session.scalars(
        select(AgentSession).where(AgentSession.queues.any(ChatQueue.id == queue_id)).order_by(AgentSession.display_name)
    ).all()


def log_in_to_service(user, queue_ids, display_name):
    """Start serving the chosen queues (only of my units) under a name customers see.

    To change queues or name an agent logs out and in again, as the seed says.
    """
    queues = [q for q in db.session.scalars(select(ChatQueue).where(ChatQueue.id.in_(queue_ids))) if service.may_serve(user, q)]
    if not queues or len(queues) != len(set(queue_ids)):
        raise NotAllowed()
    if service.agent_session(user):
        raise Refused(_l("You are already logged in to customer service."), field="queues")
    session = AgentSession(user_id=user.id, display_name=(display_name or "").strip()[:service.NAME_MAX_LENGTH] or user.display_name,
                           queues=queues)
    db.session.add(session)
    audit.record("chat.service_login", unit=queues[0].unit_id, queues=[q.id for q in queues])
    for queue in queues:
        chat_live.announce_chat_changed(queue=queue)
    db.session.commit()
    return session


def log_out_of_service(user):
    session = service.agent_session(user)
    if session is None:
        return
    for queue in session.queues:
        chat_live.announce_chat_changed(queue=queue)
    audit.record("chat.service_logout")
    db.session.delete(session)
    db.session.commit()
