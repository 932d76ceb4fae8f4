"""E-book signup's live contract: a branch's signups of the day."""
from common import live

SIGNUPS_CHANGED = "ebook-signups-changed"  # a branch's list of today's signups (unit)

EVENTS = (SIGNUPS_CHANGED,)


def announce_signups_changed(unit_id):
    live.announce(SIGNUPS_CHANGED, room=live.unit_room(unit_id), unit=unit_id)
