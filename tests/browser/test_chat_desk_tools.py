"""The desk's instruments in real browsers: a canned reply chosen by keyboard alone, put in the
message box in the customer's language and edited before sending (in the internal chat too); an
internal note that the customer's page never shows and the transcript mail leaves out."""
from playwright.sync_api import expect
from sqlalchemy import func, select

from blueprints.chat.models import CannedReply, CannedReplyUse, ChatQueue
from common.access import Role
from extensions import db
from tests.browser.conftest import assert_accessible, confirm, log_in, wait_until_live
from tests.browser.test_chat_transfer import settled

NOTE = "Asiakas soitti eilen samasta asiasta."


def a_library_with_replies(app, make_unit, make_user):
    library = make_unit()
    make_user("aino", (Role.CHAT_AGENT, library))
    make_user("erja", (Role.CHAT_AGENT, library))
    with app.app_context():
        queue = ChatQueue(unit_id=library, name="Neuvonta", is_open=True, waiting_message="Odota hetki.")
        db.session.add(queue)
        db.session.flush()
        db.session.add_all([
            CannedReply(queue_id=queue.id, name="Aukioloajat",
                        text_fi="Hei {customer}! Kirjasto on auki 9-20. T. {agent}",
                        text_sv="Hej {customer}! Biblioteket är öppet 9-20. Hälsningar {agent}"),
            CannedReply(queue_id=queue.id, name="Lainojen uusiminen",
                        text_fi="Uusit lainat kohdassa Omat tiedot.", text_sv="Du förnyar lån under Mina uppgifter."),
        ])
        db.session.commit()


def agent_desk(new_page, username, name):
    page = new_page()
    log_in(page, username)
    page.goto("/chat/")
    page.get_by_label("Neuvonta", exact=False).check()
    page.get_by_label("Name customers see (optional)").fill(name)
    page.get_by_role("button", name="Log in to customer service").click()
    expect(page.get_by_text(f"Logged in as {name}")).to_be_visible()
    wait_until_live(page)
    return page


def served_customer(new_page, agent, locale="sv"):
    """Toni joins on a page in `locale` and `agent` serves him: the customer's page."""
    customer = new_page(locale=locale)
    customer.goto("/chat/customer/")
    customer.locator("#name").fill("Toni")
    customer.locator("form button[type=submit].primary").click()
    wait_until_live(customer)
    agent.get_by_role("link", name="Neuvonta").click()
    agent.locator(".chat-customer", has_text="Toni").get_by_role("link", name="Toni").click()
    expect(agent.locator("#chat-heading")).to_have_text("Toni")
    settled(agent)
    agent.get_by_role("button", name="Start text chat").click()
    confirm(agent)
    expect(agent.locator("#chat-body")).to_be_visible()
    settled(agent)
    return customer


