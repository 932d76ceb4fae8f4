"""The rules of the chat queue. HTTP routes and Socket.IO handlers both call these.

Every change is one write transaction here (common.transactions.write_transaction), and its live
events go out after its commit (common.live), so a browser that re-fetches after an event always
finds the change, and no acknowledged message is lost by a restart.
"""
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import ColumnElement, CursorResult, Select, case, exists, func, select, update
from sqlalchemy.orm import aliased, selectinload
from sqlalchemy.sql.dml import UpdateBase

from blueprints.accounts.models import User
from blueprints.chat.live import (
    announce_chat_changed,
    announce_left_queue,
    announce_line,
    rendered_item,
    unit_languages,
)
from blueprints.chat.models import (
    AgentSession,
    ChatMessage,
    ChatQueue,
    Conversation,
    ConversationState,
    InternalMessage,
    QueueTransfer,
    Sender,
    agent_session_queue,
)
from common import audit, mail
from common.access import Role
from common.clock import utcnow
from common.refusals import Conflict, NotAllowed, Refused
from common.transactions import write_transaction
from common.views import Page
from extensions import LANGUAGES, db

CUSTOMERS_PAGE_SIZE = 25  # of the queue's list, the longest waits first: about what a desk's column shows
MESSAGE_MAX_LENGTH = 2000
NAME_MAX_LENGTH = 60
WAITING_MESSAGE_MAX_LENGTH = 1000
TRANSFER_NOTE_MAX_LENGTH = 1000

# System lines are stored as codes and translated for whoever reads them.
SYSTEM_NOTICES = {
    "served": _l("An agent has started the chat."),
    "released": _l("You have been released back to the queue. Please wait, another agent will continue."),
    "removed": _l("You have been removed from the queue."),
    "ended": _l("The chat has ended."),
    "left": _l("The customer left the chat."),
    "customer_gone": _l("The customer has left."),  # their page was closed for the grace period
    "transcript_sent": _l("A transcript of this chat has been sent by email."),
    "agent_lost": _l("The agent's connection was lost. You are back in the queue; another agent will continue."),
    "question_emailed": _l("Your question has been sent to the library by email. The answer will come by email."),
    "transferred": _l(
        "You have been transferred to another queue. Please wait, an agent there will continue the chat."),
}
# The same lines naming the agent who did it, by the name customers see (AgentSession.display_name).
SYSTEM_NOTICES_BY = {
    "served": _l("%(agent)s has started the chat."),
    "ended": _l("%(agent)s has ended the chat."),
    "transferred": _l(
        "%(agent)s has transferred you to another queue. Please wait, an agent there will continue the chat."),
}


# ---- live events -------------------------------------------------------------------------

# ---- customer token -----------------------------------------------------------------------

def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="chat-customer")


def customer_token(conversation: Conversation) -> str:
    """The signed token kept in the customer's session; it names only their own conversation."""
    return _signer().dumps(conversation.token)


def conversation_for_token(signed: str | None) -> Conversation | None:
    """The conversation a signed customer token names, or None for a missing or forged token."""
    if not signed:
        return None
    try:
        token = _signer().loads(signed)
    except BadSignature:
        return None
    return db.session.scalar(select(Conversation).where(Conversation.token == token))


# ---- queues (administration and the service login: queues.py) ------------------------------

def queues_of_agent(user: User) -> Sequence[ChatQueue]:
    """Queues of the units where the user is a chat agent (a service admin: all)."""
    query = select(ChatQueue).order_by(ChatQueue.name)
    if not user.is_service_admin:
        query = query.where(ChatQueue.unit_id.in_(user.unit_ids(Role.CHAT_AGENT)))
    return db.session.scalars(query).all()


def may_serve(user: User, queue: ChatQueue) -> bool:
    return user.holds(Role.CHAT_AGENT, queue.unit_id)


def agent_session(user: User) -> AgentSession | None:
    """The agent's customer-service login (queues.log_in_to_service), or None."""
    return db.session.scalar(select(AgentSession).where(AgentSession.user_id == user.id))


