"""The last rows of seed 002: a discount at the counter within the branch's rules, the remark
("Opmerking"), the postal address ("Postadres"), what a postcode's letters and a house number
may be. In Dutch (the counter's language) and in English."""
import re

import pytest
from sqlalchemy import select

from blueprints.ebook import pricing
from blueprints.ebook.models import BranchSettings, EbookCustomer
from common.access import Role
from common.refusals import Refused
from extensions import db
from tests.conftest import audit_actions, audited, count
from tests.ebook.conftest import new_url, only_customer, saved, sign_up, signup_data, tariff_id
from tests.ebook.test_corrections import customer_row, edit_data


def text_of(response):
    """The page (a response or its text) with its non-breaking spaces (€ 4,20) as plain ones."""
    page = response if isinstance(response, str) else response.get_data(as_text=True)
    return page.replace("\xa0", " ")


def error_at(page, field):
    found = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', page, re.S)
    assert found, f"no error at {field}"
    return found.group(1)


@pytest.fixture
def discounts(app, branches):
    """Gieten gives at most 50 % of the subscription fee, for Stadspas or Student."""
    with app.app_context():
        db.session.add(BranchSettings(unit_id=branches["gieten"], login_url="", card_formats="branch14",
                                      discount_reasons="Stadspas\nStudent", max_discount_percent=50))
        db.session.commit()
    return branches


@pytest.fixture
def english_counter(make_user, branches):
    make_user("counter", (Role.COUNTER_STAFF, branches["gieten"]), language="en")
    return "counter"


def only_subscription(app):
    with app.app_context():
        customer = db.session.scalar(select(EbookCustomer))
        sub = customer.subscription
        db.session.expunge_all()
        return sub


# --- discounts -------------------------------------------------------------------------------------


def test_a_percentage_discount_is_saved_audited_and_shown_on_the_receipt_and_the_overview(client, auth, app,
                                                                                          discounts):
    auth.login("balie")
    form = text_of(client.get(new_url(discounts["gieten"])))
    assert "Reden van de korting" in form and '<option value="Stadspas">Stadspas</option>' in form
    receipt = text_of(saved(sign_up(client, app, discounts, discount_kind="percent", discount="10",
                                    discount_reason="Stadspas")))
    assert re.search(r"Korting abonnement</dt><dd[^>]*>€ 4,20 \(10%, Stadspas\)", receipt)
    assert "€ 37,80" in receipt  # the amount on the receipt: 42,00 less 4,20
    sub = only_subscription(app)
    assert (sub.discount_cents, sub.discount_percent, sub.discount_reason, sub.balance_cents) == (
        420, 10, "Stadspas", 3780)
    event = audited(app, "ebook.discount_given")[0]
    assert (event.detail["discount_cents"], event.detail["reason"], event.detail["percent"]) == (420, "Stadspas", 10)
    overview = text_of(client.get(f"/ebook/customers/{only_customer(app)}"))
    assert "Korting abonnement € 4,20 (10%, Stadspas)" in overview
    subscription_tab = text_of(client.get(f"/ebook/customers/{only_customer(app)}?tab=subscription"))
    assert re.search(r"Korting abonnement</dt><dd>€ 4,20 \(10%, Stadspas\)</dd>", subscription_tab)
    assert re.search(r"Korting</dt><dd>€ 4,20</dd>", subscription_tab)


def test_an_amount_discount_is_taken_in_euros(client, auth, app, discounts):
    auth.login("balie")
    saved(sign_up(client, app, discounts, discount_kind="amount", discount="5,50", discount_reason="Student"))
    sub = only_subscription(app)
    assert (sub.discount_cents, sub.discount_percent, sub.discount_reason) == (550, None, "Student")


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"discount_kind": "percent", "discount": "60", "discount_reason": "Stadspas"}, "discount",
     "De korting mag hier hoogstens € 21,00 zijn: 50 procent van het abonnement."),
    ({"discount_kind": "amount", "discount": "21,01", "discount_reason": "Stadspas"}, "discount", "hoogstens € 21,00"),
    ({"discount_kind": "amount", "discount": "5", "discount_reason": ""}, "discount_reason",
     "Kies de reden voor de korting."),
    ({"discount_kind": "amount", "discount": "5", "discount_reason": "Verjaardag"}, "discount_reason",
     "Kies de reden voor de korting."),
    ({"discount_kind": "percent", "discount": "tien", "discount_reason": "Stadspas"}, "discount",
     "Vul de korting in als getal"),
    ({"discount_kind": "percent", "discount": "10,5", "discount_reason": "Stadspas"}, "discount",
     "een heel percentage"),
])
def test_a_discount_over_the_maximum_or_without_a_reason_answers_422_at_the_field_values_kept(
        client, auth, app, discounts, change, field, message):
    auth.login("balie")
    response = sign_up(client, app, discounts, first_name="Eva", **change)
    page = text_of(response)
    assert response.status_code == 422
    assert message in error_at(page, field)
    assert 'value="Eva"' in page and f'value="{change["discount"]}"' in page
    assert count(app, EbookCustomer) == 0
    assert "ebook.discount_given" not in audit_actions(app)


