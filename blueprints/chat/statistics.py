"""Chat statistics per queue and day, in the library's local time (Europe/Helsinki).

A customer's conversation is split into visits, one per queue it has been in: a transfer ends
the visit in one queue and starts one in the next. Each visit counts on the local day the
customer arrived in the queue (joined it, or was transferred to it):

- chats: visits in which an agent served the customer;
- waiting time: arrival in the queue to being served there;
- chat length: being served to the end of the visit (the chat ended, or the customer was
  transferred on or removed);
- left before being served: the customer left while still waiting;
- transfers out: transfers from the queue, on the local day of the transfer;
- the customers' answers to "Did you get the help you needed?" (ratings.py): yes, partly, no,
  on the visit in which the chat ended.

The figures are computed in Python from the rows of the range, so medians and percentiles are
the same on SQLite and PostgreSQL. Durations are whole seconds.
"""
import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy import Row, and_, or_, select

from blueprints.accounts.models import User
from blueprints.chat.models import (
    ChatQueue,
    Conversation,
    ConversationState,
    QueueTransfer,
    Rating,
)
from common.access import Role
from common.clock import library_zone, local_today
from extensions import db

UTC = ZoneInfo("UTC")
MAX_DAYS = 366  # a year at most: the chart has one bar per day


def visible_queues(user: User) -> Sequence[ChatQueue]:
    """A service admin sees every queue; chat agents and main users the queues of their own units."""
    query = select(ChatQueue).order_by(ChatQueue.name, ChatQueue.id)
    if not user.is_service_admin:
        units = user.unit_ids(Role.CHAT_AGENT) | user.unit_ids(Role.MAIN_USER)
        query = query.where(ChatQueue.unit_id.in_(units))
    return db.session.scalars(query).all()


def median(values: Sequence[int]) -> float | None:
    return statistics.median(values) if values else None


def percentile(values: Sequence[int], share: float) -> int | None:
    """Nearest-rank percentile: the smallest value with at least `share` of the values at or
    below it, so the figure is always a waiting time a customer really had."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


@dataclass
class QueueDay:
    day: date
    queue: ChatQueue
    chats: int = 0
    left_unserved: int = 0
    transfers_out: int = 0
    ratings: dict[Rating, int] = field(default_factory=lambda: dict.fromkeys(Rating, 0))
    waits: list[int] = field(default_factory=list)  # seconds
    lengths: list[int] = field(default_factory=list)  # seconds

    @property
    def median_wait(self) -> float | None:
        return median(self.waits)

    @property
    def p90_wait(self) -> int | None:
        return percentile(self.waits, 0.9)

    @property
    def median_length(self) -> float | None:
        return median(self.lengths)


@dataclass
class Figures:
    start: date
    end: date
    rows: list[QueueDay]  # by day, then queue name
    days: list[tuple[date, int]]  # (day, chats) for every day of the period, for the chart

    @property
    def chats(self) -> int:
        return sum(r.chats for r in self.rows)

    @property
    def left_unserved(self) -> int:
        return sum(r.left_unserved for r in self.rows)

    @property
    def transfers_out(self) -> int:
        return sum(r.transfers_out for r in self.rows)

    @property
    def ratings(self) -> dict[Rating, int]:
        return {rating: sum(r.ratings[rating] for r in self.rows) for rating in Rating}

    @property
    def rated(self) -> int:
        return sum(self.ratings.values())

    @property
    def peak(self) -> int:
        return max((n for _, n in self.days), default=0)


# The columns of a conversation and of its transfers that its visits are made of (figures).
ConversationRow = Row[tuple[int, int, ConversationState, datetime, datetime | None, datetime | None,
                            Rating | None]]
TransferRow = Row[tuple[int, int, int, datetime | None, datetime]]


@dataclass
class Visit:
    queue_id: int
    arrived_at: datetime
    served_at: datetime | None
    ended_at: datetime | None
    left_unserved: bool = False
    rating: Rating | None = None  # the customer's answer, on the visit in which the chat ended


def visits(conversation: ConversationRow, transfers: Sequence[TransferRow]) -> list[Visit]:
    """The conversation's visits to queues, first to last (`transfers` in the order they were made)."""
    queue_id = transfers[0].from_queue_id if transfers else conversation.queue_id
    arrived_at = conversation.joined_at
    found = []
    for t in transfers:
        found.append(Visit(queue_id, arrived_at, t.served_at, t.transferred_at))
        queue_id, arrived_at = t.to_queue_id, t.transferred_at
    left = conversation.state == ConversationState.ENDED and conversation.served_at is None
    found.append(Visit(queue_id, arrived_at, conversation.served_at, conversation.ended_at, left,
                       conversation.rating))
    return found


