"""Signups and corrections at the e-book counter: a new customer with a subscription, a correction
("Wijzig"), ending ("Klant afsluiten") and deleting ("Verwijder"); the look-alike check, the
search, today's signups.

Each function that changes something is one write transaction (common/transactions.py): its
rules are checked under the write lock, and its live events go out after the commit.
"""
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from blueprints.accounts.models import Unit, User
from blueprints.ebook import live as ebook_live
from blueprints.ebook.cards import (
    GENERATE_PLACEHOLDER,
    branch_settings,
    check_scanned_card_number,
    next_in_sequence,
    save_with_card_number,
)
from blueprints.ebook.models import CustomerDetails, EbookCustomer, Subscription, Tariff
from blueprints.ebook.passwords import issue_one_time_password, make_one_time_password
from blueprints.ebook.pricing import (
    CostSummary,
    Discount,
    age_on,
    branch_midnight_utc,
    branch_today,
    change_summary,
    check_discount,
    check_tariff_offered,
    check_tariff_rules,
    cost_summary,
    mandate_reference,
)
from common import audit
from common.refusals import Refused
from common.transactions import write_transaction
from extensions import db

# The customer's own fields a correction ("Wijzig") changes; the card number and the tariff have
# rules of their own (update_customer).
EDITABLE_FIELDS = CustomerDetails.names()

# What find_duplicates compares: a correction of one of these is checked again.
IDENTIFYING_FIELDS = ("surname", "prefix", "birth_date", "postcode", "house_number")

SURNAME_PREFIXES = (
    "van der", "van den", "van de", "van 't", "in 't", "op de", "van", "de", "den", "der", "het", "'t", "te", "ter",
    "ten",
)


class LooksLikeDuplicate(Refused):
    """The branch has a customer with the same surname, birth date and address (`duplicates`):
    the signup is saved only when staff confirm that this is a different person."""

    def __init__(self, duplicates: Sequence[EbookCustomer]) -> None:
        super().__init__(
            _l("A customer with the same surname, birth date and address exists. Check it, or tick this box to "
               "save anyway."),
            field="confirm_duplicate",
        )
        self.duplicates = duplicates


# --- names, duplicates, finding -------------------------------------------------------------


def surname_key(surname: str | None, prefix: str = "") -> str:
    """The surname for comparing: lower case, without accents, without a prefix like "van der"."""
    text = unicodedata.normalize("NFKD", surname or "").encode("ascii", "ignore").decode().lower().strip()
    for known in SURNAME_PREFIXES:
        if text.startswith(known + " "):
            text = text[len(known) + 1 :]
            break
    return " ".join(text.split())


def find_duplicates(unit_id: int, surname: str, prefix: str, birth_date: date, postcode: str,
                    house_number: int) -> Sequence[EbookCustomer]:
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


def find_customers(unit_id: int, query: str, limit: int = 50) -> Sequence[EbookCustomer]:
    """The branch's customers with this card number or a surname starting so; ended ones too
    (the list says they are ended)."""
    key = surname_key(query)
    return db.session.scalars(
        select(EbookCustomer)
        .where(EbookCustomer.unit_id == unit_id)
        .where((EbookCustomer.card_number == query) | (EbookCustomer.surname_key.startswith(key)))
        .order_by(EbookCustomer.surname_key)
        .limit(limit)
    ).all()


def todays_signups(unit_id: int, now: datetime | None = None) -> Sequence[EbookCustomer]:
    """The branch's signups since midnight at the branch today, newest first."""
    start = branch_midnight_utc(now)
    return db.session.scalars(
        select(EbookCustomer)
        .where(EbookCustomer.unit_id == unit_id, EbookCustomer.created_at >= start)
        .order_by(EbookCustomer.created_at.desc(), EbookCustomer.id.desc())
    ).all()


def billed_cents(customer: EbookCustomer) -> int:
    """What the customer has been billed: the balance of every subscription."""
    return sum(s.balance_cents for s in customer.subscriptions)


def record_view(customer: EbookCustomer) -> None:
    """Who looked at a customer: an audit record only, so the customer stays loaded for the page."""
    with write_transaction(keep_loaded=True):
        audit.record("ebook.customer_viewed", obj=customer, unit=customer.unit_id)


