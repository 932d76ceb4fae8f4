"""Live updates: the server says *what changed*, each browser re-fetches its own partial.

`announce()` queues an event on the database session; it is emitted only after the
commit succeeds, so no browser re-fetches data that is not there yet. Browsers turn the
event into an htmx trigger on <body> (static/js/live.js).
"""
from blinker import Namespace
from flask import request
from flask_login import current_user
from flask_socketio import join_room
from sqlalchemy import event
from sqlalchemy.orm import Session

from common.views import MAX_ID
from extensions import db, socketio

STAFF_ROOM = "staff"

# Areas follow staff sockets coming and going (the chat's presence) without owning the handlers.
_signals = Namespace()
staff_connected = _signals.signal("staff-connected")
staff_disconnected = _signals.signal("staff-disconnected")


def user_room(user_id):
    return f"user:{user_id}"


def unit_room(unit_id):
    return f"unit:{unit_id}"


def role_room(role):
    return f"role:{role}"


def announce(name, room=STAFF_ROOM, namespace="/", **data):
    """Emit live event `name` to `room` after the current transaction commits."""
    pending = db.session.info.setdefault("live_events", [])
    pending.append((name, room, namespace, data))


def emit_now(name, room=STAFF_ROOM, namespace="/", **data):
    socketio.emit("live", {"event": name, "data": data}, to=room, namespace=namespace)


def _emit_pending(session):
    for name, room, namespace, data in session.info.pop("live_events", []):
        emit_now(name, room, namespace, **data)


def _drop_pending(session, previous_transaction):
    # A rolled-back change must not be announced by a later commit.
    session.info.pop("live_events", None)


def staff_rooms(user):
    """The rooms a staff member's browser joins: their own, their units', their roles'."""
    rooms = {STAFF_ROOM, user_room(user.id)}
    for assignment in user.role_assignments:
        rooms.add(role_room(assignment.role))
        if assignment.unit_id is not None:
            rooms.add(unit_room(assignment.unit_id))
    return rooms


def is_id(value):
    """A payload's id: an int (not a bool) that a database column can hold."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def sent_by_client():
    """True when a client sent an event named like the reserved connect or disconnect: the
    server's own connect passes the connection's environ first, and at its own disconnect the
    socket is no longer counted as connected. Such an event is ignored, so that no page can
    move its presence count."""
    event, namespace = request.event, request.namespace
    if event["message"] == "connect":
        args = event["args"]
        return not (args and args[0] is socketio.server.get_environ(request.sid, namespace=namespace))
    return socketio.server.manager.is_connected(request.sid, namespace)


def init_app(app):
    @socketio.on_error_default
    def refuse_malformed(error):
        # A handler that could not use what it was sent answers with a refusal instead of an
        # error in the server's log only; the payload is the client's mistake (or mischief).
        app.logger.warning("Socket.IO event %s refused: %r", request.event.get("message"), error)
        return {"ok": False, "error": "malformed"}

    if not event.contains(Session, "after_commit", _emit_pending):
        event.listen(Session, "after_commit", _emit_pending)
        event.listen(Session, "after_soft_rollback", _drop_pending)

    @socketio.on("connect")
    def connect_staff(auth=None):
        # Staff sockets ride on the login session; anyone else is refused.
        if sent_by_client():
            return None
        if not current_user.is_authenticated or not current_user.active:
            return False
        for room in staff_rooms(current_user):
            join_room(room)
        staff_connected.send(current_user._get_current_object())
        return True

    @socketio.on("disconnect")
    def disconnect_staff(reason=None):
        if sent_by_client():
            return
        if current_user.is_authenticated:
            staff_disconnected.send(current_user._get_current_object())
