import pytest
from flask.testing import FlaskClient

from blueprints.chat.models import ChatQueue
from common.access import Role
from extensions import db


@pytest.fixture
def desk(app, make_unit, make_user):
    """A library with an open queue and two agents; an agent of another library."""
    library, other = make_unit(), make_unit()
    ids = {
        "library": library,
        "other": other,
        "aino": make_user("aino", (Role.CHAT_AGENT, library)),
        "erja": make_user("erja", (Role.CHAT_AGENT, library)),
        "olli": make_user("olli", (Role.CHAT_AGENT, other)),
    }
    with app.app_context():
        queue = ChatQueue(unit_id=library, name="Neuvonta", is_open=True, waiting_message="Odota hetki")
        db.session.add(queue)
        db.session.commit()
        ids["queue"] = queue.id
    return ids


@pytest.fixture
def in_request(app):
    """A request context: refusals are translated strings and need a locale."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield app


class EnglishClient(FlaskClient):
    """A browser that asks for English (customers have no account language)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture(autouse=True)
def english_browsers(app):
    saved = app.test_client_class
    app.test_client_class = EnglishClient
    yield
    app.test_client_class = saved


def on_duty(desk, *usernames, queue_ids=None):
    """Log these agents of the desk in to customer service for its queue (or `queue_ids`):
    only then may they pick up its customers. Needs an app context."""
    from blueprints.accounts.models import User
    from blueprints.chat import queues

    for username in usernames:
        queues.log_in_to_service(db.session.get(User, desk[username]), queue_ids or [desk["queue"]], username.title())
