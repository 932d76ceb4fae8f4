"""Live updates: the server says *what changed*, each browser re-fetches its own partial.

`announce()` queues an event on the database session; it is emitted only after the
commit succeeds, so no browser re-fetches data that is not there yet. Browsers turn the
event into an htmx trigger on <body> (static/js/live.js).
"""
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from blinker import Namespace
from flask import Flask, current_app, request
from flask.globals import request_ctx
from flask_login import current_user
from flask_socketio import emit, join_room
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from common import live_queue, logs, socket_limits
from common.logs import socket_request
from common.views import MAX_ID
from extensions import db, socketio

if TYPE_CHECKING:
    from blueprints.accounts.models import User

STAFF_ROOM = "staff"

# Areas follow staff sockets coming and going (the chat's presence) without owning the handlers.
_signals = Namespace()
staff_connected = _signals.signal("staff-connected")
staff_disconnected = _signals.signal("staff-disconnected")


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def unit_room(unit_id: int) -> str:
    return f"unit:{unit_id}"


def role_room(role: str) -> str:
    return f"role:{role}"


def announce(name: str, room: str = STAFF_ROOM, namespace: str = "/", **data: Any) -> None:
    """Emit live event `name` to `room` after the current transaction commits."""
    pending = db.session.info.setdefault("live_events", [])
    pending.append((name, room, namespace, data))


def emit_now(name: str, room: str = STAFF_ROOM, namespace: str = "/", **data: Any) -> None:
    socketio.emit("live", {"event": name, "data": data}, to=room, namespace=namespace)


def _emit_pending(session: Session) -> None:
    for room in session.info.pop("live_rechecks", ()):
        recheck_now(room)
    for name, room, namespace, data in session.info.pop("live_events", []):
        emit_now(name, room, namespace, **data)


def _drop_pending(session: Session, previous_transaction: SessionTransaction) -> None:
    # A rolled-back change must not be announced by a later commit.
    session.info.pop("live_events", None)
    session.info.pop("live_rechecks", None)


# --- sockets of ended sessions -----------------------------------------------------------
# A staff socket is admitted with the login session of its page (connect_staff) and stays open
# as long as the page. When a user's sessions end (a logout, an admin's "log out everywhere", a
# password changed or reset, a lockout, a removed role, a deactivation), every process checks
# the sockets in the user's own room after the commit and drops those whose session is no
# longer in force; the browser does not reconnect after the server's disconnect, and a new
# connection with the old cookie is refused. A session that goes on (the one that changed the
# password) keeps its socket.

_staff_of_socket: dict[str, int] = {}  # Socket.IO session id -> the staff member's id, while it is open
_load_staff = None  # user id -> the staff member, whatever their session: set by staff_loader()


def staff_loader(load):
    """Register how a staff member is read by id (accounts), for the disconnect of a socket whose
    session has ended: its areas still hear who went (the chat's presence)."""
    global _load_staff
    _load_staff = load
    return load


def recheck_sockets(user_id):
    """After the current transaction commits, every process drops the user's sockets whose
    session is no longer in force (in the caller's write transaction)."""
    db.session.info.setdefault("live_rechecks", set()).add(user_room(user_id))


def recheck_now(room, namespace="/"):
    queue = socketio.server.manager
    if hasattr(queue, "recheck"):
        queue.recheck(room, namespace)  # the other processes (common/live_queue.py)
    _recheck_here(current_app._get_current_object(), room, namespace)


def _recheck_here(app, room, namespace):
    # In a thread of its own: each socket's session is read in a request context of its own
    # (inside the committing request's, `g` and its current_user would be that request's),
    # and the disconnect handlers write in their own transactions.
    socketio.start_background_task(drop_ended_sessions, app, room, namespace)


def drop_ended_sessions(app, room, namespace="/"):
    """Disconnect this process's sockets in `room` whose login session is no longer in force."""
    server = socketio.server
    ended = []
    for sid, _eio_sid in server.manager.get_participants(namespace, room):
        environ = server.get_environ(sid, namespace=namespace)
        if environ is None:
            continue
        with app.request_context(environ):  # the cookie the socket was opened with
            if not current_user.is_authenticated or not current_user.active:
                ended.append(sid)
    for sid in ended:
        server.disconnect(sid, namespace=namespace, ignore_queue=True)
    return ended


# --- a process that stops ------------------------------------------------------------------
# A restarted process (SIGTERM: gunicorn.conf.py) tells its own pages to move at once. Without it
# each page waits for its socket to close at the end of the graceful period and then for
# Socket.IO's back-off (0.5-1.5 s) before reconnecting, and the lines of that second wait too.
LEAVING = "server-leaving"
_leaving = False  # this process is stopping: a page that connects still (its socket was on its way) moves on too


def tell_pages_to_move() -> None:
    """Every page connected to this process reconnects now (through nginx, to another process)
    and reads its live regions again (static/js/live.js)."""
    global _leaving
    _leaving = True  # before the pages are counted: one that connects meanwhile hears it in tell_on_connect
    live_queue.tell_local_pages(socketio.server.manager, LEAVING)


