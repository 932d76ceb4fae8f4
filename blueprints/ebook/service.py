"""The rules of the e-book counter signup: card numbers, addresses, IBANs, tariffs, costs, passwords.

A function that changes something commits it, and its live events go out after the commit.
"""
import json
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode
from urllib.request import urlopen
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from stdnum import bic as stdnum_bic
from stdnum import ean, luhn
from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError
from stdnum.nl import postcode as stdnum_postcode
from werkzeug.security import check_password_hash

from blueprints.ebook import live as ebook_live
from blueprints.ebook.models import (
    BranchSettings,
    EbookCustomer,
    NumberSequence,
    Subscription,
    Tariff,
    TariffKind,
)
from common import audit
from common.transactions import begin_write
from common.clock import utcnow
from common.refusals import Refused
from common.security import hash_password
from extensions import db

CARD_NUMBER_LENGTH = 14
GENERATE_PLACEHOLDER = "V" * CARD_NUMBER_LENGTH  # what the field shows until the save assigns the number
# The customer's own fields a correction ("Wijzig") changes; the card number and the tariff have
# rules of their own (update_customer).
EDITABLE_FIELDS = (
    "initials", "prefix", "surname", "first_name", "birth_date", "language", "country", "postcode",
    "house_number", "house_number_addition", "street", "city", "person_kind", "phone", "sms_number",
    "iban", "bic", "identity_checked", "identity_document", "email", "newsletter", "keep_loan_history",
    "warn_borrowed_before",
)

# What find_duplicates compares: a correction of one of these is checked again.
IDENTIFYING_FIELDS = ("surname", "prefix", "birth_date", "postcode", "house_number")

# The branch price list of seed 002 (April 2024): code, name, price in cents, period in months,
# age range, kind, needs monthly direct debit, digital only, trial.
TARIFF_TABLE = [
    ("0045", "Basis", 5400, 12, 19, 99, TariffKind.AGE, False, False, False),
    ("0049", "Basis (maand-incasso)", 500, 1, 19, 99, TariffKind.AGE, True, False, False),
    ("0052", "Compleet (maand-incasso)", 550, 1, 19, 110, TariffKind.AGE, True, False, False),
    ("0053", "Compleet", 6250, 12, 19, 110, TariffKind.AGE, False, False, False),
    ("0086", "dBos supplement", 0, 12, None, None, TariffKind.FIXED, False, False, False),
    ("0090", "proefabonnement", 0, 1, None, None, TariffKind.TEMPORARY, False, False, True),
    ("0091", "Maandabonnement", 1050, 1, None, None, TariffKind.TEMPORARY, False, False, False),
    ("0140", "e-Book abonnement", 4200, 12, None, None, TariffKind.FIXED, False, True, False),
    ("0141", "Digital only", 4200, 12, None, None, TariffKind.FIXED, False, True, False),
    ("0345", "gastleen abonnement", 0, 1, None, None, TariffKind.TEMPORARY, False, False, False),
]

# Dutch bank codes (IBAN characters 5-8) and their BICs: enough for the counter to fill in the BIC.
DUTCH_BANKS = {
    "ABNA": "ABNANL2A",
    "ASNB": "ASNBNL21",
    "BUNQ": "BUNQNL2A",
    "FVLB": "FVLBNL22",
    "INGB": "INGBNL2A",
    "KNAB": "KNABNL2H",
    "RABO": "RABONL2U",
    "RBRB": "RBRBNL21",
    "REVO": "REVONL22",
    "SNSB": "SNSBNL2A",
    "TRIO": "TRIONL2U",
}

# Demo addresses by postcode: street, city, the house numbers that exist. The national
# address service replaces this table in production; staff can always type the address.
DEMO_ADDRESSES = {
    "9468BG": ("Kruisakkers", "ANNEN", range(1, 80)),
    "9468AA": ("Brink", "ANNEN", range(1, 40)),
    "9468CA": ("Zuidlaarderweg", "ANNEN", range(1, 120)),
    "9461AA": ("Stationsstraat", "GIETEN", range(1, 60)),
    "9461BC": ("Bloemakkers", "GIETEN", range(1, 45)),
    "9461CD": ("Asserstraat", "GIETEN", range(1, 90)),
}

# One-time passwords avoid characters that look alike on a receipt: no 0/O, no 1/I/L.
PASSWORD_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
PASSWORD_LENGTH = 8

