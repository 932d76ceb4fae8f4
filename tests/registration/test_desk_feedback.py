"""What staff missed when they tried the registration as new users would (issue 25): the service's
chat in the demo, a history of changes, the new-customer form's focus and required marks, the
basis of a customer transferred to a school, and the main user's export."""
import csv
import io
import re
from datetime import date, timedelta

import pytest
from flask import Config
from sqlalchemy import select

from blueprints.chat.models import ChatQueue
from blueprints.registration.demo import make_hetu
from blueprints.registration.models import Customer, CustomerStatus
from common.access import Role
from extensions import db
from tests.conftest import audited, logged_in
from tests.registration.conftest import ADULT, child_code, customer_fields, new_url


def open_form(client, world, code, unit="L"):
    return client.post(new_url(world, unit), data={"hetu": code, "start": "1"})


def check(client, unit_id, code):
    return client.post(f"/registration/units/{unit_id}/check", data={"hetu": code}, headers={"HX-Request": "true"})


def tag(page, element_id):
    """The opening tag of the element with this id."""
    found = re.search(rf'<[a-z]+ [^>]*id="{element_id}"[^>]*>', page)
    assert found, element_id
    return found.group(0)


def label_line(page, element_id):
    """The label line that the field macro writes before the field's input."""
    found = re.search(rf'<span class="label-line"><label for="{element_id}">.*?</span>(?: <span class="required"'
                      rf' aria-hidden="true">\*</span>)?</span>', page)
    assert found, element_id
    return found.group(0)


# --- the service's chat in the demo ---------------------------------------------------------


def test_seed_demo_writes_the_celia_service_chat_queue_into_the_instance_configuration(app, runner, tmp_path,
                                                                                         monkeypatch):
    # As `make run` does it: an app that is not a test's, whose instance folder is this one.
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    monkeypatch.setitem(app.config, "TESTING", False)
    (tmp_path / "config.py").write_text("MAIL_FROM = 'desk@library.example'\nCELIA_SERVICE_CHAT_QUEUE = 0\n")
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    monkeypatch.setitem(app.config, "TESTING", True)

    written = Config(str(tmp_path))
    assert written.from_pyfile("config.py")
    with app.app_context():
        queue = db.session.scalar(select(ChatQueue).where(ChatQueue.name == "Celian asiakaspalvelu"))
        assert queue is not None and queue.is_open
        assert written["CELIA_SERVICE_CHAT_QUEUE"] == queue.id != 0
    assert written["MAIL_FROM"] == "desk@library.example"  # the rest of the file is kept
    assert (tmp_path / "config.py").read_text().count("CELIA_SERVICE_CHAT_QUEUE") == 1

    # The server started with that configuration shows a stuck registrar the chat, in Finnish.
    monkeypatch.setitem(app.config, "CELIA_SERVICE_CHAT_QUEUE", written["CELIA_SERVICE_CHAT_QUEUE"])
    password = re.search(r"rekisteroija\s+(\S+)", result.output).group(1)
    client = logged_in(app, "rekisteroija", password)
    page = client.get("/registration/", follow_redirects=True).text
    assert "Ota yhteyttä Celian asiakaspalveluun:" in page
    assert f'href="/chat/customer/?queue={queue.id}"' in page and ">palvelun chat</a>" in page


# --- the customer's history ---------------------------------------------------------------


def history_of(page):
    return page.split('id="history-heading"')[1].split("</section>")[0]


@pytest.mark.parametrize("language, changed, viewed, checked, show_all", [
    ("en", "details changed", "viewed", "identity code checked", "Show views and code checks too (4)"),
    ("fi", "tietoja muutettu", "katsottu", "henkilötunnus tarkistettu",
     "Näytä myös katselut ja tunnustarkistukset (4)"),
])
def test_the_history_shows_the_changes_and_the_views_and_checks_only_when_asked(
        app, world, make_user, add_customer, language, changed, viewed, checked, show_all):
    make_user("riikka", (Role.REGISTRAR, world["L"]), language=language)
    client = logged_in(app, "riikka")
    cid = add_customer(world["L"])
    client.get(f"/registration/customers/{cid}")
    client.get(f"/registration/customers/{cid}")
    check(client, world["L"], ADULT)
    client.post(f"/registration/customers/{cid}/edit", data=customer_fields(phone="040 123"))

    history = history_of(client.get(f"/registration/customers/{cid}").text)
    assert changed in history
    assert viewed not in history and checked not in history
    assert show_all in history  # two views, a check and this one
    everything = history_of(client.get(f"/registration/customers/{cid}?history=all").text)
    assert changed in everything and viewed in everything and checked in everything
    # The audit log keeps them all the same.
    assert len(audited(app, "customer.viewed")) == 4 and len(audited(app, "customer.hetu_checked")) == 1


