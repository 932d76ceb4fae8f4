"""Integration tests: each step of the registrar's flow and each problem case."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from blueprints.registration.demo import make_hetu
from blueprints.registration.models import CredentialLink, Customer, CustomerStatus
from common.access import Role
from common.refusals import Conflict
from extensions import db
from tests.conftest import audited, count, library_today
from tests.registration.conftest import ADULT, child_code, customer_fields, new_url

# --- 1. choosing the unit -------------------------------------------------------------


def test_a_registrar_of_two_units_chooses_among_their_own(client, auth, world):
    auth.login("reg")
    page = client.get("/registration/").text
    assert "Library L" in page and "School S" in page and "Library L2" not in page


def test_a_registrar_of_one_unit_goes_straight_to_it(client, auth, world):
    auth.login("colleague")
    response = client.get("/registration/")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/units/{world['L']}")


# --- 2. the identity-code check -----------------------------------------------------------


def check(client, unit_id, code):
    return client.post(f"/registration/units/{unit_id}/check", data={"hetu": code}, headers={"HX-Request": "true"})


def test_check_of_an_invalid_code_says_what_is_wrong(client, auth, world):
    auth.login("reg")
    assert "check character does not match" in check(client, world["L"], "131052-308X").text
    assert "does not exist" in check(client, world["L"], "311352-308T").text
    assert "format is wrong" in check(client, world["L"], "1310523-08T").text


def test_a_check_sent_before_the_pages_scripts_ran_answers_with_the_whole_page(client, auth, world):
    auth.login("reg")
    # Enter at once on a slow machine: the form goes as a plain POST, not through htmx.
    page = client.post(f"/registration/units/{world['L']}/check", data={"hetu": "131052-308X"}).text
    assert "<h1>" in page and 'id="check-result"' in page
    assert "check character does not match" in page.split('id="check-result"', 1)[1]
    assert 'value="131052-308X"' in page


def test_check_of_an_unregistered_code_offers_the_form_with_the_code(client, auth, world):
    auth.login("reg")
    page = check(client, world["L"], ADULT.lower()).text
    assert "is not registered" in page and "Add new customer" in page
    assert f'name="hetu" value="{ADULT}"' in page and "start" in page


def test_check_of_my_customer_links_to_it(client, auth, world, add_customer):
    cid = add_customer(world["L"])
    auth.login("reg")
    assert f"/registration/customers/{cid}" in check(client, world["L"], ADULT).text


def test_check_of_another_units_customer_shows_only_the_unit_name(client, auth, world, add_customer):
    add_customer(world["L2"])
    auth.login("reg")
    page = check(client, world["L"], ADULT).text
    assert "Library L2" in page and "Transfer to my unit" in page
    assert "Äijälä" not in page and "aino@example.fi" not in page and "/customers/" not in page
    assert "data-confirm" in page


def test_check_of_a_customer_marked_for_deletion_explains_and_offers_a_request(client, auth, world, add_customer, app):
    cid = add_customer(world["L2"])
    with app.app_context():
        db.session.get(Customer, cid).status = CustomerStatus.MARKED_FOR_DELETION
        db.session.commit()
    auth.login("reg")
    page = check(client, world["L"], ADULT).text
    assert "marked for deletion" in page and "Only a service admin can reactivate" in page
    response = client.post(f"/registration/units/{world['L']}/reactivation-request", data={"hetu": ADULT})
    assert response.status_code == 200 and "work list" in response.text
    auth.logout()
    auth.login("celia")
    assert "Reactivate for Library L" in client.get("/registration/admin").text


def test_every_check_is_audited_with_the_unit(client, auth, world, app):
    auth.login("reg")
    check(client, world["L"], ADULT)
    events = audited(app, "customer.hetu_checked")
    assert len(events) == 1 and events[0].unit_id == world["L"] and ADULT not in str(events[0].detail)


def test_a_registrar_cannot_check_for_a_unit_not_theirs(client, auth, world):
    auth.login("other")
    assert check(client, world["L"], ADULT).status_code == 404


# --- 3. adding a customer -----------------------------------------------------------------------


def open_form(client, world, code, unit="L"):
    """The check's "Add new customer" button: a POST with the code, never a URL with it."""
    return client.post(new_url(world, unit), data={"hetu": code, "start": "1"})


