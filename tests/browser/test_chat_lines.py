"""A line costs its writer one request, the POST: the line reaches the writer's page with its live
event, as it reaches the other side's. Without the socket, the writer's page reads it."""
from playwright.sync_api import expect

from blueprints.chat.models import ChatQueue
from common.access import Role
from extensions import db
from tests.browser.conftest import wait_until_live
from tests.browser.test_chat_desk import agent_page
from tests.browser.test_chat_reliability import served_by_aino


def requests_of(page):
    """The requests the page makes from now on (method and path)."""
    made = []
    page.on("request", lambda request: made.append((request.method, request.url.split("//", 1)[1].split("/", 1)[1])))
    return made


def a_served_chat(app, make_unit, make_user, new_page):
    library = make_unit()
    make_user("aino", (Role.CHAT_AGENT, library))
    with app.app_context():
        db.session.add(ChatQueue(unit_id=library, name="Neuvonta", is_open=True, waiting_message=""))
        db.session.commit()
    aino = agent_page(new_page, "aino", "Neuvonta")
    toni = served_by_aino(aino, new_page)
    wait_until_live(toni)
    return aino, toni


def test_each_side_sends_a_line_with_one_request_and_sees_it_from_its_event(app, make_unit, make_user, new_page):
    aino, toni = a_served_chat(app, make_unit, make_user, new_page)
    by_toni, by_aino = requests_of(toni), requests_of(aino)

    toni.locator("#chat-body").fill("Miten uusin lainani?")
    toni.locator("#chat-body").press("Enter")
    expect(toni.locator(".chat-line-customer")).to_contain_text("Miten uusin lainani?")
    expect(aino.locator(".chat-line-customer")).to_contain_text("Miten uusin lainani?")

    aino.locator("#chat-body").fill("Kirjaudu verkkokirjastoon.")
    aino.locator("#chat-body").press("Enter")
    expect(aino.locator(".chat-line-agent")).to_contain_text("Kirjaudu verkkokirjastoon.")
    expect(toni.locator(".chat-line-agent")).to_contain_text("Kirjaudu verkkokirjastoon.")

    # Past the time a page waits for its line's event before it asks: nothing more was asked.
    toni.wait_for_timeout(4000)
    assert by_toni == [("POST", "chat/customer/message")]
    assert [method for method, path in by_aino if method == "POST"] == ["POST"]
    assert not [path for method, path in by_aino if "lines" in path]  # the desk never read a line


def test_a_page_without_its_socket_reads_the_line_it_sent(app, make_unit, make_user, new_page):
    aino, toni = a_served_chat(app, make_unit, make_user, new_page)
    toni.evaluate("Live.socket.disconnect()")
    made = requests_of(toni)

    toni.locator("#chat-body").fill("Oletko siellä?")
    toni.locator("#chat-body").press("Enter")
    expect(toni.locator(".chat-line-customer")).to_contain_text("Oletko siellä?")
    expect(aino.locator(".chat-line-customer")).to_contain_text("Oletko siellä?")
    assert ("GET", "chat/customer/lines") in [(method, path.split("?")[0]) for method, path in made]
