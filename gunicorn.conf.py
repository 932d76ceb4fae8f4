"""gunicorn settings for one web process of the site:

    .venv/bin/gunicorn --config gunicorn.conf.py --bind 127.0.0.1:8001

deploy/systemd/library-desk-web@.service starts one per port; nginx spreads the browsers over
them (deploy/nginx/library-desk.conf), and Redis carries live events between them.

As Flask-SocketIO's deployment documentation says for the threading mode with simple-websocket:
one worker (gunicorn's own balancing between workers cannot keep a Socket.IO session on one of
them), many threads, because every open WebSocket holds a thread for as long as the page is
open. More capacity comes from more processes, each on its own port, not from more workers.
"""
import logging
import signal
import threading

from gunicorn.glogging import Logger

from common.logs import redact_one_time_links
from config import DefaultConfig, environment_settings

settings = {"WEB_THREADS": DefaultConfig.WEB_THREADS, "WEB_GRACEFUL_SECONDS": DefaultConfig.WEB_GRACEFUL_SECONDS,
            **environment_settings()}

wsgi_app = "app:create_app()"
# The app is loaded before the port is bound (and before the worker is forked from it): a process
# that is starting refuses connections until it can answer them, and nginx sends them to the
# other process at once. Without it the port is bound first, and for the seconds the worker
# takes to load the app nginx's connections are accepted into a backlog nobody reads: in a
# rolling restart every request and live connection nginx gave the new process waited for it.
# create_app opens no database connection and starts no thread (the Socket.IO message queue's
# listener starts with the first connection, in the worker); post_fork makes sure of the first.
preload_app = True
workers = 1
worker_class = "gthread"
# Agents' and customers' pages each keep one WebSocket open, and each holds a thread; the rest
# serve ordinary requests. See the README for what one process carries.
threads = settings["WEB_THREADS"]
# SIGTERM (systemctl stop/restart): stop accepting, let running requests finish for this long,
# then close the WebSockets still open; the browsers reconnect through nginx to another process
# and read their live regions again.
graceful_timeout = settings["WEB_GRACEFUL_SECONDS"]
keepalive = 5
# Several processes on one machine: a control socket each would share one default path.
control_socket_disable = True
accesslog = "-"
errorlog = "-"
# One line a request: the client's address (behind nginx the one it names in X-Forwarded-For: the
# app's ProxyFix, TRUSTED_PROXIES, rewrites the address this log reads), the request and its
# answer, its time, nginx's request id (X-Request-ID: $request_id, in nginx's log too) and the
# process that served it (its port and pid). A page's WebSocket has its own lines, opened and
# closed, in the same form (common/logs.py).
access_log_format = ('%(h)s - %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms '
                     'id=%({x-request-id}i)s port=%({server_port}e)s pid=%(p)s')


class AccessLogger(Logger):
    """gunicorn's logger, writing the token of a mailed one-time link (a password link: its path,
    or a Referer that holds it) as [redacted] in every field of the access log (common/logs.py).
    The link is exchanged at once for a token-free page, but its first request holds the token."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {name: redact_one_time_links(value) if isinstance(value, str) else value
                for name, value in atoms.items()}


logger_class = AccessLogger


def post_fork(server, worker):
    """The worker does not share a database connection with the master it was forked from:
    pooled connections the loaded app may hold are left to the master, never used here
    (SQLAlchemy's advice for an engine that crosses a fork)."""
    from extensions import db

    with server.app.wsgi().app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)


def post_worker_init(worker):
    """The WebSocket lines of the app (common/logs.py) go to this access log.

    On SIGTERM, stop listening at once. gunicorn's threaded worker only stops accepting and
    keeps its listening socket open for the graceful period, so new connections would wait in
    a backlog nobody reads; closed, they are refused and nginx sends them to another process.
    Then the pages connected here are told to move there now (common/live.py)."""
    from common.live import tell_pages_to_move

    websocket_lines = logging.getLogger("library_desk.access")
    websocket_lines.handlers = list(worker.log.access_log.handlers)
    websocket_lines.propagate = False

    begin_graceful_stop = worker.handle_exit

    def stop_listening(signal_number, frame):
        for listener in worker.sockets:
            listener.close()
        # Not from the signal handler itself: it may have interrupted a thread holding a socket's lock.
        threading.Thread(target=tell_pages_to_move, daemon=True).start()
        begin_graceful_stop(signal_number, frame)

    signal.signal(signal.SIGTERM, stop_listening)