def test_adding_an_adult_shows_the_new_customer_page(client, auth, world, app):
    auth.login("reg")
    form = open_form(client, world, ADULT).text
    assert "Urgent messages to Celia do not belong here" in form
    assert "Guardian" not in form
    response = client.post(new_url(world), data=customer_fields(hetu=ADULT), follow_redirects=True)
    assert response.status_code == 200 and "The customer is registered" in response.text
    assert ADULT[:7] + "***" + ADULT[10] in response.text and ADULT not in response.text
    with app.app_context():
        customer = db.session.scalar(select(Customer))
        assert customer.hetu_hash and ADULT not in (customer.hetu_encrypted or "")


def test_the_code_is_never_stored_in_plain_text(client, auth, world, app, add_customer):
    add_customer(world["L"])
    with app.app_context():
        row = db.session.execute(select(Customer.__table__)).one()
        assert all(ADULT not in str(value) for value in row)


def test_under_15_without_consent_is_refused_at_the_fields(client, auth, world, app):
    auth.login("reg")
    code = child_code(14)
    assert "under 15" in open_form(client, world, code).text
    response = client.post(new_url(world), data=customer_fields(hetu=code, first_name="Keeping"))
    assert response.status_code == 422
    assert 'id="guardian_name-error"' in response.text and 'id="consent_date-error"' in response.text
    assert 'value="Keeping"' in response.text
    assert count(app, Customer) == 0


def test_under_15_with_consent_is_saved(client, auth, world, app):
    auth.login("reg")
    data = customer_fields(guardian_name="Liisa", guardian_email="liisa@example.fi", consent_given_by="Liisa",
                           consent_date="2026-11-01", consent_method="signed form")
    assert client.post(new_url(world), data={"hetu": child_code(14), **data}).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Customer)).registered_by == "guardian"


def test_15_to_17_asks_who_registers(client, auth, world, app):
    auth.login("reg")
    code = child_code(16)
    assert "Who registers" in open_form(client, world, code).text
    assert client.post(new_url(world), data={"hetu": code, **customer_fields()}).status_code == 422
    assert client.post(new_url(world), data={"hetu": code, **customer_fields(registered_by="self")}).status_code == 302
    assert count(app, Customer) == 1


def test_malformed_email_and_too_long_name_are_refused(client, auth, world, app):
    auth.login("reg")
    response = client.post(new_url(world), data=customer_fields(hetu=ADULT, email="not-an-email", last_name="x" * 81))
    assert response.status_code == 422
    assert 'id="email-error"' in response.text and 'id="last_name-error"' in response.text
    assert count(app, Customer) == 0


def test_a_future_birth_date_never_reaches_the_form(client, auth, world, app):
    auth.login("reg")
    future = make_hetu(library_today() + timedelta(days=3), 123, "A")
    response = client.post(new_url(world), data=customer_fields(hetu=future), follow_redirects=True)
    assert "in the future" in response.text and count(app, Customer) == 0


def test_school_offers_school_bases_only(client, auth, world):
    auth.login("reg")
    page = open_form(client, world, ADULT, unit="S").text
    assert "Special support at school" in page and "Reading disability" not in page


def test_registering_an_already_registered_code_says_so(client, auth, world, add_customer, app):
    add_customer(world["L2"])
    auth.login("reg")
    response = client.post(new_url(world), data=customer_fields(hetu=ADULT))
    assert response.status_code == 409 and "already registered" in response.text
    assert count(app, Customer) == 1


# --- 4. the customer page -------------------------------------------------------------------------


def test_full_code_only_on_request_and_audited(client, auth, world, add_customer, app):
    cid = add_customer(world["L"])
    auth.login("reg")
    assert ADULT not in client.get(f"/registration/customers/{cid}").text
    assert ADULT in client.post(f"/registration/customers/{cid}/hetu").text
    assert len(audited(app, "customer.hetu_shown")) == 1
    assert len(audited(app, "customer.viewed")) == 1


def test_the_details_and_edit_partials_are_audited_like_the_page(client, auth, world, add_customer, app):
    cid = add_customer(world["L"])
    auth.login("reg")
    assert "aino@example.fi" in client.get(f"/registration/customers/{cid}/details").text
    assert "aino@example.fi" in client.get(f"/registration/customers/{cid}/edit").text
    events = audited(app, "customer.viewed")
    assert [(e.object_id, e.unit_id, e.detail["part"]) for e in events] == [(str(cid), world["L"], "details"),
                                                                            (str(cid), world["L"], "edit")]


def test_edit_in_place_saves_and_shows_in_history(client, auth, world, add_customer, app):
    cid = add_customer(world["L"])
    auth.login("reg")
    assert 'hx-post' in client.get(f"/registration/customers/{cid}/edit").text
    data = customer_fields(phone="040 123 4567")
    response = client.post(f"/registration/customers/{cid}/edit", data=data)
    assert response.status_code == 200 and "040 123 4567" in response.text and "Saved." in response.text
    # The history names the fields as the form does, not by their column names.
    assert "details changed: Phone" in client.get(f"/registration/customers/{cid}").text