def test_a_canned_reply_is_chosen_by_keyboard_and_edited_before_sending(app, make_unit, make_user, new_page):
    a_library_with_replies(app, make_unit, make_user)
    aino = agent_desk(new_page, "aino", "Aino K.")
    customer = served_customer(new_page, aino, locale="sv")

    box = aino.locator("#chat-body")
    box.focus()
    aino.keyboard.type("/")
    search = aino.get_by_role("combobox", name="Canned reply")
    replies = aino.get_by_role("listbox", name="Canned replies")
    expect(search).to_be_focused()
    expect(replies.get_by_role("option")).to_have_count(2)
    aino.keyboard.type("uusi")  # filtered as typed
    expect(replies.get_by_role("option")).to_have_count(1)
    aino.keyboard.press("Backspace")
    aino.keyboard.press("Backspace")
    aino.keyboard.press("Backspace")
    aino.keyboard.press("Backspace")
    expect(replies.get_by_role("option")).to_have_count(2)
    assert_accessible(aino)
    aino.keyboard.press("ArrowDown")  # the first is active on opening: the second now
    second = replies.get_by_role("option", name="Lainojen uusiminen")
    expect(second).to_have_attribute("aria-selected", "true")
    expect(search).to_have_attribute("aria-activedescendant", second.get_attribute("id"))
    aino.keyboard.press("ArrowUp")
    expect(replies.get_by_role("option", name="Aukioloajat")).to_have_attribute("aria-selected", "true")
    aino.keyboard.press("Enter")

    # In the box, in Toni's Swedish, placeholders filled; nothing sent yet.
    expect(box).to_be_focused()
    expect(box).to_have_value("Hej Toni! Biblioteket är öppet 9-20. Hälsningar Aino K.")
    expect(search).to_be_hidden()
    expect(customer.locator(".chat-line-agent")).to_have_count(0)
    aino.keyboard.type(" Välkommen!")
    aino.keyboard.press("Enter")
    expect(customer.locator(".chat-line-agent")).to_contain_text(
        "Hej Toni! Biblioteket är öppet 9-20. Hälsningar Aino K. Välkommen!")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CannedReplyUse)) == 1

    # Escape closes the list without putting anything in the box.
    aino.keyboard.type("/")
    expect(search).to_be_focused()
    aino.keyboard.press("Escape")
    expect(search).to_be_hidden()
    expect(box).to_be_focused()
    expect(box).to_have_value("")

    # In the internal chat too, where there is no customer to name.
    aino.get_by_role("link", name="Internal chat").click()
    aino.locator(".chat-colleague", has_text="Erja").get_by_role("button", name="Erja").click()
    expect(aino.get_by_role("heading", name="Erja")).to_be_visible()
    internal_box = aino.locator("#chat-body")
    internal_box.focus()
    aino.keyboard.type("/")
    replies = aino.get_by_role("listbox", name="Canned replies")
    aino.keyboard.type("auki")
    expect(replies.get_by_role("option")).to_have_count(1)
    aino.keyboard.press("Enter")
    expect(internal_box).to_have_value("Hei {customer}! Kirjasto on auki 9-20. T. Aino K.")
    assert_accessible(aino)


def test_a_note_shows_on_the_desks_and_never_to_the_customer_nor_in_the_transcript(app, make_unit, make_user,
                                                                                   new_page, live_smtp_server):
    a_library_with_replies(app, make_unit, make_user)
    aino = agent_desk(new_page, "aino", "Aino")
    customer = served_customer(new_page, aino, locale="en")
    aino.locator("#chat-body").fill("Hello Toni!")
    aino.locator("#chat-body").press("Enter")
    expect(customer.locator(".chat-line-agent")).to_contain_text("Hello Toni!")

    # Erja, a colleague reading the chat, adds a note by keyboard; both desks show it at once.
    erja = new_page()
    log_in(erja, "erja")
    erja.goto(aino.url)
    wait_until_live(erja)
    expect(erja.locator("#chat-heading")).to_have_text("Toni")
    settled(erja)
    erja.get_by_text("Add an internal note").click()
    erja.get_by_label("Internal note", exact=True).fill(NOTE)
    erja.get_by_role("button", name="Add note").press("Enter")
    expect(erja.get_by_role("status").filter(has_text="The note has been added.")).to_be_visible()
    for desk in (erja, aino):
        note = desk.locator(".chat-line-note")
        expect(note).to_contain_text(NOTE)
        expect(note).to_contain_text("Internal note")
        expect(note).to_contain_text("Erja")
    assert_accessible(erja)

    # The customer's page: the agent's next line comes, the note never does.
    aino.locator("#chat-body").fill("One moment.")
    aino.locator("#chat-body").press("Enter")
    expect(customer.locator(".chat-line-agent").last).to_contain_text("One moment.")
    customer.reload()
    wait_until_live(customer)
    expect(customer.locator(".chat-line-agent").last).to_contain_text("One moment.")
    expect(customer.locator(".chat-messages")).not_to_contain_text(NOTE)
    expect(customer.locator("body")).not_to_contain_text("Internal note")
    assert_accessible(customer)

    # The transcript mail leaves it out.
    aino.get_by_text("Email the transcript").click()
    aino.get_by_label("Customer's email address").fill("toni@example.org")
    aino.get_by_label("Language of the email").select_option("en")
    aino.get_by_role("button", name="Send the transcript").click()
    body = live_smtp_server.wait_for(1)[0].get_content()
    assert "Hello Toni!" in body and "One moment." in body
    assert NOTE not in body and "Internal note" not in body