# --- the new customer's form ----------------------------------------------------------------


def test_the_new_customer_form_starts_in_its_first_field(client, auth, world):
    auth.login("reg")
    page = open_form(client, world, ADULT).text
    assert " autofocus" in tag(page, "first_name")
    assert page.count(" autofocus") == 1  # not the identity-code field of the page before, nor another


@pytest.mark.parametrize("language, label", [("en", "Guardian's name"), ("fi", "Huoltajan nimi")])
def test_under_15_the_guardian_fields_the_server_requires_are_marked_required(app, world, make_user, language, label):
    make_user("riikka", (Role.REGISTRAR, world["L"]), language=language)
    client = logged_in(app, "riikka")
    page = open_form(client, world, child_code(14)).text
    for name in ("guardian_name", "consent_given_by", "consent_date", "consent_method"):
        assert " required" in tag(page, name), name
        assert 'class="required"' in label_line(page, name), name
    assert label in label_line(page, "guardian_name")
    # Email or phone: either will do, the hint says so; neither is required alone.
    assert " required" not in tag(page, "guardian_email") and " required" not in tag(page, "guardian_phone")
    assert 'aria-describedby="guardian_email-hint"' in tag(page, "guardian_email")
    # The server asks for exactly the fields marked.
    refused = client.post(new_url(world), data=customer_fields(hetu=child_code(14)))
    assert refused.status_code == 422
    for name in ("guardian_name", "consent_given_by", "consent_date", "consent_method"):
        assert f'id="{name}-error"' in refused.text


def test_from_15_the_consent_is_marked_required_only_when_a_guardian_registers(client, auth, world):
    auth.login("reg")
    code = child_code(16)
    page = open_form(client, world, code).text
    assert 'class="required"' in page.split('id="registered_by"')[1].split("</legend>")[0]
    assert " required" not in tag(page, "guardian_name")
    by_guardian = client.post(new_url(world), data=customer_fields(hetu=code, registered_by="guardian")).text
    assert " required" in tag(by_guardian, "guardian_name")
    by_self = client.post(new_url(world), data=customer_fields(hetu=code, registered_by="self", phone="x" * 41)).text
    assert " required" not in tag(by_self, "guardian_name")


def test_an_adults_form_marks_no_guardian_field(client, auth, world):
    auth.login("reg")
    page = open_form(client, world, ADULT).text
    assert 'id="guardian_name"' not in page
    assert page.count('class="required"') == 4  # first and last name, service form, registered


# --- a transfer to a school -------------------------------------------------------------------


def customer_in(app, cid):
    with app.app_context():
        customer = db.session.get(Customer, cid)
        return customer.unit_id, customer.basis


@pytest.mark.parametrize("language, choose, refusal", [
    ("en", "Special support at school", "Choose the basis for service on which School S registers the customer."),
    ("fi", "Erityinen tuki koulussa", "Valitse palvelun peruste, jolla School S rekisteröi asiakkaan."),
])
def test_a_library_customer_transferred_to_a_school_gets_a_basis_the_school_uses(
        app, world, make_user, add_customer, language, choose, refusal):
    make_user("riikka", (Role.REGISTRAR, world["S"]), language=language)
    client = logged_in(app, "riikka")
    cid = add_customer(world["L"])  # a reading disability, as the library registers
    offered = check(client, world["S"], ADULT).text
    assert choose in offered and 'name="basis"' in offered
    assert 'value="reading_disability"' not in offered

    url = f"/registration/units/{world['S']}/transfer"
    for basis in ("", "reading_disability", "no-such-basis"):
        answer = client.post(url, data={"hetu": ADULT, "basis": basis})
        assert answer.status_code == 422, basis
        assert refusal in answer.text.split('id="basis-error"')[1].split("</p>")[0]
        assert 'aria-invalid="true"' in tag(answer.text, "basis")
        assert f'name="hetu" value="{ADULT}"' in answer.text  # the check's answer again, ready to send
    assert client.post(url, data={"hetu": ADULT}).status_code == 422
    assert customer_in(app, cid) == (world["L"], "reading_disability")
    assert audited(app, "customer.transferred") == []

    assert client.post(url, data={"hetu": ADULT, "basis": "special_support"}).status_code == 302
    assert customer_in(app, cid) == (world["S"], "special_support")
    assert audited(app, "customer.transferred")[0].detail["fields"] == ["basis"]


