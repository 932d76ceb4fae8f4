"""Times are stored in UTC without a zone and shown in the user's zone."""
from datetime import date, datetime, timezone

from flask import has_app_context
from flask_babel import get_timezone


def utcnow():
    return datetime.now(timezone.utc).replace(tzinfo=None)


def local_today():
    """The library's date: a consent given at half past midnight in Helsinki is today's, although
    the server's (UTC) calendar still says yesterday."""
    if not has_app_context():
        return date.today()  # a rule checked outside the site (a unit test of the identity code)
    return datetime.now(get_timezone()).date()
