"""The last agent leaves a queue where customers wait: warned first, then the customers are told
live and may leave their question by email instead."""
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from blueprints.chat.models import ChatMessage, ChatQueue
from common.access import Role
from common.mail import OutboxMail
from extensions import db
from tests.browser.conftest import assert_accessible, confirm, log_in, needs_redis, start_site, wait_until_live
from tests.conftest import eventually, free_port


def join(page, name):
    page.goto("/chat/customer/")
    page.get_by_label("Your name").fill(name)
    page.get_by_role("button", name="Join the queue").click()
    expect(page.locator(".chat-position")).to_be_visible()
    wait_until_live(page)


def served_by_aino(aino, new_page, name="Toni"):
    """A customer joins Neuvonta and Aino, at the desk, starts a text chat with them: their page."""
    customer = new_page()
    join(customer, name)
    aino.get_by_role("link", name="Neuvonta").click()
    aino.get_by_role("link", name=name).click()
    aino.get_by_role("button", name="Start text chat").click()
    confirm(aino)
    expect(customer.get_by_text("You are chatting with Aino.")).to_be_visible()
    return customer


def test_the_last_agent_is_warned_and_the_waiting_customers_may_leave_a_question(app, make_unit, make_user, new_page):
    library = make_unit()
    make_user("aino", (Role.CHAT_AGENT, library))
    with app.app_context():
        db.session.add(ChatQueue(unit_id=library, name="Neuvonta", is_open=True, waiting_message="Odota hetki",
                                 contact_email="neuvonta@example.org"))
        db.session.commit()

    aino = new_page()
    log_in(aino, "aino")
    aino.goto("/chat/")
    aino.get_by_label("Neuvonta", exact=False).check()
    aino.get_by_role("button", name="Log in to customer service").click()
    expect(aino.get_by_text("Logged in as Aino")).to_be_visible()

    sara, toni = new_page(), new_page()
    join(sara, "Sara")
    join(toni, "Toni")
    expect(toni.get_by_text("1 customer is ahead of you.")).to_be_visible()
    expect(toni.locator(".chat-unstaffed")).to_have_count(0)

    # The last agent is asked first, with the queues and how many wait there.
    aino.get_by_role("button", name="Log out of customer service").click()
    warning = aino.locator(".chat-logout-warning")
    expect(warning).to_contain_text("Customers are waiting")
    expect(warning.get_by_role("listitem")).to_have_text(["Neuvonta: 2 waiting"])
    expect(aino.get_by_text("Logged in as Aino")).to_be_visible()
    assert_accessible(aino)
    aino.get_by_role("button", name="Log out anyway").click()
    expect(aino.get_by_text("You are logged out")).to_be_visible()

    # The waiting customers hear it live, and are offered the email form.
    expect(toni.get_by_text("Nobody is serving this queue at the moment.")).to_be_visible()
    expect(sara.get_by_text("Nobody is serving this queue at the moment.")).to_be_visible()
    question = toni.locator("#customer-question")
    expect(question.get_by_role("heading", name="Leave your question by email")).to_be_visible()
    assert_accessible(toni)

    # What Toni types survives a live refresh of his page (Sara leaves, so his place changes).
    toni.get_by_label("Your email address").fill("toni@")
    toni.get_by_label("Your question").fill("Miten uusin lainani?")
    sara.get_by_role("button", name="Leave the queue").click()
    expect(toni.get_by_text("You are next in the queue.")).to_be_visible()
    expect(toni.get_by_label("Your question")).to_have_value("Miten uusin lainani?")

    # A bad address is refused at the field, the question kept.
    question.get_by_role("button", name="Send the question").click()
    expect(toni.locator("#email-error")).to_have_text("Enter an email address like name@example.fi.")
    expect(toni.get_by_label("Your email address")).to_have_attribute("aria-invalid", "true")
    expect(toni.get_by_label("Your question")).to_have_value("Miten uusin lainani?")
    assert_accessible(toni)

    toni.get_by_label("Your email address").fill("toni@example.org")
    toni.get_by_role("button", name="Send the question").click()
    expect(toni.locator(".chat-system").last).to_contain_text("Your question has been sent to the library by email.")
    expect(toni.locator("#customer-question")).to_have_count(0)
    assert_accessible(toni)
    with app.app_context():
        mail = db.session.scalar(select(OutboxMail))
        assert mail.recipient == "neuvonta@example.org" and "Miten uusin lainani?" in mail.body


