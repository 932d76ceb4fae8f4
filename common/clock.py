"""Times are stored in UTC without a zone and shown in the user's zone."""
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import has_app_context
from flask_babel import get_timezone


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def library_zone() -> ZoneInfo:
    """The user's zone (the library's) as a zoneinfo zone. Flask-Babel gives a pytz zone, which
    attached by replace() or datetime.combine() takes the city's local mean time (+1:40 for
    Helsinki): 20 minutes off in winter, 80 in summer."""
    return ZoneInfo(get_timezone().zone)


def local_today() -> date:
    """The library's date: a consent given at half past midnight in Helsinki is today's, although
    the server's (UTC) calendar still says yesterday."""
    if not has_app_context():
        return date.today()  # a rule checked outside the site (a unit test of the identity code)
    return datetime.now(library_zone()).date()
