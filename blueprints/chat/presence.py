"""Reliability for a desk that is open all day: who is really there, and what happens when not.

- Every staff socket of a chat agent is a row in chat_agent_socket (committed, so every server
  process sees it). When an agent's last socket goes, their AgentSession gets disconnected_at.
- After CHAT_AGENT_GRACE_SECONDS without a socket, `release_abandoned` returns the agent's
  customers to the queue with a notice and ends the agent's customer-service login, so a queue
  nobody really serves is shown as unstaffed. A background sweep in every server process runs
  it; conditional statements make sure two processes never release the same agent twice.
- A process refreshes seen_at of its own sockets on every sweep; sockets of a process that died
  without saying goodbye go stale and are forgotten, which starts their agents' grace period.
- When the last agent of a queue logs out while customers wait, the agent is warned first, and
  the waiting customers are offered to leave their question by email instead.
"""
import threading
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, exists, func, select, update

from app import db
from blueprints.chat import service
from blueprints.chat.models import AgentSession, AgentSocket, ChatQueue, Conversation, ConversationState, agent_session_queue
from common import audit, mail
from common.access import Role
from common.clock import utcnow

# Sockets of this process (sid: user id), refreshed in the database on every sweep.
_local_sockets = {}
_local_lock = threading.Lock()


def _grace():
    return timedelta(seconds=current_app.config["CHAT_AGENT_GRACE_SECONDS"])


def _stale_after():
    # A process that missed several sweeps in a row is gone.
    return timedelta(seconds=4 * current_app.config["CHAT_SWEEP_SECONDS"])


# ---- sockets ----------------------------------------------------------------------------------

def socket_connected(user, sid, now=None):
    """A staff socket of a chat agent connected: the agent is here (again)."""
    if not user.has_any_role(Role.CHAT_AGENT):  # service admins included
        return
    now = now or utcnow()
    db.session.add(AgentSocket(sid=sid, user_id=user.id, connected_at=now, seen_at=now))
    _mark_back(user.id)
    db.session.commit()
    with _local_lock:
        _local_sockets[sid] = user.id


def _mark_back(user_id):
    db.session.execute(
        update(AgentSession).where(AgentSession.user_id == user_id, AgentSession.disconnected_at.is_not(None))
        .values(disconnected_at=None).execution_options(synchronize_session=False)
    )


def _mark_gone_if_no_socket(user_id, since):
    """Start the agent's grace period unless another socket of theirs is still there."""
    db.session.execute(
        update(AgentSession)
        .where(AgentSession.user_id == user_id, AgentSession.disconnected_at.is_(None),
               ~exists().where(AgentSocket.user_id == user_id))
        .values(disconnected_at=since).execution_options(synchronize_session=False)
    )


def socket_disconnected(sid, now=None):
    """A staff socket went away; if it was the agent's last one, their grace period starts."""
    with _local_lock:
        _local_sockets.pop(sid, None)
    socket = db.session.get(AgentSocket, sid)
    if socket is None:
        return
    user_id = socket.user_id
    db.session.delete(socket)
    db.session.flush()
    _mark_gone_if_no_socket(user_id, now or utcnow())
    db.session.commit()


def refresh_local_sockets(now):
    """This process is alive: its sockets were seen now. A socket whose row another process
    took for stale (this one stalled for a while) is written back, and its agent is back."""
    with _local_lock:
        sockets = dict(_local_sockets)
    sids = list(sockets)
    for start in range(0, len(sids), 500):
        batch = sids[start:start + 500]
        db.session.execute(
            update(AgentSocket).where(AgentSocket.sid.in_(batch)).values(seen_at=now)
            .execution_options(synchronize_session=False)
        )
        present = set(db.session.scalars(select(AgentSocket.sid).where(AgentSocket.sid.in_(batch))))
        for sid in set(batch) - present:
            if sid not in _local_sockets:
                continue  # it disconnected meanwhile
            db.session.add(AgentSocket(sid=sid, user_id=sockets[sid], connected_at=now, seen_at=now))
            _mark_back(sockets[sid])
    db.session.commit()


def forget_stale_sockets(now):
    """Drop sockets whose process stopped refreshing them (it crashed or was restarted); an
    agent left without sockets is treated as disconnected since the socket was last seen."""
    stale = db.session.execute(
        select(AgentSocket.user_id, func.max(AgentSocket.seen_at))
        .where(AgentSocket.seen_at < now - _stale_after()).group_by(AgentSocket.user_id)
    ).all()
    if not stale:
        return 0
    removed = db.session.execute(delete(AgentSocket).where(AgentSocket.seen_at < now - _stale_after())).rowcount
    for user_id, last_seen in stale:
        _mark_gone_if_no_socket(user_id, last_seen)
    db.session.commit()
    return removed


