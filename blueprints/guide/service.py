"""The rules of the guide checklist: versions of the guideline, sessions, ticks, statistics.

A function that changes something is one write transaction (common/transactions.py), and its
live events go out after its commit; a refusal raised inside rolls it back.
"""
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import ClassVar
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from blueprints.accounts.models import User
from blueprints.guide import checklist_data
from blueprints.guide import live as guide_live
from blueprints.guide.models import (
    CONTENT_LANGUAGES,
    ChecklistItem,
    ChecklistVersion,
    GuidanceSession,
    ItemGroup,
    LimitMet,
    Outcome,
    Referral,
    SessionTick,
    SessionTopic,
)
from common import audit
from common.access import Role
from common.clock import utcnow
from common.refusals import Conflict, NotAllowed, Refused
from common.transactions import write_transaction
from extensions import db

NOTE_MAX_LENGTH = 500
MAX_DURATION_MINUTES = 24 * 60

GROUP_LABELS = {
    ItemGroup.ALWAYS: _l("Always"),
    ItemGroup.IF_TIME: _l("If time and situation allow"),
    ItemGroup.NEVER: _l("Never"),
}

TOPICS = OrderedDict(
    [
        ("phone_basics", _l("Phone basics")),
        ("email", _l("Email")),
        ("e_resources", _l("E-resources and library apps")),
        ("banking", _l("Online banking and strong identification")),
        ("gambling", _l("Gambling and betting")),
        ("authority_services", _l("Public-authority e-services")),
        ("installing_apps", _l("Installing apps")),
        ("device_settings", _l("Device settings")),
        ("buying", _l("Buying a device or app")),
        ("document_copies", _l("Document copies")),
        ("other", _l("Other")),
    ]
)

# A topic that touches a NEVER rule raises that rule (by its stable key) to the top.
# Public-authority e-services need strong identification, so they raise rule 2 as banking does.
TOPIC_LIMITS = {
    "banking": "never-2",
    "gambling": "never-2",
    "authority_services": "never-2",
    "installing_apps": "never-4",
    "device_settings": "never-3",
    "buying": "never-5",
    "document_copies": "never-6",
}

DEVICES = OrderedDict(
    [
        ("phone", _l("Smartphone")),
        ("tablet", _l("Tablet")),
        ("laptop", _l("Laptop")),
        ("library_computer", _l("Library computer")),
        ("e_reader", _l("E-reader")),
        ("other", _l("Other device")),
    ]
)

CUSTOMER_LANGUAGES = OrderedDict(
    [
        ("fi", _l("Finnish")),
        ("sv", _l("Swedish")),
        ("en", _l("English")),
        ("ru", _l("Russian")),
        ("uk", _l("Ukrainian")),
        ("ar", _l("Arabic")),
        ("other", _l("Other language")),
    ]
)

OUTCOME_LABELS = OrderedDict(
    [
        (Outcome.SOLVED, _l("Solved")),
        (Outcome.PARTLY_SOLVED, _l("Partly solved")),
        (Outcome.REFERRED_SERVICE_PROVIDER, _l("Referred to the service provider")),
        (Outcome.REFERRED_REPAIR_SHOP, _l("Referred to a repair shop")),
        (Outcome.REFERRED_LIBRARY_SERVICE, _l("Referred to another library service")),
    ]
)

REFERRAL_LABELS = OrderedDict(
    [
        (Referral.SERVICE_PROVIDER, _l("The service provider")),
        (Referral.REPAIR_SHOP, _l("A seller or repair shop")),
        (Referral.LIBRARY_SERVICE, _l("Another library service")),
    ]
)

OUTCOME_REFERRALS = {
    Outcome.REFERRED_SERVICE_PROVIDER: Referral.SERVICE_PROVIDER,
    Outcome.REFERRED_REPAIR_SHOP: Referral.REPAIR_SHOP,
    Outcome.REFERRED_LIBRARY_SERVICE: Referral.LIBRARY_SERVICE,
}

