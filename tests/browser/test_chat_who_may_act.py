"""A served chat is its serving agent's alone: a colleague reading it sees no controls, and
requests forged from the colleague's page are refused with nothing changed."""
from playwright.sync_api import expect
from sqlalchemy import select

from blueprints.chat.models import ChatMessage, ChatQueue, Conversation, ConversationState
from common.access import Role
from extensions import db
from tests.browser.conftest import assert_accessible
from tests.browser.test_chat_desk import agent_page
from tests.browser.test_chat_reliability import served_by_aino

FORGE = """async (url) => {
    const token = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
    const body = new URLSearchParams({"transfer-target": "1"});
    const answer = await fetch(url, {method: "POST", headers: {"X-CSRFToken": token}, body: body});
    return answer.status;
}"""


def test_a_colleague_reads_a_served_chat_without_controls_and_forged_requests_are_refused(app, make_unit, make_user,
                                                                                          new_page):
    library = make_unit()
    make_user("aino", (Role.CHAT_AGENT, library))
    make_user("erja", (Role.CHAT_AGENT, library))
    with app.app_context():
        db.session.add(ChatQueue(unit_id=library, name="Neuvonta", is_open=True, waiting_message=""))
        db.session.commit()
    aino = agent_page(new_page, "aino", "Neuvonta")
    erja = agent_page(new_page, "erja", "Neuvonta")
    toni = served_by_aino(aino, new_page)
    expect(aino.get_by_role("button", name="Release to queue")).to_be_visible()

    erja.get_by_role("link", name="Neuvonta").click()
    erja.get_by_role("link", name="Toni").click()
    expect(erja.locator(".chat-readonly")).to_have_text(
        "Aino is serving this customer. You can read the chat but not write in it.")
    chat = erja.locator("#chat-view")
    expect(chat.get_by_role("group", name="Customer controls")).to_have_count(0)
    expect(chat.get_by_role("button")).to_have_count(0)
    expect(chat.locator("#chat-body")).to_have_count(0)
    assert_accessible(erja)

    with app.app_context():
        toni_id = db.session.scalar(select(Conversation.id))
    for action in ("release", "remove", "end", "video", "transfer"):
        assert erja.evaluate(FORGE, f"/chat/conversations/{toni_id}/{action}") == 403, action
    with app.app_context():
        served = db.session.get(Conversation, toni_id)
        assert served.state == ConversationState.SERVED and served.agent_id is not None
        assert db.session.scalars(select(ChatMessage.body)).all() == ["served"]
    expect(toni.get_by_text("You are chatting with Aino.")).to_be_visible()
    expect(aino.get_by_role("button", name="End chat")).to_be_visible()
