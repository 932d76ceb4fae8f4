"""A session ends with its logout, a password change or reset, a lockout, a removed role, an
admin's "log out everywhere", a working day unused, and at the latest SESSION_MAX_HOURS."""
import time

import pytest

from blueprints.accounts import service
from blueprints.accounts.models import RoleAssignment, User
from common.access import Role
from common.audit import AuditEvent
from extensions import db
from tests.conftest import PASSWORD, Auth, logged_in

NEW_PASSWORD = "another-long-passphrase-42"


@pytest.fixture
def browser(app):
    """Another browser: a client of its own, logged in as asked."""

    def open_as(username, password=PASSWORD):
        client = logged_in(app, username, password)
        assert client.get("/").status_code == 200
        return client

    return open_as


def is_logged_in(client):
    return client.get("/").status_code == 200


def test_a_cookie_replayed_after_logout_opens_nothing(app, browser, make_user):
    make_user("riikka")
    client = browser("riikka")
    cookie = client.get_cookie("session").value
    Auth(client).logout()
    replay = app.test_client()
    replay.set_cookie("session", cookie)
    response = replay.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(browser, make_user):
    make_user("riikka")
    laptop, desk = browser("riikka"), browser("riikka")
    response = desk.post("/password",
                         data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert is_logged_in(desk) and not is_logged_in(laptop)


def test_a_password_reset_ends_every_session(app, browser, make_user):
    uid = make_user("riikka")
    laptop = browser("riikka")
    with app.test_request_context():
        service.issue_password_link(db.session.get(User, uid))
        record = db.session.scalars(db.select(service.PasswordResetToken)).one()
        service.reset_password(record, NEW_PASSWORD)
    assert not is_logged_in(laptop)


def test_a_lockout_ends_the_users_sessions(app, browser, make_user):
    make_user("riikka")
    desk = browser("riikka")
    stranger = app.test_client()
    for _ in range(app.config["LOCKOUT_THRESHOLD"]):
        Auth(stranger).login("riikka", "wrong password here")
    assert not is_logged_in(desk)
    with app.app_context():
        service.unlock(db.session.scalar(db.select(User).where(User.username == "riikka")))
    assert not is_logged_in(desk), "unlocking does not bring an ended session back"


def test_removing_a_role_ends_the_users_sessions(app, browser, make_user, make_unit):
    unit = make_unit()
    make_user("celia", (Role.SERVICE_ADMIN, None))
    uid = make_user("riikka", (Role.REGISTRAR, unit), (Role.GUIDE, unit))
    registrar = browser("riikka")
    admin = browser("celia")
    with app.app_context():
        assignment = db.session.scalar(db.select(RoleAssignment).where(RoleAssignment.user_id == uid,
                                                                       RoleAssignment.role == Role.REGISTRAR))
    admin.post(f"/admin/users/{uid}/roles/{assignment.id}/revoke")
    assert not is_logged_in(registrar)
    assert is_logged_in(admin)


def test_an_admin_logs_a_user_out_everywhere(app, browser, make_user):
    make_user("celia", (Role.SERVICE_ADMIN, None))
    uid = make_user("riikka")
    laptop, desk = browser("riikka"), browser("riikka")
    admin = browser("celia")
    assert "Log out everywhere" in admin.get(f"/admin/users/{uid}").text
    response = admin.post(f"/admin/users/{uid}/end-sessions", follow_redirects=True)
    assert "logged out everywhere" in response.text
    assert not is_logged_in(laptop) and not is_logged_in(desk) and is_logged_in(admin)
    with app.app_context():
        ended = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "sessions.ended"))
        assert ended.object_id == str(uid)
    assert is_logged_in(browser("riikka")), "a new login works"


def age_session(client, **hours):
    with client.session_transaction() as session:
        for key, value in hours.items():
            session[key] = int(time.time() - value * 3600)


def test_a_session_unused_for_a_working_day_ends(app, browser, make_user):
    make_user("riikka")
    idle, busy = browser("riikka"), browser("riikka")
    age_session(idle, seen_at=app.config["SESSION_IDLE_HOURS"] + 0.1)
    age_session(busy, seen_at=app.config["SESSION_IDLE_HOURS"] - 0.1)
    assert not is_logged_in(idle) and is_logged_in(busy)


def test_no_session_outlives_its_absolute_lifetime(app, browser, make_user):
    make_user("riikka")
    client = browser("riikka")
    age_session(client, login_at=app.config["SESSION_MAX_HOURS"] + 0.1, seen_at=0.01)
    assert not is_logged_in(client)


def test_use_keeps_a_session_going(app, browser, make_user):
    make_user("riikka")
    client = browser("riikka")
    age_session(client, seen_at=app.config["SESSION_IDLE_HOURS"] - 0.5)
    assert is_logged_in(client)
    with client.session_transaction() as session:
        assert time.time() - session["seen_at"] < 60