# (from, below, key, label) in minutes.
DURATION_BUCKETS = [
    (0, 10, "0-9", _l("Under 10 min")),
    (10, 20, "10-19", _l("10–19 min")),
    (20, 30, "20-29", _l("20–29 min")),
    (30, 60, "30-59", _l("30–59 min")),
    (60, MAX_DURATION_MINUTES + 1, "60+", _l("An hour or more")),
]


# An item named in one line (the limit picked in a session, the statistics' limits met).
LABEL_LENGTH = 80


# --- the guideline and its versions ---------------------------------------------------------


def item_label(item: ChecklistItem, language: str, length: int = LABEL_LENGTH) -> str:
    """An item as one line of plain text: its number in its group, then its text without the
    emphasis marks; a text longer than `length` characters is cut at a word and ends in "…"."""
    text = item.plain_text(language)
    if len(text) > length:
        cut = text[: length + 1].rsplit(" ", 1)[0] if " " in text[:length] else text[:length]
        text = cut.rstrip(" ,;:.") + "…"
    return f"{item.number()}. {text}"


def current_version() -> ChecklistVersion | None:
    return db.session.scalar(select(ChecklistVersion).order_by(ChecklistVersion.number.desc()).limit(1))


def version_numbered(number: int) -> ChecklistVersion | None:
    return db.session.scalar(select(ChecklistVersion).where(ChecklistVersion.number == number))


def recent_versions(limit: int = 20) -> Sequence[ChecklistVersion]:
    return db.session.scalars(select(ChecklistVersion).order_by(ChecklistVersion.number.desc()).limit(limit)).all()


def item_of_version(version: ChecklistVersion, item_id: int) -> ChecklistItem | None:
    """The item `item_id` of `version`, or None (an item of another version, or none)."""
    item = db.session.get(ChecklistItem, item_id)
    return item if item is not None and item.version_id == version.id else None


def ensure_first_version(created_by: User | None = None) -> ChecklistVersion:
    """Version 1 is the guideline of seed 004; store it if there is no version yet."""
    version = current_version()
    if version is not None:
        return version
    with write_transaction():
        version = current_version()  # again, under the lock: another request may have stored it
        if version is not None:
            return version
        version = _seed_version(created_by)
        try:
            with db.session.begin_nested():
                db.session.add(version)
        except IntegrityError:
            # PostgreSQL: another request stored version 1 at the same moment; it is the one.
            stored = current_version()
            if stored is None:
                raise
            version = stored
    return version


def _seed_version(created_by: User | None) -> ChecklistVersion:
    version = ChecklistVersion(number=1, created_by=created_by, change="Seed 004")
    position = 0
    for group, rows in (
        (ItemGroup.ALWAYS, checklist_data.ALWAYS),
        (ItemGroup.IF_TIME, checklist_data.IF_TIME),
        (ItemGroup.NEVER, checklist_data.NEVER),
    ):
        for row in rows:
            key, texts = row[0], row[1]
            instead = row[2] if len(row) > 2 else {}
            position += 1
            version.items.append(
                ChecklistItem(
                    key=key,
                    group=group,
                    position=position,
                    **{f"text_{lang}": texts[lang] for lang in CONTENT_LANGUAGES},
                    **{f"instead_{lang}": instead.get(lang) for lang in CONTENT_LANGUAGES},
                )
            )
    return version


def _copy_item(item: ChecklistItem, **changes: object) -> ChecklistItem:
    values = {
        c: getattr(item, c)
        for c in ["key", "group", "position"]
        + [f"text_{lang}" for lang in CONTENT_LANGUAGES]
        + [f"instead_{lang}" for lang in CONTENT_LANGUAGES]
    }
    values.update(changes)
    return ChecklistItem(**values)


