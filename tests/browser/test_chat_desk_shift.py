"""The desk for an eight-hour shift: a long line fits on a laptop screen, one line a customer, each
column scrolling on its own; the waits grow in the page without a request; the actions the service's
guide confirms are asked in the page's own dialog, never the browser's."""
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from blueprints.chat.models import ChatMessage, ChatQueue, Conversation, ConversationState, Sender
from common.access import Role
from common.clock import utcnow
from extensions import db
from tests.browser.conftest import assert_accessible, log_in, wait_until_live

LAPTOP = {"width": 1366, "height": 768}
DESKTOP = {"width": 1600, "height": 1000}

# Where each row of the queue's list is, against its list, the window and one line of text.
GEOMETRY = """() => {
  const list = document.querySelector(".chat-customers");
  const box = list.getBoundingClientRect();
  const name = list.querySelector(".chat-customer a");
  const style = getComputedStyle(name);
  const line = parseFloat(style.lineHeight) || 1.2 * parseFloat(style.fontSize);
  return {
    top: Math.max(box.top, 0), bottom: Math.min(box.bottom, innerHeight), line: line,
    rows: Array.from(list.querySelectorAll(":scope > .chat-customer"), row => {
      const r = row.getBoundingClientRect();
      return [r.top, r.bottom];
    }),
    page: document.scrollingElement.scrollHeight, window: innerHeight,
  };
}"""


def waiting_line(app, make_unit, make_user, count=50, served=0):
    """A queue where `count` customers wait, the first for 49 min 40 s, and `served` more are
    Aino's, each with a line she has not answered; returns the joining times of the waiting."""
    library = make_unit()
    aino = make_user("aino", (Role.CHAT_AGENT, library))
    now = utcnow()
    joined = [now - timedelta(minutes=49 - n, seconds=40) for n in range(count)]
    with app.app_context():
        queue = ChatQueue(unit_id=library, name="Neuvonta", is_open=True)
        db.session.add(queue)
        db.session.flush()
        db.session.add_all(Conversation(queue_id=queue.id, token=f"shift-{library}-{n}",
                                        customer_name=f"Customer {n:02d}", joined_at=at) for n, at in enumerate(joined))
        for n in range(served):
            chat = Conversation(queue_id=queue.id, token=f"shift-{library}-served-{n}",
                                customer_name=f"Served {n:02d}", joined_at=now - timedelta(minutes=90),
                                state=ConversationState.SERVED, agent_id=aino, agent_name="Aino",
                                served_at=now - timedelta(minutes=60 - n), unread_by_agent=n % 3 == 0)
            db.session.add_all([chat, ChatMessage(conversation=chat, sender=Sender.CUSTOMER, sent_at=now,
                                                  body="Hei! Miten saan uusittua lainani verkossa?")])
        db.session.commit()
    return joined


def desk(new_page, viewport=LAPTOP, fake_clock=False):
    """Aino's desk showing the queue Neuvonta; every native dialog the page opens is kept in .native_dialogs."""
    page = new_page(viewport=viewport)
    page.native_dialogs = []
    page.on("dialog", lambda dialog: (page.native_dialogs.append(dialog.message), dialog.dismiss()))
    if fake_clock:
        page.clock.install()  # time flows as usual until the test moves it on
    log_in(page, "aino")
    page.goto("/chat/")
    page.get_by_label("Neuvonta", exact=False).check()
    page.get_by_role("button", name="Log in to customer service").click()
    expect(page.get_by_text("Logged in as Aino")).to_be_visible()
    wait_until_live(page)
    page.locator(".chat-queue-list").get_by_role("link", name="Neuvonta").click()
    expect(page.locator("#customers-heading")).to_have_text("Neuvonta")
    return page


# Each column scrolled to its end: does the window stay, and does the column show its last part?
COLUMNS_SCROLLED = """() => Array.from(document.querySelectorAll(".chat-col"), col => {
  col.scrollTop = col.scrollHeight;
  const box = col.getBoundingClientRect();
  const last = col.lastElementChild.getBoundingClientRect();
  return {column: col.className, windowY: scrollY, inWindow: box.bottom <= innerHeight + 1,
          endShown: last.bottom <= box.bottom + 1, overflows: col.scrollHeight > col.clientHeight};
})"""


