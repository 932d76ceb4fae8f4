"""Registration in a real browser: the whole flow for a 14-year-old, live lists, axe on every state."""
import re
from datetime import date, timedelta

from playwright.sync_api import expect

from blueprints.accounts.models import Unit, UnitKind
from blueprints.registration import service
from blueprints.registration.demo import _customer, make_hetu
from blueprints.registration.models import Customer, CustomerStatus
from common.access import Role
from extensions import db
from tests.browser.conftest import assert_accessible, confirm, log_in, wait_until_live
from tests.conftest import library_today
from tests.registration.conftest import customer_details


def fourteen_year_old():
    today = library_today()
    born = today.replace(year=today.year - 15) + timedelta(days=1)  # 15 tomorrow
    return make_hetu(born, 321, "A")


def test_register_a_14_year_old_send_credentials_and_colleague_sees_it_live(make_unit, make_user, new_page,
                                                                            live_smtp_server):
    library = make_unit(name="Kallio Library")
    make_user("riikka", (Role.REGISTRAR, library))
    make_user("kaisa", (Role.REGISTRAR, library))
    colleague = new_page()
    log_in(colleague, "kaisa")
    colleague.goto(f"/registration/units/{library}")
    wait_until_live(colleague)
    colleague.evaluate("window.loadedOnce = true")

    page = new_page()
    log_in(page, "riikka")
    page.goto("/registration/")  # one unit: straight to it
    expect(page.get_by_role("heading", level=1)).to_contain_text("Kallio Library")
    code = fourteen_year_old()
    page.fill("#hetu", code)
    page.press("#hetu", "Enter")
    expect(page.locator("#check-result")).to_contain_text("is not registered")
    page.get_by_role("button", name="Add new customer").click()
    expect(page.locator("form.customer-form")).to_contain_text("under 15")

    # Saving without the consent is refused at the fields, values kept.
    page.fill("#first_name", "Eero")
    page.fill("#last_name", "Öhman")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#consent_given_by-error")).to_be_visible()
    expect(page.locator("#first_name")).to_have_value("Eero")
    assert_accessible(page)

    page.fill("#guardian_name", "Liisa Öhman")
    page.fill("#guardian_email", "liisa@example.fi")
    page.fill("#consent_given_by", "Liisa Öhman")
    page.fill("#consent_date", library_today().isoformat())
    page.fill("#consent_method", "signed form")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Eero Öhman")
    expect(page.locator(".flashes")).to_contain_text("The customer is registered")

    # The colleague's list shows the new customer without a reload.
    expect(colleague.locator("#customer-list")).to_contain_text("Öhman, Eero")
    assert colleague.evaluate("window.loadedOnce") is True

    page.select_option("#recipient", "guardian")
    page.get_by_role("button", name="Send credentials").click()
    expect(page.locator(".flashes")).to_contain_text("liisa@example.fi")
    mail = live_smtp_server.wait_for(1)[0]
    assert mail["To"] == "liisa@example.fi"
    assert re.search(r"/registration/credentials/\S+", mail.get_content())


def test_edit_in_place_and_show_the_full_code(make_unit, make_user, new_page, app):
    library = make_unit(name="Kallio Library")
    make_user("riikka", (Role.REGISTRAR, library))
    code = make_hetu(date(1980, 2, 3), 345)
    with app.test_request_context():
        cid = service.register_customer(db.session.get(Unit, library), code, customer_details()).id
    page = new_page()
    log_in(page, "riikka")
    page.goto(f"/registration/customers/{cid}")
    assert_accessible(page)
    page.get_by_role("button", name="Show the full code").click()
    expect(page.locator("#hetu-full")).to_have_text(code)
    page.get_by_role("button", name="Edit").click()
    page.fill("#phone", "040 765 4321")
    page.fill("#email", "broken")
    page.locator("#customer-details").get_by_role("button", name="Save").click()
    expect(page.locator("#email-error")).to_be_visible()
    assert_accessible(page)
    page.fill("#email", "aino@example.fi")
    page.locator("#customer-details").get_by_role("button", name="Save").click()
    expect(page.locator("#customer-details")).to_contain_text("040 765 4321")
    assert_accessible(page)


