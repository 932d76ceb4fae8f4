"""The chat end to end in real browsers: a customer, the serving agent and a reading colleague."""
from playwright.sync_api import expect

from blueprints.chat.models import ChatQueue
from common.access import Role
from extensions import db
from tests.browser.conftest import assert_accessible, confirm, log_in, wait_until_live


def agent_page(new_page, username, queue_name, fake_clock=False):
    page = new_page()
    if fake_clock:
        page.clock.install()  # time flows as usual until the test moves it on
    log_in(page, username)
    page.goto("/chat/")
    assert_accessible(page)  # logged out of customer service
    page.get_by_label(queue_name, exact=False).check()
    page.get_by_label("Name customers see (optional)").fill(username.title())
    page.get_by_role("button", name="Log in to customer service").click()
    expect(page.get_by_text(f"Logged in as {username.title()}")).to_be_visible()
    wait_until_live(page)
    return page


def test_a_customer_is_served_end_to_end_live(app, make_unit, make_user, new_page):
    library = make_unit()
    make_user("aino", (Role.CHAT_AGENT, library))
    make_user("erja", (Role.CHAT_AGENT, library))
    with app.app_context():
        db.session.add(ChatQueue(unit_id=library, name="Neuvonta", is_open=True,
                                 waiting_message="Odota hetki, palvelemme pian."))
        db.session.commit()

    aino = agent_page(new_page, "aino", "Neuvonta")
    aino.get_by_role("button", name="Enable sound").click()
    aino.get_by_role("link", name="Neuvonta").click()
    expect(aino.get_by_text("Nobody in the queue.")).to_be_visible()
    assert_accessible(aino)

    customer = new_page()
    customer.goto("/chat/customer/")
    assert_accessible(customer)
    customer.get_by_label("Your name").fill("Toni")
    customer.get_by_label("Your question (optional)").fill("Miten uusin lainani?")
    customer.get_by_role("button", name="Join the queue").click()
    expect(customer.get_by_text("Odota hetki, palvelemme pian.")).to_be_visible()
    expect(customer.get_by_text("You are next in the queue.")).to_be_visible()
    customer.wait_for_selector("body[data-live=connected]")
    assert_accessible(customer)

    # The agent sees and hears the new customer, with a green dot and the state as text.
    expect(aino.get_by_text("New customer!")).to_be_visible()
    row = aino.locator(".chat-customer", has_text="Toni")
    expect(row.locator(".chat-dot-waiting")).to_have_count(1)
    expect(row).to_contain_text("waiting")
    expect(aino).to_have_title("(1) Chat queue")
    assert int(aino.evaluate("document.body.dataset.chatBeeps")) >= 2  # the enabling click, then the join

    row.get_by_role("link", name="Toni").click()
    aino.get_by_role("button", name="Start text chat").click()
    confirm(aino)
    expect(aino.locator(".chat-head")).to_contain_text("Agent: Aino")
    expect(row.locator(".chat-dot-served")).to_have_count(1)
    expect(customer.get_by_text("You are chatting with Aino.")).to_be_visible()
    assert_accessible(aino)
    assert_accessible(customer)

    # Messages both ways, live; Enter sends and Shift+Enter makes a new line.
    box = aino.locator("#chat-body")
    box.fill("Hei Toni!")
    box.press("Enter")
    expect(customer.locator(".chat-line-agent")).to_contain_text("Hei Toni!")
    customer.locator("#chat-body").fill("Kiitos")
    customer.locator("#chat-body").press("Shift+Enter")
    customer.locator("#chat-body").press_sequentially("toinen rivi")
    customer.locator("#chat-body").press("Enter")
    expect(aino.locator(".chat-line-customer").last).to_contain_text("toinen rivi")
    expect(aino.locator("#chat-announcer")).to_contain_text("toinen rivi")

    # A colleague reads the chat live but gets no input.
    erja = agent_page(new_page, "erja", "Neuvonta")
    erja.get_by_role("link", name="Neuvonta").click()
    erja.get_by_role("link", name="Toni").click()
    expect(erja.get_by_text("You can read the chat but not write in it.")).to_be_visible()
    expect(erja.locator("#chat-body")).to_have_count(0)
    customer.locator("#chat-body").fill("Vielä yksi")
    customer.locator("#chat-body").press("Enter")
    expect(erja.locator(".chat-line-customer").last).to_contain_text("Vielä yksi")
    assert_accessible(erja)

    # A reload of the customer page restores the same conversation.
    customer.reload()
    expect(customer.get_by_text("Miten uusin lainani?")).to_be_visible()
    expect(customer.get_by_text("Vielä yksi")).to_be_visible()
    customer.wait_for_selector("body[data-live=connected]")

    # Release: the dot turns green again and the customer is told.
    aino.get_by_role("button", name="Release to queue").click()
    confirm(aino)
    expect(row.locator(".chat-dot-waiting")).to_have_count(1)
    expect(customer.locator(".chat-system").last).to_contain_text("You have been released back to the queue")
    expect(customer.get_by_text("You are next in the queue.")).to_be_visible()

    # Removal ends the visit and the customer is told.
    aino.get_by_role("button", name="Remove from queue").click()
    confirm(aino)
    expect(customer.locator(".chat-closed")).to_contain_text("You have been removed from the queue.")
    assert_accessible(customer)


def beeps(page):
    return int(page.evaluate("document.body.dataset.chatBeeps || 0"))