@write_transaction()
def _new_version(editor: User, change: str, items: list[ChecklistItem]) -> ChecklistVersion:
    """Store `items` (unsaved ChecklistItem objects) as the next version of the guideline.

    Rule: an edit never changes a stored version, because sessions keep the version they
    followed; every edit makes a new version.
    """
    current = current_version()
    version = ChecklistVersion(number=(current.number + 1) if current else 1, created_by=editor, change=change)
    ordered = sorted(items, key=lambda i: (list(ItemGroup).index(i.group), i.position))
    for position, item in enumerate(ordered, start=1):
        item.position = position
        version.items.append(item)
    db.session.add(version)
    db.session.flush()
    audit.record("guide.checklist_changed", obj=version, number=version.number, change=change)
    return version


def _item_of_current(item_id: int) -> tuple[ChecklistVersion, ChecklistItem]:
    current = current_version()
    item = db.session.get(ChecklistItem, item_id)
    if item is None or current is None or item.version_id != current.id:
        raise Conflict(_l("Only items of the current version can be edited."))
    return current, item


@write_transaction()
def edit_item(editor: User, item_id: int, texts: Mapping[str, str],
              instead: Mapping[str, str | None] | None = None) -> ChecklistVersion:
    """Change an item's texts: a new version with the item under the same key."""
    current, item = _item_of_current(item_id)
    changes: dict[str, str | None] = {f"text_{lang}": texts[lang].strip() for lang in CONTENT_LANGUAGES}
    if item.group == ItemGroup.NEVER and instead is not None:
        changes.update({f"instead_{lang}": (instead.get(lang) or "").strip() or None for lang in CONTENT_LANGUAGES})
    items = [_copy_item(i, **changes) if i.id == item.id else _copy_item(i) for i in current.items]
    return _new_version(editor, f"edited {item.key}", items)


@write_transaction()
def move_item(editor: User, item_id: int, direction: str) -> ChecklistVersion:
    """Move an item one place up or down within its group: a new version."""
    current, item = _item_of_current(item_id)
    group = current.group(item.group)
    index = group.index(item)
    other = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down") or not 0 <= other < len(group):
        raise Conflict(_l("The item cannot move further."))
    swapped = {group[index].id: group[other].position, group[other].id: group[index].position}
    items = [_copy_item(i, position=swapped.get(i.id, i.position)) for i in current.items]
    return _new_version(editor, f"moved {item.key} {direction}", items)


@write_transaction()
def retire_item(editor: User, item_id: int) -> ChecklistVersion:
    """Leave an item out of the next version; past sessions still show it in theirs."""
    current, item = _item_of_current(item_id)
    items = [_copy_item(i) for i in current.items if i.id != item.id]
    return _new_version(editor, f"retired {item.key}", items)


@write_transaction()
def add_item(editor: User, group: ItemGroup | str, texts: Mapping[str, str],
             instead: Mapping[str, str | None] | None = None) -> ChecklistVersion:
    """Add an item at the end of its group: a new version with a fresh key."""
    current = ensure_first_version(editor)
    group = ItemGroup(group)
    items = [_copy_item(i) for i in current.items]
    prefix = {ItemGroup.ALWAYS: "always", ItemGroup.IF_TIME: "iftime", ItemGroup.NEVER: "never"}[group]
    used = set(db.session.scalars(select(ChecklistItem.key).where(ChecklistItem.key.like(f"{prefix}-%"))))
    n = len(current.group(group)) + 1
    while f"{prefix}-{n}" in used:
        n += 1
    new = ChecklistItem(
        key=f"{prefix}-{n}",
        group=group,
        position=10_000,
        **{f"text_{lang}": texts[lang].strip() for lang in CONTENT_LANGUAGES},
        **{f"instead_{lang}": ((instead or {}).get(lang) or "").strip() or None for lang in CONTENT_LANGUAGES},
    )
    items.append(new)
    return _new_version(editor, f"added {new.key}", items)


# --- sessions -------------------------------------------------------------------------------


