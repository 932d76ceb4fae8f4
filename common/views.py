"""What every page shares: navigation, form rendering, paging, formatting, error pages."""
from collections.abc import Mapping, Sequence
from datetime import date, datetime, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any, overload
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import redis
from babel import Locale, dates
from flask import Flask, Response, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import LazyString, format_currency, format_datetime, get_locale, get_timezone
from flask_babel import lazy_gettext as _l
from flask_login import AnonymousUserMixin, current_user
from flask_wtf import FlaskForm
from sqlalchemy import Select, func, select, text
from werkzeug.local import LocalProxy
from werkzeug.routing import IntegerConverter, Map

from common.access import ROLE_LABELS, Role
from common.clock import library_zone
from common.refusals import Busy, Message, Refused, status_of
from extensions import LANGUAGES, db

if TYPE_CHECKING:
    from blueprints.accounts.models import User

PAGE_SIZE = 50
MAIL_STATES = {
    "held": _l("held (no mail server)"),
    "pending": _l("waiting to be sent"),
    "sending": _l("sending"),
    "sent": _l("sent"),
    "failed": _l("failed"),
    "cancelled": _l("cancelled (no longer due)"),
}

# The working areas in the navigation, and the roles that see each.
NAVIGATION = [
    ("registration.index", _l("Celia registration"), (Role.REGISTRAR, Role.MAIN_USER)),
    ("ebook.index", _l("E-book signup"), (Role.COUNTER_STAFF,)),
    ("chat.index", _l("Chat queue"), (Role.CHAT_AGENT,)),
    # Chat agents reach the statistics from the chat desk; main users see their units' figures here.
    ("chat.statistics", _l("Chat statistics"), (Role.MAIN_USER,)),
    ("guide.index", _l("Guide checklist"), (Role.GUIDE,)),
    ("accounts.registrars", _l("Registrars"), (Role.MAIN_USER,)),
]
ADMIN_NAVIGATION = [
    ("accounts.notices", _l("Notices")),
    ("accounts.units", _l("Units")),
    ("accounts.users", _l("Users")),
    ("accounts.audit_log", _l("Audit log")),
    ("accounts.outbox", _l("Outbox")),
]


def navigation_for(user: "User | AnonymousUserMixin") -> list[tuple[str, LazyString]]:
    if not user.is_authenticated:
        return []
    items = [(endpoint, label) for endpoint, label, roles in NAVIGATION if user.has_any_role(*roles)]
    if user.is_service_admin:
        items += ADMIN_NAVIGATION
    return items


def render_form(template: str, form: FlaskForm, refused: bool = False, **context: Any) -> tuple[str, int]:
    """Render a form page; a submitted form with errors (or one a rule `refused`) answers
    422 with the user's values."""
    status = 422 if refused or (form.is_submitted() and form.errors) else 200
    return render_template(template, form=form, **context), status


def render_refusal(
    template: str, refusal: Refused, form: FlaskForm | None = None, field: str | None = None, **context: Any
) -> tuple[str, int, dict[str, str]]:
    """The one way a route answers a refusal (common/refusals.py): the page or partial that was
    sent, again, with the person's values; the message at the field of `form` that the refusal
    names (or at `field`, when the route's form calls it otherwise), else as `error` above the
    part that was sent; the status from status_of() (422, 409, or 503 "save again")."""
    name = field or refusal.field
    target = getattr(form, name, None) if form is not None and name else None
    if target is not None and hasattr(target, "errors"):
        target.errors = [*target.errors, refusal.message]  # a tuple until the form is validated
    else:
        context["error"] = refusal.message
    if form is not None:
        context["form"] = form
    headers = {"Retry-After": "1"} if isinstance(refusal, Busy) else {}
    return render_template(template, **context), status_of(refusal), headers


