from blueprints.accounts.models import User
from extensions import db


def test_anonymous_language_choice_sticks_in_the_session(client):
    response = client.post("/language", data={"language": "sv", "next": "/login"})
    assert response.headers["Location"] == "/login"
    page = client.get("/login", headers={"Accept-Language": "fi"})
    assert '<html lang="sv">' in page.get_data(as_text=True)


def test_a_user_language_choice_is_saved_on_the_account(app, client, auth, make_user):
    user_id = make_user("riikka", language="fi")
    auth.login("riikka")
    client.post("/language", data={"language": "nl"})
    with app.app_context():
        assert db.session.get(User, user_id).language == "nl"
    assert '<html lang="nl">' in client.get("/").get_data(as_text=True)


def test_an_unknown_language_is_refused(client):
    assert client.post("/language", data={"language": "de"}).status_code == 400


def test_language_redirect_stays_on_the_site(client):
    response = client.post("/language", data={"language": "en", "next": "//evil.example/"})
    assert response.headers["Location"] == "/"