class LooksLikeDuplicate(Refused):
    """The branch has a customer with the same surname, birth date and address (`duplicates`):
    the signup is saved only when staff confirm that this is a different person."""

    def __init__(self, duplicates):
        super().__init__(
            _l("A customer with the same surname, birth date and address exists. Check it, or tick this box to save anyway."),
            field="confirm_duplicate",
        )
        self.duplicates = duplicates


SURNAME_PREFIXES = ("van der", "van den", "van de", "van 't", "in 't", "op de", "van", "de", "den", "der", "het", "'t", "te", "ter", "ten")


# --- card numbers -----------------------------------------------------------------------------


def card_number_for(branch_code, sequence):
    """A card number: "2" + 4-digit branch code + 8-digit sequence + Luhn check digit (14 digits)."""
    body = f"2{branch_code}{sequence:08d}"
    return body + luhn.calc_check_digit(body)


def is_valid_card_number(number):
    """A card number is 14 digits whose last one is the Luhn check digit of the others."""
    return len(number) == CARD_NUMBER_LENGTH and number.isdigit() and luhn.is_valid(number)


def next_in_sequence(name):
    """Take the next value of a counter row inside the current transaction.

    A conditional UPDATE ... RETURNING locks the row until commit or rollback: a concurrent
    save waits instead of reading the same value, and a rolled-back save gives the number back.
    Never max(card_number) + 1, which two saves can read at the same moment.
    """
    table = NumberSequence.__table__
    bump = (
        update(table)
        .where(table.c.name == name)
        .values(last_value=table.c.last_value + 1)
        .returning(table.c.last_value)
    )
    value = db.session.execute(bump).scalar()
    if value is None:
        insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
        db.session.execute(insert(table).values(name=name, last_value=0).on_conflict_do_nothing())
        value = db.session.execute(bump).scalar()
    return value


def set_sequence(name, last_value):
    """Start a counter after numbers already handed out (e.g. when moving from an older system)."""
    row = db.session.get(NumberSequence, name) or NumberSequence(name=name)
    row.last_value = last_value
    db.session.add(row)


def generate_card_number(unit):
    """The next card number of the branch, from its own sequence row, skipping numbers in use.

    A scanned card may carry a number the sequence would reach later; that number is passed
    over instead of blocking every later generated signup of the branch.
    """
    while True:
        number = card_number_for(unit.branch_code, next_in_sequence(f"card:{unit.branch_code}"))
        if not card_number_taken(number):
            return number


def card_number_taken(number):
    return db.session.scalar(select(EbookCustomer.id).where(EbookCustomer.card_number == number)) is not None


def _branch_card(number, branch_code):
    return is_valid_card_number(number) and number[1:5] == branch_code and number[0] == "2"


def _ean13(number, branch_code):
    return len(number) == 13 and number.isdigit() and ean.is_valid(number)


# The formats a branch's scanners may read: name -> (rule, description naming the format).
CARD_FORMATS = {
    "branch14": (_branch_card, _l("14 digits: 2, the branch code %(branch)s, 8 digits and a check digit")),
    "luhn14": (lambda number, branch_code: is_valid_card_number(number),
               _l("14 digits ending in a check digit (any branch)")),
    "ean13": (_ean13, _l("a 13-digit EAN barcode")),
}
DEFAULT_CARD_FORMATS = "branch14"


def branch_settings(unit):
    """The branch's settings row, or the defaults when none was saved."""
    return db.session.get(BranchSettings, unit.id) or BranchSettings(
        unit_id=unit.id, login_url="", card_formats=DEFAULT_CARD_FORMATS
    )


def save_branch_settings(unit, login_url, card_formats):
    """A service admin's settings for a branch (audited, committed); unknown format names are dropped."""
    row = db.session.get(BranchSettings, unit.id) or BranchSettings(unit_id=unit.id)
    row.login_url = (login_url or "").strip()
    row.card_formats = " ".join(n for n in card_formats if n in CARD_FORMATS) or DEFAULT_CARD_FORMATS
    db.session.add(row)
    audit.record("ebook.branch_settings_changed", unit=unit.id, login_url=row.login_url, card_formats=row.card_formats)
    db.session.commit()


def accepted_card_formats(unit):
    names = [n for n in (branch_settings(unit).card_formats or "").split() if n in CARD_FORMATS]
    return names or [DEFAULT_CARD_FORMATS]


