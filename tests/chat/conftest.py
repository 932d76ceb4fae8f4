"""The chat's fixtures (a desk: a library's queue and its agents) and the helpers its tests share.

user(), queue() and conversation() read a row in the app context the test is in (in_request);
conversation_of() opens one of its own."""
import pytest
from flask.testing import FlaskClient

from blueprints.accounts.models import User
from blueprints.chat.models import ChatQueue, Conversation
from common.access import Role
from extensions import db, socketio
from tests.conftest import logged_in


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


def user(user_id):
    return db.session.get(User, user_id)


def queue(queue_id):
    return db.session.get(ChatQueue, queue_id)


def conversation(conversation_id):
    """The conversation as it is in the database now."""
    c = db.session.get(Conversation, conversation_id)
    db.session.refresh(c)
    return c


def conversation_of(app, name="Toni"):
    """The conversation of the customer called `name`, read in an app context of its own."""
    with app.app_context():
        c = db.session.scalar(db.select(Conversation).where(Conversation.customer_name == name))
        db.session.expunge(c)
        return c


def join(client, desk, name="Toni", question=""):
    """A customer's browser joins the desk's queue: the answer."""
    return client.post("/chat/customer/", data={"queue": desk["queue"], "name": name, "question": question})


def log_in_to_service(browser, queue_id, name="Agent"):
    """Only an agent logged in to customer service for the queue picks up its customers."""
    answer = browser.post("/chat/service/login", data={"queues": [queue_id], "display_name": name})
    assert answer.status_code == 302


def staff_socket(app, username):
    """(browser, socket): a staff member logged in, and the Socket.IO connection of their page."""
    browser = logged_in(app, username)
    return browser, socketio.test_client(app, flask_test_client=browser)


def customer_socket(app, browser):
    """The customer page's socket, with what it heard on connecting read away."""
    socket = socketio.test_client(app, namespace="/customer", flask_test_client=browser)
    socket.get_received("/customer")
    return socket


def on_duty(desk, *usernames, queue_ids=None):
    """Log these agents of the desk in to customer service for its queue (or `queue_ids`):
    only then may they pick up its customers. Needs an app context."""
    from blueprints.chat import queues

    for username in usernames:
        queues.log_in_to_service(user(desk[username]), queue_ids or [desk["queue"]], username.title())