# ---- the grace period -------------------------------------------------------------------------

def release_abandoned(now):
    """Agents gone for longer than the grace period: their customers go back to the queue
    (state waiting, agent cleared, a notice in the chat) and their service login ends.
    Returns the ids of the released conversations."""
    released = []
    for agent in abandoned_agents(now):
        released += release_agent(*agent)
    return released


def abandoned_agents(now):
    """(session id, user id, disconnected_at) of agents without a socket since before the grace period."""
    return db.session.execute(
        select(AgentSession.id, AgentSession.user_id, AgentSession.disconnected_at)
        .where(AgentSession.disconnected_at.is_not(None), AgentSession.disconnected_at <= now - _grace(),
               ~exists().where(AgentSocket.user_id == AgentSession.user_id))
    ).all()


def release_agent(session_id, user_id, disconnected_at):
    """Take one gone agent's service login and release their customers. The login is taken with
    a conditional DELETE (still disconnected since then, still no socket) and each customer with
    a conditional UPDATE (still served by this agent): of two processes sweeping at once, or
    against an agent who just came back, exactly one outcome wins. Returns the released ids."""
    queue_ids = db.session.scalars(
        select(agent_session_queue.c.queue_id).where(agent_session_queue.c.session_id == session_id)
    ).all()
    taken = db.session.execute(
        delete(AgentSession)
        .where(AgentSession.id == session_id, AgentSession.disconnected_at == disconnected_at,
               ~exists().where(AgentSocket.user_id == user_id))
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        db.session.rollback()  # another process took this agent, or they came back
        return []
    db.session.execute(agent_session_queue.delete().where(agent_session_queue.c.session_id == session_id))
    customers = db.session.scalars(
        select(Conversation.id).where(Conversation.agent_id == user_id, Conversation.state == ConversationState.SERVED)
    ).all()
    released = [c for c in customers if release_to_queue(c, user_id)]
    audit.record("chat.service_logout", object_type="User", object_id=user_id, reason="connection lost", released=released)
    for queue in db.session.scalars(select(ChatQueue).where(ChatQueue.id.in_(queue_ids))):
        service._announce(queue=queue)
    db.session.commit()
    return released


def release_to_queue(conversation_id, agent_id):
    """Put a customer of a gone agent back in the queue with a notice, if that agent still
    serves them (a conditional UPDATE); False when someone else got there first."""
    result = db.session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.state == ConversationState.SERVED,
               Conversation.agent_id == agent_id)
        .values(state=ConversationState.WAITING, agent_id=None, agent_name=None, served_at=None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    conversation = db.session.get(Conversation, conversation_id)
    db.session.refresh(conversation)
    service._system_line(conversation, "agent_lost")
    conversation.unread_by_customer = True
    audit.record("chat.released", obj=conversation, unit=conversation.queue.unit_id, agent=agent_id, reason="connection lost")
    service._announce(conversation)
    return True


def sweep(now=None):
    """One round of the background sweep of a server process."""
    now = now or utcnow()
    refresh_local_sockets(now)
    forget_stale_sockets(now)
    return release_abandoned(now)


def start_sweep_loop(app, socketio):
    """Run the sweep every CHAT_SWEEP_SECONDS for as long as the server runs."""

    def loop():
        while True:
            socketio.sleep(app.config["CHAT_SWEEP_SECONDS"])
            with app.app_context():
                try:
                    sweep()
                except Exception:  # noqa: BLE001 - a failed round must not stop the loop
                    db.session.rollback()
                    app.logger.exception("chat sweep failed")
                finally:
                    db.session.remove()

    socketio.start_background_task(loop)


# ---- staffing ---------------------------------------------------------------------------------

def is_staffed(queue):
    """Some agent is logged in to customer service in this queue."""
    return db.session.scalar(select(exists().where(agent_session_queue.c.queue_id == queue.id)))


def queues_left_unstaffed(user):
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


def may_leave_question(conversation):
    """A waiting customer of a queue nobody serves may leave their question by email, when
    the queue has a contact address."""
    return (conversation.state == ConversationState.WAITING and bool(conversation.queue.contact_email)
            and not is_staffed(conversation.queue))


def leave_question_by_email(conversation, address, question):
    """Send the waiting customer's question to the queue's contact address through the outbox
    (in the library's language), and end their visit to the queue."""
    if conversation.state != ConversationState.WAITING or not conversation.queue.contact_email:
        raise service.ChatError(_l("You cannot leave a question by email in this queue now."))
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
    service._system_line(conversation, "question_emailed")
    audit.record("chat.question_emailed", obj=conversation, unit=queue.unit_id)
    service._announce(conversation)
    db.session.commit()