def utc_bounds(start: date, end: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """[start, end] local dates as naive UTC [lo, hi)."""
    lo = datetime.combine(start, datetime.min.time(), zone).astimezone(UTC).replace(tzinfo=None)
    hi = datetime.combine(end + timedelta(days=1), datetime.min.time(), zone).astimezone(UTC).replace(tzinfo=None)
    return lo, hi


def _local_day(moment: datetime, zone: tzinfo) -> date:
    return moment.replace(tzinfo=UTC).astimezone(zone).date()


def _seconds(later: datetime, earlier: datetime) -> int:
    return int((later - earlier).total_seconds())


def figures(queues: Iterable[ChatQueue], start: date, end: date, zone: tzinfo | None = None) -> Figures:
    """The figures of `queues` for the local dates start..end (both included), in the library's
    zone unless `zone` is given."""
    zone = zone or library_zone()
    by_id = {q.id: q for q in queues}
    ids = list(by_id)
    lo, hi = utc_bounds(start, end, zone)
    touching = or_(QueueTransfer.from_queue_id.in_(ids), QueueTransfer.to_queue_id.in_(ids))
    # Conversations with a visit that may start in the range in one of the queues: joined in
    # the range, or transferred in the range. Plain rows: a year of a busy queue is many.
    arrived_in_range = select(Conversation.id).where(
        or_(
            and_(Conversation.joined_at >= lo, Conversation.joined_at < hi,
                 or_(Conversation.queue_id.in_(ids),
                     Conversation.id.in_(select(QueueTransfer.conversation_id).where(touching)))),
            Conversation.id.in_(select(QueueTransfer.conversation_id).where(
                touching, QueueTransfer.transferred_at >= lo, QueueTransfer.transferred_at < hi)),
        )
    )
    conversations = db.session.execute(
        select(Conversation.id, Conversation.queue_id, Conversation.state, Conversation.joined_at,
               Conversation.served_at, Conversation.ended_at, Conversation.rating)
        .where(Conversation.id.in_(arrived_in_range))
    ).all()
    transfers: dict[int, list[TransferRow]] = {}
    for t in db.session.execute(
        select(QueueTransfer.conversation_id, QueueTransfer.from_queue_id, QueueTransfer.to_queue_id,
               QueueTransfer.served_at, QueueTransfer.transferred_at)
        .where(QueueTransfer.conversation_id.in_(arrived_in_range))
        .order_by(QueueTransfer.transferred_at, QueueTransfer.id)
    ):
        transfers.setdefault(t.conversation_id, []).append(t)

    rows: dict[tuple[date, int], QueueDay] = {}

    def row(day: date, queue_id: int) -> QueueDay:
        if (day, queue_id) not in rows:
            rows[(day, queue_id)] = QueueDay(day, by_id[queue_id])
        return rows[(day, queue_id)]

    for conversation in conversations:
        for visit in visits(conversation, transfers.get(conversation.id, [])):
            day = _local_day(visit.arrived_at, zone)
            if visit.queue_id not in by_id or not start <= day <= end:
                continue
            if visit.served_at is not None:
                served = row(day, visit.queue_id)
                served.chats += 1
                served.waits.append(_seconds(visit.served_at, visit.arrived_at))
                if visit.ended_at is not None:
                    served.lengths.append(_seconds(visit.ended_at, visit.served_at))
                if visit.rating is not None:
                    served.ratings[visit.rating] += 1
            elif visit.left_unserved:
                row(day, visit.queue_id).left_unserved += 1
    for queue_id, transferred_at in db.session.execute(
        select(QueueTransfer.from_queue_id, QueueTransfer.transferred_at)
        .where(QueueTransfer.from_queue_id.in_(ids), QueueTransfer.transferred_at >= lo,
               QueueTransfer.transferred_at < hi)
    ):
        row(_local_day(transferred_at, zone), queue_id).transfers_out += 1

    ordered = sorted(rows.values(), key=lambda r: (r.day, r.queue.name, r.queue.id))
    per_day: dict[date, int] = {}
    for r in ordered:
        per_day[r.day] = per_day.get(r.day, 0) + r.chats
    dates = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    days = [(day, per_day.get(day, 0)) for day in dates]
    return Figures(start, end, ordered, days)


def default_period(today: date | None = None) -> tuple[date, date]:
    """The last 30 days up to today, in the library's time."""
    today = today or local_today()
    return today - timedelta(days=29), today


# ---- the chart -------------------------------------------------------------------------------

CHART_WIDTH = 720
CHART_HEIGHT = 200
CHART_LEFT = 40  # room for the scale
CHART_BOTTOM = 30  # room for the dates


@dataclass
class Bar:
    day: date
    chats: int
    x: float
    y: float
    width: float
    height: float
    labelled: bool  # a date under the bar (every nth, so the labels do not overlap)


def chart_bars(days: Sequence[tuple[date, int]]) -> list[Bar]:
    """Geometry of one bar per day in an SVG of CHART_WIDTH x CHART_HEIGHT."""
    peak = max((n for _, n in days), default=0) or 1
    plot_height = CHART_HEIGHT - CHART_BOTTOM - 10
    slot = (CHART_WIDTH - CHART_LEFT - 10) / max(1, len(days))
    every = max(1, math.ceil(len(days) / 12))
    bars = []
    for i, (day, chats) in enumerate(days):
        height = round(chats / peak * plot_height, 1)
        bars.append(Bar(day, chats, round(CHART_LEFT + i * slot + slot * 0.15, 1), round(10 + plot_height - height, 1),
                        round(slot * 0.7, 1), height, i % every == 0))
    return bars
