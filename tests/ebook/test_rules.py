"""The signup rules of the e-book counter (cards, addresses, pricing, passwords, signups), without HTTP."""
import threading
from datetime import date

import pytest
from sqlalchemy import func, select
from stdnum import luhn

from blueprints.accounts.models import Unit, UnitKind
from blueprints.ebook import addresses, cards, passwords, pricing, signups
from blueprints.ebook.forms import parse_birth_date
from blueprints.ebook.models import CustomerDetails, EbookCustomer, NumberSequence, Tariff
from common.refusals import Refused
from common.views import format_money
from extensions import db
from tests.conftest import in_threads


def test_the_seed_card_number_is_valid_and_is_rebuilt_from_its_parts():
    assert cards.is_valid_card_number("29428000077727")
    assert cards.card_number_for("9428", 7772) == "29428000077727"


@pytest.mark.parametrize("number", ["29428000077728", "2942800007772", "294280000777270", "2942800007772A", ""])
def test_broken_card_numbers_are_refused(number):
    assert not cards.is_valid_card_number(number)


def test_generated_card_numbers_have_the_branch_format_and_follow_the_sequence(app_context, branches):
    gieten = db.session.get(Unit, branches["gieten"])
    numbers = [cards.generate_card_number(gieten) for _ in range(3)]
    db.session.commit()
    for n, number in enumerate(numbers, start=1):
        assert len(number) == 14 and number.isdigit()
        assert number.startswith("29428")
        assert number[5:13] == f"{n:08d}"
        assert luhn.is_valid(number)


def test_each_branch_has_its_own_sequence(app_context, branches):
    gieten = db.session.get(Unit, branches["gieten"])
    annen = db.session.get(Unit, branches["annen"])
    assert cards.generate_card_number(gieten) == cards.card_number_for("9428", 1)
    assert cards.generate_card_number(annen) == cards.card_number_for("9468", 1)
    assert cards.generate_card_number(gieten) == cards.card_number_for("9428", 2)


def test_a_rolled_back_save_gives_its_number_back(app_context, branches):
    gieten = db.session.get(Unit, branches["gieten"])
    cards.generate_card_number(gieten)
    db.session.commit()
    cards.generate_card_number(gieten)
    db.session.rollback()
    assert cards.generate_card_number(gieten) == cards.card_number_for("9428", 2)


def _details(surname="Tester", born=date(1991, 1, 4)):
    return CustomerDetails(surname=surname, birth_date=born, postcode="9468 BG", house_number=41,
                           street="Kruisakkers", city="ANNEN")


def test_concurrent_signups_never_share_a_card_number(app, branches):
    """Eight threads sign up at once, each in its own session and transaction."""
    with app.app_context():
        cards.set_sequence("card:9428", 0)  # the row exists before the race, as in production
        cards.set_sequence("actor", 0)
        db.session.commit()
    numbers, errors, start = [], [], threading.Barrier(8)

    def sign_up(n):
        with app.app_context():
            start.wait()
            try:
                unit = db.session.get(Unit, branches["gieten"])
                tariff = db.session.scalar(select(Tariff).where(Tariff.unit_id == unit.id, Tariff.code == "0141"))
                customer, _password = signups.sign_up(unit, _details(f"Racer{n}"), tariff)
                db.session.commit()
                numbers.append(customer.card_number)
            except Exception as error:  # noqa: BLE001 - reported below; a write waits its turn, it never fails
                db.session.rollback()
                errors.append(error)
            finally:
                db.session.remove()

    in_threads(sign_up, [(n,) for n in range(8)])
    assert not errors
    assert len(numbers) == 8
    assert len(set(numbers)) == 8
    assert sorted(numbers) == [cards.card_number_for("9428", n) for n in range(1, 9)]
    with app.app_context():
        assert db.session.get(NumberSequence, "card:9428").last_value == 8
        assert db.session.scalar(select(func.count(EbookCustomer.id))) == 8


@pytest.mark.parametrize("typed, stored",
                         [("9468 BG", "9468 BG"), ("9468bg", "9468 BG"), (" 1011 ab ", "1011 AB"),
                          ("9461AA", "9461 AA")])
def test_valid_postcodes_are_normalised(typed, stored):
    assert addresses.normalise_postcode(typed) == stored


