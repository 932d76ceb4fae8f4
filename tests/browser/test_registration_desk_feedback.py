"""What staff missed when they tried the registration (issue 25), in a real browser: where the
new-customer form starts and what it marks required, a code typed again after clearing the field,
the service's contact once on a marked result, a transfer to a school, and the history's filter."""
import pytest
from playwright.sync_api import expect

from blueprints.accounts.models import Unit, UnitKind
from blueprints.registration import service
from blueprints.registration.models import CustomerStatus
from common.access import Role
from extensions import db
from tests.browser.conftest import assert_accessible, confirm, log_in
from tests.registration.conftest import ADULT, child_code, customer_details

FINNISH = {"add": "Lisää uusi asiakas", "not_registered": "ei ole rekisteröity", "save": "Tallenna",
           "contact": "Ota yhteyttä Celian asiakaspalveluun", "marked": "poistettavaksi merkityllä asiakkaalla"}
ENGLISH = {"add": "Add new customer", "not_registered": "is not registered", "save": "Save",
           "contact": "Contact Celia's customer service", "marked": "marked for deletion"}


def register(app, unit_id, code=ADULT, **extra):
    with app.test_request_context():
        return service.register_customer(db.session.get(Unit, unit_id), code, customer_details(**extra)).id


@pytest.mark.parametrize("language, text", [("fi", FINNISH), ("en", ENGLISH)])
def test_the_new_customer_form_starts_in_its_first_field_with_the_guardians_required_fields_marked(
        make_unit, make_user, new_page, language, text):
    library = make_unit(name="Kallio Library")
    make_user("riikka", (Role.REGISTRAR, library), language=language)
    page = new_page(locale=language)
    log_in(page, "riikka")
    page.goto(f"/registration/units/{library}")
    page.fill("#hetu", child_code(14))
    expect(page.locator("#check-result")).to_contain_text(text["not_registered"])
    page.get_by_role("button", name=text["add"]).click()
    # The keyboard starts in the form, not in the header's links.
    expect(page.locator("#first_name")).to_be_focused()
    for name in ("guardian_name", "consent_given_by", "consent_date", "consent_method"):
        field = page.locator(f"#{name}")
        expect(field).to_have_attribute("required", "")
        expect(page.locator(".field", has=field).locator(".required")).to_be_visible()
    assert_accessible(page)
    page.keyboard.type("Eero")
    page.get_by_role("button", name=text["save"]).click()
    expect(page.locator("#consent_method-error")).to_be_visible()
    expect(page.locator("#first_name")).to_have_value("Eero")
    assert_accessible(page)


def test_a_code_cleared_and_typed_again_is_checked_again(make_unit, make_user, new_page):
    library = make_unit(name="Kallio Library")
    make_user("riikka", (Role.REGISTRAR, library))
    page = new_page()
    log_in(page, "riikka")
    page.goto(f"/registration/units/{library}")
    field = page.locator("#hetu")
    with page.expect_response(lambda r: r.url.endswith("/check")):
        field.press_sequentially(ADULT)
    expect(page.locator("#check-result")).to_contain_text("is not registered")
    field.fill("")
    with page.expect_response(lambda r: r.url.endswith("/check")) as answer:
        field.press_sequentially(ADULT)
    assert answer.value.status == 200 and "is not registered" in answer.value.text()
    expect(page.locator("#check-result")).to_contain_text("is not registered")


@pytest.mark.parametrize("language, text", [("fi", FINNISH), ("en", ENGLISH)])
def test_a_marked_result_names_the_service_once(app, live_app, make_unit, make_user, new_page, language, text):
    from blueprints.chat.models import ChatQueue

    library, celia = make_unit(name="Kallio Library"), make_unit(name="Celia")
    make_user("riikka", (Role.REGISTRAR, library), language=language)
    customer = register(app, library)
    with app.app_context():
        db.session.get(service.Customer, customer).status = CustomerStatus.MARKED_FOR_DELETION
        queue = ChatQueue(unit_id=celia, name="Celian asiakaspalvelu", is_open=True)
        db.session.add(queue)
        db.session.commit()
        live_app.config["CELIA_SERVICE_CHAT_QUEUE"] = queue.id
    try:
        page = new_page(locale=language)
        log_in(page, "riikka")
        page.goto(f"/registration/units/{library}")
        contact = page.locator(".reach-service:visible")
        expect(contact).to_have_count(1)
        page.fill("#hetu", ADULT)
        expect(page.locator("#check-result")).to_contain_text(text["marked"])
        expect(page.locator("#check-result .reach-service")).to_contain_text(text["contact"])
        expect(contact).to_have_count(1)
        expect(page.get_by_text(text["contact"])).to_have_count(2)  # one of them hidden
        assert_accessible(page)
        # Another code's answer names no contact: the page's own line is back.
        page.fill("#hetu", child_code(20))
        expect(page.locator("#check-result")).to_contain_text(text["not_registered"])
        expect(contact).to_have_count(1)
        expect(page.locator(".check > .reach-service")).to_be_visible()
    finally:
        live_app.config["CELIA_SERVICE_CHAT_QUEUE"] = 0


def test_a_transfer_to_a_school_asks_for_a_basis_the_school_uses(app, make_unit, make_user, new_page):
    library, school = make_unit(name="Vallila Library"), make_unit(UnitKind.SCHOOL, name="Kallio School")
    make_user("kaisa", (Role.REGISTRAR, school))
    register(app, library)
    page = new_page()
    log_in(page, "kaisa")
    page.goto(f"/registration/units/{school}")
    page.fill("#hetu", ADULT)
    expect(page.locator("#check-result")).to_contain_text("Vallila Library")
    basis = page.get_by_label("Basis for service in Kallio School")
    expect(basis.locator("option")).to_have_text(["Choose…", "Special support at school",
                                                  "Intensified support at school"])
    assert_accessible(page)
    page.get_by_role("button", name="Transfer to my unit").click()
    confirm(page)
    expect(page.locator("#basis-error")).to_contain_text("Choose the basis for service")
    expect(page.locator("#hetu")).to_have_value(ADULT)
    assert_accessible(page)
    page.get_by_label("Basis for service in Kallio School").select_option("intensified_support")
    page.get_by_role("button", name="Transfer to my unit").click()
    confirm(page)
    expect(page.locator(".flashes")).to_contain_text("transferred to Kallio School")
    expect(page.locator(".details")).to_contain_text("Intensified support at school")


def test_the_history_shows_the_changes_and_the_views_on_request(app, make_unit, make_user, new_page):
    library = make_unit(name="Kallio Library")
    make_user("riikka", (Role.REGISTRAR, library))
    customer = register(app, library)
    page = new_page()
    log_in(page, "riikka")
    page.goto(f"/registration/customers/{customer}")
    page.reload()
    history = page.locator("ul.history")
    expect(history).to_contain_text("registered")
    expect(history).not_to_contain_text("viewed")
    assert_accessible(page)
    page.get_by_role("link", name="Show views and code checks too (2)").click()
    expect(history).to_contain_text("viewed")
    expect(history.locator("li")).to_have_count(4)  # three views and the registration
    assert_accessible(page)
    page.get_by_role("link", name="Show changes only").click()
    expect(history.locator("li")).to_have_count(1)
