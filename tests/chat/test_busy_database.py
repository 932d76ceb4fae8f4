"""The staff side of the chat on a database that does not give a save its turn in time: each form
answers 503 "save again" on the part of the page that was sent, with what was typed, and stores
nothing. And a refusal of the service login shows where the agent looks."""

import pytest
from sqlalchemy import func, select

from blueprints.accounts import service as accounts
from blueprints.accounts.models import UnitKind
from blueprints.chat import internal
from blueprints.chat.models import AgentSession, ChatQueue, InternalMessage
from common.access import Role
from extensions import db
from tests.conftest import PASSWORD, count, logged_in, while_locked


@pytest.fixture
def busy_desk(busy_sqlite):
    """A library's queue, two agents and a service admin on an SQLite file of their own whose
    writes wait only a moment for the lock, and a connection of someone else to hold that lock."""
    app, other_writer = busy_sqlite
    with app.app_context():
        library = accounts.create_unit("LIB", "Library", UnitKind.LIBRARY, None)
        aino = accounts.create_user("aino", "Aino", "aino@example.org", "en", PASSWORD, [(Role.CHAT_AGENT, library)])
        erja = accounts.create_user("erja", "Erja", "erja@example.org", "en", PASSWORD, [(Role.CHAT_AGENT, library)])
        accounts.create_user("sirpa", "Sirpa", "sirpa@example.org", "en", PASSWORD, [(Role.SERVICE_ADMIN, None)])
        queue = ChatQueue(unit_id=library.id, name="Neuvonta", is_open=True, waiting_message="Odota hetki")
        db.session.add(queue)
        db.session.commit()
        ids = {"library": library.id, "queue": queue.id, "aino": aino.id}
        ids["internal"] = internal.start_chat(aino, erja).id
    return app, ids, other_writer


def assert_save_again(answer):
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "1"
    assert "save again" in answer.get_data(as_text=True)


def test_a_service_login_that_cannot_get_the_lock_keeps_the_login_form_with_the_name(busy_desk):
    app, ids, other_writer = busy_desk
    aino = logged_in(app, "aino")
    login = {"queues": [ids["queue"]], "display_name": "Aino Kärsivällinen"}
    answer = while_locked(other_writer, lambda: aino.post("/chat/service/login", data=login))
    assert_save_again(answer)
    page = answer.get_data(as_text=True)
    assert 'id="queues-error"' in page  # at the login form, not above the chat column
    assert 'value="Aino Kärsivällinen"' in page
    assert count(app, AgentSession) == 0


def test_a_waiting_message_that_cannot_get_the_lock_keeps_the_text(busy_desk):
    app, ids, other_writer = busy_desk
    aino = logged_in(app, "aino")
    answer = while_locked(other_writer, lambda: aino.post(f"/chat/queues/{ids['queue']}/settings",
                                                          data={"waiting_message": "Palvelemme pian"}))
    assert_save_again(answer)
    page = answer.get_data(as_text=True)
    assert 'class="chat-settings"' in page and "Palvelemme pian" in page
    with app.app_context():
        assert db.session.get(ChatQueue, ids["queue"]).waiting_message == "Odota hetki"


def test_a_queue_that_cannot_get_the_lock_keeps_the_admins_values(busy_desk):
    app, ids, other_writer = busy_desk
    sirpa = logged_in(app, "sirpa")
    answer = while_locked(other_writer, lambda: sirpa.post("/chat/admin/queues/new", data={
        "name": "Kärsivällisyys", "unit": ids["library"], "is_open": "y", "waiting_message": "Hetki",
        "keep_days": "30", "anonymise_after_days": "7"}))
    assert_save_again(answer)
    page = answer.get_data(as_text=True)
    assert 'value="Kärsivällisyys"' in page and 'value="30"' in page
    assert count(app, ChatQueue) == 1


def test_an_internal_line_that_cannot_get_the_lock_keeps_the_draft_in_the_message_form(busy_desk):
    app, ids, other_writer = busy_desk
    aino = logged_in(app, "aino")
    line = {"body": "Ehditkö kahville?", "key": "k1"}
    answer = while_locked(other_writer, lambda: aino.post(f"/chat/internal/{ids['internal']}/messages", data=line))
    assert_save_again(answer)
    page = answer.get_data(as_text=True)
    assert 'id="chat-error"' in page and "Ehditkö kahville?</textarea>" in page
    assert count(app, InternalMessage) == 0
    # Sent again when the database answers: stored once.
    assert aino.post(f"/chat/internal/{ids['internal']}/messages", data=line).status_code == 200
    assert count(app, InternalMessage) == 1


def test_a_login_from_a_page_that_showed_me_logged_out_says_why_where_i_look(busy_desk):
    app, ids, _other_writer = busy_desk
    aino = logged_in(app, "aino")
    login = {"queues": [ids["queue"]], "display_name": "Aino"}
    assert aino.post("/chat/service/login", data=login).status_code == 302
    again = aino.post("/chat/service/login", data=login)  # a second tab, opened before
    assert again.status_code == 422
    page = again.get_data(as_text=True)
    assert "Logged in as Aino" in page and "You are already logged in to customer service." in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AgentSession)
                                 .where(AgentSession.user_id == ids["aino"])) == 1
