"""The chat button on a page of the library's own website, another origin than this site: a
plain HTML file served on another port, with the snippet the service admin copied."""
import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import expect

from blueprints.chat.models import ChatQueue
from common.access import Role
from extensions import db
from tests.browser.conftest import assert_accessible, axe_violations, log_in
from tests.browser.test_chat_desk import agent_page
from tests.conftest import free_port

HOST_PAGE = (Path(__file__).parent / "widget_host.html").read_text()
MARK = "<!-- the library's website: the chat snippet goes here -->"


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def library_website(tmp_path):
    """(origin, publish): a web server of the library's own site on another port; publish(name,
    html) puts a page on it and gives its address."""
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), functools.partial(Quiet, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{port}"

    def publish(name, html):
        (tmp_path / name).write_text(html)
        return f"{origin}/{name}"

    yield origin, publish
    server.shutdown()


@pytest.fixture
def site_address(live_app, live_server):
    """The snippet names this site as EXTERNAL_URL does; here, the live server; the button asks
    every second."""
    saved = {k: live_app.config[k] for k in ("EXTERNAL_URL", "CHAT_WIDGET_POLL_SECONDS")}
    live_app.config.update(EXTERNAL_URL=live_server.url, CHAT_WIDGET_POLL_SECONDS=1)
    yield live_server.url
    live_app.config.update(saved)


def test_the_button_on_another_sites_page_opens_the_chat_and_the_customer_joins(
        app, make_unit, make_user, new_page, library_website, site_address):
    origin, publish = library_website
    library = make_unit()
    make_user("aino", (Role.CHAT_AGENT, library))
    make_user("sirpa", (Role.SERVICE_ADMIN, None))
    with app.app_context():
        queue = ChatQueue(unit_id=library, name="Neuvonta", is_open=True, contact_email="neuvonta@kirjasto.example")
        db.session.add(queue)
        db.session.commit()
        queue_id = queue.id

    # The service admin lists the library's website and copies the snippet.
    admin = new_page()
    log_in(admin, "sirpa")
    admin.goto(f"/chat/admin/queues/{queue_id}")
    admin.get_by_label("Websites that may show the chat button (optional)").fill(origin)
    admin.get_by_role("button", name="Save").click()
    admin.goto(f"/chat/admin/queues/{queue_id}")
    assert_accessible(admin)
    snippet = admin.get_by_label("Code to paste into the website").input_value()
    assert snippet == f'<script src="{site_address}/chat/widget/{queue_id}.js" async></script>'
    page_address = publish("index.html", HOST_PAGE.replace(MARK, snippet))

    # Nobody serves: the button says so in the page's language, with the contact address.
    visitor = new_page()
    visitor.goto(page_address)
    button = visitor.get_by_role("button", name="Chattaa kirjaston kanssa")
    expect(button).to_contain_text("Ei paikalla")
    expect(visitor.get_by_role("link", name="neuvonta@kirjasto.example")).to_be_visible()
    assert_accessible(visitor)

    # An agent logs in to customer service: the button turns online by itself.
    aino = agent_page(new_page, "aino", "Neuvonta")
    aino.get_by_role("link", name="Neuvonta").click()
    expect(button).to_contain_text("Paikalla")
    expect(visitor.get_by_role("link", name="neuvonta@kirjasto.example")).to_be_hidden()

    # The panel opens with the join page of the queue, in Finnish; Escape closes it.
    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    panel = visitor.get_by_role("dialog", name="Chattaa kirjaston kanssa: Neuvonta")
    expect(panel).to_be_visible()
    chat = visitor.frame_locator("iframe.library-chat-frame")
    expect(chat.get_by_label("Nimesi")).to_be_visible()
    visitor.get_by_role("button", name="Sulje chat").focus()
    visitor.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(button).to_be_focused()
    button.click()
    expect(panel).to_be_visible()

    # The customer joins inside the frame; the agent sees them.
    chat.get_by_label("Nimesi").fill("Toni")
    chat.get_by_role("button", name="Liity jonoon").click()
    expect(chat.get_by_text("Olet seuraavana jonossa.")).to_be_visible()
    expect(aino.get_by_text("New customer!")).to_be_visible()
    expect(aino.locator(".chat-customer", has_text="Toni")).to_be_visible()
    frame = next(f for f in visitor.frames if f.url.startswith(site_address))
    assert not axe_violations(frame)

    # Escape inside the chat page closes the panel too, and the focus goes back to the button
    # (once the page's scripts run: its socket is up).
    expect(chat.locator("body[data-live=connected]")).to_have_count(1)
    chat.locator("#chat-body").press("Escape")
    expect(panel).to_be_hidden()
    expect(button).to_be_focused()


def test_a_site_that_is_not_listed_cannot_frame_the_chat(app, make_unit, new_page, library_website, site_address):
    origin, publish = library_website
    with app.app_context():
        queue = ChatQueue(unit_id=make_unit(), name="Kaukolainat", is_open=True)  # no websites listed
        db.session.add(queue)
        db.session.commit()
        queue_id = queue.id
    framing = f'<iframe title="Chat" src="{site_address}/chat/customer/?queue={queue_id}&amp;embed=1"></iframe>'
    page_address = publish("framing.html", HOST_PAGE.replace(MARK, framing))

    visitor = new_page()
    with visitor.expect_console_message(lambda m: "frame-ancestors 'none'" in m.text):
        visitor.goto(page_address)
    # Chromium shows its own error page in the frame instead: nothing of the chat page.
    assert not visitor.frames[1].url.startswith(site_address)