@pytest.mark.parametrize("viewport", [LAPTOP, DESKTOP], ids=["1366x768", "1600x1000"])
def test_twenty_waiting_customers_show_one_line_each_and_only_the_columns_scroll(app, make_unit, make_user, new_page,
                                                                                 viewport):
    waiting_line(app, make_unit, make_user, served=12)
    aino = desk(new_page, viewport)
    rows = aino.locator(".chat-customers > .chat-customer")
    expect(rows).to_have_count(25)  # the first page of the list
    at = aino.evaluate(GEOMETRY)
    shown = [row for row in at["rows"] if row[0] >= at["top"] and row[1] <= at["bottom"]]
    assert len(shown) >= 20, at
    assert all(bottom - top < 1.6 * at["line"] for top, bottom in at["rows"]), at  # one line each
    assert at["page"] <= at["window"], at  # the page itself does not scroll

    # A screen reader hears name, state and wait; the joining time is the name's title.
    first = rows.first
    expect(first).to_contain_text("Customer 00")
    expect(first).to_contain_text("waiting")
    expect(first.locator("[data-waited-since]")).to_have_text(re.compile(r"^(49|5\d) min$"))
    expect(first.get_by_role("link", name="Customer 00")).to_have_attribute("title", re.compile(r"^joined "))

    # The list scrolls on its own to its last row; the window stays where it was.
    aino.locator(".chat-customers").evaluate("list => { list.scrollTop = list.scrollHeight; }")
    expect(rows.last).to_be_in_viewport(ratio=1)
    assert aino.evaluate("window.scrollY") == 0

    # Every column, with twelve chats of Aino's in the last, scrolls on its own to its end and
    # stays inside the window; at least the active list needs to on the laptop.
    expect(aino.locator("#chat-active .chat-active-item")).to_have_count(12)
    columns = aino.evaluate(COLUMNS_SCROLLED)
    assert all(c["windowY"] == 0 and c["inWindow"] and c["endShown"] for c in columns), columns
    if viewport == LAPTOP:
        assert next(c for c in columns if "chat-col-active" in c["column"])["overflows"], columns
    assert_accessible(aino)
    assert aino.native_dialogs == []


def test_the_waits_grow_with_the_clock_without_a_request(app, make_unit, make_user, new_page):
    waiting_line(app, make_unit, make_user)
    aino = desk(new_page, fake_clock=True)
    wait = aino.locator(".chat-customers > .chat-customer").first.locator("[data-waited-since]")
    expect(wait).to_have_text(re.compile(r"^\d+ min$"))
    before = int(wait.inner_text().split()[0])
    # The list may not read itself again meanwhile (a drop of the socket would, as two minutes of
    # fake time outrun its ping): only the page's own clock can move its minutes.
    aino.route("**/chat/partials/customers**", lambda route: route.abort())

    aino.clock.run_for(120_000)

    expect(wait).not_to_have_text(f"{before} min")
    after = int(wait.inner_text().split()[0])
    # Two minutes on, the waits are written every 30 s: at most half a minute behind the page's
    # clock, which now runs two minutes ahead of the server's.
    elapsed = wait.evaluate("wait => Date.now() - Date.parse(wait.dataset.waitedSince)")
    assert after in (elapsed // 60_000, (elapsed - 30_000) // 60_000), (after, elapsed)
    assert after >= before + 1
    assert aino.native_dialogs == []


def test_releasing_is_confirmed_in_the_page_escape_cancels_and_ending_is_not_asked(app, make_unit, make_user,
                                                                                   new_page):
    waiting_line(app, make_unit, make_user, count=1)
    aino = desk(new_page)
    posted = []
    aino.on("request", lambda request: posted.append(request.url) if request.method == "POST" else None)
    aino.locator(".chat-customer").get_by_role("link", name="Customer 00").click()
    dialog = aino.get_by_role("dialog")
    yes = dialog.get_by_role("button", name="Yes")

    # Starting a text chat: the guide asks; the default button has the focus, Enter confirms.
    aino.get_by_role("button", name="Start text chat").click()
    expect(dialog).to_have_text(re.compile(r"Start a text chat with Customer 00\?\s*Yes\s*No"))
    expect(yes).to_be_focused()
    assert_accessible(aino)
    aino.keyboard.press("Enter")
    expect(aino.locator(".chat-head")).to_contain_text("Agent: Aino")
    expect(dialog).to_be_hidden()

    # Releasing: Escape cancels, nothing is sent, and the focus is back on the button that asked.
    release = aino.get_by_role("button", name="Release to queue")
    release.click()
    expect(dialog).to_contain_text("Release Customer 00 back to the queue?")
    expect(yes).to_be_focused()
    sent = len(posted)
    aino.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(release).to_be_focused()
    assert len(posted) == sent and not any("/release" in url for url in posted)
    expect(aino.locator(".chat-head")).to_contain_text("Agent: Aino")

    # Asked again, Enter releases the customer.
    release.click()
    expect(yes).to_be_focused()
    aino.keyboard.press("Enter")
    expect(aino.locator(".chat-head")).to_contain_text("waiting")
    assert sum("/release" in url for url in posted) == 1

    # Ending a chat is not asked (the guide does not): it ends at once.
    aino.get_by_role("button", name="Start text chat").click()
    yes.click()
    expect(aino.locator(".chat-head")).to_contain_text("Agent: Aino")
    aino.get_by_role("button", name="End chat").click()
    expect(aino.locator(".chat-head")).to_contain_text("ended")
    expect(dialog).to_be_hidden()
    assert aino.native_dialogs == []