def test_over_the_maximum_is_said_in_english_too(client, auth, app, discounts, english_counter):
    auth.login(english_counter)
    response = sign_up(client, app, discounts, discount_kind="percent", discount="60", discount_reason="Stadspas")
    assert response.status_code == 422
    assert ("The discount may be at most €21.00 here: 50 percent of the subscription fee."
            in error_at(text_of(response), "discount"))
    response = sign_up(client, app, discounts, discount="5")
    assert response.status_code == 422
    assert "Choose the reason for the discount." in error_at(text_of(response), "discount_reason")


def test_a_branch_that_gives_no_discounts_offers_none_and_refuses_one(client, auth, app, branches):
    auth.login("balie")
    assert 'id="discount"' not in client.get(new_url(branches["gieten"])).get_data(as_text=True)
    response = sign_up(client, app, branches, discount="5", discount_reason="Stadspas")
    assert response.status_code == 422
    assert "Deze vestiging geeft geen korting" in error_at(text_of(response), "discount")
    assert count(app, EbookCustomer) == 0


def summary_of(client, app, branches, **changes):
    data = signup_data(tariff=str(tariff_id(app, branches["gieten"], "0141")), **changes)
    return text_of(client.post(f"/ebook/branches/{branches['gieten']}/customers/new/summary", data=data))


def line(summary, label):
    found = re.search(rf"<dt>{label}</dt><dd[^>]*>(.*?)</dd>", summary, re.S)
    assert found, label
    return found.group(1).strip()


def test_the_cost_summary_shows_each_line_of_the_seed_as_the_form_changes(client, auth, app, discounts):
    auth.login("balie")
    plain = summary_of(client, app, discounts)
    assert "Opbouw abonnementskosten" in plain
    seed_lines = ["Abonnement", "Inschrijfkosten", "Korting abonnement", "Korting overdracht", "Korting", "Saldo"]
    assert [label for label in seed_lines if f"<dt>{label}</dt>" in plain] == seed_lines
    assert line(plain, "Korting abonnement") == "€ 0,00" and line(plain, "Saldo") == "€ 42,00"

    given = summary_of(client, app, discounts, discount_kind="percent", discount="25", discount_reason="Student")
    assert line(given, "Abonnement") == "€ 42,00"
    assert line(given, "Korting abonnement") == "€ 10,50 (25%, Student)"
    assert line(given, "Korting overdracht") == "€ 0,00"
    assert line(given, "Korting") == "€ 10,50"
    assert line(given, "Saldo") == "€ 31,50"

    # Over the maximum: counted as none, and the summary says why.
    over = summary_of(client, app, discounts, discount_kind="percent", discount="80", discount_reason="Student")
    assert line(over, "Korting abonnement") == "€ 0,00" and line(over, "Saldo") == "€ 42,00"
    assert "hoogstens € 21,00" in over


def test_the_branchs_admin_keeps_the_reasons_and_the_maximum_where_the_branch_settings_are(client, auth, app,
                                                                                          make_user, branches):
    make_user("beheer", (Role.SERVICE_ADMIN, None), language="nl")
    auth.login("beheer")
    url = f"/ebook/branches/{branches['gieten']}/settings"
    page = client.get(url).get_data(as_text=True)
    assert "Redenen voor korting, één per regel" in page and 'id="max_discount_percent"' in page
    refused = client.post(url, data={"card_formats": ["branch14"], "discount_reasons": "Stadspas",
                                     "max_discount_percent": "150"})
    assert refused.status_code == 422 and "Vul een geheel getal van 0 tot en met 100 in." in refused.get_data(
        as_text=True)
    assert client.post(url, data={"card_formats": ["branch14"], "discount_reasons": "Stadspas\n\n Student \nStadspas",
                                  "max_discount_percent": "30"}).status_code == 302
    with app.app_context():
        row = db.session.get(BranchSettings, branches["gieten"])
        assert (row.discount_reason_list(), row.max_discount_percent) == (["Stadspas", "Student"], 30)
    event = audited(app, "ebook.branch_settings_changed")[-1]
    assert event.detail["discount_reasons"] == ["Stadspas", "Student"] and event.detail["max_discount_percent"] == 30