@pytest.mark.parametrize("typed",
                         ["9468 SA", "9468 SD", "9468 SS", "0468 BG", "9468 B", "946 BG", "94688BG", "ABCD EF", ""])
def test_broken_postcodes_are_refused(typed):
    with pytest.raises(Refused) as refused:
        addresses.normalise_postcode(typed)
    assert refused.value.field == "postcode"


@pytest.mark.parametrize(
    "typed, iban, bic",
    [
        ("NL91 ABNA 0417 1643 00", "NL91ABNA0417164300", "ABNANL2A"),
        ("nl18rabo0123459876", "NL18RABO0123459876", "RABONL2U"),
        ("NL69INGB0123456789", "NL69INGB0123456789", "INGBNL2A"),
        ("DE89 3704 0044 0532 0130 00", "DE89370400440532013000", ""),
    ],
)
def test_valid_ibans_are_accepted_with_the_bic_of_a_dutch_bank(typed, iban, bic):
    assert addresses.validate_iban(typed) == (iban, bic)


@pytest.mark.parametrize("typed",
                         ["NL92 ABNA 0417 1643 00", "NL91 ABNA 0417 1643 01", "NL91ABNA041716430", "NL12XXXX0123456789",
                          "hello"])
def test_broken_ibans_are_refused(typed):
    with pytest.raises(Refused) as refused:
        addresses.validate_iban(typed)
    assert refused.value.field == "iban"


def test_an_iban_with_a_valid_checksum_but_unknown_dutch_bank_is_refused():
    # Valid mod-97 check digits computed for an unknown bank code.
    from stdnum import iban

    body = "XXXX0123456789"
    digits = iban.calc_check_digits("NL00" + body)
    with pytest.raises(Refused):
        addresses.validate_iban("NL" + digits + body)


@pytest.mark.parametrize(
    "born, today, age",
    [(date(2006, 5, 1), date(2025, 4, 30), 18), (date(2006, 5, 1), date(2025, 5, 1), 19),
     (date(1925, 5, 1), date(2025, 4, 30), 99), (date(1925, 5, 1), date(2025, 5, 1), 100)],
)
def test_age_turns_on_the_birthday(born, today, age):
    assert pricing.age_on(born, today) == age


@pytest.mark.parametrize(
    "age, basis, compleet",
    [(18, False, False), (19, True, True), (99, True, True), (100, False, True), (110, False, True),
     (111, False, False)],
)
def test_the_tariff_table_is_filtered_by_age_at_the_boundaries(app_context, branches, age, basis, compleet):
    codes = {t.code for t in pricing.tariffs_for_age(branches["gieten"], age)}
    assert ("0045" in codes) is basis and ("0049" in codes) is basis
    assert ("0053" in codes) is compleet and ("0052" in codes) is compleet
    # Tariffs without an age range are for everyone.
    assert {"0086", "0090", "0091", "0140", "0141", "0345"} <= codes


def test_the_branch_tariff_table_has_the_ten_rows_of_the_price_list(app_context, branches):
    tariffs = {t.code: t for t in pricing.branch_tariffs(branches["gieten"])}
    assert sorted(tariffs) == ["0045", "0049", "0052", "0053", "0086", "0090", "0091", "0140", "0141", "0345"]
    assert tariffs["0053"].price_cents == 6250 and tariffs["0053"].period_months == 12
    assert tariffs["0049"].needs_direct_debit and not tariffs["0045"].needs_direct_debit
    assert tariffs["0141"].digital_only and tariffs["0141"].price_cents == 4200
    assert tariffs["0090"].trial


def test_money_is_exact_integer_cents(app_context, branches, monkeypatch):
    tariff = next(t for t in pricing.branch_tariffs(branches["gieten"]) if t.code == "0052")
    monkeypatch.setitem(app_context.config, "EBOOK_REGISTRATION_FEE_CENTS", 110)
    summary = pricing.cost_summary("X", 30, tariff, date(2024, 1, 31))
    assert summary.balance_cents == 660  # 5.50 + 1.10 is exactly 6.60, not 6.6000000000000005
    assert isinstance(summary.balance_cents, int)
    assert summary.rights_until == date(2024, 2, 28)  # one month from 31 January, to the day before
    assert summary.expiry_month == date(2024, 2, 1)
    assert sum([pricing.cost_summary("X", 30, tariff, date(2024, 1, 1)).subscription_cents] * 3) == 1650