def test_every_check_outcome_and_page_passes_axe(make_unit, make_user, new_page, app):
    library = make_unit(name="Kallio Library")
    other = make_unit(name="Vallila Library")
    school = make_unit(name="Kallio School", kind=UnitKind.SCHOOL)
    make_user("riikka", (Role.REGISTRAR, library), (Role.REGISTRAR, school))
    make_user("sirpa", (Role.SERVICE_ADMIN, None))
    mine, elsewhere, marked = (make_hetu(date(1980, 1, 1) + timedelta(days=n), 100 + n) for n in range(3))
    with app.test_request_context():
        service.register_customer(db.session.get(Unit, library), mine,
                                  customer_details(review_date=library_today() - timedelta(days=3)))
        service.register_customer(db.session.get(Unit, other), elsewhere, customer_details(last_name="Toinen"))
        c = service.register_customer(db.session.get(Unit, other), marked, customer_details(last_name="Poistettava"))
        db.session.get(Customer, c.id).status = CustomerStatus.MARKED_FOR_DELETION
        db.session.commit()
    page = new_page()
    log_in(page, "riikka")
    page.goto("/registration/")
    assert_accessible(page)
    page.get_by_role("link", name="Kallio Library").click()
    assert_accessible(page)
    for code, expected in [("131052-308X", "check character"), (make_hetu(date(1999, 9, 9), 555), "not registered"),
                           (mine, "Already a customer"), (marked, "marked for deletion"),
                           (elsewhere, "Vallila Library")]:
        page.fill("#hetu", code)
        page.press("#hetu", "Enter")
        expect(page.locator("#check-result")).to_contain_text(expected)
        assert_accessible(page)
    page.fill("#hetu", marked)
    page.press("#hetu", "Enter")
    page.get_by_role("button", name="Ask the service to reactivate").click()
    expect(page.locator("#check-result")).to_contain_text("work list")
    assert_accessible(page)
    page.fill("#hetu", elsewhere)
    page.press("#hetu", "Enter")
    page.get_by_role("button", name="Transfer to my unit").click()
    confirm(page)  # the page's own dialog (static/js/confirm.js), not the browser's
    expect(page.locator(".flashes")).to_contain_text("transferred to Kallio Library")
    page.goto(f"/registration/units/{school}")
    page.fill("#hetu", make_hetu(date(1999, 9, 9), 555))
    page.get_by_role("button", name="Add new customer").click()
    expect(page.locator("form.customer-form")).to_be_visible()
    assert_accessible(page)
    page.goto("/registration/search")
    page.fill("#q", "aij")
    expect(page.locator("#search-results")).to_contain_text("Äijälä")
    assert "aij" not in page.url
    assert_accessible(page)
    page.goto("/registration/reviews")
    assert_accessible(page)

    admin = new_page()
    log_in(admin, "sirpa")
    admin.goto("/registration/admin")
    expect(admin.locator("main")).to_contain_text("Reactivate for Kallio Library")
    assert_accessible(admin)
    admin.goto("/registration/admin/without-hetu")
    assert_accessible(admin)
    admin.get_by_role("button", name="Save").click()
    expect(admin.locator("#first_name-error")).to_be_visible()
    assert_accessible(admin)


def test_set_password_page_passes_axe(new_page):
    page = new_page()
    page.goto("/registration/credentials/no-such-link")
    assert_accessible(page)


def test_the_code_is_checked_when_complete_or_left_and_a_pasted_code_is_trimmed(make_unit, make_user, new_page, app):
    from common.audit import AuditEvent

    library = make_unit(name="Kallio Library")
    make_user("riikka", (Role.REGISTRAR, library))
    page = new_page()
    log_in(page, "riikka")
    page.goto(f"/registration/units/{library}")

    def checks():
        with app.app_context():
            return db.session.scalar(db.select(db.func.count()).select_from(AuditEvent)
                                     .where(AuditEvent.action == "customer.hetu_checked"))

    # Typing: no check while the code is incomplete, one as the eleventh character comes.
    page.locator("#hetu").press_sequentially("131052-308", delay=30)
    page.wait_for_timeout(700)
    assert checks() == 0
    page.locator("#hetu").press_sequentially("T")
    expect(page.locator("#check-result")).to_contain_text("131052-308T is not registered")
    page.locator("#hetu").blur()
    page.wait_for_timeout(300)
    assert checks() == 1  # leaving the field after the check asks nothing more

    # Pasting with spaces around: trimmed before the length limit, and checked.
    page.locator("#hetu").fill("")
    page.evaluate("""() => { const field = document.querySelector('#hetu');
        field.value = ' 010101A123N '; field.dispatchEvent(new Event('input', {bubbles: true})); }""")
    expect(page.locator("#hetu")).to_have_value("010101A123N")
    expect(page.locator("#check-result")).to_contain_text("010101A123N is not registered")

    # A shorter code is checked on leaving the field.
    page.locator("#hetu").fill("13105")
    page.locator("#hetu").blur()
    expect(page.locator("#check-result")).to_contain_text("An identity code has 11 characters")
    assert_accessible(page)


def test_a_name_search_and_its_pages_keep_the_name_out_of_the_address(make_unit, make_user, new_page, app):
    library = make_unit(name="Kallio Library")
    make_user("riikka", (Role.REGISTRAR, library))
    with app.app_context():
        unit = db.session.get(Unit, library)
        for n in range(55):
            _customer(unit, make_hetu(date(1960, 1, 1) + timedelta(days=n), 200 + n), "Aino", f"Virtanen{n:02d}")
        db.session.commit()
    page = new_page()
    log_in(page, "riikka")
    addresses = []
    page.on("request", lambda request: addresses.append(request.url))
    page.goto("/registration/search")
    page.fill("#q", "virta")
    expect(page.locator("#search-results")).to_contain_text("55 found")
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#search-results")).to_contain_text("Virtanen54")
    expect(page.locator("#search-results")).to_contain_text("Page 2 of 2")
    page.get_by_role("button", name="Previous").click()
    expect(page.locator("#search-results")).to_contain_text("Virtanen00")
    assert not [url for url in addresses if "virta" in url.lower()]


def test_a_required_choice_is_marked_on_its_legends_line_and_an_optional_one_is_not(make_unit, make_user, new_page):
    library = make_unit(name="Kallio Library")
    make_user("riikka", (Role.REGISTRAR, library))
    page = new_page()
    log_in(page, "riikka")
    page.goto("/registration/")
    page.fill("#hetu", fourteen_year_old())
    page.press("#hetu", "Enter")
    page.get_by_role("button", name="Add new customer").click()
    for name in ("Service form", "Registered"):
        group = page.get_by_role("group", name=name, exact=True)  # the mark is not part of the group's name
        legend, mark = group.locator("legend"), group.locator("legend .required")
        expect(mark).to_have_count(1)
        legend_box, mark_box = legend.bounding_box(), mark.bounding_box()
        assert abs(mark_box["y"] - legend_box["y"]) < 4 and mark_box["height"] <= legend_box["height"], name
    expect(page.get_by_role("group", name="Who registers", exact=True).locator(".required")).to_have_count(0)
    assert_accessible(page)
