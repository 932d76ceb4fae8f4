"""Card numbers of the e-book counter: the branch's sequence, the scanned formats a branch
accepts (its settings), and the save that gives a customer a number nobody has."""
from typing import cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import Table, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from stdnum import ean, luhn

from blueprints.accounts.models import Unit
from blueprints.ebook.models import BranchSettings, EbookCustomer, NumberSequence
from common import audit
from common.refusals import Refused
from common.transactions import write_transaction
from extensions import db

CARD_NUMBER_LENGTH = 14
GENERATE_PLACEHOLDER = "V" * CARD_NUMBER_LENGTH  # what the field shows until the save assigns the number


def card_number_for(branch_code: str, sequence: int) -> str:
    """A card number: "2" + 4-digit branch code + 8-digit sequence + Luhn check digit (14 digits)."""
    body = f"2{branch_code}{sequence:08d}"
    return body + luhn.calc_check_digit(body)


def is_valid_card_number(number: str) -> bool:
    """A card number is 14 digits whose last one is the Luhn check digit of the others."""
    return len(number) == CARD_NUMBER_LENGTH and number.isdigit() and luhn.is_valid(number)


def next_in_sequence(name: str) -> int:
    """Take the next value of a counter row inside the current transaction.

    A conditional UPDATE ... RETURNING locks the row until commit or rollback: a concurrent
    save waits instead of reading the same value, and a rolled-back save gives the number back.
    Never max(card_number) + 1, which two saves can read at the same moment.
    """
    table = cast(Table, NumberSequence.__table__)  # a declarative class's table (typed as any FromClause)
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
        value = db.session.execute(bump).scalar_one()
    return value


def set_sequence(name: str, last_value: int) -> None:
    """Start a counter after numbers already handed out (e.g. when moving from an older system)."""
    row = db.session.get(NumberSequence, name) or NumberSequence(name=name)
    row.last_value = last_value
    db.session.add(row)


def generate_card_number(unit: Unit) -> str:
    """The next card number of the branch, from its own sequence row, skipping numbers in use.

    A scanned card may carry a number the sequence would reach later; that number is passed
    over instead of blocking every later generated signup of the branch.
    """
    if unit.branch_code is None:
        raise ValueError(f"{unit} is not a branch: it has no card numbers")
    while True:
        number = card_number_for(unit.branch_code, next_in_sequence(f"card:{unit.branch_code}"))
        if not card_number_taken(number):
            return number


def card_number_taken(number: str) -> bool:
    return db.session.scalar(select(EbookCustomer.id).where(EbookCustomer.card_number == number)) is not None


def save_with_card_number(customer: EbookCustomer, unit: Unit, scanned: bool) -> None:
    """Flush the customer with its card number, inside the write transaction around it; a
    generated number that a concurrent save took first is skipped.

    The number is written in a savepoint, after everything else of the customer: a unique-number
    clash (another transaction committed that number after we checked) rolls back only the
    number, and the next one is tried. A scanned number met that way is refused at its field.
    A clash of another unique key is not retried (it would clash again with every number): the
    write transaction answers it as a Conflict.
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
            if not _stored(number):
                raise  # another unique key (not the number): write_transaction answers Conflict
            if scanned:  # a scanned number another save took at the same moment
                raise Refused(_l("This card number belongs to another customer."), field="card_number") from None


def _stored(number: str) -> bool:
    """Whether a customer has the number now, asked after a clash (the check before it saw it free)."""
    with db.session.no_autoflush:
        return db.session.scalar(select(EbookCustomer.id).where(EbookCustomer.card_number == number)) is not None


def _branch_card(number: str, branch_code: str) -> bool:
    return is_valid_card_number(number) and number[1:5] == branch_code and number[0] == "2"


def _ean13(number: str, branch_code: str) -> bool:
    return len(number) == 13 and number.isdigit() and ean.is_valid(number)


# The formats a branch's scanners may read: name -> (rule, description naming the format).
CARD_FORMATS = {
    "branch14": (_branch_card, _l("14 digits: 2, the branch code %(branch)s, 8 digits and a check digit")),
    "luhn14": (lambda number, branch_code: is_valid_card_number(number),
               _l("14 digits ending in a check digit (any branch)")),
    "ean13": (_ean13, _l("a 13-digit EAN barcode")),
}
DEFAULT_CARD_FORMATS = "branch14"


def branch_settings(unit: Unit) -> BranchSettings:
    """The branch's settings row, or the defaults when none was saved (no discounts)."""
    return db.session.get(BranchSettings, unit.id) or BranchSettings(
        unit_id=unit.id, login_url="", card_formats=DEFAULT_CARD_FORMATS, discount_reasons="", max_discount_percent=0,
    )


@write_transaction()
def save_branch_settings(unit: Unit, login_url: str | None, card_formats: list[str],
                         discount_reasons: str | None = None, max_discount_percent: int | None = None) -> None:
    """A service admin's settings for a branch (audited); unknown format names are dropped; the
    discount reasons one a line, blank lines and repeats dropped (None keeps what is saved)."""
    row = db.session.get(BranchSettings, unit.id) or BranchSettings(unit_id=unit.id, discount_reasons="",
                                                                    max_discount_percent=0)
    row.login_url = (login_url or "").strip()
    row.card_formats = " ".join(n for n in card_formats if n in CARD_FORMATS) or DEFAULT_CARD_FORMATS
    if discount_reasons is not None:
        reasons = [" ".join(line.split())[:100] for line in discount_reasons.splitlines()]
        row.discount_reasons = "\n".join(dict.fromkeys(r for r in reasons if r))
    if max_discount_percent is not None:
        row.max_discount_percent = max(0, min(100, max_discount_percent))
    db.session.add(row)
    audit.record("ebook.branch_settings_changed", unit=unit.id, login_url=row.login_url, card_formats=row.card_formats,
                 discount_reasons=row.discount_reason_list(), max_discount_percent=row.max_discount_percent)


def accepted_card_formats(unit: Unit) -> list[str]:
    names = [n for n in (branch_settings(unit).card_formats or "").split() if n in CARD_FORMATS]
    return names or [DEFAULT_CARD_FORMATS]


def expected_card_format(unit: Unit) -> str:
    """The accepted formats in words, for the message at the card number field."""
    formats = (str(CARD_FORMATS[n][1]) % {"branch": unit.branch_code} for n in accepted_card_formats(unit))
    return str(_l(" or ")).join(formats)


def check_scanned_card_number(unit: Unit, number: str) -> None:
    """A scanned number must have one of the branch's accepted formats and be nobody's yet."""
    if not any(CARD_FORMATS[n][0](number, unit.branch_code) for n in accepted_card_formats(unit)):
        raise Refused(
            _l("This card number is not in the expected format: %(format)s.", format=expected_card_format(unit)),
            field="card_number",
        )
    if card_number_taken(number):
        raise Refused(_l("This card number belongs to another customer."), field="card_number")
