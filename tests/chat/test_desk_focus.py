"""Where the desk puts the focus after each action: the answer names it (the focus table of
blueprints/chat/README.md), static/js/desk-keys.js moves it (tests/browser/test_chat_desk_keys.py)."""
import json

import pytest

from blueprints.chat.models import ChatQueue
from extensions import db
from tests.chat.conftest import conversation_of, join, log_in_to_service
from tests.conftest import logged_in


def focus_named(answer):
    """The desk-focus target an answer names, or None."""
    header = answer.headers.get("HX-Trigger-After-Settle")
    return json.loads(header)["desk-focus"] if header else None


@pytest.fixture
def closed_queue(app, desk):
    """Another queue of the library, to transfer to."""
    with app.app_context():
        queue = ChatQueue(unit_id=desk["library"], name="Asiantuntija", is_open=False)
        db.session.add(queue)
        db.session.commit()
        return queue.id


@pytest.fixture
def aino(app, client, desk):
    """Aino's browser, logged in to customer service for the queue where Toni waits."""
    join(client, desk)
    browser = logged_in(app, "aino")
    log_in_to_service(browser, desk["queue"], "Aino")
    return browser


@pytest.mark.parametrize(("action", "target"), [("claim", "message"), ("video", "message")])
def test_starting_a_chat_puts_the_focus_in_the_message_box(app, aino, action, target):
    c = conversation_of(app)
    answer = aino.post(f"/chat/conversations/{c.id}/{action}?queue={c.queue_id}", headers={"HX-Request": "true"})
    assert answer.status_code == 200
    assert focus_named(answer) == target


@pytest.mark.parametrize("action", ["release", "end", "remove"])
def test_letting_the_customer_go_puts_the_focus_on_the_queue_s_customers(app, aino, action):
    c = conversation_of(app)
    if action != "remove":
        aino.post(f"/chat/conversations/{c.id}/claim?queue={c.queue_id}")
    answer = aino.post(f"/chat/conversations/{c.id}/{action}?queue={c.queue_id}", headers={"HX-Request": "true"})
    assert answer.status_code == 200
    assert focus_named(answer) == "customers"


def test_a_transfer_puts_the_focus_on_the_queue_s_customers(app, aino, closed_queue):
    c = conversation_of(app)
    aino.post(f"/chat/conversations/{c.id}/claim?queue={c.queue_id}")
    answer = aino.post(f"/chat/conversations/{c.id}/transfer?queue={c.queue_id}",
                       data={"transfer-target": closed_queue}, headers={"HX-Request": "true"})
    assert answer.status_code == 200 and answer.headers["HX-Retarget"] == "#chat-view"
    assert focus_named(answer) == "customers"


def test_a_refused_action_leaves_the_focus_where_it_was(app, aino, desk):
    c = conversation_of(app)
    aino.post(f"/chat/conversations/{c.id}/claim?queue={c.queue_id}")
    erja = logged_in(app, "erja")
    log_in_to_service(erja, desk["queue"], "Erja")
    refused = erja.post(f"/chat/conversations/{c.id}/claim?queue={c.queue_id}", headers={"HX-Request": "true"})
    assert refused.status_code == 409
    assert focus_named(refused) is None


def test_the_colleagues_open_with_the_focus_on_their_list(app, aino):
    page = aino.get("/chat/?colleagues=1").get_data(as_text=True)
    assert 'id="colleagues-heading" tabindex="-1" data-desk-focus="colleagues" autofocus' in page