def test_edit_with_bad_input_answers_422_and_keeps_values(client, auth, world, add_customer, app):
    cid = add_customer(world["L"])
    auth.login("reg")
    response = client.post(f"/registration/customers/{cid}/edit", data=customer_fields(email="bad", phone="0401"))
    assert response.status_code == 422 and 'value="0401"' in response.text
    with app.app_context():
        assert db.session.get(Customer, cid).phone is None


def test_a_registrar_of_another_unit_is_refused_the_customer(client, auth, world, add_customer):
    cid = add_customer(world["L"])
    auth.login("other")
    assert client.get(f"/registration/customers/{cid}").status_code == 404
    assert client.post(f"/registration/customers/{cid}/hetu").status_code == 404


def test_send_credentials_mails_an_expiring_link_and_records_it(client, auth, world, add_customer, app, smtp_server):
    cid = add_customer(world["L"])
    auth.login("reg")
    page = client.post(f"/registration/customers/{cid}/credentials", data={"recipient": "customer"},
                       follow_redirects=True).text
    assert "sent to aino@example.fi" in page and "Reg sent a link to aino@example.fi" in page
    message = smtp_server.wait_for(1)[0]
    assert message["To"] == "aino@example.fi"
    link = re.search(r"http\S+/registration/credentials/\S+", message.get_content()).group(0)
    path = link.split("localhost", 1)[-1]
    auth.logout()
    opened = client.get(path)  # exchanged at once for the token-free form; a mail scanner's visit uses nothing
    assert opened.status_code == 303 and opened.headers["Location"] == "/registration/credentials"
    assert client.get(path).status_code == 303, "opening the link does not use it"
    form = client.get("/registration/credentials")
    assert form.status_code == 200 and form.headers["Referrer-Policy"] == "no-referrer"
    data = {"new_password": "a-long-pass-phrase-77", "confirm": "a-long-pass-phrase-77"}
    assert client.post("/registration/credentials", data=data).status_code == 200
    assert client.get(path).status_code == 410  # used once
    assert client.post("/registration/credentials", data=data).status_code == 410
    with app.app_context():
        assert db.session.get(Customer, cid).password_hash


def test_credentials_go_only_to_stored_addresses(client, auth, world, add_customer, app):
    cid = add_customer(world["L"], email="")
    auth.login("reg")
    page = client.post(f"/registration/customers/{cid}/credentials", data={"recipient": "guardian"},
                       follow_redirects=True).text
    assert "Change the email first" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CredentialLink)) == 0


def test_expired_credential_link_is_gone(client, auth, world, add_customer, app):
    cid = add_customer(world["L"])
    auth.login("reg")
    with app.test_request_context():
        from flask_login import login_user

        from blueprints.accounts.models import User
        from blueprints.registration import credentials

        login_user(db.session.scalar(select(User).where(User.username == "reg")))
        credentials.send_credentials(db.session.get(Customer, cid), "customer")
        link = db.session.scalar(select(CredentialLink))
        link.expires_at = link.created_at - timedelta(seconds=1)
        db.session.commit()
    assert client.get("/registration/credentials/whatever").status_code == 410


def test_a_credential_link_used_meanwhile_sets_no_password(world, add_customer, app):
    cid = add_customer(world["L"])
    with app.test_request_context():
        from flask_login import login_user

        from blueprints.accounts.models import User
        from blueprints.registration import credentials

        login_user(db.session.scalar(select(User).where(User.username == "reg")))
        credentials.send_credentials(db.session.get(Customer, cid), "customer")
        link = db.session.scalar(select(CredentialLink))  # this request found the link unused...
        with db.engine.begin() as other_request:  # ...and the same link, sent from another tab, set a password
            other_request.execute(update(CredentialLink).values(used_at=link.created_at))
            other_request.execute(update(Customer).where(Customer.id == cid).values(password_hash="the other tab's"))
        with pytest.raises(Conflict):
            credentials.set_customer_password(link, "a-long-pass-phrase-77")
        db.session.rollback()
        assert db.session.get(Customer, cid).password_hash == "the other tab's"


def search(client, query, **more):
    return client.post("/registration/search", data={"q": query, **more}, headers={"HX-Request": "true"})


# --- 5. search --------------------------------------------------------------------------------------


