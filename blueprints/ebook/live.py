"""E-book signup's live contract: a branch's signups of the day, a customer's overview."""
from common import live

SIGNUPS_CHANGED = "ebook-signups-changed"  # a branch's list of today's signups (unit)
CUSTOMER_CHANGED = "ebook-customer-changed"  # a customer corrected, ended or deleted (unit, customer)

EVENTS = (SIGNUPS_CHANGED, CUSTOMER_CHANGED)


def announce_signups_changed(unit_id):
    live.announce(SIGNUPS_CHANGED, room=live.unit_room(unit_id), unit=unit_id)


def announce_customer_changed(unit_id, customer_id):
    """A correction, an end or a deletion: the customer's overview and the branch's list of the day."""
    live.announce(CUSTOMER_CHANGED, room=live.unit_room(unit_id), unit=unit_id, customer=customer_id)
    announce_signups_changed(unit_id)
