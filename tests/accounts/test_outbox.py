import sqlite3

import pytest

from common import mail
from common.mail import OutboxMail
from extensions import db
from tests.conftest import eventually, free_port


def stored(app):
    with app.app_context():
        return [(m.recipient, m.status, m.attempts)
                for m in db.session.scalars(db.select(OutboxMail).order_by(OutboxMail.id))]


def test_without_smtp_mail_is_held_in_the_outbox(app):
    with app.app_context():
        mail.send_mail("a@example.org", "Hello", "Body text")
        db.session.commit()
        assert mail.deliver_due() == 0
    assert stored(app) == [("a@example.org", "held", 0)]


def test_mail_is_sent_over_smtp_after_commit(app, smtp_server):
    with app.app_context():
        mail.send_mail("a@example.org", "Tunnukset", "Linkki: https://example.org/x")
        db.session.commit()
    message = smtp_server.wait_for(1)[0]
    assert message["Subject"] == "Tunnukset"
    assert "Linkki" in message.get_content()
    assert eventually(lambda: stored(app) == [("a@example.org", "sent", 1)])


def test_nothing_is_sent_when_the_transaction_rolls_back(app, smtp_server):
    with app.app_context():
        mail.send_mail("a@example.org", "Never", "x")
        db.session.rollback()
    assert stored(app) == []
    assert smtp_server.messages == []


def test_a_mail_waits_while_the_server_is_down_and_goes_when_it_is_back(app, smtp_server):
    port = smtp_server.port
    app.config["SMTP_PORT"] = free_port()  # nothing listens there
    with app.app_context():
        mail.send_mail("a@example.org", "Retry me", "x")
        db.session.commit()
    # The delivery after commit runs in the background; wait for its first try.
    assert eventually(lambda: stored(app) == [("a@example.org", "pending", 1)])
    with app.app_context():
        entry = db.session.scalar(db.select(OutboxMail))
        assert entry.last_error
        app.config["SMTP_PORT"] = port
        assert mail.deliver_due() == 0  # not due yet: it backs off
        assert mail.deliver_due(now=entry.next_attempt_at) == 1
    assert smtp_server.wait_for(1)[0]["Subject"] == "Retry me"
    assert stored(app) == [("a@example.org", "sent", 2)]


def test_the_smtp_conversation_holds_no_write_lock(app, monkeypatch):
    """The claim and the result are write transactions of their own; while the mail server is
    talked to (up to its 20 s timeout), every other save gets its turn at once."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("the write lock of the whole database is SQLite's")
        path = db.engine.url.database
        db.session.add(OutboxMail(recipient="a@example.org", subject="Slow server", body="x", status="pending"))
        db.session.commit()
    turns = []

    def another_save_meanwhile(message, config):
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            turns.append(message["Subject"])
        finally:
            other.close()

    monkeypatch.setitem(app.config, "SMTP_HOST", "mail.invalid")
    monkeypatch.setattr(mail, "_smtp_send", another_save_meanwhile)
    with app.app_context():
        assert mail.deliver_due() == 1
    assert turns == ["Slow server"]
    assert stored(app) == [("a@example.org", "sent", 1)]