def limits_for_topics(version: ChecklistVersion, topics: Iterable[str]) -> list[ChecklistItem]:
    """The NEVER rules of `version` that the chosen topics touch, in rule order."""
    keys = {TOPIC_LIMITS[t] for t in topics if t in TOPIC_LIMITS}
    return [item for item in version.group(ItemGroup.NEVER) if item.key in keys]


def get_session(user: User, session_id: int, role: Role = Role.GUIDE) -> GuidanceSession:
    """The session if the user is a guide of its unit (service admin: any); else 404, as for a
    session that does not exist."""
    from flask import abort

    session = db.session.get(GuidanceSession, session_id)
    if session is None or not user.holds(role, session.unit_id):
        abort(404)
    return session


@write_transaction()
def start_session(guide: User, unit_id: int, topics: Iterable[str], device: str,
                  customer_language: str) -> GuidanceSession:
    """Start a session on the current version of the guideline. No customer data is asked."""
    if not guide.holds(Role.GUIDE, unit_id):
        raise NotAllowed()
    topics = [t for t in TOPICS if t in set(topics)]
    if not topics:
        raise Refused(_l("Choose at least one topic."), field="topics")
    if device not in DEVICES:
        raise Refused(_l("Choose the device."), field="device")
    if customer_language not in CUSTOMER_LANGUAGES:
        raise Refused(_l("Choose the customer's language."), field="customer_language")
    version = ensure_first_version()
    session = GuidanceSession(
        unit_id=unit_id,
        guide_id=guide.id,
        version=version,
        device=device,
        customer_language=customer_language,
        started_at=utcnow(),
        topics=[SessionTopic(topic=t) for t in topics],
    )
    db.session.add(session)
    db.session.flush()
    audit.record("guide.session_started", obj=session, unit=unit_id, topics=topics)
    guide_live.announce_session_changed(session, lists=True)
    return session


def _require_open(session: GuidanceSession) -> None:
    if not session.in_progress:
        raise Conflict(_l("The session has already ended."))


@write_transaction()
def set_tick(user: User, session: GuidanceSession, item_id: int, ticked: bool) -> None:
    """Tick or untick an ALWAYS or IF TIME item of the session's own version."""
    _require_open(session)
    item = db.session.get(ChecklistItem, item_id)
    if item is None or item.version_id != session.version_id:
        raise Refused(_l("That item is not in the checklist version this session follows."))
    if item.group == ItemGroup.NEVER:
        raise Refused(_l("Limits are not ticked; record a referral instead."))
    existing = db.session.get(SessionTick, (session.id, item.id))
    if ticked and existing is None:
        db.session.add(SessionTick(session_id=session.id, item_id=item.id, ticked_by_id=user.id, ticked_at=utcnow()))
    elif not ticked and existing is not None:
        db.session.delete(existing)
    db.session.flush()
    guide_live.announce_session_changed(session)


@write_transaction()
def record_limit(user: User, session: GuidanceSession, item_id: int | None, referred_to: str | None) -> None:
    """Record that the guide stopped at a NEVER rule and referred the customer on."""
    _require_open(session)
    item = db.session.get(ChecklistItem, item_id) if item_id else None
    if item is None or item.version_id != session.version_id or item.group != ItemGroup.NEVER:
        raise Refused(_l("Choose a limit of this checklist."), field="limit")
    try:
        referral = Referral(referred_to or "")
    except ValueError:
        raise Refused(_l("Choose where the customer was referred."), field="referred_to") from None
    db.session.add(LimitMet(session_id=session.id, item_id=item.id, referred_to=referral, recorded_by_id=user.id,
                            recorded_at=utcnow()))
    db.session.flush()
    audit.record("guide.limit_met", obj=session, unit=session.unit_id, rule=item.key, referred_to=referral.value)
    guide_live.announce_session_changed(session)