# --- Opmerking --------------------------------------------------------------------------------------


def test_a_remark_is_kept_from_the_signup_and_wijzig_on_the_overview_and_never_on_the_receipt(client, auth, app,
                                                                                             branches):
    auth.login("balie")
    assert 'id="remark"' in client.get(new_url(branches["gieten"])).get_data(as_text=True)
    receipt = saved(sign_up(client, app, branches, remark="Slechtziend: grote letters"))
    assert "Slechtziend" not in receipt
    customer_id = only_customer(app)
    overview = client.get(f"/ebook/customers/{customer_id}").get_data(as_text=True)
    assert "<strong>Opmerking:</strong> Slechtziend: grote letters" in overview
    assert "Slechtziend" in client.get(f"/ebook/customers/{customer_id}/edit").get_data(as_text=True)
    response = client.post(f"/ebook/customers/{customer_id}/edit",
                           data=edit_data(app, customer_id, remark="Belt liever dan te mailen"))
    assert response.status_code == 302
    overview = client.get(f"/ebook/customers/{customer_id}").get_data(as_text=True)
    assert "Belt liever dan te mailen" in overview
    assert "Belt liever" not in client.get(f"/ebook/customers/{customer_id}/receipt").get_data(as_text=True)
    assert "remark" in audited(app, "ebook.customer_changed")[0].detail["fields"]


def test_the_remark_is_named_in_english_for_english_staff(client, auth, app, branches, english_counter):
    auth.login(english_counter)
    saved(sign_up(client, app, branches, remark="Prefers phone calls"))
    overview = client.get(f"/ebook/customers/{only_customer(app)}").get_data(as_text=True)
    assert "<strong>Remark:</strong> Prefers phone calls" in overview


# --- Postadres --------------------------------------------------------------------------------------


def test_a_postal_address_is_kept_from_the_signup_and_wijzig_and_shown_on_the_overview(client, auth, app,
                                                                                       branches):
    auth.login("balie")
    saved(sign_up(client, app, branches, postal_street="Postbus", postal_house_number="123",
                  postal_postcode="9400aa", postal_city="ASSEN"))
    customer_id = only_customer(app)
    customer = customer_row(app, customer_id)
    assert (customer.postal_street, customer.postal_house_number, customer.postal_postcode, customer.postal_city) == (
        "Postbus", "123", "9400 AA", "ASSEN")
    assert "Postadres: Postbus 123, 9400 AA ASSEN" in client.get(f"/ebook/customers/{customer_id}").get_data(
        as_text=True)
    tab = client.get(f"/ebook/customers/{customer_id}?tab=address").get_data(as_text=True)
    assert "<td>Postadres</td><td>Postbus</td><td>123</td><td>9400 AA</td><td>ASSEN</td>" in tab
    # Wijzig empties it again.
    response = client.post(f"/ebook/customers/{customer_id}/edit",
                           data=edit_data(app, customer_id, postal_street="", postal_house_number="",
                                          postal_postcode="", postal_city=""))
    assert response.status_code == 302
    assert customer_row(app, customer_id).postal_street == ""
    assert "Postadres:" not in client.get(f"/ebook/customers/{customer_id}").get_data(as_text=True)


@pytest.mark.parametrize(("language", "message"), [
    ("nl", "Vul het hele postadres in (straat of postbus, nummer, postcode en plaats), of laat het leeg."),
    ("en", "Fill in the whole postal address (street or PO box, number, postcode and city), or leave it empty."),
])
def test_half_a_postal_address_is_refused_at_the_missing_part(client, auth, app, branches, make_user, language,
                                                              message):
    make_user("counter", (Role.COUNTER_STAFF, branches["gieten"]), language=language)
    auth.login("counter")
    response = sign_up(client, app, branches, postal_street="Postbus", postal_house_number="123",
                       postal_postcode="9400 AA")
    assert response.status_code == 422
    assert error_at(text_of(response), "postal_city") == message
    assert 'value="Postbus"' in response.get_data(as_text=True)
    assert count(app, EbookCustomer) == 0