def _staff_who_left():
    """The staff member of the socket being closed: the current user, or, when their session
    has ended meanwhile, the one it was opened for."""
    user_id = _staff_of_socket.pop(socket_request.sid, None)
    if current_user.is_authenticated:
        return current_user._get_current_object()
    return None if user_id is None or _load_staff is None else _load_staff(user_id)


def staff_rooms(user: "User") -> set[str]:
    """The rooms a staff member's browser joins: their own, their units', their roles'."""
    rooms = {STAFF_ROOM, user_room(user.id)}
    for assignment in user.role_assignments:
        rooms.add(role_room(assignment.role))
        if assignment.unit_id is not None:
            rooms.add(unit_room(assignment.unit_id))
    return rooms


def is_id(value: object) -> bool:
    """A payload's id: an int (not a bool) that a database column can hold."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def sent_by_client() -> bool:
    """True when a client sent an event named like the reserved connect or disconnect: the
    server's own connect passes the connection's environ first, and at its own disconnect the
    socket is no longer counted as connected. Such an event is ignored, so that no page can
    move its presence count."""
    event, namespace = socket_request.event, socket_request.namespace
    if event["message"] == "connect":
        args = event["args"]
        return not (args and args[0] is socketio.server.get_environ(socket_request.sid, namespace=namespace))
    return socketio.server.manager.is_connected(socket_request.sid, namespace)


def _context_of_its_own() -> bool:
    """True when this Socket.IO handler runs in an app context of its own. Flask-SocketIO pushes
    a request context for each handler, and Flask reuses the app context already current in the
    thread: a disconnect that an emit sets off (Engine.IO closes a socket whose pings went
    unanswered when something is sent to it) runs inside the emitting code's app context, with
    its database session (in an after_commit hook: "session is in 'committed' state") and its
    `g`, so its current_user is the emitting request's user."""
    tokens = getattr(request_ctx._get_current_object(), "_cv_tokens", None)  # type: ignore[attr-defined]
    return not tokens or tokens[-1][1] is not None


def on_disconnect(handler: Callable[..., Any]) -> Callable[..., Any]:
    """A namespace's disconnect handler (put it under @socketio.on("disconnect", ...)).

    The reserved name sent by a client as an event is ignored (sent_by_client). The socket's
    event buckets go (common/socket_limits.py). And the handler's own work, which writes,
    always runs in an app context of its own: when the disconnect came inside other code (see
    _context_of_its_own) it runs in a thread of its own, after that code, with the socket's
    own request (its session cookie, its user)."""
    @functools.wraps(handler)
    def disconnected(reason: str | None = None) -> Any:
        if sent_by_client():
            return None
        socket_limits.forget(socket_request.namespace, socket_request.sid)
        if _context_of_its_own():
            return handler(reason)
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        environ = request.environ
        sid, namespace, event = socket_request.sid, socket_request.namespace, socket_request.event

        def apart() -> None:
            with app.request_context(environ):
                socket_request.sid, socket_request.namespace, socket_request.event = sid, namespace, event
                try:
                    handler(reason)
                except Exception:  # noqa: BLE001 - a thread of its own: nobody else would log it
                    app.logger.exception("Socket.IO disconnect of %s on %s failed", sid, namespace)

        socketio.start_background_task(apart)
        return None

    return disconnected


def tell_on_connect() -> None:
    """What a page that connects hears at once: that live updates are interrupted (Redis is away),
    and that this process is stopping (it moves on to another)."""
    if live_queue.interrupted(socketio.server):
        emit("live", {"event": live_queue.INTERRUPTED, "data": {}})
    if _leaving:
        emit("live", {"event": LEAVING, "data": {}})


def init_app(app: Flask) -> None:
    @socketio.on_error_default
    def refuse_malformed(error: Exception) -> dict[str, Any]:
        # A handler that could not use what it was sent answers with a refusal instead of an
        # error in the server's log only; the payload is the client's mistake (or mischief).
        app.logger.warning("Socket.IO event %s refused: %r", socket_request.event.get("message"), error)
        return {"ok": False, "error": "malformed"}

    queue = socketio.server.manager
    if hasattr(queue, "recheck"):
        queue.on_recheck = lambda room, namespace: _recheck_here(app, room, namespace)

    if not event.contains(Session, "after_commit", _emit_pending):
        event.listen(Session, "after_commit", _emit_pending)
        event.listen(Session, "after_soft_rollback", _drop_pending)

    @socketio.on("connect")
    def connect_staff(auth: Any = None) -> bool | None:
        # Staff sockets ride on the login session; anyone else is refused.
        if sent_by_client():
            return None
        if not current_user.is_authenticated or not current_user.active:
            logs.websocket_refused()
            return False
        for room in staff_rooms(current_user):
            join_room(room)
        _staff_of_socket[socket_request.sid] = current_user.id
        tell_on_connect()
        staff_connected.send(current_user._get_current_object())
        logs.websocket_opened(logs.staff(current_user))
        return True

    @socketio.on("disconnect")
    @on_disconnect
    def disconnect_staff(reason: str | None = None) -> None:
        user = _staff_who_left()
        logs.websocket_closed(logs.staff(current_user if user is None else user))
        if user is not None:
            staff_disconnected.send(user)