def in_service_for(user: User, queue: ChatQueue) -> bool:
    """The agent is logged in to customer service for this queue: only then may they claim its customers."""
    return bool(db.session.scalar(select(exists().where(
        AgentSession.user_id == user.id, agent_session_queue.c.session_id == AgentSession.id,
        agent_session_queue.c.queue_id == queue.id))))


def waiting(queue_id: int) -> Sequence[Conversation]:
    return db.session.scalars(
        select(Conversation)
        .where(Conversation.queue_id == queue_id, Conversation.state == ConversationState.WAITING)
        .order_by(Conversation.joined_at, Conversation.id)
    ).all()


def customers_query(queue_id: int) -> Select[tuple[Conversation]]:
    """The queue's customers still present: waiting first (longest wait first), then served."""
    return (
        select(Conversation)
        .where(Conversation.queue_id == queue_id,
               Conversation.state.in_([ConversationState.WAITING, ConversationState.SERVED]))
        .order_by(Conversation.state.desc(), Conversation.joined_at, Conversation.id)
        .options(selectinload(Conversation.transfers))  # the note of a transfer shows in the list
    )


def listed_count(queue_id: int) -> int:
    """How many customers the queue's list holds (customers_query)."""
    return db.session.execute(select(func.count()).select_from(Conversation).where(
        Conversation.queue_id == queue_id,
        Conversation.state.in_([ConversationState.WAITING, ConversationState.SERVED]))).scalar_one()


def customers_of(queue_id: int) -> Sequence[Conversation]:
    return db.session.scalars(customers_query(queue_id)).all()


def waiting_counts(queue_ids: Iterable[int]) -> dict[int, int]:
    rows = db.session.execute(
        select(Conversation.queue_id, func.count())
        .where(Conversation.queue_id.in_(queue_ids), Conversation.state == ConversationState.WAITING)
        .group_by(Conversation.queue_id)
    ).all()
    return {queue_id: count for queue_id, count in rows}


def ahead_of(conversation: Conversation) -> int:
    """How many customers of the same queue joined before this waiting customer."""
    if conversation.state != ConversationState.WAITING:
        return 0
    return db.session.execute(
        select(func.count()).select_from(Conversation).where(
            Conversation.queue_id == conversation.queue_id,
            Conversation.state == ConversationState.WAITING,
            (Conversation.joined_at < conversation.joined_at)
            | ((Conversation.joined_at == conversation.joined_at) & (Conversation.id < conversation.id)),
        )
    ).scalar_one()


# ---- conversations ------------------------------------------------------------------------

def last_notice(conversation: Conversation) -> str | None:
    """The code of the conversation's last system line (how it ended, for the customer's page)."""
    return db.session.scalar(select(ChatMessage.body).where(ChatMessage.conversation_id == conversation.id,
                                                            ChatMessage.sender == Sender.SYSTEM)
                             .order_by(ChatMessage.id.desc()).limit(1))


def system_line(conversation: Conversation, code: str, agent_name: str | None = None) -> None:
    """A system line; with `agent_name`, it names the agent who did it (SYSTEM_NOTICES_BY)."""
    db.session.add(ChatMessage(conversation=conversation, sender=Sender.SYSTEM, body=code,
                               author_name=agent_name or ""))


