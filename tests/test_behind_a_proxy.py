"""Behind nginx: the client's address from the trusted proxy, links in mail from the configured
address whatever Host header a request brings, and unknown hosts refused."""
import re

import pytest
from sqlalchemy import select

from app import create_app
from common.audit import AuditEvent
from extensions import db
from tests.conftest import make_config


@pytest.fixture
def configured(app):
    """Change settings of the test app for one test."""
    saved = {}

    def set_(**settings):
        for key, value in settings.items():
            saved.setdefault(key, app.config.get(key))
            app.config[key] = value

    yield set_
    app.config.update(saved)


def test_a_forged_host_header_does_not_reach_the_reset_link(client, make_user, smtp_server, configured):
    configured(EXTERNAL_URL="https://intranet.example.org")
    make_user("riikka", email="riikka@example.org")
    response = client.post("/password/forgot", data={"email": "riikka@example.org"},
                           headers={"Host": "attacker.example"})
    assert response.status_code == 302
    body = smtp_server.wait_for(1)[0].get_content()
    assert "attacker.example" not in body
    assert re.search(r"https://intranet\.example\.org/password/reset/\S+", body)


def test_requests_for_an_unknown_host_are_refused(client, configured):
    configured(TRUSTED_HOSTS=["intranet.example.org"])
    assert client.get("/healthz", headers={"Host": "attacker.example"}).status_code == 400
    assert client.get("/healthz", headers={"Host": "intranet.example.org"}).status_code == 200


def test_trusted_hosts_from_the_environment_are_a_comma_separated_list(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUSTED_HOSTS", "intranet.example.org, intranet2.example.org")
    from config import environment_settings

    app = create_app(make_config(tmp_path, **environment_settings()))
    assert app.config["TRUSTED_HOSTS"] == ["intranet.example.org", "intranet2.example.org"]


def failed_login_address(app, client, forwarded_for):
    client.post("/login", data={"username": "nobody", "password": "x" * 12}, headers={"X-Forwarded-For": forwarded_for})
    with app.app_context():
        return db.session.scalar(select(AuditEvent.address).where(AuditEvent.action == "login.failed"))


def test_the_client_address_comes_from_the_trusted_proxy(app, tmp_path):
    behind_nginx = create_app(make_config(tmp_path, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                                          TRUSTED_PROXIES=1))
    assert failed_login_address(behind_nginx, behind_nginx.test_client(), "203.0.113.7") == "203.0.113.7"


def test_without_a_trusted_proxy_a_forwarded_address_is_ignored(app, client):
    assert failed_login_address(app, client, "203.0.113.7") == "127.0.0.1"
