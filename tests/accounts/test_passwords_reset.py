import re
from datetime import timedelta

from blueprints.accounts.models import PasswordResetToken
from common.mail import OutboxMail
from extensions import db


def reset_link(mailbox_message):
    return re.search(r"http://localhost(/password/reset/\S+)", mailbox_message.get_content()).group(1)


def test_reset_link_is_mailed_and_works_once(client, auth, make_user, smtp_server):
    make_user("riikka", email="riikka@example.org")
    response = client.post("/password/forgot", data={"email": "Riikka@Example.org"})
    assert response.status_code == 302
    message = smtp_server.wait_for(1)[0]
    assert message["To"] == "riikka@example.org"
    path = reset_link(message)

    assert client.get(path).status_code == 200
    response = client.post(path, data={"new_password": "uusi-salasana-2026", "confirm": "uusi-salasana-2026"})
    assert response.status_code == 302
    assert auth.login("riikka", "uusi-salasana-2026").status_code == 302
    auth.logout()
    # Used once: now it is gone.
    again = client.post(path, data={"new_password": "another-one-2026-x", "confirm": "another-one-2026-x"})
    assert again.status_code == 410
    assert auth.login("riikka", "another-one-2026-x").status_code == 422


def test_reset_link_expires_after_an_hour(app, client, make_user, smtp_server):
    make_user("riikka", email="riikka@example.org")
    client.post("/password/forgot", data={"email": "riikka@example.org"})
    path = reset_link(smtp_server.wait_for(1)[0])
    with app.app_context():
        token = db.session.scalar(db.select(PasswordResetToken))
        assert token.expires_at - token.created_at == timedelta(hours=1)
        token.expires_at = token.created_at - timedelta(seconds=1)
        db.session.commit()
    assert client.get(path).status_code == 410


def test_forgot_password_never_reveals_whether_an_address_exists(app, client, make_user):
    make_user("riikka", email="riikka@example.org")
    known = client.post("/password/forgot", data={"email": "riikka@example.org"}, follow_redirects=True)
    unknown = client.post("/password/forgot", data={"email": "nobody@example.org"}, follow_redirects=True)
    assert known.status_code == unknown.status_code == 200
    assert known.get_data(as_text=True) == unknown.get_data(as_text=True)
    with app.app_context():
        assert [m.recipient for m in db.session.scalars(db.select(OutboxMail))] == ["riikka@example.org"]


def test_reset_page_applies_the_password_rules(client, make_user, smtp_server):
    make_user("riikka", email="riikka@example.org")
    client.post("/password/forgot", data={"email": "riikka@example.org"})
    path = reset_link(smtp_server.wait_for(1)[0])
    response = client.post(path, data={"new_password": "riikka-123456789", "confirm": "riikka-123456789"})
    assert response.status_code == 422
    assert "Do not use your username in the password." in response.get_data(as_text=True)
    assert client.get(path).status_code == 200  # a refused try does not use the link up
