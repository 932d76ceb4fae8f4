"""Plain fixtures: the app, a client, a CLI runner, staff factories, a loopback SMTP server; the
fixtures of an area that tests of other areas use too (`world`, `branches`); and the helpers that
tests of several areas share (logging in, holding SQLite's write lock, counting and audit rows).

The database is SQLite in a temporary folder, or DATABASE_URL when set (PostgreSQL in CI);
REDIS_URL, when set, makes Socket.IO and the rate limiter use Redis as in production.
"""
import os
import socket
import sqlite3
import threading
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from cryptography.fernet import Fernet
from sqlalchemy import delete, func, or_, select

from app import create_app
from blueprints.accounts import service
from blueprints.accounts.models import Unit, UnitKind
from blueprints.ebook import pricing
from common.access import Role
from common.audit import AuditEvent
from config import DefaultConfig
from extensions import db, limiter, socketio

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


def helsinki(*wall_clock):
    """A Helsinki wall-clock time, helsinki(2026, 3, 2, 10, 0), as the database stores it: naive UTC."""
    return datetime(*wall_clock, tzinfo=ZoneInfo("Europe/Helsinki")).astimezone(UTC).replace(tzinfo=None)


@pytest.fixture
def a_zone_on_another_day(app, monkeypatch):
    """The libraries and the branches moved to a zone whose date is not the server's (UTC) right
    now: UTC+14 from ten o'clock UTC, UTC-12 before. Returns the date there, so that a test sees
    the site keep the library's calendar at any hour, not only around midnight."""
    name = "Etc/GMT-14" if datetime.now(UTC).hour >= 10 else "Etc/GMT+12"
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
def extensions_restored(app):
    """A test that makes an app of its own: create_app binds the extension objects
    (extensions.py) to the app it makes, and the suite's app gets them back afterwards, or the
    next tests' Socket.IO test clients and rate limits would be another app's."""
    server = socketio.server
    yield
    if socketio.server is not server:
        socketio.server = server
        limiter.init_app(app)
        limiter.enabled = False


@pytest.fixture
def another_app(tmp_path):
    """another_app(**settings) -> an app of its own, on an SQLite file of its own unless the
    settings say otherwise (a short busy timeout, a Redis of the test's own)."""
    made = []

    def make(**settings):
        settings.setdefault("SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path / f'another-{len(made)}.db'}")
        other = create_app(make_config(tmp_path, **settings))
        limiter.enabled = False  # one object for every app: a test that checks a limit turns it on
        with other.app_context():
            db.create_all()
        made.append(other)
        return other

    yield make
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def busy_sqlite(another_app, tmp_path):
    """(app, other_writer): an app on an SQLite file of its own whose writes wait only a moment
    for the lock, and a connection of someone else that holds the lock between
    other_writer.execute("BEGIN IMMEDIATE") and ("ROLLBACK")."""
    if not make_config(tmp_path)["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("the busy timeout is SQLite's; PostgreSQL writers wait on row locks")
    path = tmp_path / "busy.db"
    busy = another_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}", SQLITE_BUSY_TIMEOUT_SECONDS=0.2)
    other_writer = sqlite3.connect(path, isolation_level=None)
    yield busy, other_writer
    other_writer.close()


def while_locked(other_writer, send):
    """send()'s answer, sent while busy_sqlite's other writer holds the database's write lock."""
    other_writer.execute("BEGIN IMMEDIATE")
    try:
        return send()
    finally:
        other_writer.execute("ROLLBACK")


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


def english_client(app):
    """A browser of `app` (the suite's or another) that asks for English: the site's default is
    Finnish, and tests read the English texts unless they ask otherwise."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def client(app):
    return english_client(app)


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
            email = email or f"{username}@example.org"
            user = service.create_user(username, username.title(), email, language, password, pairs)
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


def logged_in(app, username, password=PASSWORD):
    """A browser of `app` in English, with `username` logged in."""
    client = english_client(app)
    assert Auth(client).login(username, password).status_code == 302, username
    return client


def count(app, model):
    """How many rows `model`'s table has."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def audited(app, action):
    """The audit events of `action`, oldest first."""
    with app.app_context():
        return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def audit_actions(app):
    """The action of every audit event, oldest first."""
    with app.app_context():
        return [event.action for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


@pytest.fixture
def world(make_unit, make_user):
    """Library L with registrars reg and colleague, library L2 with other, a school S, an admin."""
    ids = {"L": make_unit(name="Library L"), "L2": make_unit(name="Library L2"),
           "S": make_unit(kind=UnitKind.SCHOOL, name="School S")}
    make_user("reg", (Role.REGISTRAR, ids["L"]), (Role.REGISTRAR, ids["S"]))
    make_user("colleague", (Role.REGISTRAR, ids["L"]))
    make_user("other", (Role.REGISTRAR, ids["L2"]))
    make_user("celia", (Role.SERVICE_ADMIN, None))
    return ids


@pytest.fixture
def branches(app, make_unit, make_user):
    """Branch 9428 Gieten with counter staff "balie", branch 9468 Annen with "annen"; both with tariffs."""
    gieten = make_unit(UnitKind.BRANCH, name="Gieten", code="GIETEN", branch_code="9428")
    annen = make_unit(UnitKind.BRANCH, name="Annen", code="ANNEN", branch_code="9468")
    make_user("balie", (Role.COUNTER_STAFF, gieten), language="nl")
    make_user("annen", (Role.COUNTER_STAFF, annen), language="nl")
    with app.app_context():
        for unit_id in (gieten, annen):
            pricing.seed_tariffs(db.session.get(Unit, unit_id))
        db.session.commit()
    return {"gieten": gieten, "annen": annen}


@pytest.fixture
def locked_sqlite_app(busy_sqlite):
    """(app, client, ids, tariff, other_writer): branch Gieten with counter staff "balie" and a
    library with registrar "reg" on a database whose writes wait only a moment for the lock, a
    browser in English, the id of Gieten's tariff 0141, and a connection of someone else that
    can hold that lock (while_locked)."""
    from blueprints.ebook.models import Tariff

    app, other_writer = busy_sqlite
    with app.app_context():
        gieten = service.create_unit("GIETEN", "Gieten", UnitKind.BRANCH, "9428")
        service.create_user("balie", "Balie", "balie@example.org", "en", PASSWORD, [(Role.COUNTER_STAFF, gieten)])
        library = service.create_unit("LIB", "Library", UnitKind.LIBRARY, None)
        service.create_user("reg", "Reg", "reg@example.org", "en", PASSWORD, [(Role.REGISTRAR, library)])
        pricing.seed_tariffs(gieten)
        db.session.commit()
        ids = {"gieten": gieten.id, "library": library.id}
        tariff = str(db.session.scalar(select(Tariff.id).where(Tariff.unit_id == gieten.id, Tariff.code == "0141")))
    return app, english_client(app), ids, tariff, other_writer


def eventually(check, timeout=60.0, interval=0.05):
    """Poll `check` until it returns something true (for work done in a background thread); the
    timeout only catches a hang, on a machine loaded by other work."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(interval)


def in_threads(target, arguments, timeout=120):
    """target(*args) for each args of `arguments`, each in a thread of its own, all started before
    any is waited for. A thread still running after `timeout` seconds is a hang: the test fails."""
    threads = [threading.Thread(target=target, args=args) for args in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), f"{target.__name__} still running after {timeout} s"


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