def test_money_is_shown_in_the_dutch_way(app):
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("nl"):
        assert format_money(4200).replace("\xa0", " ") == "€ 42,00"
        assert format_money(550).replace("\xa0", " ") == "€ 5,50"


def test_twelve_months_run_to_the_day_before(app_context, branches):
    tariff = next(t for t in pricing.branch_tariffs(branches["gieten"]) if t.code == "0141")
    summary = pricing.cost_summary("X", 40, tariff, date(2024, 4, 9))
    assert summary.rights_until == date(2025, 4, 8)
    assert summary.subscription_cents == 4200 and summary.balance_cents == 4200
    assert not summary.trial


def test_one_time_passwords_avoid_look_alike_characters():
    for _ in range(300):
        password = passwords.new_one_time_password()
        assert len(password) == 8
        assert not set(password) & set("0O1IL")
        assert set(password) <= set(passwords.PASSWORD_ALPHABET)


def test_the_address_lookup_knows_the_demo_addresses(app_context):
    assert addresses.lookup_address("9468 BG", 41) == ("Kruisakkers", "ANNEN")
    assert addresses.lookup_address("9468 BG", 999) is None
    assert addresses.lookup_address("1234 AB", 1) is None


def test_surnames_compare_without_prefix_and_case():
    assert signups.surname_key("Van der Berg") == signups.surname_key("berg") == "berg"
    assert signups.surname_key("DE JONG") == "jong"