@write_transaction()
def join(queue: ChatQueue, customer_name: str, first_question: str | None = None,
         language: str | None = None) -> Conversation:
    """A customer joins an open queue under a name; an optional first question becomes the first
    message. `language`, the page's, is the chat's (canned replies are inserted in it)."""
    # One join at a time in a queue: the customer before the new one is then known for sure. The
    # lock comes before the new rows: each insert holds a key-share lock on the queue's row, and
    # two joins that inserted first would then wait on each other for the row lock (a deadlock).
    # The locking read loads the queue too (the write transaction began by expiring it), and
    # whether it is open is read under the lock.
    db.session.refresh(queue, with_for_update=True)
    if not queue.is_open:
        raise Refused(_l("This queue is closed."), field="queue")
    # A new chat has no transfers: said here, its row's template does not ask the database.
    conversation = Conversation(queue=queue, token=secrets.token_urlsafe(24),
                                customer_name=customer_name.strip()[:NAME_MAX_LENGTH],
                                language=language if language in LANGUAGES else None, transfers=[])
    db.session.add(conversation)
    if first_question and first_question.strip():
        conversation.messages.append(ChatMessage(sender=Sender.CUSTOMER, author_name=conversation.customer_name,
                                                 body=first_question.strip()[:MESSAGE_MAX_LENGTH]))
        conversation.unread_by_agent = True
    db.session.flush()
    previous = db.session.scalar(
        select(Conversation.id)
        .where(Conversation.queue_id == queue.id, Conversation.state == ConversationState.WAITING,
               Conversation.id != conversation.id)
        .order_by(Conversation.joined_at.desc(), Conversation.id.desc()).limit(1))
    row = rendered_item("chat/_customer_row.html", conversation.id, previous, c=conversation, queue=queue,
                        conversation=None, languages=unit_languages(queue.unit_id))
    # The list's page count, for the pager of every desk of the queue ("Page 1 of 2").
    row["pages"] = Page([], 1, listed_count(queue.id), CUSTOMERS_PAGE_SIZE).pages
    # A join at the end moves nobody's place.
    announce_chat_changed(conversation, line_changed=False, joined=True, row=row)
    return conversation


def _may_act(user: User, conversation: Conversation) -> None:
    if not may_serve(user, conversation.queue):
        raise NotAllowed()


def check_may_act(user: User, conversation: Conversation) -> None:
    """A served chat is its serving agent's alone: a colleague reading it may not release,
    remove, transfer, call or end it (refused with 403; the page shows them no such control)."""
    _may_act(user, conversation)
    if conversation.state == ConversationState.SERVED and conversation.agent_id != user.id:
        raise NotAllowed()


def may_claim(user: User, conversation: Conversation) -> bool:
    """Only an agent logged in to customer service for the customer's queue picks them up."""
    return may_serve(user, conversation.queue) and in_service_for(user, conversation.queue)


# Back in the line: no agent, and service starts again when someone picks the customer up.
BACK_TO_WAITING = dict(state=ConversationState.WAITING, agent_id=None, agent_name=None, served_at=None)


def change_if(conversation_id: int, *conditions: ColumnElement[bool], **values: object) -> bool:
    """One conditional UPDATE of a conversation: True when this request made the change, False
    when the conditions no longer held (another agent, process or click got there first)."""
    return changed_rows(
        update(Conversation).where(Conversation.id == conversation_id, *conditions)
        .values(**values).execution_options(synchronize_session=False)
    ) == 1


def changed_rows(statement: UpdateBase) -> int:
    """Run an UPDATE or DELETE; how many rows it changed (its result is a CursorResult)."""
    return cast(CursorResult[Any], db.session.execute(statement)).rowcount


@write_transaction()
def claim(conversation_id: int, user: User) -> Conversation:
    """An agent picks a waiting customer. Atomic: a conditional UPDATE ... WHERE state='waiting',
    so of two agents clicking at once exactly one gets the customer; the other is told the
    customer is already being served."""
    conversation = db.session.get(Conversation, conversation_id)
    if conversation is None or not may_claim(user, conversation):
        raise NotAllowed()
    session = agent_session(user)
    name = session.display_name if session else user.display_name
    now = utcnow()
    if not change_if(conversation_id, Conversation.state == ConversationState.WAITING,
                     state=ConversationState.SERVED, agent_id=user.id, agent_name=name, served_at=now):
        raise Conflict(_l("This customer is already being served."))
    db.session.refresh(conversation)
    system_line(conversation, "served", name)
    audit.record("chat.claimed", obj=conversation, unit=conversation.queue.unit_id)
    announce_chat_changed(conversation)
    return conversation