def test_the_agent_emails_the_transcript_and_the_admin_sets_retention(app, make_unit, make_user, new_page,
                                                                      live_smtp_server):
    library = make_unit()
    make_user("aino", (Role.CHAT_AGENT, library))
    make_user("sirpa", (Role.SERVICE_ADMIN, None))
    with app.app_context():
        queue = ChatQueue(unit_id=library, name="Neuvonta", is_open=True, waiting_message="")
        db.session.add(queue)
        db.session.commit()
        queue_id = queue.id

    admin = new_page()
    log_in(admin, "sirpa")
    admin.goto(f"/chat/admin/queues/{queue_id}")
    expect(admin.get_by_label("Keep transcripts for (days after the chat ends)")).to_have_value("0")
    admin.get_by_label("Keep transcripts for (days after the chat ends)").fill("7")
    admin.get_by_label("Anonymise customer names after (days, optional)").fill("30")
    admin.get_by_role("button", name="Save").click()
    expect(admin.locator("#anonymise_after_days-error")).to_have_text("At most the days transcripts are kept (7).")
    assert_accessible(admin)
    admin.get_by_label("Anonymise customer names after (days, optional)").fill("3")
    admin.get_by_role("button", name="Save").click()
    expect(admin.get_by_role("cell", name="kept 7 days, names removed after 3 days")).to_be_visible()

    aino = new_page()
    log_in(aino, "aino")
    aino.goto("/chat/")
    aino.get_by_label("Neuvonta", exact=False).check()
    aino.get_by_role("button", name="Log in to customer service").click()
    expect(aino.get_by_text("Logged in as Aino")).to_be_visible()
    wait_until_live(aino)

    toni = served_by_aino(aino, new_page)

    aino.get_by_text("Email the transcript").click()  # the summary opens the form, by keyboard too
    aino.get_by_label("Customer's email address").fill("toni@")
    # Toni writes meanwhile: the chat column refreshes live, the half-typed address stays.
    toni.locator("#chat-body").fill("Lähetättekö keskustelun?")
    toni.locator("#chat-body").press("Enter")
    expect(aino.locator(".chat-line-customer").last).to_contain_text("Lähetättekö keskustelun?")
    expect(aino.get_by_label("Customer's email address")).to_have_value("toni@")
    aino.get_by_role("button", name="Send the transcript").click()
    expect(aino.locator("#transcript-email-error")).to_have_text("Enter an email address like name@example.fi.")
    assert_accessible(aino)
    aino.get_by_label("Customer's email address").fill("toni@example.org")
    aino.get_by_role("button", name="Send the transcript").click()
    expect(aino.locator(".chat-system").last).to_contain_text("A transcript of this chat has been sent by email.")
    expect(toni.locator(".chat-system").last).to_contain_text("A transcript of this chat has been sent by email.")
    assert_accessible(aino)
    mail = live_smtp_server.wait_for(1)[0]
    assert mail["To"] == "toni@example.org" and "Aino has started the chat." in mail.get_content()
    with app.app_context():  # delivered and marked sent before the test's rows are cleared
        status = select(OutboxMail.status).execution_options(populate_existing=True)
        assert eventually(lambda: db.session.scalar(status) == "sent")


@pytest.fixture
def two_sweeping_servers(monkeypatch):
    """Two server processes (flask serve, with their sweeps) on PostgreSQL and Redis, with a
    short grace period so that the test need not wait two minutes."""
    monkeypatch.setenv("CHAT_AGENT_GRACE_SECONDS", "2")
    monkeypatch.setenv("CHAT_SWEEP_SECONDS", "1")
    ports = free_port(), free_port()
    processes = [start_site(port) for port in ports]
    yield [f"http://127.0.0.1:{port}" for port in ports]
    for process in processes:
        process.terminate()
        process.wait(10)


@needs_redis
def test_an_agent_whose_page_closes_loses_the_customer_after_the_grace_period_once(app, browser, two_sweeping_servers,
                                                                                   make_unit, make_user):
    library = make_unit()
    make_user("aino", (Role.CHAT_AGENT, library))
    with app.app_context():
        db.session.add(ChatQueue(unit_id=library, name="Neuvonta", is_open=True, waiting_message=""))
        db.session.commit()
    agent_context = browser.new_context(base_url=two_sweeping_servers[0], locale="en")
    customer_context = browser.new_context(base_url=two_sweeping_servers[1], locale="en")
    try:
        aino = agent_context.new_page()
        log_in(aino, "aino")
        aino.goto("/chat/")
        aino.get_by_label("Neuvonta", exact=False).check()
        aino.get_by_role("button", name="Log in to customer service").click()
        wait_until_live(aino)
        toni = customer_context.new_page()
        join(toni, "Toni")
        aino.get_by_role("link", name="Neuvonta").click()
        aino.get_by_role("link", name="Toni").click()
        aino.get_by_role("button", name="Start text chat").click()
        confirm(aino)
        expect(toni.get_by_text("You are chatting with Aino.")).to_be_visible()

        agent_context.close()  # the agent's only page goes away on server 1

        # Both processes sweep; after the grace period one of them returns Toni to the queue,
        # and Toni, on server 2, is told live.
        expect(toni.locator(".chat-system").last).to_contain_text("The agent's connection was lost.")
        expect(toni.get_by_text("You are next in the queue.")).to_be_visible()
        expect(toni.get_by_text("Nobody is serving this queue at the moment.")).to_be_visible()
        assert_accessible(toni)
        with app.app_context():
            lines = db.session.scalars(select(ChatMessage.body).where(ChatMessage.body == "agent_lost")).all()
            assert lines == ["agent_lost"]
    finally:
        customer_context.close()