def test_the_national_address_service_answers_when_configured(app):
    """A local stand-in for the PDOK locatieserver: the same query and answer shape."""
    import json as jsonlib
    from http.server import BaseHTTPRequestHandler, HTTPServer
    from urllib.parse import parse_qs, urlsplit

    asked = []

    class Locatieserver(BaseHTTPRequestHandler):
        def do_GET(self):
            q = parse_qs(urlsplit(self.path).query)["q"][0]
            asked.append(q)
            docs = [{"straatnaam": "Kruisakkers",
                     "woonplaatsnaam": "Annen"}] if q == "postcode:9468BG and huisnummer:41" else []
            body = jsonlib.dumps({"response": {"numFound": len(docs), "docs": docs}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Locatieserver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with app.app_context():
            app.config["EBOOK_ADDRESS_SERVICE_URL"] = f"http://127.0.0.1:{server.server_port}/free"
            assert addresses.lookup_address("9468 BG", 41) == ("Kruisakkers", "ANNEN")
            assert addresses.lookup_address("9468 BG", 999) is None
            app.config["EBOOK_ADDRESS_SERVICE_URL"] = "http://127.0.0.1:9/free"  # nothing listens: fall back to typing
            assert addresses.lookup_address("9468 BG", 41) is None
    finally:
        app.config.pop("EBOOK_ADDRESS_SERVICE_URL", None)
        server.shutdown()
    assert asked[0] == "postcode:9468BG and huisnummer:41"


def test_todays_signups_start_at_midnight_at_the_branch(app):
    from datetime import datetime

    with app.app_context():
        # 23:30 UTC on 1 June is 01:30 on 2 June in Amsterdam (summer time): the day began at 22:00 UTC.
        assert pricing.branch_midnight_utc(datetime(2025, 6, 1, 23, 30)) == datetime(2025, 6, 1, 22, 0)
        assert pricing.branch_midnight_utc(datetime(2025, 1, 15, 12, 0)) == datetime(2025, 1, 14, 23, 0)


def test_receipt_times_are_dutch_time_whatever_the_staff_zone(app):
    from datetime import datetime

    from flask_babel import force_locale

    from blueprints.ebook.routes import branch_datetime_filter

    with app.test_request_context(), force_locale("nl"):
        shown = branch_datetime_filter(datetime(2024, 4, 9, 10, 0))
    assert shown == "09-04-2024 12:00"  # CEST, not Helsinki's 13:00; the seed's dd-mm-jjjj


def _tariff(unit, code="0141"):
    return db.session.scalar(select(Tariff).where(Tariff.unit_id == unit.id, Tariff.code == code))


def test_a_signup_is_committed_by_the_service(app_context, branches):
    gieten = db.session.get(Unit, branches["gieten"])
    customer_id = signups.sign_up(gieten, _details(), _tariff(gieten))[0].id
    db.session.rollback()
    assert db.session.get(EbookCustomer, customer_id) is not None


def test_a_look_alike_is_refused_until_confirmed_and_keeps_its_number(app_context, branches):
    gieten = db.session.get(Unit, branches["gieten"])
    first, _password = signups.sign_up(gieten, _details(), _tariff(gieten))
    with pytest.raises(signups.LooksLikeDuplicate) as refused:
        signups.sign_up(gieten, _details("TESTER"), _tariff(gieten))
    assert refused.value.field == "confirm_duplicate" and refused.value.duplicates == [first]
    second, _password = signups.sign_up(gieten, _details("TESTER"), _tariff(gieten), duplicate_confirmed=True)
    assert second.card_number == cards.card_number_for("9428", 2)


def test_a_card_number_taken_at_the_same_moment_is_refused_at_the_field(app_context, branches, monkeypatch):
    gieten = db.session.get(Unit, branches["gieten"])
    taken = signups.sign_up(gieten, _details(), _tariff(gieten))[0].card_number
    # Another save took the number after this one checked it: the unique index answers.
    monkeypatch.setattr(cards, "card_number_taken", lambda number: False)
    with pytest.raises(Refused) as refused:
        signups.sign_up(gieten, _details("Other"), _tariff(gieten), card_number=taken)
    assert refused.value.field == "card_number"
    assert db.session.scalar(select(func.count(EbookCustomer.id))) == 1


def test_an_unknown_address_is_refused_at_the_house_number(app_context):
    assert addresses.settle_address("NL", "9468 BG", 41, "Brink", "GIETEN") == ("Kruisakkers", "ANNEN")
    with pytest.raises(Refused) as refused:
        addresses.settle_address("NL", "9468 BG", 999)
    assert refused.value.field == "house_number"


def test_an_address_typed_by_hand_needs_street_and_city_and_is_kept_as_typed(app_context):
    assert addresses.settle_address("NL", "9999 ZZ", 3, "Nieuwe Weg", "GIETEN", by_hand=True) == ("Nieuwe Weg",
                                                                                                  "GIETEN")
    for street, city, field in (("", "", "street"), (" ", "GIETEN", "street"), ("Nieuwe Weg", "", "city")):
        with pytest.raises(Refused) as refused:
            addresses.settle_address("NL", "9999 ZZ", 3, street, city, by_hand=True)
        assert refused.value.field == field


def test_a_correction_that_keeps_the_address_keeps_its_street_and_city_without_a_lookup(app_context):
    saved = EbookCustomer(country="NL", postcode="9999 ZZ", house_number=7, street="Kerkstraat", city="ANNEN")
    assert addresses.settle_address("NL", "9999 ZZ", 7, saved=saved) == ("Kerkstraat", "ANNEN")
    with pytest.raises(Refused):  # another house: looked up, and unknown
        addresses.settle_address("NL", "9999 ZZ", 8, saved=saved)


def test_a_branch_without_tariffs_gets_the_standard_table_once(app_context, make_unit):
    branch = db.session.get(Unit, make_unit(UnitKind.BRANCH, name="Eext", code="EEXT", branch_code="9463"))
    pricing.ensure_tariffs(branch)
    db.session.rollback()
    assert len(pricing.branch_tariffs(branch.id)) == len(pricing.TARIFF_TABLE)
    pricing.ensure_tariffs(branch)
    assert len(pricing.branch_tariffs(branch.id)) == len(pricing.TARIFF_TABLE)


@pytest.mark.parametrize(("typed", "day"), [("04-01-1991", date(1991, 1, 4)), ("4-1-1991", date(1991, 1, 4)),
                                            (" 1-6-2015 ", date(2015, 6, 1)), ("1991-01-04", None),
                                            ("31-02-1991", None)])
def test_a_day_is_typed_dd_mm_yyyy_with_or_without_leading_zeros(typed, day):
    assert parse_birth_date(typed) == day
