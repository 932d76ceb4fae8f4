"""Privacy: how long chat transcripts are kept, and removing them when that time has passed.

Each queue says how many days a transcript is kept after the chat ends (0, the library's
default: not kept at all) and, optionally, after how many days the customer's name is removed
from a kept transcript. `flask --app app chat purge` (blueprints/chat/cli.py) applies them.

Only ended or removed conversations are touched; a waiting or served customer never is. The
conversation row itself stays, without the name and without messages, because the queue
statistics count chats, waiting times and ratings from it; nothing in it then names the
customer (a rating keeps its answer and loses its comment). The
same command purges internal staff messages as internal.py's retention says.
"""
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.orm import selectinload

from blueprints.chat import internal
from blueprints.chat.models import (
    ChatMessage,
    ChatQueue,
    Conversation,
    ConversationState,
    InternalMessage,
    QueueTransfer,
    Sender,
)
from common import audit
from common.transactions import write_transaction
from extensions import db

MAX_KEEP_DAYS = 3650  # ten years: more than any archive rule asks of a chat
BATCH_SIZE = 500  # conversations per transaction
NAME_PLACEHOLDER = "***"
ENDED_STATES = (ConversationState.ENDED, ConversationState.REMOVED)


# The WHERE clause of the conversations a purge or an anonymisation handles.
Conditions = tuple[ColumnElement[bool], ...]


@dataclass
class QueuePurge:
    """What a purge did (or, in a dry run, would do) in one queue."""

    queue: ChatQueue
    purged: int = 0
    anonymised: int = 0


def purge_cutoff(queue: ChatQueue, now: datetime) -> datetime:
    """Transcripts of chats that ended before this moment are removed."""
    return now - timedelta(days=queue.keep_days)


def anonymise_cutoff(queue: ChatQueue, now: datetime) -> datetime | None:
    """Customer names of chats that ended before this moment are removed (None: never)."""
    if queue.anonymise_after_days is None:
        return None
    return now - timedelta(days=queue.anonymise_after_days)


def _ended_before(queue: ChatQueue, cutoff: datetime) -> Conditions:
    # Strictly before: a chat that ended exactly at the boundary is still inside the setting.
    return (
        Conversation.queue_id == queue.id,
        Conversation.state.in_(ENDED_STATES),
        Conversation.ended_at.is_not(None),
        Conversation.ended_at < cutoff,
    )


def _to_purge(queue: ChatQueue, now: datetime) -> Conditions:
    return (*_ended_before(queue, purge_cutoff(queue, now)), Conversation.purged_at.is_(None))


def _to_anonymise(queue: ChatQueue, now: datetime) -> Conditions | None:
    cutoff = anonymise_cutoff(queue, now)
    if cutoff is None:
        return None
    # Chats old enough to be purged are left to the purge (and not counted twice in a dry run).
    return (*_ended_before(queue, cutoff), Conversation.ended_at >= purge_cutoff(queue, now),
            Conversation.anonymised_at.is_(None), Conversation.purged_at.is_(None))


def _count(conditions: Conditions) -> int:
    return db.session.execute(select(func.count()).select_from(Conversation).where(*conditions)).scalar_one()


def _in_batches(conditions: Conditions, handle: Callable[[Sequence[int]], None]) -> int:
    """Call `handle(ids)` for the matching conversations, a batch at a time, each batch read and
    handled in a write transaction of its own; a handled conversation no longer matches, so a
    rerun finds nothing. Returns how many were handled."""
    handled = 0
    while True:
        with write_transaction():
            ids = db.session.scalars(select(Conversation.id).where(*conditions).order_by(Conversation.id)
                                     .limit(BATCH_SIZE)).all()
            if ids:
                handle(ids)
        handled += len(ids)
        if len(ids) < BATCH_SIZE:  # the last batch: no transaction more to find nothing
            return handled


