"""Plain fixtures: the app, a client, a CLI runner, staff factories, a loopback SMTP server.

The database is SQLite in a temporary folder, or DATABASE_URL when set (PostgreSQL in CI);
REDIS_URL, when set, makes Socket.IO and the rate limiter use Redis as in production.
"""
import os
import socket
import threading
import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from cryptography.fernet import Fernet
from sqlalchemy import delete

from app import create_app
from config import DefaultConfig
from blueprints.accounts import service
from blueprints.accounts.models import Unit, UnitKind
from common.access import Role
from extensions import db, limiter

PASSWORD = "correct-horse-battery-9"

# Flask-SocketIO's test client cannot run against a Redis message queue; with REDIS_URL set
# the same paths are proved by the browser tests against live servers over Redis.
needs_local_socketio = pytest.mark.skipif(
    bool(os.environ.get("REDIS_URL")), reason="the Socket.IO test client does not work with a message queue"
)


# A Redis channel of this test run's own: another run or site on the same Redis (CI's, a
# developer's) hears none of its live events. Server processes the tests start inherit it.
os.environ.setdefault("SOCKETIO_CHANNEL", f"library-desk-tests-{os.getpid()}")

# Fixed keys for the tests: create_app(test_config) reads no instance/secrets.json.
TEST_IDENTITY_ENCRYPTION_KEY = Fernet.generate_key().decode()


def library_today():
    """The date at a Finnish library: the site's today, which the server's calendar (UTC) is
    not between 22 and 24 o'clock UTC."""
    return datetime.now(ZoneInfo(DefaultConfig.BABEL_DEFAULT_TIMEZONE)).date()


def branch_today():
    """The date at a Dutch e-book branch."""
    return datetime.now(ZoneInfo(DefaultConfig.EBOOK_TIMEZONE)).date()


@pytest.fixture
def a_zone_on_another_day(app, monkeypatch):
    """The libraries and the branches moved to a zone whose date is not the server's (UTC) right
    now: UTC+14 from ten o'clock UTC, UTC-12 before. Returns the date there, so that a test sees
    the site keep the library's calendar at any hour, not only around midnight."""
    name = "Etc/GMT-14" if datetime.now(timezone.utc).hour >= 10 else "Etc/GMT+12"
    monkeypatch.setattr(app.extensions["babel"], "default_timezone", name)
    monkeypatch.setitem(app.config, "EBOOK_TIMEZONE", name)
    return datetime.now(ZoneInfo(name)).date()


def make_config(tmp_path, **extra):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "IDENTITY_HMAC_KEY": "00" * 32,
        "IDENTITY_ENCRYPTION_KEY": TEST_IDENTITY_ENCRYPTION_KEY,
        # scrypt costs a tenth of a second a password; one test proves production uses it.
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
        "WTF_CSRF_ENABLED": False,
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_path / 'test.db'}",
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "SOCKETIO_CHANNEL": os.environ["SOCKETIO_CHANNEL"],
        "SERVER_NAME": None,
        "EXTERNAL_URL": "http://localhost",
    }
    config.update(extra)
    return config


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    app = create_app(make_config(tmp_path_factory.mktemp("db")))
    limiter.enabled = False
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def clean_database(app):
    """Each test starts with empty tables and leaves none of its rows behind."""
    yield
    with app.app_context():
        db.session.rollback()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(delete(table))
        db.session.commit()
        db.session.remove()


@pytest.fixture
def app_context(app):
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    client = app.test_client()
    # The site's default is Finnish; tests read the English texts unless they ask otherwise.
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_unit(app):
    counter = iter(range(1, 10_000))

    def make(kind=UnitKind.LIBRARY, name=None, code=None, branch_code=None):
        n = next(counter)
        with app.app_context():
            unit = service.create_unit(code or f"U{n}", name or f"Unit {n}", kind, branch_code)
            return unit.id

    return make


@pytest.fixture
def make_user(app):
    """make_user("name", (Role.REGISTRAR, unit_id), ...) -> user id; password PASSWORD."""

    def make(username, *roles, language="en", email=None, password=PASSWORD):
        with app.app_context():
            pairs = [(Role(r), db.session.get(Unit, u) if u else None) for r, u in roles]
            user = service.create_user(username, username.title(), email or f"{username}@example.org", language, password, pairs)
            return user.id

    return make


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, username, password=PASSWORD):
        return self.client.post("/login", data={"username": username, "password": password})

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client):
    return Auth(client)


def eventually(check, timeout=5.0, interval=0.05):
    """Poll `check` until it returns something true (for work done in a background thread)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(interval)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """A real SMTP server on loopback that keeps what it receives."""

    def __init__(self):
        self.messages = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        with self.arrived:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            self.arrived.notify_all()
        return "250 OK"

    def wait_for(self, count=1, timeout=10):
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} mail(s), got {len(self.messages)}")
                self.arrived.wait(remaining)
        return self.messages


@pytest.fixture
def smtp_server(app):
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    mailbox.port = port
    saved = {k: app.config[k] for k in ("SMTP_HOST", "SMTP_PORT")}
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
    yield mailbox
    _wait_for_the_outbox(app)
    app.config.update(saved)
    controller.stop()


def _wait_for_the_outbox(app):
    """Until every mail the test queued has been tried once: a delivery thread still writing its
    outcome would race the database clean-up after the test."""
    from sqlalchemy import or_, select

    from common.clock import utcnow
    from common.mail import OutboxMail

    def settled():
        with app.app_context():
            # A mail scheduled for later (a welcome mail due in two weeks) is not waited for.
            busy = select(OutboxMail.id).where(or_(OutboxMail.status == "sending",
                                                   (OutboxMail.status == "pending") & (OutboxMail.attempts == 0)
                                                   & (OutboxMail.next_attempt_at <= utcnow())))
            return db.session.scalar(busy.limit(1)) is None
    eventually(settled)
