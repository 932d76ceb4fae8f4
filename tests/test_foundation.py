from app import create_app


def test_factory_uses_test_config(app):
    assert app.testing
    assert not create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).testing


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok" and response.json["database"] == "ok"


def test_front_page_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_unknown_url_gives_the_sites_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "There is no page at this address." in response.get_data(as_text=True)


def test_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe" not in csp  # neither inline code nor eval is allowed
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


def test_short_times_read_as_flask_babel_writes_them_in_every_language_and_season(app):
    from datetime import datetime, timezone

    from flask_babel import force_locale, format_datetime

    show = app.jinja_env.filters["datetime"]
    winter, summer = datetime(2026, 11, 23, 12, 5, 59), datetime(2026, 6, 1, 21, 0, 1)
    with app.test_request_context():
        for language in ("fi", "sv", "en", "nl"):
            with force_locale(language):
                for moment in (winter, summer):
                    assert show(moment) == format_datetime(moment.replace(tzinfo=timezone.utc), "short")
                assert show(winter) != show(winter.replace(minute=6, second=0))


def test_production_hashes_passwords_with_scrypt_and_the_tests_with_a_cheap_method(app):
    from common.security import hash_password

    production = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    with production.app_context():
        assert hash_password("correct-horse-battery-9").startswith("scrypt:")
    with app.app_context():
        assert hash_password("correct-horse-battery-9").startswith("pbkdf2:")


def test_a_test_configuration_takes_nothing_from_the_environment(monkeypatch):
    monkeypatch.setenv("SMTP_HOST", "mail.example.org")
    assert create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).config["SMTP_HOST"] is None


def test_environment_settings_take_the_type_of_their_default():
    from config import environment_settings

    found = environment_settings({"SMTP_PORT": "2525", "SMTP_STARTTLS": "yes", "DEVELOPMENT": "0",
                                  "CHAT_ICE_SERVERS": '[{"urls": "stun:x"}]', "MAIL_FROM": "a@b.c",
                                  "DATABASE_URL": "postgresql://db/x"})
    assert found == {"SMTP_PORT": 2525, "SMTP_STARTTLS": True, "DEVELOPMENT": False,
                     "CHAT_ICE_SERVERS": [{"urls": "stun:x"}], "MAIL_FROM": "a@b.c",
                     "SQLALCHEMY_DATABASE_URI": "postgresql://db/x"}
