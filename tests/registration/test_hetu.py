"""Unit tests of the identity-code helpers alone: no application, no database."""
from datetime import date

import pytest
from cryptography.fernet import Fernet

from blueprints.registration import hetu
from blueprints.registration.demo import make_hetu
from common.refusals import Refused

TODAY = date(2026, 11, 23)
HMAC_KEY = "ab" * 32
FERNET_KEY = Fernet.generate_key().decode()


@pytest.mark.parametrize("sign,year",
                         [("+", 1852), ("-", 1952), ("Y", 1952), ("X", 1952), ("W", 1952), ("V", 1952), ("U", 1952),
                                       ("A", 2012), ("B", 2012), ("C", 2012), ("D", 2012), ("E", 2012), ("F", 2012)])
def test_every_century_sign_is_accepted_and_kept(sign, year):
    code = make_hetu(date(year, 10, 13), 308, sign)
    parsed, born = hetu.parse(code.lower(), today=TODAY)
    assert parsed == code.upper()
    assert parsed[6] == sign  # Y stays Y, never -
    assert born == date(year, 10, 13)


def test_the_seed_example_is_valid():
    assert hetu.parse("131052-308T", today=TODAY) == ("131052-308T", date(1952, 10, 13))


def test_y_and_minus_are_different_people():
    a, _ = hetu.parse(make_hetu(date(1990, 1, 1), 123, "-"), today=TODAY)
    b, _ = hetu.parse(make_hetu(date(1990, 1, 1), 123, "Y"), today=TODAY)
    assert a != b and hetu.keyed_hash(a, HMAC_KEY) != hetu.keyed_hash(b, HMAC_KEY)


@pytest.mark.parametrize("code,reason", [
    ("131052-308X", "check character"),
    ("311352-308T", "does not exist"),
    ("1310523-08T", "format"),
    ("131052-30T", "11 characters"),
    ("", "Enter"),
])
def test_invalid_codes_say_what_is_wrong(code, reason):
    with pytest.raises(Refused, match=reason):
        hetu.parse(code, today=TODAY)


def test_temporary_codes_are_refused_with_the_reason():
    with pytest.raises(Refused, match="900-999"):
        hetu.parse(make_hetu(date(1990, 1, 1), 901), today=TODAY)


def test_a_birth_date_in_the_future_is_refused():
    with pytest.raises(Refused, match="future"):
        hetu.parse(make_hetu(date(2026, 11, 24), 123), today=TODAY)
    assert hetu.parse(make_hetu(date(2026, 11, 23), 123), today=TODAY)[1] == TODAY


def test_masking_shows_date_sign_and_check_only():
    assert hetu.mask("131052-308T") == "131052-***T"


def test_encryption_round_trip_and_ciphertext_hides_the_code():
    token = hetu.encrypt("131052-308T", FERNET_KEY)
    assert "131052" not in token
    assert hetu.decrypt(token, FERNET_KEY) == "131052-308T"


def test_hash_is_keyed_and_stable():
    assert hetu.keyed_hash("131052-308T", HMAC_KEY) == hetu.keyed_hash("131052-308T", HMAC_KEY)
    assert len(hetu.keyed_hash("131052-308T", HMAC_KEY)) == 64
    assert hetu.keyed_hash("131052-308T", "cd" * 32) != hetu.keyed_hash("131052-308T", HMAC_KEY)