def test_the_new_customer_notice_repeats_every_30_seconds_while_someone_waits(app, make_unit, make_user, new_page):
    library = make_unit()
    make_user("aino", (Role.CHAT_AGENT, library))
    with app.app_context():
        db.session.add(ChatQueue(unit_id=library, name="Neuvonta", is_open=True))
        db.session.commit()
    aino = agent_page(new_page, "aino", "Neuvonta", fake_clock=True)
    aino.get_by_role("button", name="Enable sound").click()
    aino.get_by_role("link", name="Neuvonta").click()

    customer = new_page()
    customer.goto("/chat/customer/")
    customer.get_by_label("Your name").fill("Toni")
    customer.get_by_role("button", name="Join the queue").click()
    expect(aino.get_by_text("New customer!")).to_be_visible()
    # The enabling click, then the join (a locator assertion: the page's CSP forbids evaluating strings).
    expect(aino.locator("body")).to_have_attribute("data-chat-beeps", "2")
    joined_beep = int(aino.evaluate("document.body.dataset.chatLastBeep"))

    aino.clock.run_for(30_000)
    assert beeps(aino) == 3
    # 30 s after the join (the clock also runs by itself meanwhile, by a few milliseconds)
    assert 30_000 <= int(aino.evaluate("document.body.dataset.chatLastBeep")) - joined_beep < 31_000
    expect(aino.locator("#chat-announcer")).to_have_text("New customer!")
    aino.clock.run_for(30_000)
    assert beeps(aino) == 4

    # A minute of fake time also outran Socket.IO's ping timeout: let the page reconnect.
    aino.wait_for_selector("body[data-live=connected]")

    # Once the customer is being served nobody waits, and the reminders stop.
    aino.locator(".chat-customer", has_text="Toni").get_by_role("link", name="Toni").click()
    aino.get_by_role("button", name="Start text chat").click()
    confirm(aino)
    expect(aino).to_have_title("Chat queue")
    aino.clock.run_for(90_000)
    assert beeps(aino) == 4


def test_the_customer_sees_a_banner_while_disconnected(app, make_unit, new_page):
    library = make_unit()
    with app.app_context():
        db.session.add(ChatQueue(unit_id=library, name="Neuvonta", is_open=True, waiting_message=""))
        db.session.commit()
    customer = new_page()
    customer.goto("/chat/customer/")
    customer.get_by_label("Your name").fill("Toni")
    customer.get_by_role("button", name="Join the queue").click()
    customer.wait_for_selector("body[data-live=connected]")
    customer.evaluate("Live.socket.io.engine.close()")
    expect(customer.locator("#connection-status")).to_be_visible()
    expect(customer.locator("#connection-status")).to_be_hidden()


def test_the_pages_speak_finnish_with_the_seed_texts(app, make_unit, make_user, new_page):
    library = make_unit()
    make_user("aino", (Role.CHAT_AGENT, library), language="fi")
    with app.app_context():
        db.session.add(ChatQueue(unit_id=library, name="Neuvonta", is_open=True, waiting_message="Odota"))
        db.session.commit()
    customer = new_page(locale="fi")
    customer.goto("/chat/customer/")
    expect(customer.get_by_role("button", name="Liity jonoon")).to_be_visible()
    customer.get_by_label("Nimesi").fill("Toni")
    customer.get_by_role("button", name="Liity jonoon").click()
    expect(customer.get_by_text("Olet seuraavana jonossa.")).to_be_visible()
    assert_accessible(customer)
    agent = new_page(locale="fi")
    log_in(agent, "aino")
    agent.goto("/chat/")
    expect(agent.get_by_text("Olet kirjautunut ulos")).to_be_visible()
    agent.get_by_label("Neuvonta", exact=False).check()
    agent.get_by_role("button", name="Kirjaudu sisään").click()
    expect(agent.get_by_text("Uusi asiakas!")).to_be_visible()
    agent.get_by_role("link", name="Neuvonta").click()
    agent.get_by_role("link", name="Toni").click()
    expect(agent.get_by_role("button", name="Poista käyttäjä jonosta")).to_be_visible()
    assert_accessible(agent)


def test_the_customers_instructions_are_linked_on_the_customer_page_and_the_desk(app, make_unit, make_user,
                                                                                  new_page):
    library = make_unit()
    make_user("aino", (Role.CHAT_AGENT, library))
    url = "https://www.library.example/chat/instructions"
    with app.app_context():
        db.session.add(ChatQueue(unit_id=library, name="Neuvonta", is_open=True, waiting_message="Odota",
                                 instructions_url=url))
        db.session.commit()
    customer = new_page()
    customer.goto("/chat/customer/")
    expect(customer.get_by_role("link", name="Instructions for Neuvonta (opens in a new tab)")).to_have_attribute(
        "href", url)
    assert_accessible(customer)
    customer.get_by_label("Your name").fill("Toni")
    customer.get_by_role("button", name="Join the queue").click()
    link = customer.get_by_role("link", name="Instructions for the chat service (opens in a new tab)")
    expect(link).to_have_attribute("href", url)
    expect(link).to_have_attribute("target", "_blank")
    assert_accessible(customer)

    aino = agent_page(new_page, "aino", "Neuvonta")
    aino.get_by_role("link", name="Neuvonta").click()
    expect(aino.locator("#chat-customers").get_by_role(
        "link", name="Customers' instructions (opens in a new tab)")).to_have_attribute("href", url)
    assert_accessible(aino)
