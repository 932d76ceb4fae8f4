"""What an administrator relies on: /healthz for the database and Redis, and backups of the
embedded database taken while the site writes."""
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import create_app
from common import audit
from common.audit import AuditEvent
from extensions import db
from tests.conftest import free_port, make_config

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def redis_url(app):
    saved = app.config["REDIS_URL"]

    def set_(url):
        app.config["REDIS_URL"] = url
        app.extensions.pop("healthz_redis", None)

    yield set_
    set_(saved)


def test_healthz_says_redis_is_not_configured_on_the_embedded_default(client, redis_url):
    redis_url(None)
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json == {"status": "ok", "database": "ok", "redis": "not configured"}


def test_healthz_fails_when_redis_does_not_answer(client, redis_url):
    redis_url(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.json["redis"] == "unreachable" and answer.json["database"] == "ok"


def test_healthz_reports_a_redis_that_answers(app, client):
    if not app.config["REDIS_URL"]:
        pytest.skip("REDIS_URL is not set (CI's second run sets it)")
    assert client.get("/healthz").json["redis"] == "ok"


def test_backup_is_a_consistent_copy_taken_while_the_site_writes(app, runner, tmp_path):
    with app.app_context():
        embedded = db.engine.url.get_backend_name() == "sqlite"
    if not embedded:
        result = runner.invoke(args=["backup", str(tmp_path / "copy.db")])
        assert result.exit_code != 0 and "pg_dump" in result.output
        return
    with app.app_context():
        for n in range(200):
            audit.record("backup.before", n=n)
        db.session.commit()
    writing, stop = threading.Event(), threading.Event()

    def write():
        with app.app_context():
            while not stop.is_set():
                audit.record("backup.during")
                db.session.commit()
                writing.set()
            db.session.remove()

    writer = threading.Thread(target=write)
    writer.start()
    writing.wait(10)
    try:
        result = runner.invoke(args=["backup", str(tmp_path / "copy.db")])
    finally:
        stop.set()
        writer.join(10)
    assert result.exit_code == 0, result.output
    copy = sqlite3.connect(tmp_path / "copy.db")
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("SELECT count(*) FROM audit_event WHERE action = 'backup.before'").fetchone() == (200,)
        during = copy.execute("SELECT count(*) FROM audit_event WHERE action = 'backup.during'").fetchone()[0]
    finally:
        copy.close()
    with app.app_context():
        assert during <= db.session.scalar(select(func.count()).select_from(AuditEvent)
                                           .where(AuditEvent.action == "backup.during"))


def env_example():
    """deploy/env.example's settings (the commented ones too, with their example values)."""
    settings = {}
    for line in (ROOT / "deploy" / "env.example").read_text().splitlines():
        line = line.strip().removeprefix("#").strip()
        name, sep, value = line.partition("=")
        if sep and name.isupper() and " " not in name:
            settings[name] = value
    return settings


@pytest.fixture
def as_installed(app, tmp_path):
    """The site as deploy/env.example sets it up: one host name, behind one proxy (nginx)."""
    example = env_example()
    return create_app(make_config(tmp_path, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                                  TRUSTED_HOSTS=example["TRUSTED_HOSTS"],
                                  TRUSTED_PROXIES=int(example["TRUSTED_PROXIES"])))


def test_healthz_answers_monitoring_on_the_machine_itself_and_only_that(as_installed):
    """The README's `curl http://127.0.0.1:8001/healthz`, with deploy/env.example's TRUSTED_HOSTS."""
    client = as_installed.test_client()
    for host, peer in [("127.0.0.1:8001", "127.0.0.1"), ("localhost:8001", "127.0.0.1"), ("[::1]:8001", "::1"),
                       ("127.0.0.1", "127.0.0.1")]:
        answer = client.get("/healthz", headers={"Host": host}, environ_base={"REMOTE_ADDR": peer})
        assert answer.status_code == 200 and answer.json["database"] == "ok", host
    # Only /healthz, only for a loopback host name, only to a loopback peer.
    assert client.get("/login", headers={"Host": "127.0.0.1:8001"}).status_code == 400
    assert client.get("/healthz/", headers={"Host": "127.0.0.1:8001"}).status_code == 400
    assert client.get("/healthz", headers={"Host": "attacker.example"}).status_code == 400
    # From elsewhere, directly or named by nginx as the client, a loopback host name is refused.
    assert client.get("/healthz", headers={"Host": "127.0.0.1:8001"},
                      environ_base={"REMOTE_ADDR": "203.0.113.7"}).status_code == 400
    assert client.get("/healthz", headers={"Host": "127.0.0.1", "X-Forwarded-For": "203.0.113.7"}).status_code == 400
    assert client.get("/healthz", headers={"Host": env_example()["TRUSTED_HOSTS"]}).status_code == 200


def test_deploy_env_example_names_every_environment_setting():
    """An administrator finds every setting the site reads in deploy/env.example, set or
    commented out with its default: config.py's ENV_SETTINGS (gunicorn.conf.py's among them)."""
    from config import ENV_SETTINGS

    development_only = {"DEVELOPMENT"}  # plain-http cookies: never in production's file
    missing = set(ENV_SETTINGS) - development_only - set(env_example())
    assert not missing, f"deploy/env.example lacks {sorted(missing)}"
    assert env_example()["SOCKETIO_CHANNEL"]