def expected_card_format(unit):
    """The accepted formats in words, for the message at the card number field."""
    return str(_l(" or ")).join(str(CARD_FORMATS[n][1]) % {"branch": unit.branch_code} for n in accepted_card_formats(unit))


def check_scanned_card_number(unit, number):
    """A scanned number must have one of the branch's accepted formats and be nobody's yet."""
    if not any(CARD_FORMATS[n][0](number, unit.branch_code) for n in accepted_card_formats(unit)):
        raise Refused(
            _l("This card number is not in the expected format: %(format)s.", format=expected_card_format(unit)),
            field="card_number",
        )
    if card_number_taken(number):
        raise Refused(_l("This card number belongs to another customer."), field="card_number")


# --- address, bank account, age ---------------------------------------------------------------


def normalise_postcode(value, country="NL"):
    """A Dutch postcode is 4 digits (not starting with 0), a space and 2 letters, not SA, SD or SS."""
    value = (value or "").strip().upper()
    if country != "NL":
        return value
    try:
        return stdnum_postcode.validate(value)
    except ValidationError:
        raise Refused(_l("Enter a postcode like 9468 BG: 4 digits and 2 letters."), field="postcode") from None


def lookup_address(postcode, house_number):
    """Street and city for a postcode and house number, or None when the address is unknown.

    With EBOOK_ADDRESS_SERVICE_URL set, the national address service (the PDOK locatieserver
    "free" search over the BAG) answers; otherwise the embedded demo table does.
    """
    compact = (postcode or "").replace(" ", "").upper()
    service_url = current_app.config.get("EBOOK_ADDRESS_SERVICE_URL")
    if service_url:
        return _ask_address_service(service_url, compact, house_number)
    found = DEMO_ADDRESSES.get(compact)
    if found and house_number in found[2]:
        return found[0], found[1]
    return None


def settle_address(postcode, house_number):
    """Street and city for an address that is looked up (not typed by hand); an unknown address
    is refused at the house number, and staff may then enter it by hand."""
    found = lookup_address(postcode, house_number)
    if found is None:
        raise Refused(
            _l("No address is known for this postcode and house number: the street and city were cleared. "
               "Check them or enter the address by hand."),
            field="house_number",
        )
    return found


def _ask_address_service(service_url, postcode, house_number):
    query = urlencode({"q": f"postcode:{postcode} and huisnummer:{house_number}", "fq": "type:adres", "rows": 1})
    try:
        with urlopen(f"{service_url}?{query}", timeout=3) as answer:  # noqa: S310 - configured https URL
            docs = json.load(answer).get("response", {}).get("docs", [])
    except (OSError, ValueError, AttributeError):
        return None  # the service is down or answered nonsense: staff type the address by hand
    found = next((d for d in docs if isinstance(d, dict) and d.get("straatnaam")
                  and str(d.get("postcode", postcode)).replace(" ", "").upper() == postcode
                  and str(d.get("huisnummer", house_number)) == str(house_number)), None)
    if found is None:
        return None
    return found["straatnaam"], str(found.get("woonplaatsnaam", "")).upper()


def validate_iban(value):
    """An IBAN must pass the mod-97 check; a Dutch one must name a known bank. Returns (IBAN, BIC)."""
    try:
        number = stdnum_iban.validate(value or "")
    except ValidationError:
        raise Refused(_l("This IBAN is not valid: check the digits."), field="iban") from None
    bic = ""
    if number.startswith("NL"):
        bic = DUTCH_BANKS.get(number[4:8], "")
        if not bic:
            raise Refused(_l("This IBAN names an unknown Dutch bank code."), field="iban")
    return number, bic


def validate_bic(value, derived=""):
    """An optional BIC (for a foreign IBAN whose BIC cannot be derived) must be a valid BIC;
    for a Dutch IBAN it must be the bank's own."""
    value = (value or "").replace(" ", "").upper()
    if not value:
        return derived
    if not stdnum_bic.is_valid(value):
        raise Refused(_l("This BIC is not valid: 8 or 11 letters and digits, e.g. INGBNL2A."), field="bic")
    if derived and stdnum_bic.compact(value)[:8] != derived[:8]:
        raise Refused(_l("This BIC does not belong to the bank of the IBAN (%(bic)s).", bic=derived), field="bic")
    return value