def _purge_batch(ids: Sequence[int], now: datetime) -> None:
    db.session.execute(delete(ChatMessage).where(ChatMessage.conversation_id.in_(ids)))
    # A transfer stays for the statistics; its note, written about the customer, goes.
    db.session.execute(
        update(QueueTransfer).where(QueueTransfer.conversation_id.in_(ids)).values(note="")
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Conversation).where(Conversation.id.in_(ids))
        # The rating's answer stays for the statistics; its comment is the customer's words and goes.
        .values(customer_name="", rating_comment=None, purged_at=now,
                anonymised_at=func.coalesce(Conversation.anonymised_at, now))
        .execution_options(synchronize_session=False)
    )


def _anonymise_batch(ids: Sequence[int], now: datetime) -> None:
    found = (select(Conversation).where(Conversation.id.in_(ids))
             .options(selectinload(Conversation.messages), selectinload(Conversation.transfers)))
    for conversation in db.session.scalars(found):
        anonymise_conversation(conversation, now)


def purge_queue(queue: ChatQueue, now: datetime, dry_run: bool = False) -> QueuePurge:
    """Apply one queue's retention: remove transcripts older than keep_days, then anonymise
    the names in the kept ones older than anonymise_after_days."""
    result = QueuePurge(queue)
    purge = _to_purge(queue, now)
    anonymise = _to_anonymise(queue, now)
    if dry_run:
        result.purged = _count(purge)
        if anonymise is not None:
            result.anonymised = _count(anonymise)
        return result
    result.purged = _in_batches(purge, lambda ids: _purge_batch(ids, now))
    if anonymise is not None:
        result.anonymised = _in_batches(anonymise, lambda ids: _anonymise_batch(ids, now))
    return result


def _name_pattern(name: str) -> re.Pattern[str] | None:
    """The customer's name and each part of it (two letters or more), as whole words."""
    parts = {name.strip(), *(part for part in re.split(r"\s+", name.strip()) if len(part) >= 2)}
    parts.discard("")
    if not parts:
        return None
    alternatives = "|".join(re.escape(p) for p in sorted(parts, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def anonymise_conversation(conversation: Conversation, now: datetime) -> None:
    """Remove the customer's name from a kept transcript: the name itself, the customer's
    lines' author, and the name where anyone wrote it in a message ("Hei Toni!"), in a
    transfer note or in the comment of the customer's rating."""
    pattern = _name_pattern(conversation.customer_name)
    for message in conversation.messages:
        if message.sender == Sender.CUSTOMER:
            message.author_name = ""
        if pattern is not None and message.sender != Sender.SYSTEM:
            message.body = pattern.sub(NAME_PLACEHOLDER, message.body)
    for transfer in conversation.transfers:
        if pattern is not None:
            transfer.note = pattern.sub(NAME_PLACEHOLDER, transfer.note)
    if pattern is not None and conversation.rating_comment:
        conversation.rating_comment = pattern.sub(NAME_PLACEHOLDER, conversation.rating_comment)
    conversation.customer_name = ""
    conversation.anonymised_at = now


def purge_internal_chat(now: datetime, dry_run: bool = False) -> int:
    """Internal staff messages are kept CHAT_INTERNAL_RETENTION_DAYS (the rule is in
    internal.py). Returns how many messages were (or, in a dry run, would be) removed."""
    cutoff = internal.internal_retention_cutoff(now)
    if dry_run:
        return db.session.execute(
            select(func.count()).select_from(InternalMessage).where(InternalMessage.sent_at < cutoff)).scalar_one()
    return internal.purge_internal_messages(cutoff)


def purge(now: datetime, dry_run: bool = False) -> tuple[list[QueuePurge], int]:
    """Apply every queue's retention setting. Safe to run again at any time: what was done is
    not done twice. Writes one audit event with the figures (not for a dry run)."""
    queues = db.session.scalars(select(ChatQueue).order_by(ChatQueue.name, ChatQueue.id)).all()
    results = [purge_queue(queue, now, dry_run) for queue in queues]
    internal_messages = purge_internal_chat(now, dry_run)
    if not dry_run:
        with write_transaction(keep_loaded=True):  # only the record: the queues stay loaded for the report
            audit.record(
                "chat.purged",
                queues={str(r.queue.id): {"purged": r.purged, "anonymised": r.anonymised} for r in results},
                internal_messages=internal_messages,
            )
    return results, internal_messages