@write_transaction()
def release(conversation: Conversation, user: User) -> None:
    """The serving agent puts their customer back to the queue (keeping their place by join time).
    Refused when nobody serves the customer ("you cannot release a customer you are not serving")."""
    check_may_act(user, conversation)
    serving = conversation.agent_id
    if not change_if(conversation.id, Conversation.state == ConversationState.SERVED,
                     Conversation.agent_id == user.id, **BACK_TO_WAITING):
        raise Conflict(_l("Nobody is serving this customer, so there is nothing to release."))
    db.session.refresh(conversation)
    system_line(conversation, "released")
    audit.record("chat.released", obj=conversation, unit=conversation.queue.unit_id)
    announce_chat_changed(conversation, agent_id=serving)


@write_transaction()
def remove(conversation: Conversation, user: User) -> None:
    """Remove a waiting customer from the queue (any agent of the queue). A customer being served
    is not in the line: their agent releases them or ends the chat, and a colleague may do
    neither. The customer is told if still present. One conditional UPDATE, so a colleague's
    claim at the same moment is not undone."""
    check_may_act(user, conversation)
    if not change_if(conversation.id, Conversation.state == ConversationState.WAITING,
                     state=ConversationState.REMOVED, ended_at=utcnow()):
        db.session.refresh(conversation)
        if conversation.state == ConversationState.SERVED and conversation.agent_id != user.id:
            raise NotAllowed()  # a colleague claimed the customer meanwhile
        if conversation.state == ConversationState.SERVED:
            raise Conflict(_l("You are serving this customer: release them to the queue or end the chat."))
        raise Conflict(_l("This customer is no longer in the queue."))
    db.session.refresh(conversation)
    system_line(conversation, "removed")
    audit.record("chat.removed", obj=conversation, unit=conversation.queue.unit_id)
    announce_chat_changed(conversation)


@write_transaction()
def end(conversation: Conversation, user: User) -> None:
    """The serving agent ends the chat."""
    check_may_act(user, conversation)
    if conversation.state != ConversationState.SERVED:
        raise Conflict(_l("Only the serving agent can end this chat."))
    conversation.state = ConversationState.ENDED
    conversation.ended_at = utcnow()
    system_line(conversation, "ended", conversation.agent_name)
    announce_chat_changed(conversation)


@write_transaction()
def leave(conversation: Conversation) -> None:
    """The customer leaves, waiting or in a chat."""
    if not conversation.is_open:
        return
    conversation.state = ConversationState.ENDED
    conversation.ended_at = utcnow()
    system_line(conversation, "left")
    announce_chat_changed(conversation)


def may_write(user: User, conversation: Conversation) -> bool:
    """Only the agent serving the conversation writes in it; colleagues may read."""
    return conversation.state == ConversationState.SERVED and conversation.agent_id == user.id


def may_read(user: User, conversation: Conversation) -> bool:
    return may_serve(user, conversation.queue)


def lines_after(conversation: Conversation, after: int, for_customer: bool = False) -> Sequence[ChatMessage]:
    """The conversation's lines written after line `after` (an id), in order; `for_customer`:
    without the staff's internal notes."""
    query = select(ChatMessage).where(ChatMessage.conversation_id == conversation.id, ChatMessage.id > after)
    if for_customer:
        query = query.where(ChatMessage.sender != Sender.NOTE)
    return db.session.scalars(query.order_by(ChatMessage.id)).all()


def line_count(conversation: Conversation) -> int:
    return db.session.execute(
        select(func.count()).select_from(ChatMessage).where(ChatMessage.conversation_id == conversation.id)
    ).scalar_one()


def send_as_agent(conversation: Conversation, user: User, body: str | None, key: str | None = None) -> ChatMessage:
    """The serving agent writes; anyone else (a reading colleague) is refused. A message whose
    `key` the chat has already is not stored again (a page resending after a lost answer)."""
    _may_act(user, conversation)
    # Read before the transaction, which expires what is loaded: a line costs no reading of the user again.
    user_id, name = user.id, user.display_name
    with write_transaction():
        if conversation.state != ConversationState.SERVED or conversation.agent_id != user_id:
            raise NotAllowed()  # may_write(), under the lock
        return _send(conversation, Sender.AGENT, conversation.agent_name or name, body, key, unread_by_customer=True)


