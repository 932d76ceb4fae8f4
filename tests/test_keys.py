"""Encryption at rest: IBANs and the outbox's one-time tokens are stored encrypted as identity
codes are, `keys rotate` re-encrypts every encrypted value with a new key, and the migrations
encrypt the IBANs and tokens a database held before."""
from datetime import date

import pytest
from cryptography.fernet import Fernet, InvalidToken
from flask_migrate import upgrade
from sqlalchemy import create_engine, select, text

from app import create_app
from blueprints.accounts import service as accounts
from blueprints.accounts.models import UnitKind
from blueprints.ebook import pricing, signups
from blueprints.ebook.models import CustomerDetails, EbookCustomer, Tariff
from blueprints.registration import service as registration
from blueprints.registration.models import Customer
from common import crypto
from common.mail import OutboxMail
from common.mail import _build_message as mail_message
from extensions import db
from tests.conftest import TEST_IDENTITY_ENCRYPTION_KEY, make_config
from tests.registration.conftest import ADULT, customer_details

IBAN = "NL91ABNA0417164300"


def ebook_customer_with_iban(app):
    with app.test_request_context():
        branch = accounts.create_unit("GIE", "Gieten", UnitKind.BRANCH, "9428")
        pricing.seed_tariffs(branch)
        tariff = db.session.scalar(select(Tariff).where(Tariff.unit_id == branch.id, Tariff.code == "0141"))
        details = CustomerDetails(surname="Tester", birth_date=date(1991, 1, 4), postcode="9468 BG", house_number=41,
                                  street="Kruisakkers", city="ANNEN", iban=IBAN)
        customer, _password = signups.sign_up(branch, details, tariff)
        db.session.commit()
        return customer.id


def stored(table, column):
    return db.session.execute(text(f"SELECT {column} FROM {table}")).scalar()


def test_an_iban_is_stored_encrypted_and_read_in_plain(app):
    customer_id = ebook_customer_with_iban(app)
    with app.app_context():
        raw = stored("ebook_customer", "iban")
        assert IBAN not in raw and Fernet(TEST_IDENTITY_ENCRYPTION_KEY.encode()).decrypt(raw.encode()).decode() == IBAN
        assert db.session.get(EbookCustomer, customer_id).iban == IBAN


def test_keys_rotate_re_encrypts_every_value_with_the_new_key(app, runner, make_unit):
    customer_id = ebook_customer_with_iban(app)
    with app.test_request_context():
        unit = accounts.create_unit("L", "Library", UnitKind.LIBRARY)
        registration.register_customer(unit, ADULT, customer_details())
    new_key = Fernet.generate_key().decode()
    try:
        result = runner.invoke(args=["keys", "rotate", "--new-key", new_key])
        assert result.exit_code == 0, result.output
        # The identity code and the IBAN (a one-time password is kept only hashed).
        # the test's key is no stored secret
        assert "Re-encrypted 2 value(s)" in result.output and new_key in result.output
        with app.app_context():
            new = Fernet(new_key.encode())
            assert new.decrypt(stored("ebook_customer", "iban").encode()).decode() == IBAN
            assert new.decrypt(stored("celia_customer", "hetu_encrypted").encode()).decode() == ADULT
            db.session.expire_all()
            assert db.session.get(EbookCustomer, customer_id).iban == IBAN
        with app.test_request_context():
            assert registration.reveal_hetu(db.session.scalar(select(Customer))) == ADULT
    finally:
        app.config["IDENTITY_ENCRYPTION_KEY"] = TEST_IDENTITY_ENCRYPTION_KEY


def test_a_key_that_is_no_fernet_key_changes_nothing(app, runner):
    ebook_customer_with_iban(app)
    with app.app_context():
        before = stored("ebook_customer", "iban")
    result = runner.invoke(args=["keys", "rotate", "--new-key", "not-a-key"])
    assert result.exit_code != 0
    with app.app_context():
        assert stored("ebook_customer", "iban") == before
    assert app.config["IDENTITY_ENCRYPTION_KEY"] == TEST_IDENTITY_ENCRYPTION_KEY


def test_the_migration_encrypts_the_ibans_stored_before(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrated = create_app(make_config(tmp_path, SQLALCHEMY_DATABASE_URI=url))
    with migrated.app_context():
        upgrade(revision="0015_outbox_secret")
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO unit (code, name, kind, branch_code, active)"
                                    " VALUES ('GIE', 'Gieten', 'branch', '9428', 1)"))
            unit_id = connection.execute(text("SELECT id FROM unit")).scalar()
            columns = [(name, kind.upper()) for _cid, name, kind, _notnull, _default, pk
                       in connection.execute(text("PRAGMA table_info(ebook_customer)")) if not pk]
            values = {name: IBAN if name == "iban" else unit_id if name == "unit_id" else
                      1 if kind.startswith(("INT", "BOOL")) else "1991-01-04" if kind == "DATE" else
                      "2026-01-01 00:00:00" if kind == "DATETIME" else "x" for name, kind in columns}
            names, placeholders = ", ".join(values), ", ".join(":" + name for name in values)
            connection.execute(text(f"INSERT INTO ebook_customer ({names}) VALUES ({placeholders})"), values)
        upgrade()
        raw = stored("ebook_customer", "iban")
        assert IBAN not in raw and db.session.scalar(select(EbookCustomer.iban)) == IBAN
        db.session.remove()
        db.engine.dispose()
        engine.dispose()


