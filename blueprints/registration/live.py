"""Celia registration's live contract: a unit's customer list and the service admin's work list."""
from common import live
from common.access import Role

CUSTOMERS_CHANGED = "customers-changed"  # a unit's customers (unit)
REACTIVATION_REQUESTED = "reactivation-requested"  # the service admins' work list

EVENTS = (CUSTOMERS_CHANGED, REACTIVATION_REQUESTED)


def announce_customers_changed(unit_id):
    live.announce(CUSTOMERS_CHANGED, room=live.unit_room(unit_id), unit=unit_id)


def announce_reactivation_requested():
    live.announce(REACTIVATION_REQUESTED, room=live.role_room(Role.SERVICE_ADMIN))
