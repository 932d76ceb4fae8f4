"""Cross-cutting promises: migrations, CSRF, Socket.IO authentication, live events after commit."""
import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, make_url, text

from app import create_app
from blueprints.accounts.models import Notice
from common import live
from config import sqlalchemy_url
from extensions import db, socketio
from tests.conftest import make_config, needs_local_socketio


@pytest.fixture
def empty_database_url(tmp_path):
    """A new, empty database on the engine the suite runs on."""
    base = os.environ.get("DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    url = make_url(sqlalchemy_url(base))
    name = f"{url.database}_migrations"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_migrations_build_the_schema_of_the_models(tmp_path, empty_database_url):
    app = create_app(make_config(tmp_path, SQLALCHEMY_DATABASE_URI=empty_database_url))
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
        db.engine.dispose()
    assert diff == []


def test_a_form_without_csrf_token_gets_a_clear_400(tmp_path, app):
    strict = create_app(make_config(tmp_path, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                                    WTF_CSRF_ENABLED=True))
    response = strict.test_client().post("/login", data={"username": "x", "password": "y"},
                                         headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "The form has expired" in response.get_data(as_text=True)


@needs_local_socketio
def test_socket_refuses_anonymous_staff_connection(app):
    client = socketio.test_client(app, flask_test_client=app.test_client())
    assert not client.is_connected()


@needs_local_socketio
def test_socket_accepts_a_logged_in_user_and_gets_events_of_its_rooms(app, auth, client, make_user, make_unit):
    library, other = make_unit(), make_unit()
    user_id = make_user("riikka", ("registrar", library))
    auth.login("riikka")
    socket = socketio.test_client(app, flask_test_client=client)
    assert socket.is_connected()
    with app.app_context():
        live.announce("customers-changed", room=live.unit_room(other))
        live.announce("customers-changed", room=live.unit_room(library), unit=library)
        live.announce("roles-changed", room=live.user_room(user_id))
        # Nothing leaves before the commit.
        assert socket.get_received() == []
        db.session.commit()
    received = [(m["args"][0]["event"], m["args"][0]["data"]) for m in socket.get_received()]
    assert received == [("customers-changed", {"unit": library}), ("roles-changed", {})]


@needs_local_socketio
def test_rolled_back_changes_announce_nothing(app, auth, client, make_user):
    make_user("riikka")
    auth.login("riikka")
    socket = socketio.test_client(app, flask_test_client=client)
    with app.app_context():
        db.session.add(Notice(text="Not after all"))
        db.session.flush()
        live.announce("notice-changed")
        db.session.rollback()
        db.session.commit()
    assert socket.get_received() == []


@needs_local_socketio
def test_a_stopping_process_tells_its_pages_to_move_and_each_that_connects_still(app, auth, client, make_user,
                                                                                monkeypatch):
    make_user("riikka")
    auth.login("riikka")
    staff = socketio.test_client(app, flask_test_client=client)
    assert staff.is_connected()
    staff.get_received()
    monkeypatch.setattr(live, "_leaving", False)

    live.tell_pages_to_move()

    assert [m["args"][0]["event"] for m in staff.get_received()] == [live.LEAVING]
    # A socket that was on its way when the pages were told hears it as it connects.
    late = socketio.test_client(app, flask_test_client=client)
    assert late.is_connected()
    assert live.LEAVING in [m["args"][0]["event"] for m in late.get_received()]


def test_sqlalchemy_url_accepts_postgres_forms():
    from config import sqlalchemy_url

    assert sqlalchemy_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert sqlalchemy_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    assert create_engine(sqlalchemy_url("sqlite://")).dialect.name == "sqlite"


def test_money_and_dates_follow_the_locale(app):
    from datetime import datetime

    from flask_babel import force_locale

    with app.test_request_context():
        money, when = app.jinja_env.filters["money"], app.jinja_env.filters["datetime"]
        with force_locale("nl"):
            assert money(4200).replace("\xa0", " ") == "€ 42,00"
        with force_locale("fi"):
            assert money(4200).replace("\xa0", " ") == "42,00 €"
            # Stored in UTC, shown in Helsinki time.
            assert when(datetime(2026, 1, 15, 10, 0)) == "15.1.2026 klo 12.00"