def test_a_library_to_library_transfer_offers_the_one_basis_chosen(client, auth, world, add_customer, app):
    cid = add_customer(world["L2"])
    auth.login("reg")
    offered = check(client, world["L"], ADULT).text
    # The one basis a library registers on is the select's only option, so it is the one chosen.
    assert re.findall(r"<option[^>]*>", offered) == ['<option value="reading_disability">']
    response = client.post(f"/registration/units/{world['L']}/transfer",
                           data={"hetu": ADULT, "basis": "reading_disability"})
    assert response.status_code == 302
    assert customer_in(app, cid) == (world["L"], "reading_disability")
    assert audited(app, "customer.transferred")[0].detail["fields"] == []


# --- the main user's export ---------------------------------------------------------------------


def export_rows(response):
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="celia-customers-')
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))


@pytest.mark.parametrize("language, header, active", [
    ("en", ["Unit", "Last name", "First name", "Identity code", "Status", "Review date", "Registered"], "Active"),
    ("fi", ["Yksikkö", "Sukunimi", "Kutsumanimi", "Henkilötunnus", "Tila", "Tarkistuspäivä", "Rekisteröity"],
     "Aktiivinen"),
])
def test_a_main_user_downloads_their_units_customers_with_masked_codes_audited(
        app, world, make_user, add_customer, language, header, active):
    make_user("paula", (Role.MAIN_USER, world["L"]), language=language)
    review = date.today() + timedelta(days=100)
    mine = add_customer(world["L"], review_date=review)
    ended = add_customer(world["L"], make_hetu(date(1970, 5, 6), 222), first_name="Eino", last_name="=Loppu")
    marked = add_customer(world["L"], make_hetu(date(1971, 5, 6), 223), last_name="Poistettava")
    add_customer(world["L2"], make_hetu(date(1972, 5, 6), 224), last_name="Muualla")
    with app.app_context():
        db.session.get(Customer, ended).status = CustomerStatus.ENDED
        db.session.get(Customer, marked).status = CustomerStatus.MARKED_FOR_DELETION
        db.session.commit()
    client = logged_in(app, "paula")
    assert "/registration/export.csv" in client.get(f"/registration/units/{world['L']}").text

    rows = export_rows(client.get("/registration/export.csv"))
    assert rows[0] == header
    body = rows[1:]
    assert [(r[0], r[1], r[2]) for r in body] == [("Library L", "'=Loppu", "Eino"), ("Library L", "Äijälä", "Aino")]
    aino = body[1]
    assert aino[3] == ADULT[:7] + "***" + ADULT[10] and aino[4] == active and aino[5] == review.isoformat()
    text = "\n".join(";".join(r) for r in rows)
    assert ADULT not in text and make_hetu(date(1970, 5, 6), 222) not in text  # never a full code
    assert "Poistettava" not in text and "Muualla" not in text
    assert mine
    exports = audited(app, "customer.exported")
    assert [(e.unit_id, e.detail["count"]) for e in exports] == [(world["L"], 2)]


def test_nobody_but_a_main_user_may_download_the_customers(app, world, make_user):
    for username in ("reg", "celia"):
        client = logged_in(app, username)
        assert client.get("/registration/export.csv").status_code == 403
        assert "/registration/export.csv" not in client.get(f"/registration/units/{world['L']}").text
    assert audited(app, "customer.exported") == []