@write_transaction()
def send_as_customer(conversation: Conversation, body: str | None, key: str | None = None) -> ChatMessage:
    """The customer writes in their own open conversation (also while waiting); `key` as above."""
    if not conversation.is_open:
        raise Refused(_l("The chat has ended."))
    return _send(conversation, Sender.CUSTOMER, conversation.customer_name, body, key, unread_by_agent=True)


# A line of a chat: a customer chat's or an internal one's.
Line = TypeVar("Line", ChatMessage, InternalMessage)


def lock_chat(model: type[ChatMessage] | type[InternalMessage], conversation_id: int) -> None:
    """One new line at a time in a chat (a customer's or an internal one; `model` is its line's):
    the chat's row is locked until the commit. The line before a new one is then known for sure,
    a chat's lines are committed in the order of their ids (a page reads the lines after its
    last), and a copy of a line sent at the same moment is found (stored_once)."""
    chat = model.conversation.property.mapper.class_
    db.session.execute(select(chat.id).where(chat.id == conversation_id).with_for_update())


def stored_once(model: type[Line], conversation_id: int, key: str | None, add: Callable[[str | None], Line]) -> Line:
    """Store the message that `add(key)` makes unless one with the page's `key` is there already:
    then that one is the answer. The key is looked for under the chat's lock, so of two copies
    sent at once the second waits for the first and answers with it."""
    key = (key or "").strip()[:40] or None
    with write_transaction():  # committed before any browser hears of it
        lock_chat(model, conversation_id)
        if key is not None:
            found = db.session.scalar(select(model).where(model.conversation_id == conversation_id,
                                                          model.client_key == key))
            if found is not None:
                return found
        return add(key)


def clean_body(body: str | None) -> str:
    body = (body or "").strip()
    if not body:
        raise Refused(_l("Write a message first."), field="body")
    if len(body) > MESSAGE_MAX_LENGTH:
        raise Refused(_l("A message can be at most %(count)d characters.", count=MESSAGE_MAX_LENGTH), field="body")
    return body


def _add_line(conversation: Conversation, message: ChatMessage) -> ChatMessage:
    """Add a line the chat's pages are told of at once, rendered (chat/live.py: announce_line),
    in a chat locked for it (lock_chat). The line before it: the desks' (any line) and the
    customer's (any line but a note), read in one query."""
    previous, customer_previous = db.session.execute(
        select(func.max(ChatMessage.id), func.max(case((ChatMessage.sender != Sender.NOTE, ChatMessage.id))))
        .where(ChatMessage.conversation_id == conversation.id)).one()
    db.session.add(message)
    db.session.flush()  # its id, for the line the pages are sent
    announce_line(conversation, message, previous, customer_previous)
    return message


def _send(conversation: Conversation, sender: Sender, author: str, body: str | None, key: str | None,
          **unread: bool) -> ChatMessage:
    body = clean_body(body)

    def add(key: str | None) -> ChatMessage:
        # By id, not by relationship: appending to conversation.messages would load every earlier line.
        message = ChatMessage(conversation_id=conversation.id, sender=sender, author_name=author, body=body,
                              client_key=key)
        for flag, value in unread.items():
            setattr(conversation, flag, value)
        return _add_line(conversation, message)

    return stored_once(ChatMessage, conversation.id, key, add)


# ---- internal notes -------------------------------------------------------------------------

def may_add_note(user: User, conversation: Conversation) -> bool:
    """Any agent who may read the chat adds an internal note to it (the serving agent and the
    colleagues reading along), while its transcript is kept."""
    return may_read(user, conversation) and conversation.purged_at is None


def add_note(conversation: Conversation, user: User, body: str | None, key: str | None = None) -> ChatMessage:
    """A staff-only note in a customer chat, shown in the desk's history with its author and
    time. The customer never sees it: not on their page (it is not sent to it, and their
    lines leave it out), not in the transcript mail. It goes with the chat's messages when the
    queue's retention purges them, and names in it are anonymised as in the messages. A note
    whose `key` the chat has already is not stored again."""
    if not may_read(user, conversation):
        raise NotAllowed()
    if conversation.purged_at is not None:
        raise Conflict(_l("The transcript of this chat is no longer kept."))
    body = clean_body(body)
    author = user.display_name

    def add(key: str | None) -> ChatMessage:
        note = ChatMessage(conversation_id=conversation.id, sender=Sender.NOTE, author_name=author, body=body,
                           client_key=key)
        audit.record("chat.note_added", obj=conversation, unit=conversation.queue.unit_id)
        return _add_line(conversation, note)

    return stored_once(ChatMessage, conversation.id, key, add)


