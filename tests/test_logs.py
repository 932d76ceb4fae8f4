"""The logs an administrator reads: gunicorn's access log names the client behind nginx, nginx's
request id and the process that served the request; a page's WebSocket has a line when it opens
and one when it closes, with who it is (never a token)."""
import logging
import os
import runpy
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.config import Config
from sqlalchemy import select
from werkzeug.test import EnvironBuilder

from app import create_app
from blueprints.chat.models import Conversation
from extensions import db, socketio
from tests.conftest import make_config, needs_local_socketio
from tests.test_operations import env_example

ROOT = Path(__file__).resolve().parent.parent


def gunicorn_access_line(tmp_path, environ, status="200 OK"):
    """The line gunicorn, configured by gunicorn.conf.py, writes for a request it has served."""
    config = Config()
    for name, value in runpy.run_path(str(ROOT / "gunicorn.conf.py")).items():
        if name in config.settings and name not in ("accesslog", "errorlog"):
            config.set(name, value)
    config.set("accesslog", str(tmp_path / "access.log"))
    config.set("errorlog", str(tmp_path / "error.log"))
    served = SimpleNamespace(status=status, sent=57, headers=[])
    request = SimpleNamespace(headers=[(name[5:].replace("_", "-"), value) for name, value in environ.items()
                                       if name.startswith("HTTP_")])
    config.logger_class(config).access(served, request, environ, timedelta(milliseconds=12))
    return (tmp_path / "access.log").read_text().strip()


def test_the_access_log_names_the_client_behind_nginx_the_request_id_and_the_process(app, tmp_path):
    settings = env_example()
    behind_nginx = create_app(make_config(tmp_path, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                                          TRUSTED_HOSTS=settings["TRUSTED_HOSTS"],
                                          TRUSTED_PROXIES=int(settings["TRUSTED_PROXIES"])))
    # A request as nginx passes it on to the process on port 8001 (deploy/nginx/library-desk.conf).
    environ = EnvironBuilder(path="/healthz", headers={
        "Host": settings["TRUSTED_HOSTS"], "X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https",
        "X-Request-ID": "5f2b0c9e7a1d4e8f9b3c6a2d1e0f4a7b",
    }, environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_environ()
    environ.update(SERVER_PORT="8001", RAW_URI="/healthz", SERVER_PROTOCOL="HTTP/1.1")
    answer = []
    body = b"".join(behind_nginx(environ, lambda status, headers, exc_info=None: answer.append(status)))
    assert answer == ["200 OK"] and b'"status":"ok"' in body

    line = gunicorn_access_line(tmp_path, environ)
    assert line.startswith("203.0.113.7 - "), line  # the client, not nginx's 127.0.0.1
    assert '"GET /healthz HTTP/1.1" 200 57' in line
    assert line.endswith(f"12ms id=5f2b0c9e7a1d4e8f9b3c6a2d1e0f4a7b port=8001 pid=<{os.getpid()}>"), line


@pytest.mark.parametrize("path", ["/password/reset/{token}", "/registration/credentials/{token}",
                                  "/password%2Freset%2f{token}?next=1"])
def test_the_access_log_writes_no_one_time_links_token(tmp_path, path):
    token = "Zq3-Token_ofa-OneTimeLink-8f9a0b1c2d3e4f5a6b7c8d9"
    raw = path.format(token=token)
    environ = EnvironBuilder(path="/x", headers={"Referer": f"https://intranet.example.org{raw}"},
                             environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_environ()
    path_info = raw.replace("%2F", "/").replace("%2f", "/").split("?")[0]
    environ.update(SERVER_PORT="8001", RAW_URI=raw, PATH_INFO=path_info, SERVER_PROTOCOL="HTTP/1.1")
    line = gunicorn_access_line(tmp_path, environ, status="303 SEE OTHER")
    assert token not in line, line
    assert line.count("[redacted]") == 2 and '"GET /' in line, line  # the request and the Referer


def test_a_request_without_a_request_id_or_proxy_is_logged_as_it_came(app, tmp_path):
    environ = EnvironBuilder(path="/healthz", environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_environ()
    environ.update(SERVER_PORT="8002", RAW_URI="/healthz", SERVER_PROTOCOL="HTTP/1.1")
    b"".join(app(environ, lambda status, headers, exc_info=None: None))
    line = gunicorn_access_line(tmp_path, environ)
    assert line.startswith("127.0.0.1 - ") and line.endswith(f" id=- port=8002 pid=<{os.getpid()}>"), line


@pytest.fixture
def caught(caplog, monkeypatch):
    """The WebSocket lines logged during the test (alembic's logging setup in a migration test
    disables the loggers that exist by then: not this one, here)."""
    from common.logs import access_log

    monkeypatch.setattr(access_log, "disabled", False)
    caplog.set_level(logging.INFO, logger="library_desk.access")
    return caplog


def websocket_lines(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "library_desk.access"]


@needs_local_socketio
def test_a_staff_websocket_has_a_line_when_it_opens_and_when_it_closes(app, auth, client, make_user, caught):
    user_id = make_user("riikka")
    auth.login("riikka")
    socket = socketio.test_client(app, flask_test_client=client, headers={"X-Request-ID": "abc123"})
    assert socket.is_connected()
    socket.disconnect()
    opened, closed = websocket_lines(caught)
    assert f'"WEBSOCKET / opened" user={user_id} id=abc123 ' in opened and f"pid=<{os.getpid()}>" in opened
    assert f'"WEBSOCKET / closed" user={user_id} id=abc123 ' in closed and " after=0s" in closed
    cookie = client.get_cookie("session").value
    assert cookie not in opened + closed


@needs_local_socketio
def test_a_customer_websocket_is_logged_as_a_customer_and_a_refused_one_as_refused(app, client, make_unit, caught):
    from blueprints.chat.models import ChatQueue

    refused = socketio.test_client(app, namespace="/customer", flask_test_client=app.test_client())
    assert not refused.is_connected("/customer")
    with app.app_context():
        queue = ChatQueue(unit_id=make_unit(), name="Neuvonta", is_open=True, waiting_message="")
        db.session.add(queue)
        db.session.commit()
        queue_id = queue.id
    client.post("/chat/customer/", data={"queue": queue_id, "name": "Toni"})
    socket = socketio.test_client(app, namespace="/customer", flask_test_client=client, headers={"X-Request-ID": "r2"})
    assert socket.is_connected("/customer")
    socket.disconnect(namespace="/customer")
    lines = websocket_lines(caught)
    assert [line.split('"')[1] for line in lines] == ["WEBSOCKET /customer refused", "WEBSOCKET /customer opened",
                                                      "WEBSOCKET /customer closed"]
    assert all(" user=customer id=r2 " in line for line in lines[1:]), lines
    with app.app_context():
        token = db.session.scalar(select(Conversation)).token
    assert not any(token in line for line in lines)
