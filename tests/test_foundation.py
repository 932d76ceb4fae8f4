from app import create_app


def test_factory_uses_test_config(app):
    assert app.testing
    assert not create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).testing


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok" and response.json["database"] == "ok"


def test_the_favicon_is_a_real_icon_at_the_root(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")
    assert response.data[:4] == b"\0\0\1\0" and response.data[4] == 2  # an icon with 16 and 32 pixel images
    assert '<link rel="icon" href="/favicon.ico">' in client.get("/login").get_data(as_text=True)


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


def test_connections_only_to_the_site_itself_and_hsts_over_https(client):
    csp = dict(part.strip().split(" ", 1)
               for part in client.get("/login").headers["Content-Security-Policy"].split(";"))
    assert csp["connect-src"] == "'self'"  # ws: or wss: alone would allow a socket to any host
    assert "Strict-Transport-Security" not in client.get("/login").headers
    secure = client.get("/login", base_url="https://intranet.example.org")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
    assert int(secure.headers["Strict-Transport-Security"].split("=")[1]) >= 180 * 24 * 3600


def test_times_are_written_in_each_languages_own_form_in_every_season(app):
    """Finnish 1.12.2026 klo 22.33, English 1 Dec 2026, 22:33 (never 12/1/26), Dutch dd-mm-jjjj as
    the counter system writes it; in the user's zone (Helsinki by default), summer time included."""
    from datetime import date, datetime

    from flask_babel import force_locale

    show, day = app.jinja_env.filters["datetime"], app.jinja_env.filters["date"]
    winter, summer = datetime(2026, 12, 1, 20, 33, 59), datetime(2026, 6, 1, 21, 0, 1)
    expected = {
        "fi": ("1.12.2026 klo 22.33", "2.6.2026 klo 0.00", "1.6.2015"),
        "sv": ("1 dec. 2026 kl. 22:33", "2 juni 2026 kl. 00:00", "1 juni 2015"),
        "en": ("1 Dec 2026, 22:33", "2 Jun 2026, 00:00", "1 Jun 2015"),
        "nl": ("01-12-2026 22:33", "02-06-2026 00:00", "01-06-2015"),
    }
    with app.test_request_context():
        for language, (in_winter, in_summer, a_day) in expected.items():
            with force_locale(language):
                assert show(winter) == in_winter
                assert show(summer) == in_summer
                assert day(date(2015, 6, 1)) == a_day
                # One formatting per minute: a later second of the same minute reads the same.
                assert show(winter.replace(second=0)) == in_winter
                assert show(winter) != show(winter.replace(minute=34, second=0))
        with force_locale("en"):
            assert show(winter, "medium") == "1 Dec 2026, 22:33:59"


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