def mark_read_by_agent(conversation: Conversation, user: User) -> None:
    """Opening the chat clears "New messages!" for the serving agent (not for a reader). A chat
    already read takes no write."""
    if conversation.unread_by_agent and conversation.agent_id == user.id:
        with write_transaction():
            conversation.unread_by_agent = False


def mark_shown_to_agent(conversation_id: int, line_id: int, user: User) -> None:
    """The serving agent's desk showed the chat's lines up to `line_id` as they came (with their
    events, no request): the chat is read, unless a customer line has come after that one."""
    conversation = db.session.get(Conversation, conversation_id)
    if conversation is None or not conversation.unread_by_agent or conversation.agent_id != user.id:
        return  # nothing to mark: no write
    with write_transaction():
        # Under the lock: a customer line stored after the one shown keeps the chat unread.
        newer = db.session.scalar(select(ChatMessage.id).where(
            ChatMessage.conversation_id == conversation_id, ChatMessage.sender == Sender.CUSTOMER,
            ChatMessage.id > line_id,
        ).limit(1))
        if newer is None:
            mark_read_by_agent(conversation, user)


def mark_read_by_customer(conversation: Conversation) -> None:
    """The customer's page shows the chat: the agent's lines are read. A chat already read takes no write."""
    if conversation.unread_by_customer:
        with write_transaction():
            conversation.unread_by_customer = False


@dataclass
class ActiveChat:
    """One of my served chats as the active list shows it."""
    conversation: Conversation
    last_line: ChatMessage | None  # the customer's latest line: its time and a preview
    unanswered_since: datetime | None  # the customer's first line since my latest answer


def served_by(user: User) -> list[ActiveChat]:
    """My active conversations (the right-hand column), the one waiting longest for an answer
    first: a chat whose customer wrote after my latest line waits since that line; the chats I
    have answered follow, in the order I took them."""
    conversations = db.session.scalars(
        select(Conversation)
        .where(Conversation.agent_id == user.id, Conversation.state == ConversationState.SERVED)
        .order_by(Conversation.served_at)
        .options(selectinload(Conversation.queue))
    ).all()
    if not conversations:
        return []
    ids = [c.id for c in conversations]
    answered = aliased(ChatMessage)
    my_latest = (select(func.max(answered.id)).where(answered.conversation_id == ChatMessage.conversation_id,
                                                     answered.sender == Sender.AGENT)
                 .correlate(ChatMessage).scalar_subquery())
    customer_lines = (ChatMessage.conversation_id.in_(ids), ChatMessage.sender == Sender.CUSTOMER)
    unanswered = {conversation_id: since for conversation_id, since in db.session.execute(
        select(ChatMessage.conversation_id, func.min(ChatMessage.sent_at))
        .where(*customer_lines, ChatMessage.id > func.coalesce(my_latest, 0))
        .group_by(ChatMessage.conversation_id))}
    latest_ids = db.session.scalars(
        select(func.max(ChatMessage.id)).where(*customer_lines).group_by(ChatMessage.conversation_id)).all()
    latest_lines = db.session.scalars(select(ChatMessage).where(ChatMessage.id.in_(latest_ids)))
    latest = {m.conversation_id: m for m in latest_lines}
    chats = [ActiveChat(c, latest.get(c.id), unanswered.get(c.id)) for c in conversations]
    # Stable: the answered keep the order they were taken in.
    return sorted(chats, key=lambda chat: (chat.unanswered_since is None, chat.unanswered_since or datetime.min))


# ---- transcript by email --------------------------------------------------------------------

def may_email_transcript(user: User, conversation: Conversation) -> bool:
    """The agent serving the customer, or who served them until the chat ended, may send the
    transcript (while the conversation still exists); colleagues reading along may not."""
    return conversation.agent_id == user.id and may_serve(user, conversation.queue)


