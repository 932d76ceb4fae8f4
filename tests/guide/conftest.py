import pytest

from blueprints.guide import service
from common.access import Role
from extensions import db


@pytest.fixture
def library(make_unit):
    return make_unit()


@pytest.fixture
def guide(make_user, library):
    return make_user("opas", (Role.GUIDE, library))


@pytest.fixture
def version(app):
    with app.app_context():
        version = service.ensure_first_version()
        db.session.commit()
        return version.id


@pytest.fixture
def start(client, auth, guide, library, version):
    """Log in as the guide and start a session via the page; returns the session id."""
    auth.login("opas")

    def start(topics=("email",), device="phone", language="fi"):
        response = client.post("/guide/",
                               data={"unit": library, "topics": list(topics), "device": device,
                                     "customer_language": language})
        assert response.status_code == 302, response.get_data(as_text=True)
        return int(response.headers["Location"].rstrip("/").split("/")[-1])

    return start
