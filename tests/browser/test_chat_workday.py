"""The desk an agent works at all day: focus where the next step is, sound that stays as chosen,
a long chat readable by keyboard."""
from playwright.sync_api import expect

from blueprints.chat.models import ChatQueue
from common.access import Role
from extensions import db
from tests.browser.conftest import assert_accessible, confirm, log_in, wait_until_live
from tests.browser.test_live_regions import served_chat


def test_focus_goes_where_the_agent_works_next(app, make_unit, make_user, new_page):
    library = make_unit()
    make_user("aino", (Role.CHAT_AGENT, library))
    with app.app_context():
        db.session.add(ChatQueue(unit_id=library, name="Neuvonta", is_open=True))
        db.session.commit()
    toni = new_page()
    toni.goto("/chat/customer/")
    toni.get_by_label("Your name").fill("Toni")
    toni.get_by_role("button", name="Join the queue").click()

    aino = new_page()
    log_in(aino, "aino")
    aino.goto("/chat/")
    aino.get_by_label("Neuvonta", exact=False).check()
    aino.get_by_role("button", name="Log in to customer service").click()
    expect(aino.get_by_role("link", name="Neuvonta")).to_be_focused()  # the queue list
    wait_until_live(aino)
    aino.keyboard.press("Enter")  # opens the queue
    expect(aino.locator("#customers-heading")).to_be_focused()
    aino.locator(".chat-customer").get_by_role("link", name="Toni").click()
    expect(aino.locator("#chat-heading")).to_be_focused()  # a waiting customer: the chat to read
    aino.get_by_role("button", name="Start text chat").click()
    confirm(aino)
    box = aino.locator("#chat-body")
    expect(box).to_be_focused()  # served: the message box
    box.press_sequentially("Hei!")
    box.press("Enter")
    expect(toni.locator(".chat-line-agent", has_text="Hei!")).to_have_count(1)
    expect(box).to_be_focused()
    # Away to the queue's list and back to my chat from the active conversations: the message box.
    aino.locator(".chat-queue-list").get_by_role("link", name="Neuvonta").click()
    expect(aino.locator("#customers-heading")).to_be_focused()
    aino.locator(".chat-active").get_by_role("link", name="Toni").click()
    expect(box).to_be_focused()


def test_the_sound_choice_survives_a_reload_and_is_said_in_words(app, make_unit, make_user, new_page):
    aino, toni, _ = served_chat(app, make_unit, make_user, new_page)
    state = aino.locator("[data-chat-sound-state]")
    expect(state).to_have_text("Sound is off.")
    aino.get_by_role("button", name="Enable sound").click()
    expect(state).to_have_text("Sound is on.")
    expect(aino.get_by_role("button", name="Enable sound")).to_be_hidden()
    aino.get_by_text("When a sound plays").click()  # which sounds: behind a disclosure, the bar stays small
    aino.get_by_label("New lines in my other chats").uncheck()
    aino.reload()
    expect(state).to_have_text("Sound is on.")
    expect(aino.get_by_role("button", name="Enable sound")).to_be_hidden()
    expect(aino.get_by_label("New lines in my other chats")).not_to_be_checked()
    expect(aino.get_by_label("New customers", exact=True)).to_be_checked()  # the sound's, not the notification's
    aino.get_by_role("button", name="Turn sound off").click()
    expect(state).to_have_text("Sound is off.")
    expect(aino.get_by_role("button", name="Enable sound")).to_be_visible()


def test_a_new_line_in_a_chat_not_in_view_beeps_and_counts_in_the_title(app, make_unit, make_user, new_page):
    aino, toni, _ = served_chat(app, make_unit, make_user, new_page)
    sara = new_page()
    sara.goto("/chat/customer/")
    sara.get_by_label("Your name").fill("Sara")
    sara.get_by_role("button", name="Join the queue").click()
    wait_until_live(sara)
    aino.locator(".chat-customer").get_by_role("link", name="Sara").click()
    aino.get_by_role("button", name="Start text chat").click()
    confirm(aino)
    expect(sara.get_by_text("You are chatting with Aino.")).to_be_visible()
    aino.get_by_role("button", name="Enable sound").click()
    beeps = int(aino.evaluate("document.body.dataset.chatBeeps"))
    toni.locator("#chat-body").fill("Vielä yksi kysymys")  # Toni's chat is not the one in view
    toni.locator("#chat-body").press("Enter")
    toni_item = aino.locator(".chat-active-item", has_text="Toni")
    expect(toni_item).to_contain_text("New messages!")
    expect(toni_item.locator(".chat-preview")).to_contain_text("Vielä yksi kysymys")
    expect(aino).to_have_title("(1) Chat queue")
    assert int(aino.evaluate("document.body.dataset.chatBeeps")) == beeps + 1
    # Toni waits for an answer, Sara does not: Toni is first.
    expect(aino.locator(".chat-active-item").first).to_contain_text("Toni")


def test_a_long_chat_is_readable_by_keyboard_and_passes_axe(app, make_unit, make_user, new_page):
    aino, toni, _ = served_chat(app, make_unit, make_user, new_page)
    for n in range(25):
        toni.locator("#chat-body").fill(f"Rivi {n} " + "sanoja " * 12)
        toni.locator("#chat-body").press("Enter")
    expect(aino.locator(".chat-line-customer", has_text="Rivi 24")).to_have_count(1)
    lines = aino.locator(".chat-messages")
    assert lines.evaluate("list => list.scrollHeight > list.clientHeight")
    lines.focus()
    expect(lines).to_be_focused()
    assert_accessible(aino)
    assert_accessible(toni)