def format_iban(number):
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def age_on(birth_date, day):
    """Age in whole years on a day (a birthday on 29 February counts from 1 March in other years)."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def tariff_allows_age(tariff, age):
    """A tariff with an age range is for customers whose age is within it, both ends included."""
    if age is None:
        return tariff.min_age is None and tariff.max_age is None
    return (tariff.min_age is None or age >= tariff.min_age) and (tariff.max_age is None or age <= tariff.max_age)


def branch_tariffs(unit_id):
    return db.session.scalars(
        select(Tariff).where(Tariff.unit_id == unit_id, Tariff.active).order_by(Tariff.code)
    ).all()


def tariffs_for_age(unit_id, age):
    """The branch's active tariffs a customer of this age may take."""
    return [t for t in branch_tariffs(unit_id) if tariff_allows_age(t, age)]


def ensure_tariffs(unit):
    """Every branch starts with the standard tariff table: a branch without tariffs gets it
    (committed) when its first signup form opens."""
    if not branch_tariffs(unit.id):
        seed_tariffs(unit)
        db.session.commit()


def seed_tariffs(unit):
    """Give a branch the standard tariff table (rows it has already are left as they are, so
    that two first visits to a new branch at the same moment add it once)."""
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    rows = [
        dict(unit_id=unit.id, code=code, name=name, price_cents=cents, period_months=months, min_age=low,
             max_age=high, kind=kind, needs_direct_debit=debit, digital_only=digital, trial=trial)
        for code, name, cents, months, low, high, kind, debit, digital, trial in TARIFF_TABLE
    ]
    db.session.execute(insert(Tariff).values(rows).on_conflict_do_nothing(index_elements=["unit_id", "code"]))


# --- money and dates ---------------------------------------------------------------------------


def add_months(day, months):
    """The same day `months` later (the month's last day when that month is shorter)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable")


@dataclass
class CostSummary:
    name: str
    age: int | None
    tariff_code: str
    tariff_name: str
    trial: bool
    starts_on: date
    rights_until: date
    subscription_cents: int
    registration_fee_cents: int
    discount_cents: int
    direct_debit: bool
    transfer_discount_cents: int = 0  # "Korting overdracht": what is left of the subscription replaced

    @property
    def expiry_month(self):
        return self.rights_until.replace(day=1)

    @property
    def balance_cents(self):
        """What the customer owes now: subscription + registration - discounts, in whole cents; below
        zero it is a credit (a change to a cheaper tariff)."""
        return self.subscription_cents + self.registration_fee_cents - self.discount_cents - self.transfer_discount_cents


def registration_fee_cents():
    return int(current_app.config.get("EBOOK_REGISTRATION_FEE_CENTS", 0))


def cost_summary(name, age, tariff, today):
    """The subscription costs from today: rights run for the tariff's period, to the day before."""
    rights_until = add_months(today, tariff.period_months) - timedelta(days=1)
    return CostSummary(
        name=name,
        age=age,
        tariff_code=tariff.code,
        tariff_name=tariff.name,
        trial=tariff.trial,
        starts_on=today,
        rights_until=rights_until,
        subscription_cents=tariff.price_cents,
        registration_fee_cents=registration_fee_cents(),
        discount_cents=0,
        direct_debit=tariff.needs_direct_debit,
    )


def unused_value_cents(subscription, today):
    """What is left from today of a subscription paid for: its price less its discount, by the day."""
    if subscription is None:
        return 0
    days = (subscription.rights_until - subscription.starts_on).days + 1
    unused = min(days, (subscription.rights_until - max(today, subscription.starts_on)).days + 1)
    if days <= 0 or unused <= 0:
        return 0
    return (subscription.price_cents - subscription.discount_cents) * unused // days


def change_summary(name, birth_date, current, tariff, today):
    """The costs of changing the current subscription to `tariff` today: no registration fee again,
    and what is left of the current one is credited ("Korting overdracht")."""
    summary = cost_summary(name, age_on(birth_date, today), tariff, today)
    summary.registration_fee_cents = 0
    summary.transfer_discount_cents = unused_value_cents(current, today)
    return summary


def mandate_reference(card_number):
    """The SEPA mandate reference of a customer's monthly direct debit."""
    return f"EB-{card_number}"


# --- names and duplicates --------------------------------------------------------------------


def surname_key(surname, prefix=""):
    """The surname for comparing: lower case, without accents, without a prefix like "van der"."""
    text = unicodedata.normalize("NFKD", surname or "").encode("ascii", "ignore").decode().lower().strip()
    for known in SURNAME_PREFIXES:
        if text.startswith(known + " "):
            text = text[len(known) + 1 :]
            break
    return " ".join(text.split())