def test_the_typing_indicator_appears_and_goes_on_both_sides(app, make_unit, make_user, new_page):
    a_library_with_replies(app, make_unit, make_user)
    aino = agent_desk(new_page, "aino", "Aino")
    customer = served_customer(new_page, aino, locale="en")
    on_desk = aino.locator("#chat-view .chat-typing")
    in_active_list = aino.locator("#chat-active .chat-active-item", has_text="Toni").locator(".chat-typing")
    on_customer_page = customer.locator(".customer-chat .chat-typing")

    # The customer types: the chat in view and the active list say so; sending ends it.
    customer.locator("#chat-body").press_sequentially("Hello, is th")
    expect(on_desk).to_have_text("The customer is typing…")
    expect(in_active_list).to_have_text("The customer is typing…")
    customer.locator("#chat-body").press_sequentially("ere anyone?")
    customer.locator("#chat-body").press("Enter")
    expect(aino.locator(".chat-line-customer").last).to_contain_text("Hello, is there anyone?")
    expect(on_desk).to_have_text("")
    expect(in_active_list).to_have_text("")
    assert_accessible(aino)

    # The librarian types: the customer's page says so; emptying the box ends it.
    aino.locator("#chat-body").press_sequentially("Yes, I am he")
    expect(on_customer_page).to_have_text("The librarian is typing…")
    assert_accessible(customer)
    aino.locator("#chat-body").fill("")
    aino.locator("#chat-body").dispatch_event("input")
    expect(on_customer_page).to_have_text("")
    # Typing and then stopping without sending: it goes by itself after a few seconds.
    aino.locator("#chat-body").press_sequentially("Just a")
    expect(on_customer_page).to_have_text("The librarian is typing…")
    expect(on_customer_page).to_have_text("")
    expect(customer.locator(".chat-line-agent")).to_have_count(0)  # nothing of it was sent


def test_the_canned_replies_page_and_the_statistics_page(app, make_unit, make_user, new_page):
    a_library_with_replies(app, make_unit, make_user)
    aino = new_page()
    log_in(aino, "aino")
    aino.goto("/chat/")
    aino.get_by_role("link", name="Canned replies").click()
    expect(aino.get_by_role("heading", name="Canned replies", exact=True)).to_be_visible()
    expect(aino.locator("table", has_text="Queue Neuvonta")).to_contain_text("Aukioloajat")
    assert_accessible(aino)

    # A personal reply without any text is refused at the field, what was typed kept.
    aino.get_by_role("link", name="New canned reply").click()
    aino.get_by_label("Whose reply").select_option(label="Only me (a personal reply)")
    aino.get_by_label("Short name").fill("Lopetus")
    aino.get_by_role("button", name="Save").click()
    expect(aino.locator("#text_fi-error")).to_have_text("Write the reply in at least one language.")
    expect(aino.get_by_label("Short name")).to_have_value("Lopetus")
    assert_accessible(aino)
    aino.get_by_label("Text in English").fill("Thank you, {customer}!")
    aino.get_by_role("button", name="Save").click()
    expect(aino.get_by_text("The canned reply has been saved.")).to_be_visible()
    expect(aino.locator("table", has_text="My own replies")).to_contain_text("Lopetus")

    # Deleting asks first.
    aino.locator("tr", has_text="Lopetus").get_by_role("button", name="Delete Lopetus").click()
    confirm(aino)
    expect(aino.get_by_text("The canned reply Lopetus has been deleted.")).to_be_visible()
    expect(aino.locator("table", has_text="My own replies")).to_contain_text("No canned replies yet.")

    aino.get_by_role("link", name="Chat statistics").click()
    expect(aino.get_by_role("table", name="Canned replies used")).to_contain_text(
        "No canned replies were inserted in this period.")
    assert_accessible(aino)
