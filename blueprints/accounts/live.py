"""Accounts' live contract: notices and a staff member's roles; the sockets of ended sessions."""
from blueprints.accounts.models import User
from common import live
from extensions import db

NOTICE_CHANGED = "notice-changed"  # the pink banner on every staff page
ROLES_CHANGED = "roles-changed"  # to one person: their page rejoins its rooms (static/js/live.js)

EVENTS = (NOTICE_CHANGED, ROLES_CHANGED)


def announce_notice_changed():
    live.announce(NOTICE_CHANGED)


def announce_roles_changed(user):
    live.announce(ROLES_CHANGED, room=live.user_room(user.id))


def drop_ended_sockets(user):
    """After the commit, every process disconnects the user's sockets whose session has ended."""
    live.recheck_sockets(user.id)


@live.staff_loader
def staff_member(user_id):
    return db.session.get(User, user_id)
