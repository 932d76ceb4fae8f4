"""A save of the accounts area that meets a changed state (409) or a database that gives it no
turn in time (503) answers with the page that was sent and the person's values on it; a
refused login still counts the attempt; a reset link used twice at once works once."""

import pytest
from sqlalchemy import func, select

from blueprints.accounts import service
from blueprints.accounts.models import PasswordResetToken, Unit, UnitKind, User
from common.access import Role
from common.audit import AuditEvent
from common.refusals import Conflict
from extensions import db
from tests.conftest import PASSWORD, Auth, english_client, while_locked

NEW_PASSWORD = "another-long-passphrase-42"


@pytest.fixture
def locked_accounts_app(busy_sqlite):
    """A service admin and a registrar on a database whose writes wait only a moment for the
    lock, and a connection of someone else that can hold the lock."""
    app, other_writer = busy_sqlite
    with app.app_context():
        library = service.create_unit("LIB", "Library", UnitKind.LIBRARY)
        service.create_user("sirpa", "Sirpa", "sirpa@example.org", "en", PASSWORD, [(Role.SERVICE_ADMIN, None)])
        service.create_user("riikka", "Riikka", "riikka@example.org", "en", PASSWORD, [(Role.REGISTRAR, library)])
    return app, english_client(app), other_writer


def test_a_login_that_cannot_get_the_lock_keeps_the_username_and_says_save_again(locked_accounts_app):
    app, client, other_writer = locked_accounts_app
    answer = while_locked(other_writer, lambda: Auth(client).login("riikka"))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "1"
    assert "nothing was saved" in page and "save again" in page
    assert '<form method="post"' in page and 'value="riikka"' in page and PASSWORD not in page
    assert client.get("/").status_code == 302  # not logged in
    assert Auth(client).login("riikka").status_code == 302  # and the next try is


def test_a_new_account_that_cannot_get_the_lock_keeps_the_form_and_says_save_again(locked_accounts_app):
    app, client, other_writer = locked_accounts_app
    Auth(client).login("sirpa")
    data = {"username": "uusi", "display_name": "Uusi Ihminen", "email": "uusi@example.org", "language": "sv"}
    answer = while_locked(other_writer, lambda: client.post("/admin/users/new", data=data))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 503
    assert "nothing was saved" in page and "save again" in page
    assert 'value="uusi"' in page and 'value="Uusi Ihminen"' in page and 'value="uusi@example.org"' in page
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == "uusi")) is None


def test_a_unit_code_saved_by_someone_else_at_the_same_moment_is_409_with_the_values_kept(
        app, client, auth, make_user, make_unit, monkeypatch):
    make_unit(code="LIB1", name="Pääkirjasto")
    make_user("sirpa", (Role.SERVICE_ADMIN, None))
    auth.login("sirpa")
    # The other save came between this one's check and its write (possible where the check
    # holds no lock): the unique key meets it.
    monkeypatch.setattr(service, "check_unit_codes_free", lambda *args, **kwargs: None)
    answer = client.post("/admin/units/new",
                         data={"code": "LIB1", "name": "Kolmas", "kind": "library", "branch_code": ""})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert "Someone else saved a change to this at the same moment" in page
    assert 'class="form-error" role="alert"' in page
    assert 'value="LIB1"' in page and 'value="Kolmas"' in page
    with app.app_context():
        assert db.session.scalars(select(Unit.name)).all() == ["Pääkirjasto"]


def test_a_refusal_of_the_role_form_shows_at_that_form(app, client, auth, make_user, make_unit):
    library = make_unit()
    make_user("sirpa", (Role.SERVICE_ADMIN, None))
    riikka = make_user("riikka", (Role.REGISTRAR, library))
    auth.login("sirpa")
    answer = client.post(f"/admin/users/{riikka}/roles", data={"role-role": "registrar", "role-unit": library})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert 'id="role-role-error">The user already has this role in this unit.' in page
    assert 'value="riikka"' in page  # the account form is there too, as saved


def test_a_wrong_current_password_is_refused_at_its_field_and_changes_nothing(app, client, auth, make_user):
    uid = make_user("riikka")
    auth.login("riikka")
    answer = client.post("/password", data={"current_password": "not the password", "new_password": NEW_PASSWORD,
                                            "confirm": NEW_PASSWORD})
    assert answer.status_code == 422
    assert 'id="current_password-error">The current password is wrong.' in answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "password.changed", AuditEvent.object_id == str(uid))) == 0
    auth.logout()
    assert auth.login("riikka").status_code == 302


def test_a_reset_link_sent_twice_at_once_works_once(app, make_user):
    uid = make_user("riikka")
    with app.test_request_context():
        service.issue_password_link(db.session.get(User, uid))
        # Two requests with the same link, each found it unused before either saved.
        record = db.session.scalars(select(PasswordResetToken)).one()
        service.reset_password(record, NEW_PASSWORD)
        with pytest.raises(Conflict):
            service.reset_password(record, "yet-another-long-passphrase-7")
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "password.reset")) == 1
    client = app.test_client()
    assert Auth(client).login("riikka", NEW_PASSWORD).status_code == 302


def test_a_refused_login_keeps_the_failure_it_counted(app, auth, make_user):
    uid = make_user("riikka")
    assert auth.login("riikka", "wrong").status_code == 422
    with app.app_context():
        assert db.session.get(User, uid).failed_logins == 1
        assert db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc())) == "login.failed"