@write_transaction()
def record_never_1_exception(user: User, session: GuidanceSession, applied: bool) -> None:
    """NEVER rule 1 ("does nothing on the customer's behalf") has one exception: the customer's
    illness or disability makes it necessary. The session records whether it applied (audited)."""
    _require_open(session)
    session.never_1_exception_at = utcnow() if applied else None
    audit.record("guide.never_1_exception", obj=session, unit=session.unit_id, applied=bool(applied))
    guide_live.announce_session_changed(session)


def measured_minutes(session: GuidanceSession, now: datetime | None = None) -> int:
    """Minutes from the start until now, rounded, at least 0 and at most a day."""
    seconds = ((now or utcnow()) - session.started_at).total_seconds()
    return max(0, min(MAX_DURATION_MINUTES, round(seconds / 60)))


@write_transaction()
def end_session(user: User, session: GuidanceSession, outcome: str | None, duration_minutes: int | None,
                note: str | None) -> GuidanceSession:
    """End the session once: an outcome, a duration of 0..24 h, a short note without personal data."""
    _require_open(session)
    try:
        outcome = Outcome(outcome or "")
    except ValueError:
        raise Refused(_l("Choose the outcome."), field="outcome") from None
    if duration_minutes is None or not 0 <= duration_minutes <= MAX_DURATION_MINUTES:
        raise Refused(_l("The duration must be between 0 and 1440 minutes (a day)."), field="duration_minutes")
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise Refused(_l("The note can be at most %(n)d characters.", n=NOTE_MAX_LENGTH), field="note")
    session.outcome = outcome
    session.duration_minutes = duration_minutes
    session.note = note
    session.ended_at = utcnow()
    db.session.flush()
    audit.record("guide.session_ended", obj=session, unit=session.unit_id, outcome=outcome.value)
    guide_live.announce_session_changed(session, lists=True)
    return session


def local_day_bounds(zone: tzinfo, today: date | None = None) -> tuple[datetime, datetime]:
    today = today or datetime.now(zone).date()
    start = datetime.combine(today, datetime.min.time(), zone).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    return start, start + timedelta(days=1)


def my_sessions_today(user: User, zone: tzinfo) -> Sequence[GuidanceSession]:
    start, end = local_day_bounds(zone)
    return db.session.scalars(
        select(GuidanceSession)
        .where(GuidanceSession.guide_id == user.id, GuidanceSession.started_at >= start,
               GuidanceSession.started_at < end)
        .order_by(GuidanceSession.started_at.desc())
    ).all()


def colleagues_in_progress(user: User, unit_ids: Iterable[int]) -> Sequence[GuidanceSession]:
    return db.session.scalars(
        select(GuidanceSession)
        .where(GuidanceSession.unit_id.in_(unit_ids), GuidanceSession.ended_at.is_(None),
               GuidanceSession.guide_id != user.id)
        .order_by(GuidanceSession.started_at)
    ).all()


# --- statistics -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Statistics:
    """The figures of statistics(): four totals, and counts by key (only keys counted, in the
    order the page lists them) per section."""

    total: int  # sessions
    total_minutes: int
    sessions_with_limit: int
    sessions_with_never_1_exception: int
    weeks: dict[str, int]  # "2026-W10"
    months: dict[str, int]  # "2026-03"
    topics: dict[str, int]  # TOPICS
    outcomes: dict[str, int]  # Outcome values
    devices: dict[str, int]  # DEVICES
    durations: dict[str, int]  # DURATION_BUCKETS' keys
    limits: dict[str, int]  # NEVER items' keys
    referrals: dict[str, int]  # Referral values, of the outcomes
    limit_referrals: dict[str, int]  # Referral values, at a limit

    SECTIONS: ClassVar[tuple[str, ...]] = (
        "weeks", "months", "topics", "outcomes", "devices", "durations", "limits", "referrals", "limit_referrals",
    )

    def sections(self) -> list[tuple[str, dict[str, int]]]:
        """The counts by key, section by section (the CSV's rows)."""
        return [(name, getattr(self, name)) for name in self.SECTIONS]


