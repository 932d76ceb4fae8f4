"""Desktop notifications on the chat desk in Chromium: asked for by a button, shown for a new
customer only while the desk's tab is hidden, shown again while nobody serves them, and a click
brings the desk to that customer.

Headless Chromium shows no notification a test could see: the context grants the permission,
and an init script puts a recording stand-in for window.Notification (asking the real one for
the permission) and lets the test hide the tab (document.visibilityState, visibilitychange)."""
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from blueprints.accounts.models import User
from blueprints.chat import service as chat_service
from blueprints.chat.models import ChatQueue, Conversation, NotifyPreference
from common.access import Role
from extensions import db
from tests.browser.conftest import assert_accessible, log_in, wait_until_live

RECORDER = """
(() => {
  const Real = window.Notification;
  const notes = window.__notes = [];
  window.__focused = 0;
  window.focus = function () { window.__focused += 1; };
  class Recorded {
    constructor(title, options) {
      this.title = title; Object.assign(this, options || {}); this.closed = false; notes.push(this);
    }
    close() { this.closed = true; if (this.onclose) this.onclose(); }
    static get permission() { return Real ? Real.permission : "default"; }
    static requestPermission() { return Real ? Real.requestPermission() : Promise.resolve("denied"); }
  }
  window.Notification = Recorded;
  let state = "visible";
  Object.defineProperty(document, "visibilityState", { configurable: true, get: () => state });
  Object.defineProperty(document, "hidden", { configurable: true, get: () => state === "hidden" });
  window.__setVisibility = (s) => { state = s; document.dispatchEvent(new Event("visibilitychange")); };
})();
"""


@pytest.fixture
def escalate_soon(live_app):
    saved = live_app.config["CHAT_NOTIFY_ESCALATE_SECONDS"]
    live_app.config["CHAT_NOTIFY_ESCALATE_SECONDS"] = 2
    yield
    live_app.config["CHAT_NOTIFY_ESCALATE_SECONDS"] = saved


def a_library(app, make_unit, make_user):
    library = make_unit()
    aino = make_user("aino", (Role.CHAT_AGENT, library))
    with app.app_context():
        db.session.add(ChatQueue(unit_id=library, name="Neuvonta", is_open=True, waiting_message="Odota hetki."))
        db.session.commit()
    return aino


def desk_with_notifications(new_page):
    page = new_page()
    page.context.grant_permissions(["notifications"])
    page.context.add_init_script(RECORDER)
    log_in(page, "aino")
    page.goto("/chat/")
    page.get_by_label("Neuvonta", exact=False).check()
    page.get_by_label("Name customers see (optional)").fill("Aino K.")
    page.get_by_role("button", name="Log in to customer service").click()
    expect(page.get_by_text("Logged in as Aino K.")).to_be_visible()
    wait_until_live(page)
    return page


def joins(new_page, name):
    customer = new_page()
    customer.goto("/chat/customer/")
    customer.locator("#name").fill(name)
    customer.locator("form button[type=submit].primary").click()
    wait_until_live(customer)
    return customer


def notes(page, text):
    return page.evaluate("t => __notes.filter(n => n.title.includes(t)).map(n => ({title: n.title, tag: n.tag, "
                         "renotify: !!n.renotify}))", text)


def test_a_new_customer_is_notified_only_while_the_tab_is_hidden_again_until_served_and_a_click_opens_them(
        app, make_unit, make_user, new_page, escalate_soon):
    aino_id = a_library(app, make_unit, make_user)
    desk = desk_with_notifications(new_page)
    state = desk.locator("[data-chat-notify-state]")
    expect(state).to_have_text("Desktop notifications are off.")
    # Asked for only by the button; the choice is stored for the agent.
    desk.get_by_role("button", name="Enable desktop notifications").click()
    expect(state).to_have_text("Desktop notifications are on.")
    expect(desk.get_by_role("button", name="Turn desktop notifications off")).to_be_visible()
    with app.app_context():
        row = db.session.get(NotifyPreference, aino_id)
        assert (row.customers, row.messages) == (True, True)
    desk.get_by_text("When a notification shows").click()
    expect(desk.get_by_label("New customers in my queues")).to_be_checked()
    assert_accessible(desk)

    # The tab in view: the desk shows the customer, no notification.
    joins(new_page, "Toni")
    expect(desk.locator('[data-queue-count]')).to_have_text("1 waiting")
    assert desk.evaluate("__notes.length") == 0

    # The tab hidden: a notification for the new customer, tagged for them.
    desk.evaluate("__setVisibility('hidden')")
    joins(new_page, "Ulla")
    desk.wait_for_function("() => __notes.some(n => n.title === 'New customer in Neuvonta: Ulla')")
    first = notes(desk, "Ulla")[0]
    assert first["tag"].startswith("chat-customer-") and not first["renotify"]
    # Nobody picks Ulla up: announced again after the escalation time, replacing the first (same tag).
    desk.wait_for_function("() => __notes.some(n => n.title === 'Still waiting in Neuvonta: Ulla')")
    again = [n for n in notes(desk, "Ulla") if n["title"].startswith("Still waiting")][0]
    assert again["tag"] == first["tag"] and again["renotify"]

    # A click on it: the desk's window comes forward, on Ulla.
    desk.evaluate("() => __notes.filter(n => n.title.includes('Ulla')).pop().onclick()")
    expect(desk.locator("#chat-heading")).to_have_text("Ulla")
    assert desk.evaluate("__focused") >= 1
    assert "conversation=" in desk.url


