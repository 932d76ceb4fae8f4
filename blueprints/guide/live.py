"""The guide checklist's live contract: one session's checklist and a unit's sessions of the day."""
from common import live
from common.access import Role

SESSION_CHANGED = "guide-session-changed"  # one session's ticks, limits and end (session)
SESSIONS_CHANGED = "guide-sessions-changed"  # a unit's list of today's sessions (unit)

EVENTS = (SESSION_CHANGED, SESSIONS_CHANGED)


def announce_session_changed(session, lists=False):
    """Everyone who may view the session: the unit's staff sockets and the service admins."""
    for room in (live.unit_room(session.unit_id), live.role_room(Role.SERVICE_ADMIN)):
        live.announce(SESSION_CHANGED, room=room, session=session.id)
        if lists:
            live.announce(SESSIONS_CHANGED, room=room, unit=session.unit_id)