def test_a_rotation_that_fails_half_way_leaves_every_value_under_the_old_key(app):
    """One transaction: the identity codes re-encrypted before a value no key opens are rolled
    back, not left in the session for its next commit to store under a key nobody keeps."""
    ebook_customer_with_iban(app)
    with app.test_request_context():
        unit = accounts.create_unit("L", "Library", UnitKind.LIBRARY)
        registration.register_customer(unit, ADULT, customer_details())
    with app.app_context():
        unreadable = Fernet(Fernet.generate_key()).encrypt(IBAN.encode()).decode()
        db.session.execute(text("UPDATE ebook_customer SET iban = :token"), {"token": unreadable})
        db.session.commit()
        before = stored("celia_customer", "hetu_encrypted")
        with pytest.raises(InvalidToken):
            crypto.rotate_key(Fernet.generate_key().decode())
        db.session.commit()  # the session's next commit stores nothing of the rotation
        assert stored("celia_customer", "hetu_encrypted") == before
    assert app.config["IDENTITY_ENCRYPTION_KEY"] == TEST_IDENTITY_ENCRYPTION_KEY


def started_with(monkeypatch, instance, **environment):
    """create_app() as a process starts it, with `environment` and its instance folder elsewhere."""
    from flask import Flask

    from config import ENV_SETTINGS, GENERATED_SECRETS

    monkeypatch.setattr(Flask, "auto_find_instance_path", lambda self: str(instance))
    for name in set(ENV_SETTINGS) | set(GENERATED_SECRETS):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{instance / 'app.db'}")
    monkeypatch.setenv("SOCKETIO_CHANNEL", "library-desk-keys-test")
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return create_app()


def test_instance_secrets_hold_only_the_keys_the_environment_does_not_give(monkeypatch, tmp_path):
    import json

    given = {"SECRET_KEY": "s" * 64, "IDENTITY_HMAC_KEY": "00" * 32,
             "IDENTITY_ENCRYPTION_KEY": TEST_IDENTITY_ENCRYPTION_KEY}
    secrets = tmp_path / "secrets.json"
    app = started_with(monkeypatch, tmp_path, **given)
    assert not secrets.exists()  # all three given: nothing written
    assert {key: app.config[key] for key in given} == given

    app = started_with(monkeypatch, tmp_path, SECRET_KEY=given["SECRET_KEY"])
    written = json.loads(secrets.read_text())
    assert sorted(written) == ["IDENTITY_ENCRYPTION_KEY", "IDENTITY_HMAC_KEY"]
    assert app.config["SECRET_KEY"] == given["SECRET_KEY"]
    assert app.config["IDENTITY_HMAC_KEY"] == written["IDENTITY_HMAC_KEY"]
    assert secrets.stat().st_mode & 0o777 == 0o600

    again = started_with(monkeypatch, tmp_path, SECRET_KEY=given["SECRET_KEY"])  # the next start reads them
    assert json.loads(secrets.read_text()) == written
    assert again.config["IDENTITY_ENCRYPTION_KEY"] == written["IDENTITY_ENCRYPTION_KEY"]


def held_password_link(app):
    """A password link's mail waiting in the outbox (no SMTP server: held); its token."""
    with app.test_request_context():
        user = accounts.create_user("riikka", "Riikka", "riikka@example.org", "en", None, [])
        accounts.issue_password_link(user)
        mail = db.session.scalar(select(OutboxMail))
        assert mail.status == "held"
        return mail.secret


def test_the_outbox_keeps_a_links_token_encrypted(app):
    token = held_password_link(app)
    with app.app_context():
        raw = db.session.execute(text("SELECT * FROM outbox_mail")).one()  # as stored, no column type applied
        assert all(token not in str(value) for value in raw)
        kept = stored("outbox_mail", "secret")
        assert Fernet(TEST_IDENTITY_ENCRYPTION_KEY.encode()).decrypt(kept.encode()).decode() == token


def test_keys_rotate_re_encrypts_the_outboxs_tokens(app, runner):
    token = held_password_link(app)
    new_key = Fernet.generate_key().decode()
    try:
        result = runner.invoke(args=["keys", "rotate", "--new-key", new_key])
        assert result.exit_code == 0, result.output
        assert "Re-encrypted 1 value(s)" in result.output
        with app.app_context():
            assert Fernet(new_key.encode()).decrypt(stored("outbox_mail", "secret").encode()).decode() == token
            mail = db.session.scalar(select(OutboxMail))
            assert token in mail_message(mail, app.config).get_content()  # the mail still goes out with its link
    finally:
        app.config["IDENTITY_ENCRYPTION_KEY"] = TEST_IDENTITY_ENCRYPTION_KEY


def test_the_migration_encrypts_the_outboxs_tokens_stored_before(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrated = create_app(make_config(tmp_path, SQLALCHEMY_DATABASE_URI=url))
    token = "plain-token-of-before-0123456789"
    with migrated.app_context():
        upgrade(revision="0018_celia_welcome_mail")
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO outbox_mail (recipient, subject, body, status, attempts, created_at, next_attempt_at, "
                "secret) VALUES ('a@example.org', 'Link', 'x', 'held', 0, '2026-01-01 00:00:00', "
                "'2026-01-01 00:00:00', :token)"), {"token": token})
        upgrade()
        assert token not in stored("outbox_mail", "secret")
        assert db.session.scalar(select(OutboxMail.secret)) == token
        db.session.remove()
        db.engine.dispose()
        engine.dispose()
