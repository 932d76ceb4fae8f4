"""The counter flow over HTTP: signup, bad input, duplicates, receipt, overview, live updates."""
from sqlalchemy import select

from blueprints.ebook import cards, passwords
from blueprints.ebook import live as ebook_live
from blueprints.ebook.models import EbookCustomer, NumberSequence
from extensions import db
from tests.conftest import count
from tests.ebook.conftest import new_url, only_customer, password_on, saved, sign_up, signup_data, tariff_id


def sequence_value(app, branch="9428"):
    with app.app_context():
        row = db.session.get(NumberSequence, f"card:{branch}")
        return row.last_value if row else 0


def receipt_url(customer_id):
    return f"/ebook/customers/{customer_id}/receipt"


def test_the_form_is_in_dutch_for_dutch_staff(client, auth, branches):
    auth.login("balie")
    page = client.get(new_url(branches["gieten"])).get_data(as_text=True)
    # the Dutch catalog's words for "Let the system generate a number?"
    assert "Systeem nummer laten genereren?" in page
    assert "Achternaam" in page and "Geboortedatum (dd-mm-jjjj)" in page


def test_a_signup_with_v_generates_a_number_and_opens_the_receipt_with_the_password(client, auth, app, branches):
    auth.login("balie")
    receipt = saved(sign_up(client, app, branches))
    with app.app_context():
        customer = db.session.scalar(select(EbookCustomer))
        assert customer.card_number == cards.card_number_for("9428", 1)
        assert customer.street == "Kruisakkers" and customer.city == "ANNEN" and customer.postcode == "9468 BG"
        assert customer.physical_card is False
        assert customer.subscription.tariff_code == "0141" and customer.subscription.price_cents == 4200
        card = customer.card_number
    assert card in receipt
    password = password_on(receipt)
    assert len(password) == 8
    with app.app_context():
        customer = db.session.scalar(select(EbookCustomer))
        assert passwords.check_one_time_password(customer, password)
        assert password not in customer.password_hash


def test_the_one_time_password_is_never_shown_twice(client, auth, app, branches):
    auth.login("balie")
    password = password_on(saved(sign_up(client, app, branches)))
    location = receipt_url(only_customer(app))
    second = client.get(location).get_data(as_text=True)
    assert password not in second and "receipt-password" not in second
    assert "Nieuw eenmalig wachtwoord" in second
    # A new password is shown once, by the POST that makes it, and the old one no longer works.
    reissued = client.post(location.replace("/receipt", "/new-password"))
    assert reissued.status_code == 200
    new_password = password_on(reissued.get_data(as_text=True))
    assert new_password != password
    assert new_password not in client.get(location).get_data(as_text=True)
    with app.app_context():
        customer = db.session.scalar(select(EbookCustomer))
        assert passwords.check_one_time_password(customer, new_password)
        assert not passwords.check_one_time_password(customer, password)


def test_the_actor_id_is_never_on_the_receipt(client, auth, app, branches):
    auth.login("balie")
    with app.app_context():
        cards.set_sequence("actor", 480873)
        db.session.commit()
    receipt_page = saved(sign_up(client, app, branches))
    location = receipt_url(only_customer(app))
    receipt = receipt_page.split('<article class="receipt"')[1].split("</article>")[0]
    assert "480874" not in receipt and "480874" not in receipt_page
    overview = client.get(location.replace("/receipt", "")).get_data(as_text=True)
    assert "[480874]" in overview  # staff see it in brackets on the overview


def test_the_receipt_speaks_the_customers_language(client, auth, app, branches):
    auth.login("balie")
    receipt = saved(sign_up(client, app, branches, language="fi")).split('<article class="receipt"')[1]
    assert "kertakäyttöisellä salasanalla" in receipt


def test_a_scanned_card_number_is_used_and_consumes_no_sequence_number(client, auth, app, branches):
    auth.login("balie")
    saved(sign_up(client, app, branches, card_number="29428000077727"))
    with app.app_context():
        assert db.session.scalar(select(EbookCustomer.card_number)) == "29428000077727"
    assert sequence_value(app) == 0


