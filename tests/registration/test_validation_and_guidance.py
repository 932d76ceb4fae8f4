"""Bad input answered at its field; the credentials section after an email change; what to do
without an identity code; how to reach the service; getting started and the welcome mail."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from blueprints.registration.models import Customer
from extensions import db
from tests.conftest import count, library_today
from tests.registration.conftest import ADULT, child_code, customer_fields, new_url


@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_a_name_of_spaces_only_is_refused_at_the_name_field_not_as_already_registered(client, auth, world, app, field):
    auth.login("reg")
    response = client.post(new_url(world),
                           data={**customer_fields(**{field: "   ", "phone": "040 123"}), 'hetu': ADULT})
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text and "already registered" not in response.text
    assert 'value="040 123"' in response.text
    assert count(app, Customer) == 0


def test_a_future_birth_date_without_identity_code_is_reported_at_the_birth_date_only(client, auth, world, app):
    auth.login("celia")
    future = (library_today() + timedelta(days=2)).isoformat()
    response = client.post("/registration/admin/without-hetu", data=customer_fields(unit=world["L"], birth_date=future))
    assert response.status_code == 422
    assert 'id="birth_date-error"' in response.text and "The date of birth is in the future." in response.text
    assert "consent is needed" not in response.text and 'id="consent_date-error"' not in response.text
    old = client.post("/registration/admin/without-hetu",
                      data=customer_fields(unit=world["L"], birth_date="1890-05-05"))
    assert old.status_code == 422 and 'id="birth_date-error"' in old.text and 'value="Aino"' in old.text
    assert count(app, Customer) == 0


def test_without_identity_code_a_consent_before_the_typed_birth_date_is_refused_at_it(client, auth, world, app):
    auth.login("celia")
    born = library_today() - timedelta(days=8 * 366)
    data = {**guardian_fields(unit=world["L"], birth_date=born.isoformat()),
            "consent_date": (born - timedelta(days=1)).isoformat()}
    response = client.post("/registration/admin/without-hetu", data=data)
    assert response.status_code == 422 and 'id="consent_date-error"' in response.text
    assert "before the customer was born" in response.text and 'value="Äiti Äijälä"' in response.text
    assert count(app, Customer) == 0


def guardian_fields(**extra):
    return customer_fields(guardian_name="Äiti Äijälä", guardian_email="aiti@example.fi",
                           consent_given_by="Äiti Äijälä",
                           consent_date=library_today().isoformat(), consent_method="paperilla", **extra)


@pytest.mark.parametrize(("change", "field"), [
    ({"consent_date": (library_today() + timedelta(days=1)).isoformat()}, "consent_date"),
    ({"consent_date": "1950-01-01"}, "consent_date"),
    ({"consent_date": (library_today() - timedelta(days=13 * 366)).isoformat()}, "consent_date"),  # before the birth
    ({"review_date": (library_today() + timedelta(days=4000)).isoformat()}, "review_date"),
    ({"review_date": "1999-12-31"}, "review_date"),
])
def test_consent_and_review_dates_have_sane_bounds(client, auth, world, app, change, field):
    auth.login("reg")
    data = guardian_fields()
    data.update(change)
    response = client.post(new_url(world), data={**data, 'hetu': child_code(12)})
    assert response.status_code == 422 and f'id="{field}-error"' in response.text
    assert 'value="Äiti Äijälä"' in response.text
    assert count(app, Customer) == 0
    data.update(consent_date=library_today().isoformat(),
                review_date=(library_today() + timedelta(days=200)).isoformat())
    assert client.post(new_url(world), data={**data, 'hetu': child_code(12)}).status_code == 302


def test_a_consent_given_today_is_dated_by_the_librarys_calendar_not_the_servers(client, auth, world, app,
                                                                                 a_zone_on_another_day):
    today = a_zone_on_another_day
    auth.login("reg")
    tomorrow = {**guardian_fields(), "consent_date": (today + timedelta(days=1)).isoformat(), "hetu": child_code(12)}
    refused = client.post(new_url(world), data=tomorrow)
    assert refused.status_code == 422 and 'id="consent_date-error"' in refused.text
    assert count(app, Customer) == 0
    given_today = {**tomorrow, "consent_date": today.isoformat()}
    assert client.post(new_url(world), data=given_today).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Customer.consent_date)) == today


def test_the_credentials_section_follows_an_email_change(client, auth, world, app, add_customer):
    cid = add_customer(world["L"], email="")
    auth.login("reg")
    page = client.get(f"/registration/customers/{cid}").text
    assert "No email address yet" in page
    with app.app_context():
        fields = customer_fields(email="aino.uusi@example.fi")
    answer = client.post(f"/registration/customers/{cid}/edit", data=fields, headers={"HX-Request": "true"})
    assert answer.status_code == 200
    oob = answer.text.split('id="credentials"')[1]
    assert oob.split(">")[0].endswith('hx-swap-oob="true"')
    assert "aino.uusi@example.fi" in oob and "No email address yet" not in oob
    second = client.post(f"/registration/customers/{cid}/edit", data=customer_fields(email="toinen@example.fi"),
                         headers={"HX-Request": "true"})
    oob = second.text.split('id="credentials"')[1]
    assert "toinen@example.fi" in oob and "aino.uusi@example.fi" not in oob


def test_the_check_page_tells_what_to_do_without_an_identity_code_with_the_configured_form(client, auth, world, app):
    app.config["CELIA_CUSTOMER_FORM_URL"] = "https://forms.example.fi/asiakastieto"
    try:
        auth.login("reg")
        page = client.get(f"/registration/units/{world['L']}").text
    finally:
        app.config["CELIA_CUSTOMER_FORM_URL"] = "https://www.celianet.fi/lomakkeet/#asiakastietolomake"
    assert "The person has no Finnish identity code?" in page
    assert 'href="https://forms.example.fi/asiakastieto"' in page and 'href="https://turvaviesti.celia.fi/"' in page
    # the service admin's path stays the admin's
    assert client.get("/registration/admin/without-hetu").status_code == 403


def test_a_stuck_registrar_is_told_the_service_chat_queue_and_email(client, auth, world, app, make_user, add_customer):
    from blueprints.accounts.models import User
    from blueprints.registration.models import CustomerStatus
    from common.clock import utcnow

    app.config["CELIA_SERVICE_CHAT_QUEUE"] = 42
    contacts = ('href="/chat/customer/?queue=42"', 'href="mailto:palvelut@celia.fi"')
    try:
        auth.login("reg")
        page = client.get(f"/registration/units/{world['L']}").text
        assert all(contact in page for contact in contacts)
        # A customer marked for deletion (their page is the service's): the check's answer says whom to ask.
        cid = add_customer(world["L"])
        with app.app_context():
            db.session.get(Customer, cid).status = CustomerStatus.MARKED_FOR_DELETION
            db.session.commit()
        check = client.post(f"/registration/units/{world['L']}/check", data={"hetu": ADULT}).text
        assert "marked for deletion" in check and all(contact in check for contact in contacts)
        auth.logout()
        with app.app_context():
            user = db.session.scalar(select(User).where(User.username == "colleague"))
            user.locked_at = utcnow()
            db.session.commit()
        locked = client.post("/login", data={"username": "colleague", "password": "correct-horse-battery-9"})
        assert "locked" in locked.text and 'href="mailto:palvelut@celia.fi"' in locked.text
        assert 'href="/chat/customer/?queue=42"' in locked.text
        # Whoever's account it is (the page does not say), the contact says whom it is for.
        assert "Registering Celia customers?" in locked.text
        assert "Other staff: ask your own service admin." in locked.text
        wrong = client.post("/login", data={"username": "reg", "password": "wrong-password-1"})
        assert "palvelut@celia.fi" not in wrong.text
    finally:
        app.config["CELIA_SERVICE_CHAT_QUEUE"] = 0


def test_a_cd_borrowers_page_says_how_to_ask_the_service_for_net_use(client, auth, world, add_customer):
    cid = add_customer(world["L"], service_form="cd")
    auth.login("reg")
    page = client.get(f"/registration/customers/{cid}").text
    assert "Only the service can change a CD borrower into a net user." in page
    assert 'href="mailto:palvelut@celia.fi"' in page.split("Only the service can change")[1]


def test_the_service_chat_link_opens_the_join_form_on_that_queue(client, app, make_unit):
    from blueprints.chat.models import ChatQueue

    unit = make_unit(name="Celia")
    with app.app_context():
        queues = [ChatQueue(unit_id=unit, name=name, is_open=True) for name in ("Celia", "Neuvonta")]
        db.session.add_all(queues)
        db.session.commit()
        neuvonta = queues[1].id
    page = client.get(f"/chat/customer/?queue={neuvonta}").text
    assert f'<option selected value="{neuvonta}">Neuvonta</option>' in page
    assert f'<option selected value="{neuvonta}">' not in client.get("/chat/customer/").text


def test_after_saving_the_page_shows_the_next_steps_and_the_welcome_mail_is_scheduled(client, auth, world, app,
                                                                                      smtp_server):
    from common.clock import utcnow
    from common.mail import OutboxMail, deliver_due

    auth.login("reg")
    page = client.post(new_url(world), data={**customer_fields(), 'hetu': ADULT}, follow_redirects=True).text
    assert "Getting started" in page and "help the customer start borrowing and listening" in page
    assert "book tips" in page and "welcome email in about two weeks" in page
    with app.app_context():
        welcome = db.session.scalar(select(OutboxMail).where(OutboxMail.subject == "Tervetuloa Celiaan"))
        assert welcome.recipient == "aino@example.fi" and welcome.status == "pending"
        assert timedelta(days=13, hours=23) < welcome.next_attempt_at - utcnow() <= timedelta(days=14)
        assert deliver_due() == 0  # not due yet: the delivery loop leaves it
        assert db.session.get(OutboxMail, welcome.id).status == "pending"
        assert deliver_due(now=utcnow() + timedelta(days=14, minutes=1)) == 1
        db.session.expire_all()
        assert db.session.get(OutboxMail, welcome.id).status == "sent"
    message = smtp_server.wait_for(1)[0]
    assert message["To"] == "aino@example.fi" and "tervetuloa Celian asiakkaaksi" in message.get_content()


def test_a_net_customer_without_an_address_gets_the_steps_but_no_welcome_mail(client, auth, world, app):
    from common.mail import OutboxMail

    auth.login("reg")
    page = client.post(new_url(world), data={**customer_fields(email=""), 'hetu': ADULT}, follow_redirects=True).text
    assert "Getting started" in page and "help the customer start borrowing and listening" in page
    assert "welcome email" not in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMail)) == 0


def test_a_cd_borrower_gets_no_welcome_mail_and_no_getting_started_steps(client, auth, world, app):
    from common.mail import OutboxMail

    auth.login("reg")
    page = client.post(new_url(world), data={**customer_fields(service_form="cd"), 'hetu': ADULT},
                       follow_redirects=True).text
    assert "Getting started" not in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMail)) == 0


def test_an_address_added_later_schedules_the_welcome_mail_for_its_usual_day(client, auth, world, app, add_customer):
    from common.mail import OutboxMail

    cid = add_customer(world["L"], email="")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMail)) == 0
        registered = db.session.get(Customer, cid).created_at
    auth.login("reg")
    client.post(f"/registration/customers/{cid}/edit", data=customer_fields(email="aino@example.fi"),
                headers={"HX-Request": "true"})
    client.post(f"/registration/customers/{cid}/edit", data=customer_fields(email="aino2@example.fi"),
                headers={"HX-Request": "true"})
    with app.app_context():
        mails = db.session.scalars(select(OutboxMail)).all()
        # Scheduled once, not on every change; due on its usual day, to the address the customer has now.
        assert [m.recipient for m in mails] == ["aino2@example.fi"]
        assert mails[0].next_attempt_at == registered + timedelta(days=14)


def test_the_welcome_mail_follows_the_customers_address_and_language_until_it_is_sent(client, auth, world, app,
                                                                                      add_customer, smtp_server):
    """Seed 000: the registrar saves their own email first, then changes it to the customer's."""
    from common.clock import utcnow
    from common.mail import OutboxMail, deliver_due

    cid = add_customer(world["L"], email="kirjasto@example.fi")
    auth.login("reg")
    client.post(f"/registration/customers/{cid}/edit", data=customer_fields(email="aino@example.fi", language="sv"),
                headers={"HX-Request": "true"})
    with app.app_context():
        assert deliver_due(now=utcnow() + timedelta(days=14, minutes=1)) == 1
    message = smtp_server.wait_for(1)[0]
    assert message["To"] == "aino@example.fi" and message["Subject"] == "Välkommen till Celia"
    # Sent: a later change of address leaves the sent mail as it was.
    client.post(f"/registration/customers/{cid}/edit", data=customer_fields(email="uusi@example.fi"),
                headers={"HX-Request": "true"})
    with app.app_context():
        welcome = db.session.scalar(select(OutboxMail))
        assert (welcome.status, welcome.recipient) == ("sent", "aino@example.fi")


