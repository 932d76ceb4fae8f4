"""Unit tests: identity codes, ages, masking and encryption."""
from datetime import date

import pytest

from blueprints.registration import service
from blueprints.registration.demo import make_hetu

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize("sign,year", [("+", 1852), ("-", 1952), ("Y", 1952), ("X", 1952), ("W", 1952), ("V", 1952), ("U", 1952),
                                       ("A", 2012), ("B", 2012), ("C", 2012), ("D", 2012), ("E", 2012), ("F", 2012)])
def test_every_century_sign_is_accepted_and_kept(request_context, sign, year):
    code = make_hetu(date(year, 10, 13), 308, sign)
    parsed, born = service.parse_hetu(code.lower(), today=TODAY)
    assert parsed == code.upper()
    assert parsed[6] == sign  # Y stays Y, never -
    assert born == date(year, 10, 13)


def test_the_seed_example_is_valid(request_context):
    assert service.parse_hetu("131052-308T", today=TODAY) == ("131052-308T", date(1952, 10, 13))


def test_y_and_minus_are_different_people(request_context):
    a, _ = service.parse_hetu(make_hetu(date(1990, 1, 1), 123, "-"), today=TODAY)
    b, _ = service.parse_hetu(make_hetu(date(1990, 1, 1), 123, "Y"), today=TODAY)
    assert a != b and service.hetu_hash(a) != service.hetu_hash(b)


@pytest.mark.parametrize("code,reason", [
    ("131052-308X", "check character"),
    ("311352-308T", "does not exist"),
    ("1310523-08T", "format"),
    ("131052-30T", "11 characters"),
    ("", "Enter"),
])
def test_invalid_codes_say_what_is_wrong(request_context, code, reason):
    with pytest.raises(service.HetuError, match=reason):
        service.parse_hetu(code, today=TODAY)


def test_temporary_codes_are_refused_with_the_reason(request_context):
    with pytest.raises(service.HetuError, match="900-999"):
        service.parse_hetu(make_hetu(date(1990, 1, 1), 901), today=TODAY)


def test_a_birth_date_in_the_future_is_refused(request_context):
    with pytest.raises(service.HetuError, match="future"):
        service.parse_hetu(make_hetu(date(2026, 11, 24), 123), today=TODAY)
    assert service.parse_hetu(make_hetu(date(2026, 11, 23), 123), today=TODAY)[1] == TODAY


def test_age_14_years_364_days_needs_guardian_consent():
    born = date(2011, 11, 24)  # 15 tomorrow
    assert service.age_on(born, TODAY) == 14
    assert service.guardian_rule(born, TODAY) == service.GUARDIAN_REQUIRED


def test_on_the_15th_birthday_the_form_asks_who_registers():
    assert service.guardian_rule(date(2011, 11, 23), TODAY) == service.ASK_WHO_REGISTERS


def test_the_day_before_the_18th_birthday_still_asks():
    assert service.guardian_rule(date(2008, 11, 24), TODAY) == service.ASK_WHO_REGISTERS


def test_on_the_18th_birthday_there_is_no_guardian_part():
    assert service.guardian_rule(date(2008, 11, 23), TODAY) == service.NO_GUARDIAN


def test_leap_day_birthday_counts_from_march_first():
    assert service.age_on(date(2008, 2, 29), date(2023, 2, 28)) == 14
    assert service.age_on(date(2008, 2, 29), date(2023, 3, 1)) == 15


def test_masking_shows_date_sign_and_check_only():
    assert service.mask_hetu("131052-308T") == "131052-***T"


def test_encryption_round_trip_and_ciphertext_hides_the_code(request_context):
    token = service.encrypt_hetu("131052-308T")
    assert "131052" not in token
    assert service.decrypt_hetu(token) == "131052-308T"


def test_hash_is_keyed_and_stable(request_context):
    assert service.hetu_hash("131052-308T") == service.hetu_hash("131052-308T")
    assert len(service.hetu_hash("131052-308T")) == 64


def test_name_key_ignores_case_and_diacritics():
    assert service.name_key("Äijälä") == "aijala"
    assert service.name_key("ÖHMAN") == "ohman"
    assert service.name_key("Åström") == "astrom"
