"""The internal staff chat in real browsers: two colleagues see each other's presence change
live, chat one to one beside the customers, and get no transfer or video controls."""
import re

from playwright.sync_api import expect

from blueprints.chat.models import ChatQueue
from common.access import Role
from extensions import db
from tests.browser.conftest import assert_accessible, log_in, needs_redis, wait_until_live


def desk(new_page, username):
    page = new_page()
    log_in(page, username)
    page.goto("/chat/")
    wait_until_live(page)
    return page


def log_in_to_customer_service(page, queue_name):
    page.get_by_label(queue_name, exact=False).check()
    page.get_by_role("button", name="Log in to customer service").click()
    expect(page.get_by_text("Logged in as")).to_be_visible()
    wait_until_live(page)


def test_two_colleagues_chat_live_beside_the_customers(app, make_unit, make_user, new_page):
    library, other = make_unit(), make_unit()
    make_user("aino", (Role.CHAT_AGENT, library))
    make_user("erja", (Role.CHAT_AGENT, library))
    make_user("olli", (Role.CHAT_AGENT, other))
    with app.app_context():
        db.session.add(ChatQueue(unit_id=library, name="Neuvonta", is_open=True, waiting_message="Odota"))
        db.session.commit()

    # Aino opens the internal chat: Erja has not come in yet, Olli of another library is not listed.
    aino = desk(new_page, "aino")
    aino.get_by_role("link", name="Internal chat").click()
    expect(aino.get_by_role("heading", name="Internal chat")).to_be_visible()
    erja_row = aino.locator(".chat-colleague", has_text="Erja")
    expect(erja_row).to_contain_text("offline")
    expect(aino.locator(".chat-colleagues")).not_to_contain_text("Olli")
    assert_accessible(aino)

    # Erja comes to work: Aino's list shows it without a reload.
    erja = desk(new_page, "erja")
    expect(erja_row).to_contain_text("away")  # connected, not yet in customer service
    log_in_to_customer_service(erja, "Neuvonta")
    expect(erja_row).to_contain_text("online")
    assert_accessible(aino)

    # Pressing the name opens the chat and puts Erja in Aino's active conversations.
    erja_row.get_by_role("button", name="Erja").click()
    expect(aino.get_by_role("heading", name="Erja")).to_be_visible()
    expect(aino.locator(".chat-active-internal", has_text="Erja")).to_be_visible()
    chat = aino.locator("#chat-view")
    expect(chat).to_contain_text("book an appointment that starts now")
    expect(chat.get_by_role("button", name=re.compile("video|transfer|release|remove", re.I))).to_have_count(0)
    expect(chat).not_to_contain_text("Transfer")
    assert_accessible(aino)

    box = aino.locator("#chat-body")
    box.fill("Hei Erja! Ehditkö hetken?")
    box.press("Enter")
    expect(aino.locator(".chat-line-mine")).to_contain_text("Hei Erja! Ehditkö hetken?")
    expect(box).to_have_value("")

    # Erja, on her customer desk, sees "New messages!" by Aino's name in the active list.
    aino_item = erja.locator(".chat-active-internal", has_text="Aino")
    expect(aino_item).to_contain_text("New messages!")
    assert_accessible(erja)
    aino_item.get_by_role("link", name="Aino").click()
    expect(erja.locator(".chat-line-colleague")).to_contain_text("Hei Erja! Ehditkö hetken?")
    expect(aino_item).not_to_contain_text("New messages!")
    expect(erja.locator("#chat-view").get_by_role("button", name=re.compile("video|transfer", re.I))).to_have_count(0)
    expect(erja.locator("#chat-view")).to_contain_text("book an appointment that starts now")
    assert_accessible(erja)

    # Erja answers on two lines (Shift+Enter); Aino sees it live and her screen reader hears it,
    # while a draft she has started stays in her box.
    aino.locator("#chat-body").fill("luonnos")
    asked = []
    aino.on("request", lambda r: asked.append(r.url))
    reply = erja.locator("#chat-body")
    reply.fill("Ehdin")
    reply.press("Shift+Enter")
    reply.press_sequentially("soitetaanko?")
    reply.press("Enter")
    expect(aino.locator(".chat-line-colleague").last).to_contain_text("soitetaanko?")
    expect(aino.locator("#chat-announcer")).to_contain_text("soitetaanko?")
    expect(aino.locator("#chat-body")).to_have_value("luonnos")
    expect(erja.locator(".chat-line-mine").last).to_contain_text("Ehdin\nsoitetaanko?")
    # The line came with its event: Aino's desk read neither the chat, nor its lines, nor her list
    # of active chats (the chat in view has no "New messages!") for it.
    assert not [url for url in asked if "/chat/partials/internal/" in url or "/chat/partials/active" in url], asked

    # Erja leaves customer service: Aino sees her away, in the chat heading and the list.
    erja.get_by_role("button", name="Log out of customer service").click()
    expect(aino.locator("#internal-live .chat-head")).to_contain_text("away")
    expect(erja_row).to_contain_text("away")
    assert_accessible(aino)

    # A line Aino saw come into the open chat is read: back in the colleague list, no
    # "New messages!" by Erja's name, although no request of hers read the chat for it.
    aino_item.get_by_role("link", name="Aino").click()  # Erja's desk went back to its start
    reply = erja.locator("#chat-body")
    reply.fill("Soitan sinulle")
    reply.press("Enter")
    expect(aino.locator(".chat-line-colleague").last).to_contain_text("Soitan sinulle")
    aino.get_by_role("link", name="Internal chat", exact=True).click()
    expect(aino.get_by_role("heading", name="Internal chat", exact=True)).to_be_visible()
    expect(aino.locator(".chat-active-internal", has_text="Erja")).to_be_visible()
    expect(aino.locator(".chat-active-internal", has_text="Erja")).not_to_contain_text("New messages!")


@needs_redis
def test_presence_and_messages_reach_a_colleague_on_another_server_process(browser, two_servers, app, make_unit,
                                                                          make_user):
    library = make_unit()
    make_user("aino", (Role.CHAT_AGENT, library))
    make_user("erja", (Role.CHAT_AGENT, library))
    with app.app_context():
        db.session.add(ChatQueue(unit_id=library, name="Neuvonta", is_open=True, waiting_message="Odota"))
        db.session.commit()
    aino = browser.new_context(base_url=two_servers[0]).new_page()
    erja = browser.new_context(base_url=two_servers[1]).new_page()
    try:
        log_in(aino, "aino")
        aino.goto("/chat/?colleagues=1")
        wait_until_live(aino)
        erja_row = aino.locator(".chat-colleague", has_text="Erja")
        expect(erja_row).to_contain_text("offline")
        log_in(erja, "erja")
        erja.goto("/chat/")
        wait_until_live(erja)
        log_in_to_customer_service(erja, "Neuvonta")
        expect(erja_row).to_contain_text("online")

        erja_row.get_by_role("button", name="Erja").click()
        aino.locator("#chat-body").fill("Hei toisesta prosessista")
        aino.locator("#chat-body").press("Enter")
        expect(erja.locator(".chat-active-internal", has_text="Aino")).to_contain_text("New messages!")

        # Erja closes her tab on the other process: she is still in customer service, so away.
        erja.close()
        expect(aino.locator("#internal-live .chat-head")).to_contain_text("away")
    finally:
        aino.context.close()
        if not erja.is_closed():
            erja.context.close()
