"""Encryption at rest: IBANs are stored encrypted as identity codes are, `keys rotate`
re-encrypts every encrypted value with a new key, and the migration encrypts the IBANs a
database held before."""
from datetime import date

from cryptography.fernet import Fernet
from flask_migrate import upgrade
from sqlalchemy import create_engine, select, text

from app import create_app
from blueprints.accounts import service as accounts
from blueprints.accounts.models import UnitKind
from blueprints.ebook import service as ebook
from blueprints.ebook.models import EbookCustomer, Tariff
from blueprints.registration import service as registration
from blueprints.registration.models import Customer
from extensions import db
from tests.conftest import TEST_IDENTITY_ENCRYPTION_KEY, make_config
from tests.registration.conftest import ADULT, customer_fields

IBAN = "NL91ABNA0417164300"


def ebook_customer_with_iban(app):
    with app.test_request_context():
        branch = accounts.create_unit("GIE", "Gieten", UnitKind.BRANCH, "9428")
        ebook.seed_tariffs(branch)
        tariff = db.session.scalar(select(Tariff).where(Tariff.unit_id == branch.id, Tariff.code == "0141"))
        customer, _password = ebook.sign_up(branch, {"surname": "Tester", "birth_date": date(1991, 1, 4), "postcode": "9468 BG",
                                          "house_number": 41, "street": "Kruisakkers", "city": "ANNEN", "iban": IBAN}, tariff)
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
        registration.register_customer(unit, ADULT, customer_fields())
    new_key = Fernet.generate_key().decode()
    try:
        result = runner.invoke(args=["keys", "rotate", "--new-key", new_key])
        assert result.exit_code == 0, result.output
        # The identity code and the IBAN (a one-time password is kept only hashed).
        assert "Re-encrypted 2 value(s)" in result.output and new_key in result.output  # the test's key is no stored secret
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
            connection.execute(text("INSERT INTO unit (code, name, kind, branch_code, active) VALUES ('GIE', 'Gieten', 'branch', '9428', 1)"))
            unit_id = connection.execute(text("SELECT id FROM unit")).scalar()
            columns = [(name, kind.upper()) for _cid, name, kind, _notnull, _default, pk
                       in connection.execute(text("PRAGMA table_info(ebook_customer)")) if not pk]
            values = {name: IBAN if name == "iban" else unit_id if name == "unit_id" else
                      1 if kind.startswith(("INT", "BOOL")) else "1991-01-04" if kind == "DATE" else
                      "2026-01-01 00:00:00" if kind == "DATETIME" else "x" for name, kind in columns}
            connection.execute(text(f"INSERT INTO ebook_customer ({', '.join(values)}) VALUES ({', '.join(':' + n for n in values)})"), values)
        upgrade()
        raw = stored("ebook_customer", "iban")
        assert IBAN not in raw and db.session.scalar(select(EbookCustomer.iban)) == IBAN
        db.session.remove()
        db.engine.dispose()
        engine.dispose()
