"""What an administrator relies on: /healthz for the database and Redis, and backups of the
embedded database taken while the site writes."""
import sqlite3
import threading

import pytest
from sqlalchemy import func, select

from common import audit
from common.audit import AuditEvent
from extensions import db
from tests.conftest import free_port


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
        assert during <= db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "backup.during"))
