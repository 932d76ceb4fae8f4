"""Customers who close the tab: after the (shortened) grace period the waiting one is gone from
the queue and the served one's chat ends, and the agent's desk shows both live."""
import threading

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from blueprints.chat import staffing
from blueprints.chat.models import ChatQueue, Conversation, ConversationState
from common.access import Role
from extensions import db
from tests.browser.conftest import confirm, wait_until_live
from tests.browser.test_chat_desk import agent_page
from tests.browser.test_chat_reliability import join


@pytest.fixture
def sweeping(live_app, monkeypatch):
    """The live server's sweep, as `flask serve` runs it; sweeping(seconds) sets its grace period.
    It starts at a minute, so that pages still loading on a busy machine are never taken for
    pages that left; a test shortens it where it wants the grace period to pass."""
    def grace(seconds):
        monkeypatch.setitem(live_app.config, "CHAT_CUSTOMER_GRACE_SECONDS", seconds)

    grace(60)
    stop = threading.Event()

    def loop():
        while not stop.wait(0.3):
            with live_app.app_context():
                try:
                    staffing.sweep()
                finally:
                    db.session.remove()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield grace
    stop.set()
    thread.join(10)


def test_waiting_and_served_customers_who_close_the_tab_leave_after_the_grace_period(app, make_unit, make_user,
                                                                                      new_page, sweeping):
    library = make_unit()
    make_user("aino", (Role.CHAT_AGENT, library))
    with app.app_context():
        db.session.add(ChatQueue(unit_id=library, name="Neuvonta", is_open=True, waiting_message=""))
        db.session.commit()
    aino = agent_page(new_page, "aino", "Neuvonta")
    toni, sara = new_page(), new_page()
    join(toni, "Toni")
    join(sara, "Sara")
    aino.get_by_role("link", name="Neuvonta").click()
    aino.get_by_role("link", name="Toni").click()
    aino.get_by_role("button", name="Start text chat").click()
    confirm(aino)
    expect(toni.get_by_text("You are chatting with Aino.")).to_be_visible()

    # A reload changes nothing: once the page is back, the time it was away no longer counts,
    # however short the grace period is.
    sara.reload()
    expect(sara.get_by_text("You are next in the queue.")).to_be_visible()
    wait_until_live(sara)
    sweeping(2)
    aino.wait_for_timeout(3000)  # sweeps run meanwhile, past the grace period
    expect(aino.locator(".chat-customer", has_text="Sara")).to_contain_text("waiting")
    expect(aino.locator(".chat-new-customer")).to_be_visible()

    sara.close()
    expect(aino.locator(".chat-customer", has_text="Sara")).to_have_count(0)
    expect(aino.locator(".chat-queue-list .chat-count")).to_have_text("0 waiting")
    expect(aino.locator(".chat-new-customer")).to_be_hidden()

    toni.close()
    expect(aino.locator("#chat-view .chat-system").last).to_contain_text("The customer has left.")
    expect(aino.locator(".chat-head")).to_contain_text("ended")
    expect(aino.locator("#chat-body")).to_have_count(0)
    expect(aino.get_by_text("Email the transcript")).to_be_visible()  # the transcript stays the agent's to send
    expect(aino.locator("#chat-active")).not_to_contain_text("Toni")

    with app.app_context():
        states = dict(db.session.execute(select(Conversation.customer_name, Conversation.state)).all())
        assert states == {"Toni": ConversationState.ENDED, "Sara": ConversationState.ENDED}
        sara_row = db.session.scalar(select(Conversation).where(Conversation.customer_name == "Sara"))
        assert sara_row.served_at is None  # left before being served