def find_duplicates(unit_id, surname, prefix, birth_date, postcode, house_number):
    """Customers of the branch with the same surname (ignoring prefix and case), birth date and address."""
    return db.session.scalars(
        select(EbookCustomer).where(
            EbookCustomer.unit_id == unit_id,
            EbookCustomer.surname_key == surname_key(surname, prefix),
            EbookCustomer.birth_date == birth_date,
            EbookCustomer.postcode == postcode,
            EbookCustomer.house_number == house_number,
        )
    ).all()


# --- one-time passwords ----------------------------------------------------------------------


def new_one_time_password():
    """8 characters from an alphabet without look-alikes (no 0/O, no 1/I/L)."""
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))


def make_one_time_password():
    """A new one-time password and its hash. Hashing is slow (scrypt), so it is done before the
    write transaction, never inside it."""
    password = new_one_time_password()
    return password, hash_password(password)


def issue_one_time_password(customer, made=None):
    """Give the customer a one-time password (`made` by make_one_time_password, or a new one),
    stored hashed only: the request that makes it shows it on the receipt, and no later request
    can show it again. Returns the password."""
    password, hashed = made or make_one_time_password()
    customer.password_hash = hashed
    customer.password_issued_at = utcnow()
    return password


def check_one_time_password(customer, password):
    return check_password_hash(customer.password_hash, password)


def reissue_password(customer):
    """A new one-time password (audited, committed), returned for the receipt the request shows."""
    made = make_one_time_password()  # slow: before the write transaction
    begin_write()
    password = issue_one_time_password(customer, made)
    audit.record("ebook.password_reissued", obj=customer, unit=customer.unit_id)
    db.session.commit()
    return password


def record_view(customer):
    audit.record("ebook.customer_viewed", obj=customer, unit=customer.unit_id)
    db.session.commit()


def save_tariff(tariff):
    """A service admin's change to a tariff (filled in by the form), audited."""
    audit.record("ebook.tariff_changed", obj=tariff, unit=tariff.unit_id, code=tariff.code)
    db.session.commit()


# --- signup -------------------------------------------------------------------------------------


def sign_up(unit, details, tariff, card_number=None, staff=None, today=None, duplicate_confirmed=False):
    """Create the customer and the subscription in one transaction, commit, and return
    (customer, one-time password).

    A customer who looks like one the branch has is refused (LooksLikeDuplicate) unless staff
    confirmed the duplicate. `card_number` is a scanned number or None to take the branch's
    next one. The number is taken last, just before the insert, so a save that fails on
    anything gives it back. A card is made for every tariff but a digital-only one. The
    password is for the receipt this request shows; only its hash is kept. The write
    transaction starts after the slow hashing, and the rules are checked under its lock
    (common/transactions.py).
    """
    made = make_one_time_password()
    begin_write()
    duplicates = find_duplicates(
        unit.id, details["surname"], details.get("prefix", ""), details["birth_date"], details.get("postcode"),
        details.get("house_number"),
    )
    if duplicates and not duplicate_confirmed:
        raise LooksLikeDuplicate(duplicates)
    today = today or branch_today()
    age = age_on(details["birth_date"], today)
    check_tariff_offered(tariff, unit.id)
    check_tariff_rules(tariff, details, age)
    if card_number:
        check_scanned_card_number(unit, card_number)
    customer = EbookCustomer(
        unit_id=unit.id,
        card_number=card_number,
        actor_id=next_in_sequence("actor"),
        surname_key=surname_key(details["surname"], details.get("prefix", "")),
        # Only a digital-only tariff goes without a card; every other tariff issues one.
        physical_card=not tariff.digital_only,
        created_by_id=staff.id if staff else None,
        **details,
    )
    password = issue_one_time_password(customer, made)
    customer.subscriptions.append(subscription_from(tariff, cost_summary(customer.display_name, age, tariff, today)))
    _save_with_card_number(customer, unit, scanned=bool(card_number))
    if customer.subscription.direct_debit:
        customer.subscription.mandate_reference = mandate_reference(customer.card_number)
    audit.record("ebook.customer_signed_up", obj=customer, unit=unit.id, tariff=tariff.code)
    ebook_live.announce_signups_changed(unit.id)
    db.session.commit()
    return customer, password


