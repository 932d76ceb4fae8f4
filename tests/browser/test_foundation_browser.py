import re

from playwright.sync_api import expect

from common.access import Role
from tests.browser.conftest import assert_accessible, log_in, wait_until_live


def test_login_shows_the_navigation_for_my_roles(make_unit, make_user, new_page):
    library = make_unit()
    make_user("riikka", (Role.REGISTRAR, library))
    page = new_page()
    log_in(page, "riikka")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Celia registration")).to_be_visible()
    expect(nav.get_by_role("link", name="Chat queue")).to_have_count(0)


def test_wrong_password_keeps_username_and_says_so(make_user, new_page):
    make_user("riikka")
    page = new_page()
    page.goto("/login")
    page.fill("#username", "riikka")
    page.fill("#password", "not the password at all")
    page.click("button[type=submit].primary")
    expect(page.get_by_role("alert")).to_contain_text("Wrong username or password.")
    expect(page.locator("#username")).to_have_value("riikka")
    expect(page.locator("#password")).to_have_value("")


def test_a_published_notice_appears_in_another_browser_without_reload(make_unit, make_user, new_page):
    library = make_unit()
    make_user("sirpa", (Role.SERVICE_ADMIN, None))
    make_user("riikka", (Role.REGISTRAR, library))
    reader = new_page()
    log_in(reader, "riikka")
    wait_until_live(reader)
    reader.evaluate("window.loadedOnce = true")  # gone if the page reloads

    admin = new_page()
    log_in(admin, "sirpa")
    admin.goto("/admin/notices")
    admin.fill("#text", "Celianet is down for maintenance until 14:00.")
    admin.click("button[type=submit].primary")

    banner = reader.locator(".notice-banner")
    expect(banner).to_contain_text("Celianet is down for maintenance until 14:00.")
    assert reader.evaluate("window.loadedOnce") is True

    admin.goto("/admin/notices")
    admin.get_by_role("button", name="End now").click()
    expect(banner).to_have_count(0)


def test_a_notice_for_the_registration_area_reaches_its_pages_live_and_not_the_ebook_counters(make_unit, make_user,
                                                                                              new_page):
    from blueprints.accounts.models import UnitKind

    library = make_unit()
    branch = make_unit(UnitKind.BRANCH, name="Gieten", branch_code="9428")
    make_user("sirpa", (Role.SERVICE_ADMIN, None))
    make_user("both", (Role.REGISTRAR, library), (Role.COUNTER_STAFF, branch))
    registration, counter = new_page(), new_page()
    log_in(registration, "both")
    registration.goto("/registration/", wait_until="load")
    wait_until_live(registration)
    log_in(counter, "both")
    counter.goto("/ebook/")
    wait_until_live(counter)

    admin = new_page()
    log_in(admin, "sirpa")
    admin.goto("/admin/notices")
    admin.fill("#text", "Celianet is down for maintenance until 14:00.")
    admin.get_by_label("Celia registration").check()
    # The counter page hears the same event and re-reads its banner for its own area.
    with counter.expect_response(lambda r: "/notices/banner" in r.url and "area=ebook" in r.url) as banner_read:
        admin.click("button[type=submit].primary")

    expect(registration.locator(".notice-banner")).to_contain_text("Celianet is down")
    assert banner_read.value.ok
    expect(counter.locator(".notice-banner")).to_have_count(0)
    counter.reload()
    expect(counter.locator(".notice-banner")).to_have_count(0)


def test_every_page_in_the_navigation_passes_axe(make_unit, make_user, new_page):
    library = make_unit()
    make_user("sirpa", (Role.SERVICE_ADMIN, None), (Role.MAIN_USER, library))
    page = new_page()
    page.goto("/login")
    assert_accessible(page)
    page.goto("/password/forgot")
    assert_accessible(page)
    log_in(page, "sirpa")
    assert_accessible(page)
    links = page.get_by_role("navigation", name="Main").get_by_role("link")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert len(hrefs) >= 8
    for href in hrefs + ["/password", "/admin/users/new", "/admin/units/new", "/no-such-page"]:
        page.goto(href)
        assert_accessible(page)


def test_keyboard_alone_reaches_login(make_user, new_page):
    make_user("riikka")
    page = new_page()
    page.goto("/login")
    expect(page.locator("#username")).to_be_focused()  # autofocus: typing can start at once
    page.keyboard.type("riikka")
    page.keyboard.press("Tab")
    page.keyboard.type("correct-horse-battery-9")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/$"))