def test_name_search_ignores_case_and_diacritics_and_stays_in_my_units(client, auth, world, add_customer):
    add_customer(world["L"])
    add_customer(world["L2"], code=make_hetu(date(1970, 1, 1), 111), first_name="Aila", last_name="Äimä")
    auth.login("reg")
    page = search(client, "AIJ").text
    assert "Äijälä" in page and "Äimä" not in page
    assert "Äijälä" in search(client, "ain").text  # first name prefix
    assert "Äijälä" not in search(client, "jala").text  # prefix, not infix


def test_name_search_is_paged(client, auth, world, add_customer):
    for n in range(55):
        add_customer(world["L"], code=make_hetu(date(1960, 1, 1) + timedelta(days=n), 200 + n),
                     last_name=f"Virtanen{n:02d}")
    auth.login("reg")
    first = search(client, "virt").text
    assert "55 found" in first and "Page 1 of 2" in first
    assert 'form="search-form" name="page" value="2"' in first
    assert "Virtanen54" in search(client, "virt", page="2").text


# --- 6. ending, reviews, transfer ------------------------------------------------------------------


def test_end_customership(client, auth, world, add_customer, app):
    cid = add_customer(world["L"])
    auth.login("reg")
    client.post(f"/registration/customers/{cid}/end")
    with app.app_context():
        assert db.session.get(Customer, cid).status == CustomerStatus.ENDED


def test_passed_review_dates_are_listed(client, auth, world, add_customer):
    add_customer(world["L"], review_date=library_today() - timedelta(days=1))
    add_customer(world["L"], code=make_hetu(date(1970, 1, 1), 111), last_name="Later",
                 review_date=library_today() + timedelta(days=5))
    auth.login("reg")
    page = client.get("/registration/reviews").text
    assert "Äijälä" in page and "Later" not in page


def test_transfer_moves_the_customer_is_audited_and_old_unit_list_drops_it(client, auth, world, add_customer, app):
    cid = add_customer(world["L2"])
    auth.login("reg")
    response = client.post(f"/registration/units/{world['L']}/transfer",
                           data={"hetu": ADULT, "basis": "reading_disability"})
    assert response.headers["Location"].endswith(f"/customers/{cid}")
    with app.app_context():
        assert db.session.get(Customer, cid).unit_id == world["L"]
    assert {e.unit_id for e in audited(app, "customer.transferred")} == {world["L"]}
    assert {e.unit_id for e in audited(app, "customer.transferred_away")} == {world["L2"]}
    auth.logout()
    auth.login("other")
    old_list = client.get(f"/registration/units/{world['L2']}/customers").text
    assert "No customers yet." in old_list
    assert "Transferred to other units" in old_list and "Äijälä, Aino" in old_list and "Library L" in old_list


# --- 7. live list --------------------------------------------------------------------------------


def emitted(monkeypatch):
    """Record the live events sent after commit (works with and without the Redis queue)."""
    from common import live

    sent = []
    monkeypatch.setattr(live, "emit_now", lambda name, room="staff", namespace="/", **data: sent.append((name, room)))
    return sent


def rooms_of(app, username):
    from blueprints.accounts.models import User
    from common import live

    with app.app_context():
        return live.staff_rooms(db.session.scalar(select(User).where(User.username == username)))


def test_a_colleagues_list_hears_of_a_new_customer(app, client, auth, world, monkeypatch):
    sent = emitted(monkeypatch)
    auth.login("reg")
    client.post(new_url(world), data=customer_fields(hetu=ADULT))
    rooms = {room for name, room in sent if name == "customers-changed"}
    assert rooms and rooms <= rooms_of(app, "colleague")
    assert not rooms & rooms_of(app, "other")
    colleague = app.test_client()
    type(auth)(colleague).login("colleague")
    assert "Äijälä" in colleague.get(f"/registration/units/{world['L']}/customers").text


def test_a_transfer_tells_both_units(app, client, auth, world, add_customer, monkeypatch):
    add_customer(world["L2"])
    sent = emitted(monkeypatch)
    auth.login("reg")
    client.post(f"/registration/units/{world['L']}/transfer", data={"hetu": ADULT, "basis": "reading_disability"})
    assert {room for name, room in sent if name == "customers-changed"} == {f"unit:{world['L']}", f"unit:{world['L2']}"}


def test_nothing_is_announced_when_the_save_fails(app, client, auth, world, monkeypatch):
    sent = emitted(monkeypatch)
    auth.login("reg")
    client.post(new_url(world), data=customer_fields(hetu=ADULT, email="bad"))
    assert sent == []


# --- service admin ----------------------------------------------------------------------------------