@pytest.mark.parametrize("stop", ["end", "mark"])
def test_no_welcome_mail_after_the_customership_ended_or_the_customer_was_marked_for_deletion(client, auth, world, app,
                                                                                              add_customer, stop):
    from common.clock import utcnow
    from common.mail import OutboxMail, deliver_due

    cid = add_customer(world["L"], email="aino@example.fi")
    if stop == "end":
        auth.login("reg")
        assert client.post(f"/registration/customers/{cid}/end").status_code == 302
    else:
        auth.login("celia")
        assert client.post(f"/registration/admin/customers/{cid}/mark-for-deletion").status_code == 302
    with app.app_context():
        assert deliver_due(now=utcnow() + timedelta(days=14, minutes=1)) == 0
        assert db.session.scalar(select(OutboxMail)).status == "cancelled"


def test_a_customer_reactivated_in_time_gets_the_welcome_mail_after_all(client, auth, world, app, add_customer,
                                                                        smtp_server):
    from common.clock import utcnow
    from common.mail import OutboxMail, deliver_due

    cid = add_customer(world["L"], email="aino@example.fi")
    auth.login("celia")
    client.post(f"/registration/admin/customers/{cid}/mark-for-deletion")
    assert client.post(f"/registration/admin/customers/{cid}/reactivate").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(OutboxMail)).status == "pending"
        assert deliver_due(now=utcnow() + timedelta(days=14, minutes=1)) == 1
    assert smtp_server.wait_for(1)[0]["To"] == "aino@example.fi"
