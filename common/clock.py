"""Times are stored in UTC without a zone and shown in the user's zone."""
from datetime import datetime, timezone


def utcnow():
    return datetime.now(timezone.utc).replace(tzinfo=None)
