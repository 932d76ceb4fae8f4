"""What every page shares: navigation, form rendering, paging, formatting, error pages."""
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import redis
from babel import dates
from flask import abort, flash, render_template, request
from flask_babel import format_currency, format_datetime, get_locale, get_timezone
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import SecurityError
from werkzeug.local import LocalProxy
from werkzeug.routing import IntegerConverter

from common import transactions
from common.access import ROLE_LABELS, Role
from common.clock import library_zone
from common.refusals import NotAllowed
from extensions import LANGUAGES, db

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


def navigation_for(user):
    if not user.is_authenticated:
        return []
    items = [(endpoint, label) for endpoint, label, roles in NAVIGATION if user.has_any_role(*roles)]
    if user.is_service_admin:
        items += ADMIN_NAVIGATION
    return items


def render_form(template, form, refused=False, **context):
    """Render a form page; a submitted form with errors (or one a rule `refused`) answers
    422 with the user's values."""
    status = 422 if refused or (form.is_submitted() and form.errors) else 200
    return render_template(template, form=form, **context), status


BUSY_MESSAGE = _l("The database was too busy to save this just now, and nothing was saved. Your entries are kept: save again.")
BUSY_PAGE_MESSAGE = _l("The database was too busy to save this just now, and nothing was saved. Go back and try again.")


def render_busy_form(template, form, **context):
    """A write that did not get its turn in time (see common/transactions.py): the same form
    with the user's values and a clear "save again", 503; nothing was stored."""
    db.session.rollback()
    flash(BUSY_MESSAGE, "error")
    return render_template(template, form=form, **context), 503


