"""gunicorn settings for one web process of the site:

    .venv/bin/gunicorn --config gunicorn.conf.py --bind 127.0.0.1:8001

deploy/systemd/library-desk-web@.service starts one per port; nginx spreads the browsers over
them (deploy/nginx/library-desk.conf), and Redis carries live events between them.

As Flask-SocketIO's deployment documentation says for the threading mode with simple-websocket:
one worker (gunicorn's own balancing between workers cannot keep a Socket.IO session on one of
them), many threads, because every open WebSocket holds a thread for as long as the page is
open. More capacity comes from more processes, each on its own port, not from more workers.
"""
import os
import signal

wsgi_app = "app:create_app()"
workers = 1
worker_class = "gthread"
# Agents' and customers' pages each keep one WebSocket open, and each holds a thread; the rest
# serve ordinary requests. See the README for what one process carries.
threads = int(os.environ.get("WEB_THREADS", "400"))
# SIGTERM (systemctl stop/restart): stop accepting, let running requests finish for this long,
# then close the WebSockets still open; the browsers reconnect through nginx to another process
# and read their live regions again.
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_SECONDS", "10"))
keepalive = 5
# Several processes on one machine: a control socket each would share one default path.
control_socket_disable = True
accesslog = "-"
errorlog = "-"
# The client's address and https come from nginx's X-Forwarded-For/-Proto, which the app reads
# itself (TRUSTED_PROXIES in the environment, ProxyFix).


def post_worker_init(worker):
    """On SIGTERM, stop listening at once. gunicorn's threaded worker only stops accepting and
    keeps its listening socket open for the graceful period, so new connections would wait in
    a backlog nobody reads; closed, they are refused and nginx sends them to another process."""
    begin_graceful_stop = worker.handle_exit

    def stop_listening(signal_number, frame):
        for listener in worker.sockets:
            listener.close()
        begin_graceful_stop(signal_number, frame)

    signal.signal(signal.SIGTERM, stop_listening)
