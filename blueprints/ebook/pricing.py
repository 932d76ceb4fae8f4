"""Tariffs and what they cost: the branch's price list and who may take which tariff, the cost
summary of a signup or a change of tariff, the registration fee, and the dates at the branches."""
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from blueprints.accounts.models import Unit
from blueprints.ebook.models import BranchSettings, CustomerDetails, Subscription, Tariff, TariffKind
from common import audit
from common.clock import utcnow
from common.refusals import Message, Refused
from common.transactions import write_transaction
from common.views import format_money
from extensions import db

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


# --- tariffs ---------------------------------------------------------------------------------------


def age_on(birth_date: date, day: date) -> int:
    """Age in whole years on a day (a birthday on 29 February counts from 1 March in other years)."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def tariff_allows_age(tariff: Tariff, age: int | None) -> bool:
    """A tariff with an age range is for customers whose age is within it, both ends included."""
    if age is None:
        return tariff.min_age is None and tariff.max_age is None
    return (tariff.min_age is None or age >= tariff.min_age) and (tariff.max_age is None or age <= tariff.max_age)


def branch_tariffs(unit_id: int) -> Sequence[Tariff]:
    """The tariffs the branch offers at the counter."""
    return db.session.scalars(
        select(Tariff).where(Tariff.unit_id == unit_id, Tariff.active).order_by(Tariff.code)
    ).all()


def price_list(unit_id: int) -> Sequence[Tariff]:
    """Every tariff of the branch, offered or not (a service admin's page)."""
    return db.session.scalars(select(Tariff).where(Tariff.unit_id == unit_id).order_by(Tariff.code)).all()


def tariffs_for_age(unit_id: int, age: int | None) -> list[Tariff]:
    """The branch's active tariffs a customer of this age may take."""
    return [t for t in branch_tariffs(unit_id) if tariff_allows_age(t, age)]


def check_tariff_offered(tariff: Tariff, unit_id: int) -> None:
    if tariff.unit_id != unit_id or not tariff.active:
        raise Refused(_l("This subscription is not available at this age."), field="tariff")


def check_tariff_rules(tariff: Tariff, details: CustomerDetails, age: int, field: str = "tariff") -> None:
    """What a subscription asks of its customer: an age it allows, an IBAN for direct debit."""
    if not tariff_allows_age(tariff, age):
        raise Refused(_l("This subscription is not available at this age."), field=field)
    if tariff.needs_direct_debit and not details.iban:
        raise Refused(_l("Monthly direct debit needs the customer's IBAN."), field="iban")


def ensure_tariffs(unit: Unit) -> None:
    """Every branch starts with the standard tariff table: a branch without tariffs gets it when
    its first signup form opens. Only that first visit writes: the others only read."""
    if not branch_tariffs(unit.id):
        with write_transaction():
            seed_tariffs(unit)


def seed_tariffs(unit: Unit) -> None:
    """Give a branch the standard tariff table (rows it has already are left as they are, so
    that two first visits to a new branch at the same moment add it once). Part of the caller's
    transaction."""
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    rows = [
        dict(unit_id=unit.id, code=code, name=name, price_cents=cents, period_months=months, min_age=low,
             max_age=high, kind=kind, needs_direct_debit=debit, digital_only=digital, trial=trial)
        for code, name, cents, months, low, high, kind, debit, digital, trial in TARIFF_TABLE
    ]
    db.session.execute(insert(Tariff).values(rows).on_conflict_do_nothing(index_elements=["unit_id", "code"]))


@write_transaction()
def save_tariff(tariff: Tariff, values: dict[str, object]) -> None:
    """A service admin's change to a tariff: `values` by column name (the form's), audited."""
    for name, value in values.items():
        setattr(tariff, name, value)
    audit.record("ebook.tariff_changed", obj=tariff, unit=tariff.unit_id, code=tariff.code)


# --- money and dates ---------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
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

    discount_percent: int | None = None  # the staff discount, when given as a percentage
    discount_reason: str = ""
    discount_problem: Message | None = None  # why the discount asked for counts as none (the live summary)

    @property
    def total_discount_cents(self) -> int:
        """"Korting": the discount on the subscription and the transfer discount together."""
        return self.discount_cents + self.transfer_discount_cents

    @property
    def expiry_month(self) -> date:
        return self.rights_until.replace(day=1)

    @property
    def balance_cents(self) -> int:
        """What the customer owes now: subscription + registration - discounts, in whole cents; below
        zero it is a credit (a change to a cheaper tariff)."""
        return (self.subscription_cents + self.registration_fee_cents
                - self.discount_cents - self.transfer_discount_cents)


def registration_fee_cents() -> int:
    return int(current_app.config["EBOOK_REGISTRATION_FEE_CENTS"])


@dataclass(frozen=True, kw_only=True)
class Discount:
    """A discount counter staff give on the subscription fee ("Korting abonnement"): an amount
    in cents or a whole percentage of the fee, and the reason, one of the branch's."""

    reason: str
    cents: int = 0
    percent: int | None = None

    def cents_of(self, price_cents: int) -> int:
        if self.percent is not None:
            return (price_cents * self.percent + 50) // 100  # to the nearest cent, half up
        return self.cents


def check_discount(settings: BranchSettings, discount: Discount | None, price_cents: int) -> int:
    """The discount in cents on a subscription fee, within the branch's rules: a reason from its
    list, and at most its highest percentage of the fee. No discount needs no reason."""
    if discount is None:
        return 0
    cents = discount.cents_of(price_cents)
    if cents <= 0:
        return 0
    if settings.max_discount_percent <= 0:
        raise Refused(_l("This branch gives no discounts: its admin can allow them in the branch settings."),
                      field="discount")
    highest = Discount(reason="", percent=settings.max_discount_percent).cents_of(price_cents)  # rounded alike
    if cents > highest:
        raise Refused(_l("The discount may be at most %(amount)s here: %(percent)d percent of the subscription fee.",
                         amount=format_money(highest), percent=settings.max_discount_percent), field="discount")
    if discount.reason not in settings.discount_reason_list():
        raise Refused(_l("Choose the reason for the discount."), field="discount_reason")
    return cents


def cost_summary(name: str, age: int | None, tariff: Tariff, today: date, discount_cents: int = 0,
                 discount: Discount | None = None) -> CostSummary:
    """The subscription costs from today: rights run for the tariff's period, to the day before;
    `discount_cents` the staff discount on the fee (check_discount judged `discount`)."""
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
        discount_cents=discount_cents,
        direct_debit=tariff.needs_direct_debit,
        discount_percent=discount.percent if discount and discount_cents else None,
        discount_reason=discount.reason if discount and discount_cents else "",
    )