def subscription_from(tariff, summary):
    """The subscription a cost summary describes, billed until its rights end."""
    return Subscription(
        tariff_id=tariff.id,
        tariff_code=tariff.code,
        tariff_name=tariff.name,
        price_cents=summary.subscription_cents,
        registration_fee_cents=summary.registration_fee_cents,
        discount_cents=summary.discount_cents,
        transfer_discount_cents=summary.transfer_discount_cents,
        trial=summary.trial,
        starts_on=summary.starts_on,
        rights_until=summary.rights_until,
        billed_until=summary.rights_until,
        direct_debit=tariff.needs_direct_debit,
        mandate_reference="",
    )


def check_tariff_offered(tariff, unit_id):
    if tariff.unit_id != unit_id or not tariff.active:
        raise Refused(_l("This subscription is not available at this age."), field="tariff")


def check_tariff_rules(tariff, details, age, field="tariff"):
    """What a subscription asks of its customer: an age it allows, an IBAN for direct debit."""
    if not tariff_allows_age(tariff, age):
        raise Refused(_l("This subscription is not available at this age."), field=field)
    if tariff.needs_direct_debit and not details.get("iban"):
        raise Refused(_l("Monthly direct debit needs the customer's IBAN."), field="iban")


def _save_with_card_number(customer, unit, scanned):
    """Flush the customer with its card number; a generated number that a concurrent save took
    first is skipped.

    The number is written in a savepoint, after everything else of the customer: a unique-number
    clash (another transaction committed that number after we checked) rolls back only the
    number, and the next one is tried.
    """
    if customer in db.session:
        db.session.flush()  # a correction's other changes, outside the savepoint
    while True:
        number = customer.card_number if scanned else generate_card_number(unit)
        try:
            with db.session.begin_nested():
                customer.card_number = number  # in the savepoint: its rollback takes the number back
                db.session.add(customer)
                db.session.flush()
            return
        except IntegrityError:
            if scanned:  # a scanned number another save took at the same moment
                db.session.rollback()
                raise Refused(_l("This card number belongs to another customer."), field="card_number") from None


def billed_cents(customer):
    """What the customer has been billed: the balance of every subscription."""
    return sum(s.balance_cents for s in customer.subscriptions)


def update_customer(customer, details, card_number=None, tariff=None, today=None, duplicate_confirmed=False):
    """Correct a saved customer ("Wijzig") with the signup's rules, commit, and return the names
    of the changed fields (audited by name, not value; colleagues' overviews refresh).

    `card_number` None keeps the number, GENERATE_PLACEHOLDER takes the branch's next one, any
    other is a scanned card. `tariff` None or the one taken keeps the subscription; the details
    must then still suit it at the age the customer had when it was taken. Another tariff must
    suit the customer today: the current subscription ends yesterday and the new one starts
    today, with what is left of the old one credited (change_summary). A change of name, birth
    date or address that makes the customer look like another of the branch is refused
    (LooksLikeDuplicate) unless staff confirmed it.
    """
    today = today or branch_today()
    begin_write()
    unit, current = customer.unit, customer.subscription
    identity = {name: details.get(name, getattr(customer, name)) for name in IDENTIFYING_FIELDS}
    if not duplicate_confirmed and any(getattr(customer, name) != value for name, value in identity.items()):
        others = [d for d in find_duplicates(unit.id, **identity) if d.id != customer.id]
        if others:
            raise LooksLikeDuplicate(others)
    new_tariff = tariff if tariff is not None and (current is None or tariff.id != current.tariff_id) else None
    _check_subscription_rules(customer, details, current, new_tariff, today)
    previous_number = customer.card_number
    new_number = card_number if card_number and card_number != previous_number else None
    if new_number not in (None, GENERATE_PLACEHOLDER):
        check_scanned_card_number(unit, new_number)

    changed = [name for name in EDITABLE_FIELDS if name in details and getattr(customer, name) != details[name]]
    for name in changed:
        setattr(customer, name, details[name])
    customer.surname_key = surname_key(customer.surname, customer.prefix)
    if new_tariff is not None:
        _change_subscription(customer, current, new_tariff, today)
        changed.append("tariff")
    if new_number is not None:
        scanned = new_number != GENERATE_PLACEHOLDER
        if scanned:
            customer.card_number = new_number
        _save_with_card_number(customer, unit, scanned=scanned)
        changed.append("card_number")
    if new_tariff is not None and customer.subscription.direct_debit:
        customer.subscription.mandate_reference = mandate_reference(customer.card_number)
    if changed:
        numbers = {"card_number": customer.card_number, "previous_card_number": previous_number} if new_number else {}
        tariffs = {"tariff": new_tariff.code, "previous_tariff": current.tariff_code if current else ""} if new_tariff else {}
        audit.record("ebook.customer_changed", obj=customer, unit=customer.unit_id, fields=changed, **numbers, **tariffs)
        announce_customer(customer)
    db.session.commit()
    return changed