class Page:
    def __init__(self, items, number, total, size=PAGE_SIZE):
        self.items, self.number, self.total = items, number, total
        self.pages = max(1, -(-total // size))
        self.has_previous = number > 1
        self.has_next = number < self.pages


# The largest id a database column holds (PostgreSQL's integer): a larger one names nothing.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: a positive number a database id can be, else 404 (an id
    too large for the column used to reach the database and answer 500)."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def query_id(name, default=None, values=None):
    """An id from the query string (or `values`): the default when absent, 404 when not a possible id."""
    text = (request.args if values is None else values).get(name)
    if text is None or text == "":
        return default
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= MAX_ID:
        abort(404)
    return int(text)


def page_of(query, size=PAGE_SIZE):
    # A search sends its page number in the form's body with what was typed (see the pager macro).
    number = query_id("page", default=1, values=request.values)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = db.session.scalars(query.limit(size).offset((number - 1) * size)).all()
    return Page(items, number, total, size)


def safe_next(target):
    """Only a path on this site may be a redirect target."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return None


def local_to_utc(moment):
    """A naive time typed in the user's zone, as naive UTC for storage."""
    return moment.replace(tzinfo=library_zone()).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def utc_to_local(moment):
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(library_zone())


def format_money(cents, currency="EUR"):
    """Money is kept in integer cents; shown as the user's locale writes it (€ 42,00 in Dutch)."""
    return format_currency(Decimal(cents) / 100, currency)


def _database_state():
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except Exception:  # noqa: BLE001 - any failure means unhealthy
        db.session.rollback()
        return "unreachable"


def _redis_state(app):
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


def error_page(status, title, message):
    return render_template("errors/error.html", status=status, title=title, message=message), status


# Each language's own way of writing a day and a time: Finnish 1.6.2015 klo 22.33, Dutch
# 01-06-2015 22:33 (the dd-mm-jjjj of the counter system's screens in seed 002), English
# 1 Jun 2015, 22:33. Babel's "short" forms are US month/day with a two-digit year in
# English, and its Finnish one has no "klo".
DATE_PATTERNS = {"fi": "d.M.yyyy", "sv": "d MMM yyyy", "en": "d MMM yyyy", "nl": "dd-MM-yyyy"}
TIME_PATTERNS = {"fi": "'klo' H.mm", "sv": "'kl.' HH:mm", "en": "HH:mm", "nl": "HH:mm"}
SECONDS = {"fi": ".ss", "sv": ":ss", "en": ":ss", "nl": ":ss"}
DATE_TIME_JOINS = {"en": ", "}
DAY_AND_MONTH_PATTERNS = {"fi": "d.M.", "sv": "d MMM", "en": "d MMM", "nl": "dd-MM"}


def _language(locale):
    language = getattr(locale, "language", None) or str(locale or "en").split("_")[0]
    return language if language in DATE_PATTERNS else "en"


def date_pattern(locale):
    return DATE_PATTERNS[_language(locale)]


def datetime_pattern(locale, seconds=False):
    language = _language(locale)
    time = TIME_PATTERNS[language] + (SECONDS[language] if seconds else "")
    return DATE_PATTERNS[language] + DATE_TIME_JOINS.get(language, " ") + time


def format_local_date(day, locale=None):
    """A day as the user's language writes it (1.6.2015, 01-06-2015, 1 Jun 2015)."""
    if day is None:
        return ""
    if isinstance(day, datetime):
        day = utc_to_local(day).date() if day.tzinfo is None else day.date()
    locale = locale or get_locale()
    return dates.format_date(day, date_pattern(locale), locale=locale)


def format_day_and_month(day, locale=None):
    """A day without its year (under a chart bar): 1.6., 1 Jun, 01-06."""
    locale = locale or get_locale()
    return dates.format_date(day, DAY_AND_MONTH_PATTERNS[_language(locale)], locale=locale)


def format_local_datetime(moment, zone=None, seconds=False):
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
def _short_datetime(minute, locale, zone):
    """The form without seconds: one formatting per minute, language and zone serves every
    line of a chat, which is re-rendered on every live event."""
    return dates.format_datetime(minute.astimezone(zone), datetime_pattern(locale), locale=locale)


def init_app(app):
    @app.context_processor
    def page_context():
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
    def datetime_filter(value, style="short"):
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
    def favicon():
        # Browsers ask for it at the root whatever the page says.
        return app.send_static_file("favicon.ico")

    @app.route("/healthz")
    def healthz():
        """For nginx, systemd and monitoring: does this process reach the database and Redis?"""
        checks = {"database": _database_state(), "redis": _redis_state(app)}
        healthy = "unreachable" not in checks.values()
        return {"status": "ok" if healthy else "error", **checks}, 200 if healthy else 503

    @app.errorhandler(400)
    def bad_request(error):
        if isinstance(error, SecurityError):
            # A host not in TRUSTED_HOSTS: no page of ours, whose links would be built for that host.
            return "Unknown host", 400, {"Content-Type": "text/plain; charset=utf-8"}
        return error_page(400, _l("Bad request"), _l("The request could not be understood."))

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        return error_page(
            400,
            _l("The form has expired"),
            _l("The page was open too long or the form came from elsewhere. Go back, reload the page and try again."),
        )

    @app.errorhandler(403)
    def forbidden(error):
        return error_page(403, _l("Not allowed"), _l("Your roles do not give access to this page."))

    @app.errorhandler(NotAllowed)
    def not_allowed(error):
        return forbidden(error)

    @app.errorhandler(404)
    def not_found(error):
        return error_page(404, _l("Page not found"), _l("There is no page at this address."))

    @app.errorhandler(410)
    def gone(error):
        return error_page(410, _l("Link no longer valid"), _l("This link has been used or has expired."))

    @app.errorhandler(429)
    def too_many(error):
        return error_page(429, _l("Too many attempts"), _l("Too many attempts in a short time. Wait a minute and try again."))

    @app.errorhandler(OperationalError)
    def database_busy(error):
        # A form that keeps its values catches this itself (render_busy_form); anywhere else the
        # user is told to try again, which is true, instead of a 500 page.
        if not transactions.is_busy(error):
            raise error
        db.session.rollback()
        page, status = error_page(503, _l("Too busy just now"), BUSY_PAGE_MESSAGE)
        return page, status, {"Retry-After": "1"}

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        return error_page(500, _l("Something went wrong"), _l("The error has been logged. Try again in a moment."))