def unused_value_cents(subscription: Subscription | None, today: date) -> int:
    """What is left from today of a subscription paid for: its price less its discount, by the day."""
    if subscription is None:
        return 0
    days = (subscription.rights_until - subscription.starts_on).days + 1
    unused = min(days, (subscription.rights_until - max(today, subscription.starts_on)).days + 1)
    if days <= 0 or unused <= 0:
        return 0
    return (subscription.price_cents - subscription.discount_cents) * unused // days


def change_summary(name: str, birth_date: date, current: Subscription | None, tariff: Tariff,
                   today: date) -> CostSummary:
    """The costs of changing the current subscription to `tariff` today: no registration fee again,
    and what is left of the current one is credited ("Korting overdracht")."""
    summary = cost_summary(name, age_on(birth_date, today), tariff, today)
    summary.registration_fee_cents = 0
    summary.transfer_discount_cents = unused_value_cents(current, today)
    return summary


def mandate_reference(card_number: str) -> str:
    """The SEPA mandate reference of a customer's monthly direct debit."""
    return f"EB-{card_number}"


def branch_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["EBOOK_TIMEZONE"])


def branch_today() -> date:
    """The date at the branches: a subscription taken at half past midnight starts that day."""
    return datetime.now(branch_zone()).date()


def branch_midnight_utc(now: datetime | None = None) -> datetime:
    """Today's midnight at the branches (EBOOK_TIMEZONE, Europe/Amsterdam), as naive UTC."""
    zone = branch_zone()
    local = (now or utcnow()).replace(tzinfo=ZoneInfo("UTC")).astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
