"""Production runs several server processes joined by Redis: an event raised in one
process reaches browsers connected to another."""
from playwright.sync_api import expect

from common.access import Role
from tests.browser.conftest import log_in, needs_redis, wait_until_live


@needs_redis
def test_a_notice_published_on_one_process_reaches_a_browser_on_another(browser, two_servers, make_unit, make_user):
    library = make_unit()
    make_user("sirpa", (Role.SERVICE_ADMIN, None))
    make_user("riikka", (Role.REGISTRAR, library))
    reader = browser.new_context(base_url=two_servers[0]).new_page()
    admin = browser.new_context(base_url=two_servers[1]).new_page()
    try:
        log_in(reader, "riikka")
        wait_until_live(reader)
        log_in(admin, "sirpa")
        admin.goto("/admin/notices")
        admin.fill("#text", "Published on the other process")
        admin.click("button[type=submit].primary")
        expect(reader.locator(".notice-banner")).to_contain_text("Published on the other process")
    finally:
        reader.context.close()
        admin.context.close()