# --- postcode and house number ---------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "said", "not_said"), [
    ("nl", "De lettercombinaties SA, SD en SS worden in postcodes niet gebruikt", "4 cijfers en 2 letters"),
    ("en", "The letters SA, SD and SS are not used in Dutch postcodes", "4 digits and 2 letters"),
])
@pytest.mark.parametrize("field", ["postcode", "postal_postcode"])
def test_a_postcode_with_sa_sd_or_ss_is_refused_for_its_letters(client, auth, app, branches, make_user, language,
                                                               said, not_said, field):
    make_user("counter", (Role.COUNTER_STAFF, branches["gieten"]), language=language)
    auth.login("counter")
    postal = {"postal_street": "Postbus", "postal_house_number": "1", "postal_city": "ASSEN"}
    response = sign_up(client, app, branches, **{**(postal if field == "postal_postcode" else {}), field: "1234 SA"})
    assert response.status_code == 422
    message = error_at(text_of(response), field)
    assert said in message and not_said not in message
    assert 'value="1234 SA"' in response.get_data(as_text=True)


@pytest.mark.parametrize("typed", ["41a", "41 a", "41-a"])
def test_an_addition_typed_in_the_house_number_is_taken_as_the_addition(client, auth, app, branches, typed):
    auth.login("balie")
    saved(sign_up(client, app, branches, house_number=typed))
    customer = customer_row(app)
    assert (customer.house_number, customer.house_number_addition, customer.street) == (41, "a", "Kruisakkers")


def test_the_address_lookup_reads_a_house_number_with_an_addition(client, auth, app, branches):
    auth.login("balie")
    found = client.post(f"/ebook/branches/{branches['gieten']}/customers/new/address",
                        data=signup_data(house_number="41a")).get_data(as_text=True)
    assert 'value="Kruisakkers"' in found


@pytest.mark.parametrize(("language", "message"), [
    ("nl", 'Een huisnummer is een geheel getal, zoals 41. Een toevoeging zoals "a" of "2" hoort in het veld '
           "Toevoeging."),
    ("en", 'A house number is a whole number, like 41. An addition such as "a" or "2" goes in the Addition field.'),
])
@pytest.mark.parametrize("typed", ["a41", "veertig", "0", "4 1 b c"])
def test_a_house_number_that_is_no_number_says_what_a_house_number_is(client, auth, app, branches, make_user,
                                                                     language, message, typed):
    make_user("counter", (Role.COUNTER_STAFF, branches["gieten"]), language=language)
    auth.login("counter")
    response = sign_up(client, app, branches, house_number=typed)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert error_at(page.replace("&#34;", '"'), "house_number") == message
    assert f'value="{typed}"' in page
    assert count(app, EbookCustomer) == 0


def test_two_different_additions_are_refused(client, auth, app, branches):
    auth.login("balie")
    response = sign_up(client, app, branches, house_number="41a", house_number_addition="b")
    assert response.status_code == 422
    assert "Het huisnummer heeft de toevoeging a en het veld Toevoeging b" in error_at(
        response.get_data(as_text=True), "house_number")


def test_the_cost_summary_names_the_seed_lines_in_english_for_english_staff(client, auth, app, discounts,
                                                                           english_counter):
    auth.login(english_counter)
    given = summary_of(client, app, discounts, discount_kind="amount", discount="2.10", discount_reason="Student")
    assert line(given, "Subscription fee") == "€42.00"
    assert line(given, "Registration fee") == "€0.00"
    assert line(given, "Subscription discount") == "€2.10 (Student)"
    assert line(given, "Transfer discount") == "€0.00"
    assert line(given, "Discounts") == "€2.10"
    assert line(given, "Balance") == "€39.90"


def test_the_branchs_highest_percentage_is_always_allowed_whatever_the_rounding():
    settings = BranchSettings(discount_reasons="Stadspas", max_discount_percent=33)
    # 33 % of € 5,50 is 181,5 cents: the discount and the maximum are rounded alike.
    assert pricing.check_discount(settings, pricing.Discount(reason="Stadspas", percent=33), 550) == 182
    with pytest.raises(Refused) as refused:
        pricing.check_discount(settings, pricing.Discount(reason="Stadspas", cents=183), 550)
    assert refused.value.field == "discount"
    assert pricing.check_discount(settings, None, 550) == 0
    assert pricing.check_discount(settings, pricing.Discount(reason="", cents=0), 550) == 0  # none needs no reason
