"""Socket.IO events per socket: a token bucket for each kind of event a page may send.

One socket once sent 10,000 `chat-watch` in ten seconds; every one was handled, and another
person's requests waited up to 1.7 s. Now each socket has a bucket per event kind: it holds
`burst` tokens, gains `per_second` tokens a second, and each event takes one. An event that
finds its bucket empty is not handled: it is answered `{"ok": False, "error": "throttled"}`.
A socket that meets an empty bucket FLOOD_STRIKES times within FLOOD_WINDOW_SECONDS is
disconnected by the server (the Socket.IO namespace, so a browser does not reconnect by itself,
then its Engine.IO connection, so a raw client cannot go on sending), and that is logged once.

| namespace | event | burst | per second | what a real page sends (static/js) |
|---|---|---|---|---|
| `/` | `chat-watch` | 30 | 5 | chat.js: once per chat the desk switches to, and after each reconnect |
| `/` | `chat-presence` | 5 | 0.1 | chat.js: the desk's heartbeat, one a minute |
| `/customer` | `chat-presence` | 5 | 0.1 | chat.js: the customer page's heartbeat, one a minute |
| `/` | `video` | 100 | 20 | chat-video.js: offer, end, a call's ICE candidates (some tens in a second) |
| `/customer` | `video` | 100 | 20 | chat-video.js: accept or decline, answer, end, and the call's ICE candidates |
| `/` | `chat-typing` | 10 | 2 | chat-typing.js: one every 2 s while typing and one on stopping, per chat |
| `/customer` | `chat-typing` | 10 | 2 | chat-typing.js: one every 2 s while typing and one on stopping |

Connect and disconnect are not throttled. Every other event handler is registered through
`on()`, which refuses an event without a row here (tests/chat/test_socket_limits.py checks that
every handled event has one).

The bookkeeping is in this process's memory, per socket (its sid on its namespace), guarded by
one lock (each event is handled in a thread of its own, so a socket's events race); a socket's
buckets go when it disconnects (`forget`, called by common.live.on_disconnect). A bucket is made
only for a socket that is still connected, so an event handled after its socket went leaves
nothing behind.
"""
import functools
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from flask import current_app, request
from flask_socketio import disconnect

from extensions import socketio


@dataclass(frozen=True)
class Rate:
    burst: int
    per_second: float


RATES = {
    ("/", "chat-watch"): Rate(burst=30, per_second=5),
    ("/", "chat-presence"): Rate(burst=5, per_second=0.1),
    ("/customer", "chat-presence"): Rate(burst=5, per_second=0.1),
    ("/", "video"): Rate(burst=100, per_second=20),
    ("/customer", "video"): Rate(burst=100, per_second=20),
    ("/", "chat-typing"): Rate(burst=10, per_second=2),
    ("/customer", "chat-typing"): Rate(burst=10, per_second=2),
}
FLOOD_STRIKES = 50  # events over their bucket ...
FLOOD_WINDOW_SECONDS = 10  # ... within this many seconds: the socket is disconnected

THROTTLED = {"ok": False, "error": "throttled"}

ADMIT, REFUSE, CUT_OFF = "admit", "refuse", "cut off"


@dataclass
class _Book:
    """One socket's buckets: event -> [tokens, when last filled]; the times of its refusals."""
    buckets: dict = field(default_factory=dict)
    strikes: deque = field(default_factory=deque)
    cut_off: bool = False


_books: dict = {}  # (namespace, sid) -> _Book
_lock = threading.Lock()


def judge(namespace, sid, event, now=None):
    """ADMIT (a token taken), REFUSE (over the bucket) or CUT_OFF (over the bucket, and the
    socket has been refused FLOOD_STRIKES times within the window: this caller disconnects it;
    exactly one caller is told so)."""
    rate = RATES[(namespace, event)]
    now = time.monotonic() if now is None else now
    with _lock:
        book = _books.get((namespace, sid))
        if book is None:
            if not socketio.server.manager.is_connected(sid, namespace):
                return REFUSE  # gone (or going): no bucket is made for it
            book = _books[(namespace, sid)] = _Book()
        if book.cut_off:
            return REFUSE
        tokens, filled = book.buckets.get(event, (rate.burst, now))
        tokens = min(rate.burst, tokens + (now - filled) * rate.per_second)
        if tokens >= 1:
            book.buckets[event] = (tokens - 1, now)
            return ADMIT
        book.buckets[event] = (tokens, now)
        book.strikes.append(now)
        while book.strikes and book.strikes[0] < now - FLOOD_WINDOW_SECONDS:
            book.strikes.popleft()
        if len(book.strikes) >= FLOOD_STRIKES:
            book.cut_off = True
            return CUT_OFF
        return REFUSE


def forget(namespace, sid):
    """The socket disconnected: its buckets go."""
    with _lock:
        _books.pop((namespace, sid), None)


def tracked_sockets():
    """How many sockets have buckets (for the tests: none is left behind)."""
    with _lock:
        return len(_books)


def throttled(event, namespace="/"):
    """Wrap a Socket.IO event handler with its bucket (RATES[(namespace, event)])."""
    if (namespace, event) not in RATES:
        raise KeyError(f"no rate for Socket.IO event {event!r} on {namespace!r}: add it to RATES")

    def wrap(handler):
        @functools.wraps(handler)
        def handle(*args):
            verdict = judge(request.namespace, request.sid, event)
            if verdict == ADMIT:
                return handler(*args)
            if verdict == CUT_OFF:
                cut_off(event)
            return THROTTLED

        return handle

    return wrap


def on(event, namespace="/"):
    """`socketio.on(event, namespace)` for an event that a page sends, throttled per socket."""
    def register(handler):
        return socketio.on(event, namespace=namespace)(throttled(event, namespace)(handler))

    return register


def cut_off(event):
    """Disconnect the flooding socket of this request: its namespace first (a browser's client
    then stays away instead of reconnecting), then its Engine.IO connection, so that a raw client
    cannot keep the server reading what it sends."""
    sid, namespace = request.sid, request.namespace
    current_app.logger.warning(
        "Socket.IO socket %s on %s disconnected: %d events over their rate within %d s (last: %s) from %s",
        sid, namespace, FLOOD_STRIKES, FLOOD_WINDOW_SECONDS, event, request.remote_addr)
    eio_sid = socketio.server.manager.eio_sid_from_sid(sid, namespace)
    disconnect()
    if eio_sid is not None:
        socketio.server.eio.disconnect(eio_sid)
