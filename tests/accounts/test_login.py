import re
from datetime import timedelta

from blueprints.accounts import service
from blueprints.accounts.models import User
from common.access import Role
from common.audit import AuditEvent
from common.clock import utcnow
from extensions import db, limiter
from tests.conftest import PASSWORD, audit_actions


def test_login_and_logout(app, client, auth, make_user):
    make_user("riikka")
    response = auth.login("riikka")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    auth.logout()
    assert client.get("/").status_code == 302
    assert audit_actions(app)[-2:] == ["login", "logout"]


def test_wrong_password_answers_422_and_keeps_username(client, auth, make_user):
    make_user("riikka")
    response = auth.login("riikka", "wrong password here")
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Wrong username or password." in body
    assert 'value="riikka"' in body
    assert "wrong password here" not in body


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(auth):
    response = auth.login("nobody-at-all", "whatever password")
    assert response.status_code == 422
    assert "Wrong username or password." in response.get_data(as_text=True)


def test_five_wrong_passwords_lock_the_account(app, auth, make_user):
    make_user("riikka")
    for _ in range(4):
        assert "Wrong username or password." in auth.login("riikka", "wrong").get_data(as_text=True)
    fifth = auth.login("riikka", "wrong").get_data(as_text=True)
    assert "locked" in fifth and "Only a service admin can unlock it." in fifth
    # Even the right password no longer opens it.
    right = auth.login("riikka")
    assert right.status_code == 422 and "locked" in right.get_data(as_text=True)
    assert "account.locked" in audit_actions(app)


def test_a_success_resets_the_failure_count(app, auth, make_user):
    make_user("riikka")
    for _ in range(4):
        auth.login("riikka", "wrong")
    assert auth.login("riikka").status_code == 302
    auth.logout()
    for _ in range(4):
        auth.login("riikka", "wrong")
    assert auth.login("riikka").status_code == 302


def test_only_a_service_admin_unlocks(app, client, auth, make_user, make_unit):
    library = make_unit()
    locked_id = make_user("riikka")
    make_user("paula", (Role.MAIN_USER, library))
    make_user("sirpa", (Role.SERVICE_ADMIN, None))
    for _ in range(5):
        auth.login("riikka", "wrong")
    auth.login("paula")
    assert client.post(f"/admin/users/{locked_id}/unlock").status_code == 403
    auth.logout()
    auth.login("sirpa")
    assert client.post(f"/admin/users/{locked_id}/unlock").status_code == 302
    auth.logout()
    assert auth.login("riikka").status_code == 302
    assert "account.unlocked" in audit_actions(app)


def test_login_attempts_are_rate_limited_per_address(app, auth, make_user):
    make_user("riikka")
    limiter.enabled = True
    limiter.reset()
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    try:
        statuses = [auth.login("someone", "wrong").status_code for _ in range(4)]
    finally:
        app.config["LOGIN_RATE_LIMIT"] = "20 per minute"
        limiter.reset()
        limiter.enabled = False
    assert statuses == [422, 422, 422, 429]


