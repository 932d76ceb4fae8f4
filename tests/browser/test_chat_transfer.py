"""Queue transfer and statistics in real browsers: an agent moves a customer to a closed
specialist queue with a note, a specialist logged in to that queue picks them up with the whole
chat, and the customer is told."""
from playwright.sync_api import expect

from blueprints.chat.models import ChatQueue
from common.access import Role
from extensions import db
from tests.browser.conftest import assert_accessible, confirm, log_in, wait_until_live


def agent_desk(new_page, username, queue_label):
    page = new_page()
    log_in(page, username)
    page.goto("/chat/")
    page.get_by_label(queue_label, exact=False).check()
    page.get_by_label("Name customers see (optional)").fill(username.title())
    page.get_by_role("button", name="Log in to customer service").click()
    expect(page.get_by_text(f"Logged in as {username.title()}")).to_be_visible()
    wait_until_live(page)
    return page


def settled(page):
    """Wait until htmx has no request in flight and has wired up what it swapped in (a claim makes
    several live refreshes; a button swapped in answers clicks only once htmx has processed it)."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')")


def test_a_customer_is_transferred_to_a_closed_queue_and_served_there_with_the_whole_chat(app, make_unit, make_user,
                                                                                          new_page):
    library = make_unit()
    make_user("aino", (Role.CHAT_AGENT, library))
    make_user("erja", (Role.CHAT_AGENT, library))
    with app.app_context():
        db.session.add_all([
            ChatQueue(unit_id=library, name="Neuvonta", is_open=True, waiting_message="Odota hetki."),
            ChatQueue(unit_id=library, name="Tietokoneopastus", is_open=False,
                      waiting_message="Asiantuntija avaa jonon tarvittaessa."),
        ])
        db.session.commit()

    # The specialist logs in to the closed queue; the customer cannot choose it.
    erja = agent_desk(new_page, "erja", "Tietokoneopastus")
    expect(erja.locator(".chat-queue-list")).to_contain_text("closed")
    aino = agent_desk(new_page, "aino", "Neuvonta")
    customer = new_page()
    customer.goto("/chat/customer/")
    expect(customer.get_by_label("Queue").locator("option")).to_have_text(["Neuvonta"])
    customer.get_by_label("Your name").fill("Toni")
    customer.get_by_label("Your question (optional)").fill("Tulostin ei toimi.")
    customer.get_by_role("button", name="Join the queue").click()
    customer.wait_for_selector("body[data-live=connected]")

    # Aino serves Toni and writes once.
    aino.get_by_role("link", name="Neuvonta").click()
    aino.locator(".chat-customer", has_text="Toni").get_by_role("link", name="Toni").click()
    expect(aino.locator("#chat-heading")).to_have_text("Toni")
    settled(aino)
    aino.get_by_role("button", name="Start text chat").click()
    confirm(aino)
    expect(customer.get_by_text("You are chatting with Aino.")).to_be_visible()
    settled(customer)
    # What Aino is typing survives the live refreshes of the chat (here: Toni writes meanwhile).
    aino.locator("#chat-body").fill("Kysyn asiantuntijalta.")
    customer.locator("#chat-body").fill("Onko siellä ketään?")
    customer.locator("#chat-body").press("Enter")
    expect(aino.locator(".chat-line-customer").last).to_contain_text("Onko siellä ketään?")
    expect(aino.locator("#chat-body")).to_have_value("Kysyn asiantuntijalta.")
    aino.locator("#chat-body").press("Enter")
    expect(customer.locator(".chat-line-agent")).to_contain_text("Kysyn asiantuntijalta.")

    # From the active list: the customer, the transfer control (by keyboard), the closed queue, a note.
    aino.goto("/chat/")
    aino.locator("#chat-active").get_by_role("link", name="Toni").click()
    expect(aino.locator("#chat-heading")).to_have_text("Toni")
    settled(aino)
    opener = aino.get_by_role("button", name="Transfer to another queue")
    opener.press("Enter")
    target = aino.get_by_label("Target queue")
    expect(target).to_be_focused()
    aino.get_by_role("button", name="Cancel").press("Enter")  # closes, focus back on the control
    expect(target).to_have_count(0)
    expect(opener).to_be_focused()
    opener.press("Enter")
    expect(target).to_be_focused()
    expect(target.locator("option", has_text="Tietokoneopastus")).to_have_text("Tietokoneopastus (Unit 1) – closed")
    target.select_option(label="Tietokoneopastus (Unit 1) – closed")
    aino.get_by_label("Note for the next agent (optional)").fill("Tulostinongelma, HP:n laite.")
    assert_accessible(aino)
    # A live refresh of the chat (the customer writes) keeps the half-filled transfer form.
    customer.locator("#chat-body").fill("Odotan.")
    customer.locator("#chat-body").press("Enter")
    expect(aino.locator(".chat-line-customer").last).to_contain_text("Odotan.")
    expect(aino.get_by_label("Note for the next agent (optional)")).to_have_value("Tulostinongelma, HP:n laite.")
    aino.get_by_role("button", name="Transfer", exact=True).click()
    expect(aino.locator(".chat-queue-chain")).to_have_text("Queues: Neuvonta → Tietokoneopastus")
    expect(aino.locator("#chat-active")).to_contain_text("No active conversations.")
    # Her own list of the queue left behind hears of it: Toni is no longer there as being served.
    expect(aino.locator("#chat-customers .chat-customer", has_text="Toni")).to_have_count(0)
    expect(aino.locator("#chat-customers")).to_contain_text("Nobody in the queue.")

    # The customer is told and now waits in the specialist queue.
    expect(customer.locator(".chat-system").last).to_contain_text("Aino has transferred you to another queue.")
    expect(customer.get_by_role("heading", name="Tietokoneopastus")).to_be_visible()
    expect(customer.get_by_text("Asiantuntija avaa jonon tarvittaessa.")).to_be_visible()
    assert_accessible(customer)

    # The specialist hears of a new customer, sees the note, picks Toni up and reads the whole chat.
    expect(erja.get_by_text("New customer!")).to_be_visible()
    erja.get_by_role("link", name="Tietokoneopastus").click()
    row = erja.locator(".chat-customer", has_text="Toni")
    expect(row).to_contain_text("Transferred from Neuvonta.")
    expect(row).to_contain_text("Tulostinongelma, HP:n laite.")
    row.get_by_role("link", name="Toni").click()
    expect(erja.locator("#chat-view .chat-transfer-note")).to_contain_text("Tulostinongelma, HP:n laite.")
    settled(erja)
    erja.get_by_role("button", name="Start text chat").click()
    confirm(erja)
    expect(erja.locator(".chat-head")).to_contain_text("Agent: Erja")
    for line in ("Tulostin ei toimi.", "Kysyn asiantuntijalta.", "Odotan."):
        expect(erja.locator(".chat-messages")).to_contain_text(line)
    expect(erja.locator(".chat-queue-chain")).to_have_text("Queues: Neuvonta → Tietokoneopastus")
    assert_accessible(erja)

    expect(customer.get_by_text("You are chatting with Erja.")).to_be_visible()
    settled(erja)
    erja.locator("#chat-body").fill("Hei, olen asiantuntija.")
    erja.locator("#chat-body").press("Enter")
    expect(customer.locator(".chat-line-agent").last).to_contain_text("Hei, olen asiantuntija.")

    # The statistics of today count the chat in both queues and the transfer out of the first.
    aino.get_by_role("link", name="Chat statistics").click()
    expect(aino.get_by_role("heading", name="Chat statistics", level=1)).to_be_visible()
    expect(aino.locator("svg.chat-chart")).to_be_visible()
    neuvonta = aino.locator(".chat-queue-days tbody tr", has_text="Neuvonta")
    expect(neuvonta.locator("td").nth(1)).to_have_text("1")  # chats
    expect(neuvonta.locator("td").nth(6)).to_have_text("1")  # transfers out (the ratings follow)
    expect(aino.locator(".chat-queue-days tbody tr", has_text="Tietokoneopastus")).to_have_count(1)
    assert_accessible(aino)


def test_bad_dates_on_the_statistics_page_are_told_at_the_field(app, make_unit, make_user, new_page):
    library = make_unit()
    make_user("paula", (Role.MAIN_USER, library))
    page = new_page()
    log_in(page, "paula")
    page.get_by_label("Main").get_by_role("link", name="Chat statistics").click()
    page.get_by_label("From", exact=True).fill("2026-03-06")
    page.get_by_label("To", exact=True).fill("2026-03-01")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("The end date is before the start date.")).to_be_visible()
    expect(page.get_by_label("To", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("To", exact=True)).to_have_value("2026-03-01")
    assert_accessible(page)