def _check_subscription_rules(customer, details, current, new_tariff, today):
    """A new tariff must be offered and suit the customer today (never for an ended customer); a
    kept one must still suit the corrected details at the age the customer had when it was taken."""
    if new_tariff is not None:
        if customer.ended_on is not None:
            raise Refused(_l("This customer has been ended: sign the customer up again for a new subscription."),
                          field="tariff")
        check_tariff_offered(new_tariff, customer.unit_id)
        check_tariff_rules(new_tariff, details, age_on(details["birth_date"], today))
    elif current is not None and current.tariff is not None:
        check_tariff_rules(current.tariff, details, age_on(details["birth_date"], current.starts_on),
                           field="birth_date")


def _change_subscription(customer, current, tariff, today):
    """The current subscription ends yesterday and one of `tariff` starts today, with what is left
    of the old one credited; a card comes with every tariff but a digital-only one."""
    summary = change_summary(customer.display_name, customer.birth_date, current, tariff, today)
    if current is not None:
        current.rights_until = min(current.rights_until, today - timedelta(days=1))
    customer.subscriptions.insert(0, subscription_from(tariff, summary))  # newest first, as loaded
    customer.physical_card = not tariff.digital_only


def end_customer(customer, ends_on, reason, today=None):
    """End the subscription ("Klant afsluiten") on a day with a reason, committed; the customer
    stays findable."""
    today = today or branch_today()
    reason = " ".join((reason or "").split())
    if not reason:
        raise Refused(_l("Give the reason for ending the subscription."), field="reason")
    if customer.ended_on is not None:
        raise Refused(_l("This customer has already been ended."), field="ends_on")
    starts = customer.subscription.starts_on if customer.subscription else customer.created_at.date()
    if ends_on < starts or ends_on > today + timedelta(days=366):
        raise Refused(_l("Choose a day from the start of the subscription to a year from today."), field="ends_on")
    customer.ended_on, customer.end_reason = ends_on, reason
    for sub in customer.subscriptions:
        sub.rights_until = min(sub.rights_until, ends_on)
    audit.record("ebook.customer_ended", obj=customer, unit=customer.unit_id, ends_on=ends_on.isoformat(), reason=reason)
    announce_customer(customer)
    db.session.commit()


def delete_customer(customer):
    """Remove a customer ("Verwijder"): only one with nothing billed. Audited with the card number, committed."""
    if billed_cents(customer):
        raise Refused(_l("This customer has been billed: end the subscription instead of deleting."), field="delete")
    unit_id = customer.unit_id
    audit.record("ebook.customer_deleted", obj=customer, unit=unit_id, card_number=customer.card_number)
    db.session.delete(customer)
    ebook_live.announce_customer_changed(unit_id, customer.id)
    db.session.commit()


def announce_customer(customer):
    ebook_live.announce_customer_changed(customer.unit_id, customer.id)


def branch_zone():
    return ZoneInfo(current_app.config["EBOOK_TIMEZONE"])


def branch_today():
    """The date at the branches: a subscription taken at half past midnight starts that day."""
    return datetime.now(branch_zone()).date()


def branch_midnight_utc(now=None):
    """Today's midnight at the branches (EBOOK_TIMEZONE, Europe/Amsterdam), as naive UTC."""
    zone = branch_zone()
    local = (now or utcnow()).replace(tzinfo=ZoneInfo("UTC")).astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def todays_signups(unit_id, now=None):
    """The branch's signups since midnight at the branch today, newest first."""
    start = branch_midnight_utc(now)
    return db.session.scalars(
        select(EbookCustomer)
        .where(EbookCustomer.unit_id == unit_id, EbookCustomer.created_at >= start)
        .order_by(EbookCustomer.created_at.desc(), EbookCustomer.id.desc())
    ).all()


def count_customers(unit_id):
    return db.session.scalar(select(func.count(EbookCustomer.id)).where(EbookCustomer.unit_id == unit_id))
