"""The customer's rating and finding an earlier conversation, in real browsers: a rating given on
the customer page is counted on the statistics page; a kept transcript is found, opened, and the
search is in the audit log."""
from datetime import timedelta

from playwright.sync_api import expect

from blueprints.chat.models import ChatMessage, ChatQueue, Conversation, ConversationState, Sender
from common.access import Role
from common.clock import utcnow
from extensions import db
from tests.browser.conftest import assert_accessible, confirm, log_in, wait_until_live
from tests.browser.test_chat_transfer import agent_desk, settled


def test_a_rating_given_on_the_customer_page_is_counted_on_the_statistics_page(app, make_unit, make_user, new_page):
    library = make_unit()
    make_user("aino", (Role.CHAT_AGENT, library))
    make_user("sirpa", (Role.SERVICE_ADMIN, None))
    with app.app_context():
        queue = ChatQueue(unit_id=library, name="Neuvonta", is_open=True)
        db.session.add(queue)
        db.session.commit()
        queue_id = queue.id
    # The service admin turns the question on in the queue's settings.
    sirpa = new_page()
    log_in(sirpa, "sirpa")
    sirpa.goto(f"/chat/admin/queues/{queue_id}")
    asks = sirpa.get_by_label("Ask customers whether they got the help they needed")
    expect(asks).not_to_be_checked()
    asks.check()
    assert_accessible(sirpa)
    sirpa.get_by_role("button", name="Save").click()
    expect(sirpa.get_by_text("The queue has been saved.")).to_be_visible()

    aino = agent_desk(new_page, "aino", "Neuvonta")
    customer = new_page()
    customer.goto("/chat/customer/")
    customer.get_by_label("Your name").fill("Toni")
    customer.get_by_role("button", name="Join the queue").click()
    wait_until_live(customer)

    aino.get_by_role("link", name="Neuvonta").click()
    aino.locator(".chat-customer", has_text="Toni").get_by_role("link", name="Toni").click()
    expect(aino.locator("#chat-heading")).to_have_text("Toni")
    settled(aino)
    aino.get_by_role("button", name="Start text chat").click()
    confirm(aino)
    expect(customer.get_by_text("You are chatting with Aino.")).to_be_visible()
    settled(aino)
    aino.get_by_role("button", name="End chat").click()

    # The customer's page asks, live, as the chat ends.
    question = customer.get_by_role("group", name="Did you get the help you needed?")
    expect(question).to_be_visible()
    assert_accessible(customer)
    question.get_by_label("Partly").check()
    customer.get_by_label("Comment (optional)").fill("Sain osan vastauksista.")
    customer.get_by_role("button", name="Send the answer").click()
    expect(customer.get_by_role("status").filter(has_text="Thank you for your answer.")).to_be_visible()
    expect(question).to_have_count(0)

    aino.goto("/chat/statistics")
    expect(aino.locator("main")).to_contain_text(
        "1 customer answered whether they got the help they needed: yes 0, partly 1, no 0.")
    row = aino.locator("table.chat-queue-days tbody tr", has_text="Neuvonta")
    expect(row.locator("td").nth(-2)).to_have_text("1")  # Helped: partly
    assert_accessible(aino)


def test_a_kept_transcript_is_found_opened_and_the_search_is_in_the_audit_log(app, make_unit, make_user, new_page):
    library = make_unit()
    make_user("aino", (Role.CHAT_AGENT, library))
    make_user("sirpa", (Role.SERVICE_ADMIN, None))
    with app.app_context():
        queue = ChatQueue(unit_id=library, name="Neuvonta", is_open=True, keep_days=30)
        db.session.add(queue)
        db.session.flush()
        ended = utcnow() - timedelta(days=2)
        chat = Conversation(queue_id=queue.id, token="kept-chat", customer_name="Toni", state=ConversationState.ENDED,
                            agent_name="Aino", joined_at=ended - timedelta(minutes=10),
                            served_at=ended - timedelta(minutes=8), ended_at=ended)
        db.session.add(chat)
        db.session.flush()
        db.session.add_all([
            ChatMessage(conversation_id=chat.id, sender=Sender.CUSTOMER, author_name="Toni",
                        body="Äänikirja ei aukea puhelimessa."),
            ChatMessage(conversation_id=chat.id, sender=Sender.AGENT, author_name="Aino",
                        body="Päivitä sovellus ja kirjaudu uudelleen."),
        ])
        db.session.commit()
        chat_id = chat.id

    aino = new_page()
    log_in(aino, "aino")
    aino.goto("/chat/statistics")
    aino.get_by_role("link", name="Find an earlier conversation").click()
    expect(aino.get_by_role("heading", name="Find an earlier conversation", level=1)).to_be_visible()
    aino.get_by_label("Text in the chat or the customer's name").fill("äänikirja")
    aino.get_by_label("From", exact=True).fill("2020-01-01")
    aino.get_by_role("button", name="Search").click()
    expect(aino.locator(".chat-transcript-results").get_by_role("status")).to_have_text("1 conversation found")
    expect(aino.locator(".chat-transcript-results")).to_contain_text("Äänikirja ei aukea puhelimessa.")
    assert "äänikirja" not in aino.url  # the search went in the request's body
    assert_accessible(aino)

    aino.locator(".chat-transcript-results tbody a").click()
    expect(aino.get_by_role("heading", name="Transcript of a chat")).to_be_visible()
    expect(aino.locator(".chat-messages")).to_contain_text("Päivitä sovellus ja kirjaudu uudelleen.")
    expect(aino.get_by_role("button", name="Send the transcript")).to_be_visible()
    assert_accessible(aino)

    # A bad date is told at its field, with what was typed.
    aino.goto("/chat/transcripts")
    aino.get_by_label("To", exact=True).fill("2020-01-01")
    aino.get_by_label("From", exact=True).fill("2021-01-01")
    aino.get_by_role("button", name="Search").click()
    expect(aino.locator("#end-error")).to_have_text("The end date is before the start date.")
    expect(aino.get_by_label("From", exact=True)).to_have_value("2021-01-01")
    assert_accessible(aino)

    # The service admin reads both in the audit log.
    sirpa = new_page()
    log_in(sirpa, "sirpa")
    sirpa.goto("/admin/audit")
    searched = sirpa.locator("tr", has=sirpa.locator("code", has_text="chat.transcripts_searched"))
    expect(searched).to_have_count(1)
    expect(searched).to_contain_text("aino")
    expect(searched).to_contain_text("text=äänikirja")
    expect(searched).to_contain_text("found=1")
    opened = sirpa.locator("tr", has=sirpa.locator("code", has_text="chat.transcript_opened"))
    expect(opened).to_contain_text(f"Conversation:{chat_id}")