# --- signup -------------------------------------------------------------------------------------


def sign_up(unit: Unit, details: CustomerDetails, tariff: Tariff, card_number: str | None = None,
            staff: User | None = None, today: date | None = None,
            duplicate_confirmed: bool = False, discount: Discount | None = None) -> tuple[EbookCustomer, str]:
    """Create the customer and the subscription in one write transaction and return
    (customer, one-time password).

    A customer who looks like one the branch has is refused (LooksLikeDuplicate) unless staff
    confirmed the duplicate. `card_number` is a scanned number or None to take the branch's
    next one. The number is taken last, just before the insert, so a save that fails on
    anything gives it back. A card is made for every tariff but a digital-only one. The
    password is for the receipt this request shows; only its hash is kept. The write
    transaction starts after the slow hashing, and the rules are checked under its lock.
    A `discount` on the subscription fee must keep to the branch's rules (check_discount) and
    is audited with its reason.
    """
    made = make_one_time_password()
    with write_transaction():
        duplicates = find_duplicates(
            unit.id, details.surname, details.prefix, details.birth_date, details.postcode, details.house_number,
        )
        if duplicates and not duplicate_confirmed:
            raise LooksLikeDuplicate(duplicates)
        today = today or branch_today()
        age = age_on(details.birth_date, today)
        check_tariff_offered(tariff, unit.id)
        check_tariff_rules(tariff, details, age)
        if card_number:
            check_scanned_card_number(unit, card_number)
        discount_cents = check_discount(branch_settings(unit), discount, tariff.price_cents)
        customer = EbookCustomer(
            unit_id=unit.id,
            card_number=card_number,
            actor_id=next_in_sequence("actor"),
            surname_key=surname_key(details.surname, details.prefix),
            # Only a digital-only tariff goes without a card; every other tariff issues one.
            physical_card=not tariff.digital_only,
            created_by_id=staff.id if staff else None,
            **details.columns(),
        )
        password = issue_one_time_password(customer, made)
        summary = cost_summary(customer.display_name, age, tariff, today, discount_cents, discount)
        customer.subscriptions.append(subscription_from(tariff, summary))
        save_with_card_number(customer, unit, scanned=bool(card_number))
        if customer.subscription.direct_debit:
            customer.subscription.mandate_reference = mandate_reference(customer.card_number)
        audit.record("ebook.customer_signed_up", obj=customer, unit=unit.id, tariff=tariff.code)
        if discount_cents:
            audit.record("ebook.discount_given", obj=customer, unit=unit.id, tariff=tariff.code,
                         discount_cents=discount_cents, percent=summary.discount_percent,
                         reason=summary.discount_reason)
        ebook_live.announce_signups_changed(unit.id)
    return customer, password


def subscription_from(tariff: Tariff, summary: CostSummary) -> Subscription:
    """The subscription a cost summary describes, billed until its rights end."""
    return Subscription(
        tariff_id=tariff.id,
        tariff_code=tariff.code,
        tariff_name=tariff.name,
        price_cents=summary.subscription_cents,
        registration_fee_cents=summary.registration_fee_cents,
        discount_cents=summary.discount_cents,
        discount_percent=summary.discount_percent,
        discount_reason=summary.discount_reason,
        transfer_discount_cents=summary.transfer_discount_cents,
        trial=summary.trial,
        starts_on=summary.starts_on,
        rights_until=summary.rights_until,
        billed_until=summary.rights_until,
        direct_debit=tariff.needs_direct_debit,
        mandate_reference="",
    )


# --- corrections, ending, deleting ------------------------------------------------------------


