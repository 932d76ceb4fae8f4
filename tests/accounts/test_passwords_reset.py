import re
from datetime import timedelta

from blueprints.accounts import service
from blueprints.accounts.models import PasswordResetToken, User
from common.access import Role
from common.mail import OutboxMail
from extensions import db
from tests.conftest import PASSWORD, eventually

FORM = "/password/reset"  # the token-free page a link is exchanged for


def reset_link(mailbox_message):
    return re.search(r"http://localhost(/password/reset/\S+)", mailbox_message.get_content()).group(1)


def opened(client, path):
    """Open a mailed link as a browser does: the link answers with the token-free form's address."""
    response = client.get(path)
    if response.status_code != 303:
        return response.status_code
    assert response.headers["Location"] == FORM
    return client.get(FORM).status_code


def test_reset_link_is_mailed_and_works_once(client, auth, make_user, smtp_server):
    make_user("riikka", email="riikka@example.org")
    response = client.post("/password/forgot", data={"email": "Riikka@Example.org"})
    assert response.status_code == 302
    message = smtp_server.wait_for(1)[0]
    assert message["To"] == "riikka@example.org"
    path = reset_link(message)

    assert opened(client, path) == 200
    response = client.post(FORM, data={"new_password": "uusi-salasana-2026", "confirm": "uusi-salasana-2026"})
    assert response.status_code == 302
    assert auth.login("riikka", "uusi-salasana-2026").status_code == 302
    auth.logout()
    # Used once: now it is gone.
    assert client.get(path).status_code == 410
    again = client.post(FORM, data={"new_password": "another-one-2026-x", "confirm": "another-one-2026-x"})
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
    assert opened(client, path) == 200
    response = client.post(FORM, data={"new_password": "riikka-123456789", "confirm": "riikka-123456789"})
    assert response.status_code == 422
    assert "Do not use your username in the password." in response.get_data(as_text=True)
    assert opened(client, path) == 200  # a refused try does not use the link up


def test_a_newer_link_ends_the_earlier_ones(client, make_user, smtp_server):
    make_user("riikka", email="riikka@example.org")
    client.post("/password/forgot", data={"email": "riikka@example.org"})
    first = reset_link(smtp_server.wait_for(1)[0])  # the mails may arrive in either order: one at a time
    client.post("/password/forgot", data={"email": "riikka@example.org"})
    second = reset_link(smtp_server.wait_for(2)[1])
    assert client.get(first).status_code == 410
    assert opened(client, second) == 200


def test_a_reset_or_a_change_ends_every_earlier_link(app, client, auth, make_user, smtp_server):
    make_user("riikka", email="riikka@example.org")
    client.post("/password/forgot", data={"email": "riikka@example.org"})
    path = reset_link(smtp_server.wait_for(1)[0])
    with app.test_request_context():  # a second link, as the admin's button makes one
        service.issue_password_link(db.session.scalar(db.select(User)))
        db.session.commit()
    newest = reset_link(smtp_server.wait_for(2)[1])
    assert client.get(path).status_code == 410
    auth.login("riikka")
    changed = client.post("/password", data={"current_password": PASSWORD,
                                            "new_password": "uusi-salasana-2026", "confirm": "uusi-salasana-2026"})
    assert changed.status_code == 302
    assert client.get(newest).status_code == 410


def test_the_outbox_keeps_no_usable_link_once_the_mail_is_sent(app, client, auth, make_user, smtp_server):
    make_user("celia", (Role.SERVICE_ADMIN, None), email="celia@example.org")
    client.post("/password/forgot", data={"email": "celia@example.org"})
    path = reset_link(smtp_server.wait_for(1)[0])
    token = path.rsplit("/", 1)[1]

    def sent():
        with app.app_context():
            return db.session.scalar(db.select(OutboxMail.status).execution_options(populate_existing=True)) == "sent"

    assert eventually(sent)
    with app.app_context():
        row = db.session.execute(db.select(OutboxMail.__table__)).one()
        assert all(token not in str(value) for value in row)
    auth.login("celia")
    outbox = client.get("/admin/outbox").text
    assert token not in outbox and "/password/reset/" + token[:4] + "…" in outbox


def test_opening_the_link_uses_nothing_and_leaves_it_for_a_token_free_page(app, client, make_user, smtp_server):
    make_user("riikka", email="riikka@example.org")
    client.post("/password/forgot", data={"email": "riikka@example.org"})
    path = reset_link(smtp_server.wait_for(1)[0])
    token = path.rsplit("/", 1)[1]
    scanner = app.test_client()  # a mail scanner opens the link before the person does
    assert scanner.get(path).status_code == 303
    response = client.get(path)
    assert response.status_code == 303 and response.headers["Location"] == FORM
    with app.app_context():
        assert db.session.scalar(db.select(PasswordResetToken.used_at)) is None
    page = client.get(FORM)
    assert page.status_code == 200 and token not in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"
    data = {"new_password": "uusi-salasana-2026", "confirm": "uusi-salasana-2026"}
    assert client.post(FORM, data=data).status_code == 302
    with app.app_context():
        assert db.session.scalar(db.select(PasswordResetToken.used_at)) is not None
    assert client.get(path).status_code == 410
    assert scanner.get(FORM).status_code == 410, "the link opened elsewhere is used up too"


def test_the_form_without_an_opened_link_is_gone(client):
    assert client.get(FORM).status_code == 410
    data = {"new_password": "uusi-salasana-2026", "confirm": "uusi-salasana-2026"}
    assert client.post(FORM, data=data).status_code == 410