def hidden_desk_announcing_ulla(new_page):
    """Aino's desk with notifications on, its tab hidden, once Ulla's joining is announced."""
    desk = desk_with_notifications(new_page)
    desk.get_by_role("button", name="Enable desktop notifications").click()
    expect(desk.locator("[data-chat-notify-state]")).to_have_text("Desktop notifications are on.")
    desk.evaluate("__setVisibility('hidden')")
    joins(new_page, "Ulla")
    desk.wait_for_function("() => __notes.some(n => n.title === 'New customer in Neuvonta: Ulla')")
    return desk


def test_a_served_customer_is_not_announced_again(app, make_unit, make_user, new_page, escalate_soon):
    a_library(app, make_unit, make_user)
    desk = hidden_desk_announcing_ulla(new_page)
    desk.get_by_role("link", name="Neuvonta").click()
    desk.locator(".chat-customer", has_text="Ulla").get_by_role("link", name="Ulla").click()
    desk.get_by_role("button", name="Start text chat").click()
    desk.locator("#confirm-dialog [data-confirm-answer=yes]").click()
    expect(desk.locator("#chat-body")).to_be_visible()
    # Served: the notification shown for her goes, and she is not announced again. Toni, who joins
    # after, is announced again after the escalation time, later than Ulla would have been.
    desk.wait_for_function("() => __notes.filter(n => n.title.includes('Ulla')).pop().closed")
    before = notes(desk, "Ulla")
    joins(new_page, "Toni")
    desk.wait_for_function("() => __notes.some(n => n.title === 'Still waiting in Neuvonta: Toni')")
    assert notes(desk, "Ulla") == before


def test_a_customer_released_to_the_queue_is_announced_as_waiting_again(app, make_unit, make_user, new_page,
                                                                       escalate_soon):
    a_library(app, make_unit, make_user)
    desk = hidden_desk_announcing_ulla(new_page)
    # Aino serves Ulla from another tab (the notification shown for her goes), then puts her back.
    with app.test_request_context():
        aino = db.session.scalar(select(User).where(User.username == "aino"))
        ulla = db.session.scalar(select(Conversation.id).where(Conversation.customer_name == "Ulla"))
        chat_service.claim(ulla, aino)
    desk.wait_for_function("() => __notes.filter(n => n.title.includes('Ulla')).pop().closed")
    with app.test_request_context():
        aino = db.session.scalar(select(User).where(User.username == "aino"))
        chat_service.release(db.session.get(Conversation, ulla), aino)
    desk.wait_for_function("() => __notes.some(n => n.title === 'Waiting again in Neuvonta: Ulla')")
    again = notes(desk, "Waiting again")[0]
    assert again["tag"] == f"chat-customer-{ulla}" and again["renotify"]
    # And, nobody picking her up, again after the escalation time.
    desk.wait_for_function("() => __notes.some(n => n.title === 'Still waiting in Neuvonta: Ulla')")


def test_a_customers_new_line_in_my_chat_is_notified_while_hidden_and_my_own_is_not(
        app, make_unit, make_user, new_page):
    a_library(app, make_unit, make_user)
    desk = desk_with_notifications(new_page)
    desk.get_by_role("button", name="Enable desktop notifications").click()
    expect(desk.locator("[data-chat-notify-state]")).to_have_text("Desktop notifications are on.")
    toni = joins(new_page, "Toni")
    desk.get_by_role("link", name="Neuvonta").click()
    desk.locator(".chat-customer", has_text="Toni").get_by_role("link", name="Toni").click()
    desk.get_by_role("button", name="Start text chat").click()
    desk.locator("#confirm-dialog [data-confirm-answer=yes]").click()
    expect(desk.locator("#chat-body")).to_be_visible()
    expect(toni.locator("#chat-body")).to_be_visible()

    toni.locator("#chat-body").fill("Näkyykö tämä?")
    toni.locator("#chat-body").press("Enter")
    expect(desk.locator(".chat-line-customer")).to_contain_text("Näkyykö tämä?")
    assert notes(desk, "New message") == []  # the tab in view

    desk.evaluate("__setVisibility('hidden')")
    toni.locator("#chat-body").fill("Miten uusin lainani?")
    toni.locator("#chat-body").press("Enter")
    desk.wait_for_function("() => __notes.some(n => n.title === 'New message from Toni')")
    [shown] = notes(desk, "New message")
    assert shown["tag"].startswith("chat-line-")

    desk.locator("#chat-body").fill("Kirjaudu verkkokirjastoon.")
    desk.locator("#chat-body").press("Enter")
    expect(toni.locator(".chat-line-agent")).to_contain_text("Kirjaudu verkkokirjastoon.")
    expect(desk.locator(".chat-line-agent")).to_contain_text("Kirjaudu verkkokirjastoon.")
    toni.locator("#chat-body").fill("Kiitos!")
    toni.locator("#chat-body").press("Enter")
    desk.wait_for_function("() => __notes.filter(n => n.title === 'New message from Toni').length === 2")
    assert len(notes(desk, "New message")) == 2  # the agent's own line was not one