def statistics(unit_ids: Iterable[int], start: date, end: date, zone: tzinfo) -> Statistics:
    """Counts of the sessions ENDED whose start falls in [start, end) local dates, for the units.

    Weeks are ISO weeks and months calendar months of the start time in `zone`. Every figure
    is a plain count of stored rows, so it can be reproduced from the data.
    """
    utc = ZoneInfo("UTC")
    lo = datetime.combine(start, datetime.min.time(), zone).astimezone(utc).replace(tzinfo=None)
    hi = datetime.combine(end, datetime.min.time(), zone).astimezone(utc).replace(tzinfo=None)
    # Plain rows, not ORM objects: a year of a big library is thousands of sessions.
    counted = (
        select(GuidanceSession.id)
        .where(
            GuidanceSession.unit_id.in_(unit_ids),
            GuidanceSession.ended_at.is_not(None),
            GuidanceSession.started_at >= lo,
            GuidanceSession.started_at < hi,
        )
    )
    sessions = db.session.execute(
        select(GuidanceSession.started_at, GuidanceSession.device, GuidanceSession.outcome,
               GuidanceSession.duration_minutes, GuidanceSession.never_1_exception_at)
        .where(GuidanceSession.id.in_(counted))
    ).all()
    topic_rows = db.session.scalars(select(SessionTopic.topic).where(SessionTopic.session_id.in_(counted))).all()
    limit_rows = db.session.execute(
        select(LimitMet.session_id, ChecklistItem.key, LimitMet.referred_to)
        .join(ChecklistItem, ChecklistItem.id == LimitMet.item_id)
        .where(LimitMet.session_id.in_(counted))
    ).all()
    weeks, months = Counter[str](), Counter[str]()
    topics, outcomes, devices, durations = Counter(topic_rows), Counter[str](), Counter[str](), Counter[str]()
    limits, referrals, limit_referrals = Counter[str](), Counter[str](), Counter[str]()
    total_minutes = exceptions = 0
    for started_at, device, outcome, minutes, exception_at in sessions:
        exceptions += exception_at is not None
        local = started_at.replace(tzinfo=utc).astimezone(zone)
        iso = local.isocalendar()
        weeks[f"{iso.year}-W{iso.week:02d}"] += 1
        months[f"{local.year}-{local.month:02d}"] += 1
        outcomes[outcome.value] += 1
        devices[device] += 1
        total_minutes += minutes
        for low, high, key, _label in DURATION_BUCKETS:
            if low <= minutes < high:
                durations[key] += 1
        if outcome in OUTCOME_REFERRALS:
            referrals[OUTCOME_REFERRALS[outcome].value] += 1
    for _session_id, key, referred_to in limit_rows:
        limits[key] += 1
        limit_referrals[referred_to.value] += 1
    return Statistics(
        total=len(sessions),
        total_minutes=total_minutes,
        sessions_with_limit=len({row.session_id for row in limit_rows}),
        sessions_with_never_1_exception=exceptions,
        weeks=dict(sorted(weeks.items())),
        months=dict(sorted(months.items())),
        topics={k: topics[k] for k in TOPICS if topics[k]},
        outcomes={k.value: outcomes[k.value] for k in OUTCOME_LABELS if outcomes[k.value]},
        devices={k: devices[k] for k in DEVICES if devices[k]},
        durations={key: durations[key] for _, _, key, _ in DURATION_BUCKETS if durations[key]},
        limits=dict(sorted(limits.items())),
        referrals={k.value: referrals[k.value] for k in REFERRAL_LABELS if referrals[k.value]},
        limit_referrals={k.value: limit_referrals[k.value] for k in REFERRAL_LABELS if limit_referrals[k.value]},
    )


def month_start(day: date) -> date:
    return date(day.year, day.month, 1)
