"""The access log's lines for WebSockets: gunicorn writes one line per HTTP request
(gunicorn.conf.py's access_log_format) but none for a page's Socket.IO connection, which lives as
long as the page. These are one line when the connection is opened (or refused) and one when it
closes, in the same form and stream: the client's address (behind nginx, the one nginx names:
ProxyFix), the time, what happened, who (a staff user's id, or "customer"; never a token or a
cookie), nginx's request id of the connection's upgrade request, and the process (its port and
pid)."""
import logging
import os
import re
import sys
import time
from typing import TYPE_CHECKING, Any

from flask import Flask, request

if TYPE_CHECKING:
    from blueprints.accounts.models import User

access_log = logging.getLogger("library_desk.access")
# flask.request during a Socket.IO event, which Flask-SocketIO gives `sid`, `namespace` and
# `event`: attributes flask.Request does not declare.
socket_request: Any = request

# The mailed one-time links, whose token is in the path: /password/reset/<token>,
# /registration/credentials/<token> (a slash also as %2F). No log keeps the token: gunicorn's
# access log (gunicorn.conf.py) writes such a path, and a Referer holding it, as
# /password/reset/[redacted]; nginx's log does the same (deploy/nginx/library-desk.conf).
ONE_TIME_LINK = re.compile(r"((?:/|%2f)(?:password(?:/|%2f)reset|registration(?:/|%2f)credentials)(?:/|%2f))[^\s?#\"]+",
                           re.IGNORECASE)
REDACTED = "[redacted]"


def redact_one_time_links(text):
    """`text` (a request line, a path, a Referer) with the token of a one-time link replaced."""
    return ONE_TIME_LINK.sub(r"\1" + REDACTED, text)
_opened: dict[tuple[str, str], float] = {}  # (Socket.IO session id, namespace) -> when, for the duration on closing


def request_id() -> str:
    """nginx's $request_id, which it passes in X-Request-ID and writes in its own log."""
    return request.headers.get("X-Request-ID") or "-"


def websocket_line(state: str, who: str, after: float | None = None) -> str:
    environ = request.environ
    line = (f'{request.remote_addr or "-"} - - [{time.strftime("%d/%b/%Y:%H:%M:%S %z")}] '
            f'"WEBSOCKET {socket_request.namespace} {state}" {who} id={request_id()} '
            f'port={environ.get("SERVER_PORT", "-")} pid=<{os.getpid()}>')
    return line if after is None else f"{line} after={after:.0f}s"


def websocket_opened(who: str) -> None:
    _opened[(socket_request.sid, socket_request.namespace)] = time.monotonic()
    access_log.info(websocket_line("opened", who))


def websocket_refused() -> None:
    access_log.info(websocket_line("refused", "-"))


def websocket_closed(who: str) -> None:
    started = _opened.pop((socket_request.sid, socket_request.namespace), None)
    access_log.info(websocket_line("closed", who, None if started is None else time.monotonic() - started))


def staff(user: "User") -> str:
    return f"user={user.id}" if user.is_authenticated else "user=-"


CUSTOMER = "user=customer"


def init_app(app: Flask) -> None:
    access_log.setLevel(logging.INFO)
    if not access_log.handlers and not app.testing:
        # make run: beside the development server's own lines. Under gunicorn, gunicorn.conf.py
        # hands this logger gunicorn's access log instead.
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access_log.addHandler(handler)
