"""The desk by keyboard alone, on a 1366×768 laptop: a key for each daily action, a help dialog
("?") in the page's language, no key taken from someone typing, and after every action the focus
where the agent works next, as the focus table of blueprints/chat/README.md names it."""
from datetime import timedelta

from playwright.sync_api import expect

from blueprints.chat.models import ChatMessage, ChatQueue, Conversation, ConversationState, Sender
from common.access import Role
from common.clock import utcnow
from extensions import db
from tests.browser.conftest import assert_accessible, log_in, wait_until_live

LAPTOP = {"width": 1366, "height": 768}


def shift(app, make_unit, make_user, language="en"):
    """Aino's queue Neuvonta with four customers waiting and one of hers with a line she has not
    read; a closed queue to transfer to; her colleague Erja."""
    library = make_unit()
    aino = make_user("aino", (Role.CHAT_AGENT, library), language=language)
    make_user("erja", (Role.CHAT_AGENT, library))
    now = utcnow()
    with app.app_context():
        queue = ChatQueue(unit_id=library, name="Neuvonta", is_open=True)
        db.session.add_all([queue, ChatQueue(unit_id=library, name="Tietokoneopastus", is_open=False)])
        db.session.flush()
        db.session.add_all(Conversation(queue_id=queue.id, token=f"keys-{library}-{n}", customer_name=f"Customer {n}",
                                        joined_at=now - timedelta(minutes=10 - n)) for n in range(4))
        ulla = Conversation(queue_id=queue.id, token=f"keys-{library}-ulla", customer_name="Ulla",
                            joined_at=now - timedelta(minutes=30), state=ConversationState.SERVED, agent_id=aino,
                            agent_name="Aino", served_at=now - timedelta(minutes=20), unread_by_agent=True)
        db.session.add_all([ulla, ChatMessage(conversation=ulla, sender=Sender.CUSTOMER, body="Vieläkö olet siellä?",
                                              sent_at=now - timedelta(minutes=1))])
        db.session.commit()


def desk(new_page):
    """Aino logged in to customer service for Neuvonta, the queue open, on a laptop's screen."""
    page = new_page(viewport=LAPTOP)
    log_in(page, "aino")
    page.goto("/chat/")
    page.locator("form[action$='/chat/service/login'] input[type=checkbox]").first.check()
    page.locator("form[action$='/chat/service/login'] button[type=submit]").click()
    wait_until_live(page)
    # Logged in: the focus on the first queue; Enter opens it, the focus on its customers.
    expect(page.locator(".chat-queue-list a").first).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#customers-heading")).to_have_text("Neuvonta")
    expect(page.locator("#customers-heading")).to_be_focused()
    return page


def key(page, name):
    """Press a key once htmx has settled what it swapped in last."""
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')")
    page.keyboard.press(name)


def tab_to(page, name, back=False):
    """Tab (or Shift+Tab) until the focus is on the control of that name."""
    for _ in range(40):
        if page.evaluate("() => (document.activeElement.textContent || '').trim()") == name:
            return
        page.keyboard.press("Shift+Tab" if back else "Tab")
    raise AssertionError(f"{name} not reached by Tab")


def confirm_by_keyboard(page):
    """The page's own dialog asks; its default button has the focus and Enter says Yes."""
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-confirm-answer=yes]")).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()