def test_expired_password_allows_only_the_change_page(app, client, auth, make_user, make_unit):
    library = make_unit()
    user_id = make_user("riikka", (Role.REGISTRAR, library))
    with app.app_context():
        user = db.session.get(User, user_id)
        user.password_changed_at = utcnow() - timedelta(days=370)
        db.session.commit()
    auth.login("riikka")
    assert client.get("/").headers["Location"] == "/password"
    assert client.get("/registration/").headers["Location"] == "/password"
    page = client.get("/password").get_data(as_text=True)
    assert "Your password has expired" in page
    response = client.post(
        "/password",
        data={"current_password": "correct-horse-battery-9", "new_password": "a-brand-new-passphrase",
              "confirm": "a-brand-new-passphrase"},
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_expiry_follows_the_setting_and_the_roles(app, make_user, make_unit):
    library = make_unit()
    registrar_id = make_user("riikka", (Role.REGISTRAR, library))
    agent_id = make_user("aino", (Role.CHAT_AGENT, library))
    with app.app_context():
        registrar, agent = db.session.get(User, registrar_id), db.session.get(User, agent_id)
        seven_months_ago = utcnow() - timedelta(days=213)
        registrar.password_changed_at = agent.password_changed_at = seven_months_ago
        app.config["PASSWORD_MAX_AGE_MONTHS"] = 6
        try:
            assert service.password_expired(registrar)
            assert not service.password_expired(agent)  # the rule is for registrars and main users
        finally:
            app.config["PASSWORD_MAX_AGE_MONTHS"] = 12
        assert not service.password_expired(registrar)


def test_password_rules():
    assert service.password_problems("short", "riikka")
    assert service.password_problems("riikka-is-my-name", "riikka")
    assert service.password_problems("qwerty123456", "riikka")  # in the common-password list
    assert service.password_problems("LeaveMeAlone", "riikka")  # the same, in other case
    assert not service.password_problems("lukeminen-on-kivaa-42", "riikka")


def test_change_password_rejects_weak_and_keeps_nothing(client, auth, make_user):
    make_user("riikka")
    auth.login("riikka")
    response = client.post("/password",
                           data={"current_password": "correct-horse-battery-9", "new_password": "short",
                                 "confirm": "short"})
    assert response.status_code == 422
    assert "Use at least 12 characters." in response.get_data(as_text=True)
    auth.logout()
    assert auth.login("riikka").status_code == 302  # the old password still works


def answers(auth, username, count):
    return [(r.status_code, r.get_data(as_text=True).split('role="alert"')[-1][:300]) for r in
            (auth.login(username, "wrong password") for _ in range(count))]


def test_an_unknown_username_is_answered_exactly_like_a_real_one_that_locks(app, auth, make_user):
    make_user("riikka")
    threshold = app.config["LOCKOUT_THRESHOLD"]
    real, unknown = answers(auth, "riikka", threshold + 2), answers(auth, "riikka-nobody", threshold + 2)
    assert [status for status, _ in real] == [status for status, _ in unknown] == [422] * (threshold + 2)
    assert [body.replace("riikka-nobody", "riikka") for _, body in unknown] == [body for _, body in real]
    assert "locked" in real[threshold - 1][1] and "locked" not in real[threshold - 2][1]


def test_a_deactivated_account_is_answered_like_a_real_one_that_locks(app, auth, make_user):
    uid = make_user("riikka")
    with app.app_context():
        db.session.get(User, uid).active = False
        db.session.commit()
    threshold = app.config["LOCKOUT_THRESHOLD"]
    refused = answers(auth, "riikka", threshold)
    assert "locked" in refused[-1][1] and "locked" not in refused[-2][1]


def test_a_failed_login_of_an_unknown_name_does_not_store_what_was_typed(app, auth):
    auth.login("my-secret-passw0rd", "whatever")
    with app.app_context():
        [event] = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "login.failed")).all()
        assert "my-secret-passw0rd" not in str(event.detail) + str(event.object_id)
        assert event.object_type == "UnknownUser"


def test_an_expired_password_changed_to_itself_is_no_change(app, client, auth, make_user, make_unit):
    user_id = make_user("riikka", (Role.REGISTRAR, make_unit()))
    with app.app_context():
        db.session.get(User, user_id).password_changed_at = utcnow() - timedelta(days=370)
        db.session.commit()
    auth.login("riikka")
    same = client.post("/password", data={"current_password": PASSWORD, "new_password": PASSWORD, "confirm": PASSWORD})
    assert same.status_code == 422 and "must differ from the current one" in same.text
    assert client.get("/").headers["Location"] == "/password"  # still expired
    with app.app_context():
        assert "password.changed" not in [e.action for e in db.session.scalars(db.select(AuditEvent))]


def test_a_reset_to_the_current_password_is_refused(app, client, make_user, smtp_server):
    make_user("riikka", email="riikka@example.org")
    client.post("/password/forgot", data={"email": "riikka@example.org"})
    path = re.search(r"http://localhost(/password/reset/\S+)", smtp_server.wait_for(1)[0].get_content()).group(1)
    assert client.get(path).status_code == 303
    response = client.post("/password/reset", data={"new_password": PASSWORD, "confirm": PASSWORD})
    assert response.status_code == 422 and "must differ from the current one" in response.text
    assert client.get(path).status_code == 303  # the link still works for a real change
    assert client.get("/password/reset").status_code == 200
