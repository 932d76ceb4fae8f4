"""Seeds 000 and 001 in a browser: change the email first, then send; the getting-started steps after
saving; a registrar who is stuck reaches the service."""
from playwright.sync_api import expect

from blueprints.accounts.models import Unit
from blueprints.registration import service
from common.access import Role
from extensions import db
from tests.browser.conftest import assert_accessible, log_in
from tests.registration.conftest import ADULT, customer_details


def test_change_the_email_first_then_send_the_credentials_to_it(app, make_unit, make_user, new_page, live_smtp_server):
    library = make_unit(name="Kallio Library")
    make_user("riikka", (Role.REGISTRAR, library), email="riikka@kirjasto.example.fi")
    with app.test_request_context():
        customer = service.register_customer(db.session.get(Unit, library), ADULT, customer_details(email=""))
        customer_id = customer.id
    page = new_page()
    log_in(page, "riikka")
    page.goto(f"/registration/customers/{customer_id}")
    expect(page.locator("#credentials")).to_contain_text("No email address yet")
    # The steps, but no welcome mail to wait for without an address.
    expect(page.locator(".getting-started")).to_contain_text("help the customer start borrowing")
    expect(page.locator(".getting-started")).not_to_contain_text("welcome email")

    # The registrar first sends them to their own address.
    page.locator("#edit-button").click()
    page.fill("#email", "riikka@kirjasto.example.fi")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#recipient")).to_contain_text("riikka@kirjasto.example.fi")
    expect(page.locator("#credentials")).not_to_contain_text("No email address yet")
    page.reload()  # with an address, the welcome mail is on its way: the steps say when
    expect(page.locator(".getting-started")).to_contain_text("welcome email in about two weeks")

    # Later: the email is changed to the customer's, and the drop-down follows without a reload.
    page.locator("#edit-button").click()
    page.fill("#email", "aino@example.fi")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#recipient")).to_contain_text("aino@example.fi")
    expect(page.locator("#recipient")).not_to_contain_text("riikka@kirjasto.example.fi")
    assert_accessible(page)
    page.get_by_role("button", name="Send credentials").click()
    expect(page.locator(".flashes")).to_contain_text("aino@example.fi")
    message = live_smtp_server.wait_for(1)[0]
    assert message["To"] == "aino@example.fi"


def test_a_registrar_stuck_on_a_customer_marked_for_deletion_reaches_the_service_chat(app, live_app, make_unit,
                                                                                      make_user, new_page):
    from blueprints.chat.models import ChatQueue
    from blueprints.registration.models import CustomerStatus

    library, celia = make_unit(name="Kallio Library"), make_unit(name="Celia")
    make_user("riikka", (Role.REGISTRAR, library))
    with app.test_request_context():
        customer = service.register_customer(db.session.get(Unit, library), ADULT, customer_details())
        customer.status = CustomerStatus.MARKED_FOR_DELETION
        queue = ChatQueue(unit_id=celia, name="Celia-asiakaspalvelu", is_open=True)
        db.session.add(queue)
        db.session.commit()
        live_app.config["CELIA_SERVICE_CHAT_QUEUE"] = queue.id
    try:
        page = new_page()
        log_in(page, "riikka")
        page.goto(f"/registration/units/{library}")
        page.fill("#hetu", ADULT)
        result = page.locator("#check-result")
        expect(result).to_contain_text("marked for deletion")
        expect(result.get_by_role("link", name="palvelut@celia.fi")).to_have_attribute("href",
                                                                                       "mailto:palvelut@celia.fi")
        assert_accessible(page)
        result.get_by_role("link", name="chat with the service").click()
        expect(page.locator("select#queue option:checked")).to_have_text("Celia-asiakaspalvelu")
    finally:
        live_app.config["CELIA_SERVICE_CHAT_QUEUE"] = 0
