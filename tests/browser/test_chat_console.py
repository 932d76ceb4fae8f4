"""The chat pages run under the site's CSP with nothing blocked: no inline style or script that
the browser refuses (htmx is configured not to add any), nothing missing (the favicon)."""
from playwright.sync_api import expect

from blueprints.chat.models import ChatQueue
from common.access import Role
from extensions import db
from tests.browser.conftest import confirm
from tests.browser.test_chat_desk import agent_page
from tests.browser.test_chat_reliability import join


def watch_console(page):
    said = []
    page.on("console", lambda message: said.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: said.append(f"pageerror: {error}"))
    return said


def test_the_desk_and_the_customer_page_log_nothing_blocked(app, make_unit, make_user, new_page):
    library = make_unit()
    make_user("aino", (Role.CHAT_AGENT, library))
    with app.app_context():
        db.session.add(ChatQueue(unit_id=library, name="Neuvonta", is_open=True, waiting_message="Odota hetki"))
        db.session.commit()
    toni = new_page()
    customer_said = watch_console(toni)
    join(toni, "Toni")
    aino = agent_page(new_page, "aino", "Neuvonta")
    desk_said = watch_console(aino)
    aino.reload()
    aino.get_by_role("link", name="Neuvonta").click()
    aino.get_by_role("link", name="Toni").click()
    aino.get_by_role("button", name="Start text chat").click()
    confirm(aino)
    expect(toni.get_by_text("You are chatting with Aino.")).to_be_visible()
    aino.locator("#chat-body").fill("Hei Toni!")
    aino.locator("#chat-body").press("Enter")
    expect(toni.locator(".chat-line-agent")).to_contain_text("Hei Toni!")
    toni.reload()
    expect(toni.locator(".chat-line-agent")).to_contain_text("Hei Toni!")
    aino.get_by_role("link", name="Queue settings").click()
    expect(aino.get_by_label("Waiting message")).to_be_visible()
    aino.get_by_role("button", name="Transfer to another queue").click()
    aino.get_by_text("Email the transcript").click()
    aino.get_by_role("link", name="Internal chat").click()
    expect(aino.locator("#colleagues-heading")).to_be_visible()
    aino.go_back()
    aino.wait_for_timeout(500)

    assert [m for m in desk_said if m.startswith(("error", "warning", "pageerror"))] == []
    assert [m for m in customer_said if m.startswith(("error", "warning", "pageerror"))] == []
