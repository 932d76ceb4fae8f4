"""Finding an earlier conversation: the kept transcripts, searched by text, queue and dates,
opened read-only and emailed as the serving agent emails one (service.email_transcript).

Who: a service admin, and the chat agents of a queue's unit for that queue (service.may_serve),
only in queues that keep transcripts (keep_days > 0). Nobody else, and no other queue.

What is found: ended chats whose transcript the queue's retention keeps *now* (retention.py),
whether or not `flask chat purge` has run yet: a chat past its queue's keep_days is never found,
and one past anonymise_after_days is found only once its name has been removed. What the purge
removed (the lines, the name) is not there to be found, and an anonymised chat names nobody.

Every search (each page of it) and every opening is audited before its answer is shown:
`chat.transcripts_searched` with the filters and the number found (not the chats found, so the
log ties no name to a chat), `chat.transcript_opened` with the chat.
"""
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, event, exists, false, func, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import selectinload

from blueprints.accounts.models import User
from blueprints.chat import retention, service
from blueprints.chat.models import ChatMessage, ChatQueue, Conversation, Sender
from common import audit
from common.clock import library_zone, utcnow
from common.refusals import NotAllowed
from common.transactions import write_transaction
from common.views import Page, page_of
from extensions import db

SEARCH_TEXT_MAX_LENGTH = 200
RESULTS_PAGE_SIZE = 20
EXCERPT_LENGTH = 160
UTC = ZoneInfo("UTC")


@event.listens_for(Engine, "connect")
def _unicode_lower(dbapi_connection: Any, connection_record: Any) -> None:
    """SQLite's lower() folds ASCII letters only: "äiti" would not find "Äiti". PostgreSQL's
    lower() folds every letter; on SQLite the search uses Python's."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function("unicode_lower", 1, lambda text: text.lower() if isinstance(text, str)
                                         else text, deterministic=True)


def _lower(column: Any) -> Any:
    return func.unicode_lower(column) if db.engine.dialect.name == "sqlite" else func.lower(column)


def may_search(user: User, queue: ChatQueue) -> bool:
    """A service admin and the queue's agents, in a queue that keeps transcripts."""
    return queue.keep_days > 0 and service.may_serve(user, queue)


def searchable_queues(user: User) -> list[ChatQueue]:
    """The queues whose transcripts the user may search."""
    return [q for q in service.queues_of_agent(user) if may_search(user, q)]


def _kept_now(queue: ChatQueue, now: datetime) -> ColumnElement[bool]:
    """The queue's chats whose transcript its retention keeps at `now`, as they may be shown."""
    conditions = [Conversation.queue_id == queue.id, Conversation.ended_at >= retention.purge_cutoff(queue, now)]
    anonymise = retention.anonymise_cutoff(queue, now)
    if anonymise is not None:
        # Past the day its name goes, a chat is found only once the name has gone.
        conditions.append(or_(Conversation.ended_at >= anonymise, Conversation.anonymised_at.is_not(None)))
    return and_(*conditions)


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _found_in_chat(word: str) -> ColumnElement[bool]:
    """The word in the customer's name or in a line that someone wrote (not a system line)."""
    pattern = _like(word)
    in_line = exists().where(ChatMessage.conversation_id == Conversation.id, ChatMessage.sender != Sender.SYSTEM,
                             _lower(ChatMessage.body).like(pattern, escape="\\"))
    return or_(_lower(Conversation.customer_name).like(pattern, escape="\\"), in_line)


def _day_start(day: date) -> datetime:
    """The library's midnight starting `day`, as naive UTC."""
    return datetime.combine(day, datetime.min.time(), library_zone()).astimezone(UTC).replace(tzinfo=None)


def _findable(queues: Sequence[ChatQueue], now: datetime) -> tuple[ColumnElement[bool], ...]:
    """The chats of `queues` whose transcript may be found at `now`."""
    kept = [_kept_now(q, now) for q in queues if q.keep_days > 0]
    return (Conversation.state.in_(retention.ENDED_STATES), Conversation.ended_at.is_not(None),
            Conversation.purged_at.is_(None), or_(*kept) if kept else false())


def kept_transcripts(queues: Sequence[ChatQueue], now: datetime) -> Select[tuple[Conversation]]:
    """Every transcript of `queues` that may be found at `now`, the latest first."""
    return (
        select(Conversation).where(*_findable(queues, now))
        .order_by(Conversation.joined_at.desc(), Conversation.id.desc())
        .options(selectinload(Conversation.queue))
    )