@write_transaction()
def update_customer(customer: EbookCustomer, details: CustomerDetails, card_number: str | None = None,
                    tariff: Tariff | None = None, today: date | None = None,
                    duplicate_confirmed: bool = False) -> list[str]:
    """Correct a saved customer ("Wijzig") with the signup's rules and return the names of the
    changed fields (audited by name, not value; colleagues' overviews refresh).

    `card_number` None keeps the number, GENERATE_PLACEHOLDER takes the branch's next one, any
    other is a scanned card. `tariff` None or the one taken keeps the subscription; the details
    must then still suit it at the age the customer had when it was taken. Another tariff must
    suit the customer today: the current subscription ends yesterday and the new one starts
    today, with what is left of the old one credited (change_summary). A change of name, birth
    date or address that makes the customer look like another of the branch is refused
    (LooksLikeDuplicate) unless staff confirmed it.
    """
    today = today or branch_today()
    unit, current = customer.unit, customer.subscription
    identity = {name: getattr(details, name) for name in IDENTIFYING_FIELDS}
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

    changed = [name for name in EDITABLE_FIELDS if getattr(customer, name) != getattr(details, name)]
    for name in changed:
        setattr(customer, name, getattr(details, name))
    customer.surname_key = surname_key(customer.surname, customer.prefix)
    if new_tariff is not None:
        _change_subscription(customer, current, new_tariff, today)
        changed.append("tariff")
    if new_number is not None:
        scanned = new_number != GENERATE_PLACEHOLDER
        if scanned:
            customer.card_number = new_number
        save_with_card_number(customer, unit, scanned=scanned)
        changed.append("card_number")
    if new_tariff is not None and customer.subscription.direct_debit:
        customer.subscription.mandate_reference = mandate_reference(customer.card_number)
    if changed:
        numbers: dict[str, Any] = {}
        if new_number:
            numbers = {"card_number": customer.card_number, "previous_card_number": previous_number}
        tariffs: dict[str, Any] = {}
        if new_tariff:
            tariffs = {"tariff": new_tariff.code, "previous_tariff": current.tariff_code if current else ""}
        audit.record("ebook.customer_changed", obj=customer, unit=customer.unit_id, fields=changed, **numbers,
                     **tariffs)
        announce_customer(customer)
    return changed


def _check_subscription_rules(customer: EbookCustomer, details: CustomerDetails, current: Subscription | None,
                              new_tariff: Tariff | None, today: date) -> None:
    """A new tariff must be offered and suit the customer today (never for an ended customer); a
    kept one must still suit the corrected details at the age the customer had when it was taken."""
    if new_tariff is not None:
        if customer.ended_on is not None:
            raise Refused(_l("This customer has been ended: sign the customer up again for a new subscription."),
                          field="tariff")
        check_tariff_offered(new_tariff, customer.unit_id)
        check_tariff_rules(new_tariff, details, age_on(details.birth_date, today))
    elif current is not None and current.tariff is not None:
        check_tariff_rules(current.tariff, details, age_on(details.birth_date, current.starts_on),
                           field="birth_date")


def _change_subscription(customer: EbookCustomer, current: Subscription | None, tariff: Tariff,
                         today: date) -> None:
    """The current subscription ends yesterday and one of `tariff` starts today, with what is left
    of the old one credited; a card comes with every tariff but a digital-only one."""
    summary = change_summary(customer.display_name, customer.birth_date, current, tariff, today)
    if current is not None:
        current.rights_until = min(current.rights_until, today - timedelta(days=1))
    customer.subscriptions.insert(0, subscription_from(tariff, summary))  # newest first, as loaded
    customer.physical_card = not tariff.digital_only


@write_transaction()
def end_customer(customer: EbookCustomer, ends_on: date, reason: str | None, today: date | None = None) -> None:
    """End the subscription ("Klant afsluiten") on a day with a reason; the customer stays findable."""
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
    audit.record("ebook.customer_ended", obj=customer, unit=customer.unit_id, ends_on=ends_on.isoformat(),
                 reason=reason)
    announce_customer(customer)


@write_transaction()
def delete_customer(customer: EbookCustomer) -> None:
    """Remove a customer ("Verwijder"): only one with nothing billed. Audited with the card number."""
    if billed_cents(customer):
        raise Refused(_l("This customer has been billed: end the subscription instead of deleting."), field="delete")
    unit_id = customer.unit_id
    audit.record("ebook.customer_deleted", obj=customer, unit=unit_id, card_number=customer.card_number)
    db.session.delete(customer)
    ebook_live.announce_customer_changed(unit_id, customer.id)


def announce_customer(customer: EbookCustomer) -> None:
    ebook_live.announce_customer_changed(customer.unit_id, customer.id)