def send_transcript_mail(conversation: Conversation, address: str, language: str) -> None:
    """The transcript as the customer gets it by email: plain text in the chosen language with
    local times, through the mail outbox (in the caller's write transaction)."""
    with force_locale(language):
        subject = _("Your chat with the library: %(queue)s", queue=conversation.queue.name)
        body = render_template("chat/transcript_mail.txt", conversation=conversation)
    mail.send_mail(address, subject, body)


@write_transaction()
def email_transcript(conversation: Conversation, user: User, address: str, language: str) -> None:
    """Email the transcript to the customer at their request, through the mail outbox, in the
    chosen language with times in local time. The chat gets a line saying it was sent."""
    if not may_email_transcript(user, conversation):
        raise NotAllowed()
    if conversation.purged_at is not None:
        raise Conflict(_l("The transcript of this chat is no longer kept."))
    send_transcript_mail(conversation, address, language)
    conversation.unread_by_customer = True
    lock_chat(ChatMessage, conversation.id)
    _add_line(conversation, ChatMessage(conversation_id=conversation.id, sender=Sender.SYSTEM, body="transcript_sent"))
    audit.record("chat.transcript_sent", obj=conversation, unit=conversation.queue.unit_id, recipient=address)


# ---- queue transfer -------------------------------------------------------------------------

def transfer_targets(user: User, conversation: Conversation) -> list[ChatQueue]:
    """The queues an agent may move a customer to: every queue the agent may serve, closed ones
    too (a specialist opens a closed queue when needed), except the customer's current queue."""
    return [q for q in queues_of_agent(user) if q.id != conversation.queue_id]


def check_may_transfer(user: User, conversation: Conversation) -> None:
    """Only the agent serving the customer transfers them (colleagues only read the chat)."""
    check_may_act(user, conversation)
    if conversation.state != ConversationState.SERVED or conversation.agent_id != user.id:
        raise Conflict(_l("Only the agent serving this customer can transfer them to another queue."))


@write_transaction()
def transfer(conversation: Conversation, target_queue_id: int, note: str | None, user: User) -> QueueTransfer:
    """The serving agent moves a served customer to another queue with an optional note for the next agent.

    The same conversation goes along with its whole history and waits in the target queue with no
    agent (keeping its join time, as a release does). The customer is told, and the target queue's
    agents hear of a new customer. Like a claim, one conditional UPDATE: a transfer racing the
    customer's leaving or a second click changes nothing and is refused.
    """
    check_may_transfer(user, conversation)
    target = db.session.get(ChatQueue, target_queue_id)
    if target is None or not may_serve(user, target):
        raise NotAllowed()
    if target.id == conversation.queue_id:
        raise Conflict(_l("The customer is already in this queue."))
    source, served_at, agent_name = conversation.queue, conversation.served_at, conversation.agent_name
    if not change_if(conversation.id, Conversation.state == ConversationState.SERVED, Conversation.agent_id == user.id,
                     queue_id=target.id, **BACK_TO_WAITING):
        raise Conflict(_l("Only the agent serving this customer can transfer them to another queue."))
    db.session.refresh(conversation)
    record = QueueTransfer(from_queue_id=source.id, to_queue_id=target.id, transferred_by_id=user.id,
                           agent_name=agent_name, note=(note or "").strip()[:TRANSFER_NOTE_MAX_LENGTH],
                           served_at=served_at)
    conversation.transfers.append(record)
    system_line(conversation, "transferred", agent_name)
    db.session.flush()
    audit.record("chat.transferred", obj=conversation, unit=source.unit_id, actor=user, from_queue=source.id,
                 to_queue=target.id, transfer=record.id, with_note=bool(record.note))
    # The target queue's agents and waiting customers, this customer, and my list of chats; then
    # the desks that show the queue left behind, mine too (its event names the target queue).
    announce_chat_changed(conversation, agent_id=user.id)
    announce_left_queue(conversation, source, user.id if source.unit_id != target.unit_id else None)
    return record