def test_admin_reactivates_marks_for_deletion_and_makes_net_user(client, auth, world, add_customer, app):
    cid = add_customer(world["L"], service_form="cd")
    auth.login("celia")
    assert "Äijälä" in client.get("/registration/admin").text
    client.post(f"/registration/admin/customers/{cid}/net-user")
    client.post(f"/registration/admin/customers/{cid}/mark-for-deletion")
    with app.app_context():
        c = db.session.get(Customer, cid)
        assert c.service_form == "net" and c.status == CustomerStatus.MARKED_FOR_DELETION
    auth.logout()
    auth.login("reg")
    assert client.get(f"/registration/customers/{cid}").status_code == 404  # hidden from registrars
    assert "Äijälä" not in search(client, "aij").text
    auth.logout()
    auth.login("celia")
    client.post(f"/registration/admin/customers/{cid}/reactivate")
    with app.app_context():
        assert db.session.get(Customer, cid).status == CustomerStatus.ACTIVE


def test_reactivation_request_moves_the_customer_to_the_asking_unit(client, auth, world, add_customer, app):
    cid = add_customer(world["L2"])
    with app.app_context():
        db.session.get(Customer, cid).status = CustomerStatus.MARKED_FOR_DELETION
        db.session.commit()
    auth.login("reg")
    client.post(f"/registration/units/{world['L']}/reactivation-request", data={"hetu": ADULT})
    auth.logout()
    auth.login("celia")
    client.post(f"/registration/admin/customers/{cid}/reactivate")
    with app.app_context():
        c = db.session.get(Customer, cid)
        assert c.status == CustomerStatus.ACTIVE and c.unit_id == world["L"]
    assert "No open requests" in client.get("/registration/admin").text


def test_registrar_only_sees_that_only_the_service_changes_cd_to_net(client, auth, world, add_customer):
    cid = add_customer(world["L"], service_form="cd")
    auth.login("reg")
    page = client.get(f"/registration/customers/{cid}").text
    assert "Only the service can change a CD borrower" in page
    assert client.post(f"/registration/admin/customers/{cid}/net-user").status_code == 403


def test_admin_registers_a_person_without_identity_code(client, auth, world, app):
    auth.login("celia")
    assert "separate customer information form" in client.get("/registration/admin/without-hetu").text
    data = customer_fields(unit=world["L"], birth_date="1970-05-05", basis="reading_disability")
    response = client.post("/registration/admin/without-hetu", data=data)
    assert response.status_code == 302
    with app.app_context():
        c = db.session.scalar(select(Customer))
        assert c.service_identifier.startswith("CELIA-") and c.hetu_hash is None


def test_without_identity_code_future_birth_date_is_refused(client, auth, world, app):
    auth.login("celia")
    data = customer_fields(unit=world["L"], birth_date=(library_today() + timedelta(days=2)).isoformat())
    assert client.post("/registration/admin/without-hetu", data=data).status_code == 422
    assert count(app, Customer) == 0


# --- languages and the guardian part over time ------------------------------------------------------


def test_the_check_speaks_finnish_and_swedish(client, auth, world, app, make_user, add_customer):
    make_user("suomi", (Role.REGISTRAR, world["L"]), language="fi")
    make_user("svenska", (Role.REGISTRAR, world["L"]), language="sv")
    auth.login("suomi")
    assert "Lisää uusi asiakas" in check(client, world["L"], ADULT).text
    assert "Tarkistusmerkki ei täsmää" in check(client, world["L"], "131052-308X").text
    auth.logout()
    auth.login("svenska")
    add_customer(world["L2"])
    assert "Registrerad i en annan enhet: Library L2." in check(client, world["L"], ADULT).text


def test_editing_an_adult_keeps_the_guardian_consent_recorded_when_young(client, auth, world, app, add_customer):
    cid = add_customer(world["L"], guardian_name="Liisa", consent_given_by="Liisa", consent_method="signed form")
    auth.login("reg")
    client.post(f"/registration/customers/{cid}/edit", data=customer_fields(phone="0401"))
    with app.app_context():
        c = db.session.get(Customer, cid)
        assert c.phone == "0401" and c.guardian_name == "Liisa" and c.consent_method == "signed form"


def test_no_credentials_for_an_ended_customer(client, auth, world, add_customer, app):
    cid = add_customer(world["L"])
    auth.login("reg")
    client.post(f"/registration/customers/{cid}/end")
    page = client.post(f"/registration/customers/{cid}/credentials", data={"recipient": "customer"},
                       follow_redirects=True).text
    assert "active customers only" in page


def test_wildcards_alone_find_nobody(client, auth, world, add_customer):
    add_customer(world["L"])
    auth.login("reg")
    for query in ("%", "*", "_", "[]", "?"):
        assert "Äijälä" not in search(client, query).text