def test_the_focus_table_walked_by_keyboard_alone(app, make_unit, make_user, new_page):
    shift(app, make_unit, make_user)
    aino = desk(new_page)
    heading = aino.locator("#chat-heading")
    customers = aino.locator("#customers-heading")
    box = aino.locator("#chat-body")
    posted = []
    aino.on("request", lambda request: posted.append(request.url) if request.method == "POST" else None)

    # Next waiting customer (n): the longest waiting one's chat, to read.
    key(aino, "n")
    expect(heading).to_have_text("Customer 0")
    expect(heading).to_be_focused()

    # Start text chat (t), asked in the page: the message box.
    key(aino, "t")
    confirm_by_keyboard(aino)
    expect(aino.locator(".chat-head")).to_contain_text("Agent: Aino")
    expect(box).to_be_focused()

    # Send: the box again, empty for the next line.
    aino.keyboard.type("Hei!")
    aino.keyboard.press("Enter")
    expect(aino.locator(".chat-line-agent", has_text="Hei!")).to_have_count(1)
    expect(box).to_be_focused()
    expect(box).to_have_value("")

    # Escape leaves the box for the chat's heading; start video chat (v): the message box.
    aino.keyboard.press("Escape")
    expect(heading).to_be_focused()
    key(aino, "v")
    confirm_by_keyboard(aino)
    expect(aino.locator("[data-video-status]")).to_have_text("Waiting for the customer to accept the video chat…")
    expect(box).to_be_focused()

    # End video chat (its button, by Tab): the message box.
    aino.keyboard.press("Escape")
    tab_to(aino, "End video chat", back=True)
    aino.keyboard.press("Enter")
    expect(aino.locator("[data-video-status]")).to_have_text("The video chat has ended.")
    expect(box).to_be_focused()

    # Release (r), asked: the queue's customers, where the next one is picked.
    aino.keyboard.press("Escape")
    key(aino, "r")
    confirm_by_keyboard(aino)
    expect(aino.locator(".chat-head")).to_contain_text("waiting")
    expect(customers).to_be_focused()

    # Remove from queue (its button, by Tab), asked: the queue's customers.
    key(aino, "n")
    expect(heading).to_have_text("Customer 1")  # the one after the customer open
    expect(heading).to_be_focused()
    tab_to(aino, "Remove from queue")
    aino.keyboard.press("Enter")
    confirm_by_keyboard(aino)
    expect(aino.locator(".chat-head")).to_contain_text("removed")
    expect(customers).to_be_focused()

    # Transfer (f): the form's first field; sent: the queue's customers.
    key(aino, "n")
    expect(heading).to_be_focused()
    served = heading.inner_text()
    key(aino, "t")
    confirm_by_keyboard(aino)
    expect(box).to_be_focused()
    aino.keyboard.press("Escape")
    key(aino, "f")
    target = aino.get_by_label("Target queue")
    expect(target).to_be_focused()
    aino.keyboard.press("ArrowDown")
    expect(target).to_have_value(str(aino.evaluate(
        "() => document.querySelector('#transfer-target option:nth-child(2)').value")))
    tab_to(aino, "Transfer")
    aino.keyboard.press("Enter")
    expect(aino.locator(".chat-queue-chain")).to_have_text("Queues: Neuvonta → Tietokoneopastus")
    expect(customers).to_be_focused()
    expect(aino.locator("#chat-active")).not_to_contain_text(served)

    # End chat (e): its key asks first; the queue's customers.
    key(aino, "n")
    expect(heading).to_be_focused()
    key(aino, "t")
    confirm_by_keyboard(aino)
    expect(box).to_be_focused()
    aino.keyboard.press("Escape")
    key(aino, "e")
    confirm_by_keyboard(aino)
    expect(aino.locator(".chat-head")).to_contain_text("ended")
    expect(customers).to_be_focused()

    # Next chat with new messages (u): Ulla's, at its message box.
    key(aino, "u")
    expect(heading).to_have_text("Ulla")
    expect(box).to_be_focused()

    # The colleagues (i): their list; a colleague opened: our chat's message box.
    aino.keyboard.press("Escape")
    key(aino, "i")
    expect(aino.locator("#colleagues-heading")).to_be_focused()
    tab_to(aino, "Erja")
    aino.keyboard.press("Enter")
    expect(aino.locator("#chat-heading")).to_have_text("Erja")
    expect(box).to_be_focused()
    aino.keyboard.type("Otatko seuraavan?")
    aino.keyboard.press("Enter")
    expect(aino.locator("#internal-lines .chat-line", has_text="Otatko seuraavan?")).to_have_count(1)
    expect(box).to_be_focused()


def test_the_help_opens_with_a_question_mark_in_the_page_language_and_axe_finds_nothing(app, make_unit, make_user,
                                                                                        new_page):
    shift(app, make_unit, make_user, language="fi")
    aino = desk(new_page)
    aino.locator(".chat-customer-name").first.focus()
    opener = aino.locator(".chat-customer-name").first
    assert_accessible(aino)

    key(aino, "?")
    dialog = aino.get_by_role("dialog", name="Pikanäppäimet")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Avaa seuraava jonottava asiakas")
    expect(dialog.get_by_role("button", name="Sulje")).to_be_focused()
    # Named by its heading and described by its introduction: what a screen reader says on opening.
    assert dialog.get_attribute("aria-describedby") == "desk-keys-intro"
    assert_accessible(aino)
    # No key acts behind the open dialog; Escape closes it and the focus goes back where it was.
    asked = []
    aino.on("request", lambda request: asked.append(request.url))
    aino.keyboard.press("n")
    aino.evaluate("() => new Promise(requestAnimationFrame)")
    assert not [url for url in asked if "conversation=" in url], asked
    aino.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()
    assert_accessible(aino)

    # The button at the foot of the first column opens it too; "?" closes it again.
    aino.get_by_role("button", name="Pikanäppäimet").click()
    expect(dialog).to_be_visible()
    aino.keyboard.press("?")
    expect(dialog).to_be_hidden()


def test_no_key_acts_while_typing_and_a_key_with_nothing_to_do_says_so(app, make_unit, make_user, new_page):
    shift(app, make_unit, make_user)
    aino = desk(new_page)
    posted = []
    aino.on("request", lambda request: posted.append(request.url) if request.method == "POST" else None)
    key(aino, "u")
    box = aino.locator("#chat-body")
    expect(box).to_be_focused()
    address = aino.url

    # Every key of the desk typed into the message box stays text in it.
    aino.keyboard.type("nutvmrefi?")
    expect(box).to_have_value("nutvmrefi?")
    expect(aino.locator("dialog[open]")).to_have_count(0)
    assert aino.url == address and posted == []

    # Nothing to release or transfer for a customer nobody serves: said, nothing sent.
    aino.locator(".chat-queue-list a").first.focus()
    aino.keyboard.press("Enter")
    expect(aino.locator("#customers-heading")).to_be_focused()
    key(aino, "r")
    expect(aino.locator("#chat-announcer")).to_have_text("Release the customer to the queue: not possible here.")
    assert posted == []
    # Alt, Ctrl and Meta keys are the browser's.
    key(aino, "Alt+n")
    key(aino, "Control+n")
    expect(aino.locator("#chat-heading")).to_have_text("Chat")

    # Beside the colleagues, no line is shown: n opens the first of my queues where someone
    # waits, and its longest waiting customer.
    key(aino, "i")
    expect(aino.locator("#colleagues-heading")).to_be_focused()
    key(aino, "n")
    expect(aino.locator("#chat-heading")).to_have_text("Customer 0")
    expect(aino.locator("#chat-heading")).to_be_focused()
    assert posted == []
