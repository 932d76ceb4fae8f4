"""Unit tests: ages, guardians and name keys (identity codes: test_hetu.py)."""
from datetime import date

from blueprints.registration import hetu, service

TODAY = date(2026, 11, 23)


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


def test_name_key_ignores_case_and_diacritics():
    assert service.name_key("Äijälä") == "aijala"
    assert service.name_key("ÖHMAN") == "ohman"
    assert service.name_key("Åström") == "astrom"


def test_a_code_is_stored_as_hash_ciphertext_and_mask_under_the_applications_keys(app, request_context):
    stored = service.stored_hetu("131052-308T")
    assert stored["hetu_hash"] == hetu.keyed_hash("131052-308T", app.config["IDENTITY_HMAC_KEY"])
    assert hetu.decrypt(stored["hetu_encrypted"], app.config["IDENTITY_ENCRYPTION_KEY"]) == "131052-308T"
    assert stored["hetu_masked"] == "131052-***T"


def test_customer_details_set_the_form_s_fields_and_the_guardian_s_only_with_its_part():
    adult = service.CustomerDetails(first_name="Aino", last_name="Äijälä", basis=service.Basis.READING_DISABILITY,
                                    service_form=service.ServiceForm.NET, channel=service.Channel.PHONE)
    guardian_part = {"registered_by", "guardian_name", "guardian_email", "guardian_phone", "consent_given_by",
                     "consent_date", "consent_method"}
    assert set(adult.columns()) == set(service.FIELDS) - guardian_part
    child = service.CustomerDetails(**{**vars(adult), "guardian": service.GuardianConsent(guardian_name="Liisa")})
    assert set(child.columns()) == set(service.FIELDS)
    assert child.columns()["guardian_name"] == "Liisa"
