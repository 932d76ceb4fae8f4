"""Accounts' live contract: notices and a staff member's roles."""
from common import live

NOTICE_CHANGED = "notice-changed"  # the pink banner on every staff page
ROLES_CHANGED = "roles-changed"  # to one person: their page rejoins its rooms (static/js/live.js)

EVENTS = (NOTICE_CHANGED, ROLES_CHANGED)


def announce_notice_changed():
    live.announce(NOTICE_CHANGED)


def announce_roles_changed(user):
    live.announce(ROLES_CHANGED, room=live.user_room(user.id))