BAD_INPUT = [
    ({"card_number": "29428000077728"}, "card_number"),
    ({"card_number": ""}, "card_number"),
    ({"birth_date": "1991-01-04"}, "birth_date"),
    ({"birth_date": "04-01-2999"}, "birth_date"),
    ({"postcode": "9468 SA"}, "postcode"),
    ({"postcode": "94688"}, "postcode"),
    ({"house_number": "999"}, "house_number"),
    ({"house_number": "x"}, "house_number"),
    ({"surname": ""}, "surname"),
    ({"iban": "NL92ABNA0417164300"}, "iban"),
]


def test_bad_input_answers_422_at_the_field_keeps_values_and_stores_nothing(client, auth, app, branches):
    auth.login("balie")
    for change, field in BAD_INPUT:
        response = sign_up(client, app, branches, **change)
        page = response.get_data(as_text=True)
        assert response.status_code == 422, change
        assert f'id="{field}-error"' in page, change
        if field != "surname":
            assert 'value="Tester"' in page, change
    assert count(app, EbookCustomer) == 0
    assert sequence_value(app) == 0


def test_a_tariff_not_allowed_for_the_age_is_refused(client, auth, app, branches):
    auth.login("balie")
    data = signup_data(birth_date="01-01-2015", tariff=str(tariff_id(app, branches["gieten"], "0045")))
    response = client.post(new_url(branches["gieten"]), data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="tariff-error"' in page and "Dit abonnement is niet mogelijk bij deze leeftijd." in page
    assert count(app, EbookCustomer) == 0 and sequence_value(app) == 0
    nonsense = client.post(new_url(branches["gieten"]), data=signup_data(tariff="not-a-number"))
    assert nonsense.status_code == 422 and count(app, EbookCustomer) == 0


def test_monthly_direct_debit_needs_an_iban_and_gets_a_mandate_reference(client, auth, app, branches):
    auth.login("balie")
    data = signup_data(tariff=str(tariff_id(app, branches["gieten"], "0049")))
    response = client.post(new_url(branches["gieten"]), data=data)
    assert response.status_code == 422 and 'id="iban-error"' in response.get_data(as_text=True)
    assert count(app, EbookCustomer) == 0 and sequence_value(app) == 0
    data["iban"] = "nl91abna0417164300"
    saved(client.post(new_url(branches["gieten"]), data=data))
    with app.app_context():
        customer = db.session.scalar(select(EbookCustomer))
        assert customer.iban == "NL91ABNA0417164300" and customer.bic == "ABNANL2A"
        assert customer.subscription.mandate_reference == "EB-" + customer.card_number


def test_a_duplicate_is_shown_with_a_link_and_may_be_saved_on_purpose(client, auth, app, branches):
    auth.login("balie")
    saved(sign_up(client, app, branches))
    again = sign_up(client, app, branches, surname="TESTER", prefix="van")
    page = again.get_data(as_text=True)
    assert again.status_code == 422
    with app.app_context():
        first = db.session.scalar(select(EbookCustomer))
        assert f"/ebook/customers/{first.id}" in page
    assert sequence_value(app) == 1
    saved(sign_up(client, app, branches, surname="TESTER", prefix="van", confirm_duplicate="y"))
    assert count(app, EbookCustomer) == 2


def test_the_cost_summary_partial_follows_the_choices(client, auth, app, branches):
    auth.login("balie")
    url = f"/ebook/branches/{branches['gieten']}/customers/new/summary"
    tariff = str(tariff_id(app, branches["gieten"], "0053"))
    page = client.post(url, data=signup_data(tariff=tariff)).get_data(as_text=True)
    assert "€\xa062,50" in page  # Dutch money: the euro sign, a no-break space, a decimal comma
    assert "0053 Compleet" in page and "Opbouw abonnementskosten" in page
    empty = client.post(url, data=signup_data()).get_data(as_text=True)
    assert "kies een abonnement om de kosten te zien" in empty


def test_the_tariff_choices_follow_the_age(client, auth, app, branches):
    auth.login("balie")
    url = f"/ebook/branches/{branches['gieten']}/customers/new/tariffs"
    young = client.post(url, data=signup_data(birth_date="01-01-2015")).get_data(as_text=True)
    adult = client.post(url, data=signup_data(birth_date="01-01-1980")).get_data(as_text=True)
    assert ">0045<" not in young and ">0141<" in young
    assert ">0045<" in adult


def test_the_address_lookup_fills_street_and_city(client, auth, branches):
    auth.login("balie")
    url = f"/ebook/branches/{branches['gieten']}/customers/new/address"
    page = client.post(url, data={"postcode": "9468bg", "house_number": "41", "country": "NL"}).get_data(as_text=True)
    assert 'value="Kruisakkers"' in page and 'value="ANNEN"' in page


def test_an_address_typed_by_hand_is_kept(client, auth, app, branches):
    auth.login("balie")
    response = sign_up(client, app, branches, postcode="9999 ZZ", house_number="3", address_manual="y",
                       street="Nieuwe Weg", city="GIETEN")
    saved(response)
    with app.app_context():
        customer = db.session.scalar(select(EbookCustomer))
        assert (customer.street, customer.city) == ("Nieuwe Weg", "GIETEN")


def test_counter_staff_of_another_branch_cannot_see_my_customers(client, auth, app, branches):
    auth.login("balie")
    saved(sign_up(client, app, branches))
    location = receipt_url(only_customer(app))
    auth.logout()
    auth.login("annen")
    assert client.get(location).status_code == 404
    assert client.get(location.replace("/receipt", "")).status_code == 404
    assert client.get(new_url(branches["gieten"])).status_code == 404


def test_todays_signups_are_announced_to_colleagues_of_the_branch(client, auth, app, branches, monkeypatch):
    """The event goes to the branch's unit room after the commit (the browser test sees it arrive)."""
    from common import live

    emitted = []
    monkeypatch.setattr(live, "emit_now", lambda name, room, namespace="/", **data: emitted.append((name, room)))
    auth.login("balie")
    sign_up(client, app, branches)
    assert (ebook_live.SIGNUPS_CHANGED, live.unit_room(branches["gieten"])) in emitted
    assert not [e for e in emitted if e[1] == live.unit_room(branches["annen"])]
    # A failed save announces nothing.
    emitted.clear()
    sign_up(client, app, branches, postcode="9468 SA")
    assert emitted == []
    colleague = app.test_client()
    colleague.post("/login", data={"username": "balie", "password": "correct-horse-battery-9"})
    listing = colleague.get(f"/ebook/branches/{branches['gieten']}/today").get_data(as_text=True)
    assert cards.card_number_for("9428", 1) in listing


def test_a_service_admin_edits_the_tariff_table(client, auth, app, make_user, branches):
    from common.access import Role

    make_user("beheer", (Role.SERVICE_ADMIN, None))
    auth.login("beheer")
    tid = tariff_id(app, branches["gieten"], "0141")
    page = client.get(f"/ebook/branches/{branches['gieten']}/tariffs").get_data(as_text=True)
    assert "Digital only" in page and "0345" in page
    response = client.post(f"/ebook/tariffs/{tid}/edit", data={
        "name": "Digital only", "price_cents": "4500", "period_months": "12", "kind": "fixed", "digital_only": "y",
        "active": "y"})
    assert response.status_code == 302
    bad = client.post(f"/ebook/tariffs/{tid}/edit",
                      data={"name": "X", "price_cents": "-1", "period_months": "12", "kind": "fixed"})
    assert bad.status_code == 422
    with app.app_context():
        from blueprints.ebook.models import Tariff

        assert db.session.get(Tariff, tid).price_cents == 4500


def test_the_live_summary_checks_the_iban_and_fills_in_the_bic(client, auth, branches):
    auth.login("balie")
    url = f"/ebook/branches/{branches['gieten']}/customers/new/summary"
    good = client.post(url, data=signup_data(iban="nl91abna0417164300")).get_data(as_text=True)
    assert "NL91 ABNA 0417 1643 00" in good and "ABNANL2A" in good
    bad = client.post(url, data=signup_data(iban="NL92ABNA0417164300")).get_data(as_text=True)
    assert "Deze IBAN is niet geldig" in bad