class Page:
    def __init__(self, items: Sequence[Any], number: int, total: int, size: int = PAGE_SIZE) -> None:
        self.items, self.number, self.total = items, number, total
        self.pages = max(1, -(-total // size))
        self.has_previous = number > 1
        self.has_next = number < self.pages


# The largest id a database column holds (PostgreSQL's integer): a larger one names nothing.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: a positive number a database id can be, else 404 (an id
    too large for the column used to reach the database and answer 500)."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


@overload
def query_id(name: str, default: int, values: Mapping[str, str] | None = None) -> int: ...


@overload
def query_id(name: str, default: None = None, values: Mapping[str, str] | None = None) -> int | None: ...


def query_id(name: str, default: int | None = None, values: Mapping[str, str] | None = None) -> int | None:
    """An id from the query string (or `values`): the default when absent, 404 when not a possible id."""
    text = (request.args if values is None else values).get(name)
    if text is None or text == "":
        return default
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= MAX_ID:
        abort(404)
    return int(text)


def page_of(query: Select[Any], size: int = PAGE_SIZE) -> Page:
    # A search sends its page number in the form's body with what was typed (see the pager macro).
    number = query_id("page", default=1, values=request.values)
    total = db.session.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    items = db.session.scalars(query.limit(size).offset((number - 1) * size)).all()
    return Page(items, number, total, size)


def safe_next(target: str | None) -> str | None:
    """Only a path on this site may be a redirect target."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return None


def local_to_utc(moment: datetime) -> datetime:
    """A naive time typed in the user's zone, as naive UTC for storage."""
    return moment.replace(tzinfo=library_zone()).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def utc_to_local(moment: datetime) -> datetime:
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(library_zone())


def format_money(cents: int, currency: str = "EUR") -> str:
    """Money is kept in integer cents; shown as the user's locale writes it (€ 42,00 in Dutch)."""
    return format_currency(Decimal(cents) / 100, currency)


def error_page(status: int, title: Message, message: Message) -> tuple[str, int]:
    return render_template("errors/error.html", status=status, title=title, message=message), status


def _database_state() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except Exception:  # noqa: BLE001 - any failure means unhealthy
        db.session.rollback()
        return "unreachable"


def _redis_state(app: Flask) -> str:
    """Redis carries the live events between processes (and the rate-limit counters)."""
    if not app.config["REDIS_URL"]:
        return "not configured"
    client = app.extensions.get("healthz_redis")
    if client is None:
        client = app.extensions["healthz_redis"] = redis.Redis.from_url(
            app.config["REDIS_URL"], socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
        return "ok"
    except redis.RedisError:
        return "unreachable"


# Each language's own way of writing a day and a time: Finnish 1.6.2015 klo 22.33, Dutch
# 01-06-2015 22:33 (the dd-mm-jjjj of the counter system's screens in seed 002), English
# 1 Jun 2015, 22:33. Babel's "short" forms are US month/day with a two-digit year in
# English, and its Finnish one has no "klo".
DATE_PATTERNS = {"fi": "d.M.yyyy", "sv": "d MMM yyyy", "en": "d MMM yyyy", "nl": "dd-MM-yyyy"}
TIME_PATTERNS = {"fi": "'klo' H.mm", "sv": "'kl.' HH:mm", "en": "HH:mm", "nl": "HH:mm"}
SECONDS = {"fi": ".ss", "sv": ":ss", "en": ":ss", "nl": ":ss"}
DATE_TIME_JOINS = {"en": ", "}
DAY_AND_MONTH_PATTERNS = {"fi": "d.M.", "sv": "d MMM", "en": "d MMM", "nl": "dd-MM"}


def _language(locale: Locale | str | None) -> str:
    language = getattr(locale, "language", None) or str(locale or "en").split("_")[0]
    return language if language in DATE_PATTERNS else "en"


def date_pattern(locale: Locale | str | None) -> str:
    return DATE_PATTERNS[_language(locale)]


def datetime_pattern(locale: Locale | str | None, seconds: bool = False) -> str:
    language = _language(locale)
    time = TIME_PATTERNS[language] + (SECONDS[language] if seconds else "")
    return DATE_PATTERNS[language] + DATE_TIME_JOINS.get(language, " ") + time


def format_local_date(day: date | None, locale: Locale | str | None = None) -> str:
    """A day as the user's language writes it (1.6.2015, 01-06-2015, 1 Jun 2015)."""
    if day is None:
        return ""
    if isinstance(day, datetime):
        day = utc_to_local(day).date() if day.tzinfo is None else day.date()
    locale = locale or get_locale()
    return dates.format_date(day, date_pattern(locale), locale=locale)


def format_day_and_month(day: date, locale: Locale | str | None = None) -> str:
    """A day without its year (under a chart bar): 1.6., 1 Jun, 01-06."""
    locale = locale or get_locale()
    return dates.format_date(day, DAY_AND_MONTH_PATTERNS[_language(locale)], locale=locale)


def format_local_datetime(moment: datetime | None, zone: tzinfo | None = None, seconds: bool = False) -> str:
    """A stored naive UTC time in `zone` (the user's by default), as the user's language writes it."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    zone = zone or get_timezone()
    if not seconds:
        return _short_datetime(moment.replace(second=0, microsecond=0), get_locale(), zone)
    locale = get_locale()
    return dates.format_datetime(moment.astimezone(zone), datetime_pattern(locale, seconds=True), locale=locale)


@lru_cache(maxsize=4096)
def _short_datetime(minute: datetime, locale: Locale | None, zone: tzinfo) -> str:
    """The form without seconds: one formatting per minute, language and zone serves every
    line of a chat, which is re-rendered on every live event."""
    return dates.format_datetime(minute.astimezone(zone), datetime_pattern(locale), locale=locale)


def init_app(app: Flask) -> None:
    @app.context_processor
    def page_context() -> dict[str, Any]:
        return {
            # Worked out only when a page shows it: a partial rendered after a commit would
            # otherwise load the user and their roles again for nothing.
            "navigation": LocalProxy(lambda: navigation_for(current_user)),
            "languages": LANGUAGES,
            "get_locale": get_locale,
            "Role": Role,
            "role_labels": ROLE_LABELS,
            "mail_states": MAIL_STATES,
        }

    @app.template_filter("datetime")
    def datetime_filter(value: datetime | date | None, style: str = "short") -> str:
        # Stored naive UTC; shown in the user's zone, as the user's language writes it
        # ("medium" adds the seconds, for the audit log).
        if value is None:
            return ""
        if style in ("short", "medium") and isinstance(value, datetime):
            return format_local_datetime(value, seconds=style == "medium")
        return format_datetime(value, style)

    app.add_template_filter(format_local_date, "date")

    app.add_template_filter(format_money, "money")

    @app.route("/favicon.ico")
    def favicon() -> Response:
        # Browsers ask for it at the root whatever the page says.
        return app.send_static_file("favicon.ico")

    @app.route("/healthz")
    def healthz() -> ResponseReturnValue:
        """For nginx, systemd and monitoring: does this process reach the database and Redis?"""
        checks = {"database": _database_state(), "redis": _redis_state(app)}
        healthy = "unreachable" not in checks.values()
        return {"status": "ok" if healthy else "error", **checks}, 200 if healthy else 503