def search_query(queues: Sequence[ChatQueue], text: str, start: date | None, end: date | None,
                 now: datetime) -> Select[tuple[Conversation]]:
    """The kept transcripts of `queues` in which every word of `text` is found (in the
    customer's name or in a line, ignoring case), begun on the library's days start..end."""
    query = kept_transcripts(queues, now)
    for word in text.split():
        query = query.where(_found_in_chat(word))
    if start is not None:
        query = query.where(Conversation.joined_at >= _day_start(start))
    if end is not None:
        query = query.where(Conversation.joined_at < _day_start(end + timedelta(days=1)))
    return query


@dataclass
class Found:
    conversation: Conversation
    excerpt: str | None  # the first line with the first word searched


def _excerpts(conversations: Sequence[Conversation], word: str) -> dict[int, str]:
    if not conversations or not word:
        return {}
    pattern = _like(word)
    first = db.session.scalars(
        select(func.min(ChatMessage.id)).where(
            ChatMessage.conversation_id.in_([c.id for c in conversations]), ChatMessage.sender != Sender.SYSTEM,
            _lower(ChatMessage.body).like(pattern, escape="\\"))
        .group_by(ChatMessage.conversation_id)).all()
    lines = db.session.scalars(select(ChatMessage).where(ChatMessage.id.in_(first)))
    return {m.conversation_id: _excerpt(m.body, word) for m in lines}


def _excerpt(body: str, word: str) -> str:
    """About EXCERPT_LENGTH characters of the line around the word."""
    if len(body) <= EXCERPT_LENGTH:
        return body
    at = max(0, body.lower().find(word.lower()) - EXCERPT_LENGTH // 3)
    piece = body[at:at + EXCERPT_LENGTH]
    return ("…" if at else "") + piece + ("…" if at + EXCERPT_LENGTH < len(body) else "")


def search(user: User, queue: ChatQueue | None, text: str, start: date | None, end: date | None) -> Page:
    """One page of a search (its number in the request, as every search's pager sends it), in
    the queue chosen or in every queue the user may search. Audited before it is answered."""
    if queue is not None and not may_search(user, queue):
        raise NotAllowed()
    queues = [queue] if queue is not None else searchable_queues(user)
    text = text.strip()[:SEARCH_TEXT_MAX_LENGTH]
    page = page_of(search_query(queues, text, start, end, utcnow()), RESULTS_PAGE_SIZE)
    words = text.split()
    excerpts = _excerpts(page.items, words[0] if words else "")
    page.items = [Found(c, excerpts.get(c.id)) for c in page.items]
    with write_transaction(keep_loaded=True):  # only the record: the page stays as it was read
        audit.record("chat.transcripts_searched", unit=queue.unit_id if queue else None,
                     queue=queue.id if queue else None, text=text, start=start and start.isoformat(),
                     end=end and end.isoformat(), found=page.total, page=page.number)
    return page


def kept_transcript(user: User, conversation_id: int) -> Conversation | None:
    """The transcript if the user may search its queue and it may be found now, else None."""
    conversation = db.session.get(Conversation, conversation_id)
    if conversation is None or not may_search(user, conversation.queue):
        return None
    found = db.session.scalar(select(Conversation.id).where(Conversation.id == conversation_id,
                                                            *_findable([conversation.queue], utcnow())))
    return conversation if found is not None else None


def record_opening(conversation: Conversation) -> None:
    """An opening of a kept transcript, audited before it is shown."""
    with write_transaction(keep_loaded=True):
        audit.record("chat.transcript_opened", obj=conversation, unit=conversation.queue.unit_id)


@write_transaction()
def email_kept_transcript(conversation: Conversation, user: User, address: str, language: str) -> None:
    """Email a found transcript at the customer's request: the mail the serving agent sends
    (service.send_transcript_mail), audited as theirs is. The chat itself is not changed: it
    has ended, and its transcript is a record now."""
    if kept_transcript(user, conversation.id) is None:
        raise NotAllowed()
    service.send_transcript_mail(conversation, address, language)
    audit.record("chat.transcript_sent", obj=conversation, unit=conversation.queue.unit_id, recipient=address,
                 kept=True)
