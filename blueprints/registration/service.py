"""The rules of Celia registration: identity codes, ages, who may see which customer."""
import csv
import io
import secrets
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_login import current_user
from limits import parse as parse_limit
from sqlalchemy import Select, false, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from blueprints.accounts.models import CELIA_UNIT_KINDS, Unit, UnitKind, User
from blueprints.registration import hetu
from blueprints.registration import live as registration_live
from blueprints.registration.credentials import follow_welcome_mail, schedule_welcome_mail
from blueprints.registration.models import (
    ACCESS_ACTIONS,
    Basis,
    Channel,
    Customer,
    CustomerStatus,
    ReactivationRequest,
    RegisteredBy,
    ServiceForm,
)
from common import audit, limits
from common.access import Role
from common.clock import library_zone, local_today, utcnow
from common.refusals import Conflict, Refused
from common.transactions import write_transaction
from extensions import db, limiter

CREDENTIAL_LINK_DAYS = 14
CUSTOMER_ROLES = (Role.REGISTRAR, Role.MAIN_USER)


class TooManyLookups(Exception):
    """The user asked whether codes exist more often than HETU_LOOKUP_RATE_LIMIT allows."""


# --- identity codes (parsing, hashing, encryption and masking: hetu.py) ---------------------


def hetu_hash(code: str) -> str:
    """The keyed hash with the application's key: how a customer is found by code."""
    return hetu.keyed_hash(code, current_app.config["IDENTITY_HMAC_KEY"])


def stored_hetu(code: str) -> dict[str, str]:
    """The columns a customer's identity code is kept in: never the code itself, but its keyed
    hash (to find the customer), the code encrypted (to show it on request) and the masked form."""
    return {
        "hetu_hash": hetu_hash(code),
        "hetu_encrypted": hetu.encrypt(code, current_app.config["IDENTITY_ENCRYPTION_KEY"]),
        "hetu_masked": hetu.mask(code),
    }


# --- ages -----------------------------------------------------------------------------


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


GUARDIAN_REQUIRED, ASK_WHO_REGISTERS, NO_GUARDIAN = "guardian_required", "ask_who_registers", "no_guardian"


def guardian_rule(born: date, today: date | None = None) -> str:
    """Under 15 a guardian's consent is required; 15 to 17 the young person may register
    alone or a guardian may do it (the form asks which); from 18 there is no guardian part."""
    age = age_on(born, today or local_today())
    if age < 15:
        return GUARDIAN_REQUIRED
    if age < 18:
        return ASK_WHO_REGISTERS
    return NO_GUARDIAN


def bases_for(unit: Unit) -> list[Basis]:
    """Schools register pupils with special or intensified support; others, a reading disability."""
    if unit.kind == UnitKind.SCHOOL:
        return [Basis.SPECIAL_SUPPORT, Basis.INTENSIFIED_SUPPORT]
    return [Basis.READING_DISABILITY]


# --- names ------------------------------------------------------------------------------


def name_key(name: str | None) -> str:
    """Lower-case ASCII form of a name for diacritic- and case-insensitive search."""
    decomposed = unicodedata.normalize("NFKD", (name or "").strip().casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# --- who may see what ---------------------------------------------------------------


def working_units(user: User | None = None) -> list[Unit]:
    """The Celia units where the user registers customers (a service admin: all)."""
    user = user or current_user
    units = {}
    for role in CUSTOMER_ROLES:
        for unit in user.units(role, kinds=CELIA_UNIT_KINDS):
            units[unit.id] = unit
    return sorted(units.values(), key=lambda u: u.name)


def may_work_in(unit_id: int, user: User | None = None) -> bool:
    user = user or current_user
    return any(user.holds(role, unit_id) for role in CUSTOMER_ROLES)


def may_see(customer: Customer, user: User | None = None) -> bool:
    """A registrar sees only customers of their own units, and not those marked for
    deletion (only a service admin handles those)."""
    user = user or current_user
    if user.is_service_admin:
        return True
    return customer.status != CustomerStatus.MARKED_FOR_DELETION and may_work_in(customer.unit_id, user)


# --- the identity-code check ---------------------------------------------------------------


@dataclass
class CheckResult:
    outcome: str  # invalid, new, mine, other_unit, marked
    code: str = ""
    reason: str = ""
    customer: Customer | None = None
    born: date | None = None
    # What the result shows, as plain values: the template needs no loaded object.
    customer_id: int | None = None
    customer_name: str = ""
    customer_status: str = ""
    unit_name: str = ""


def find_by_hetu(code: str) -> Customer | None:
    # The unit comes in the same query: every check that finds someone shows the unit's name.
    return db.session.scalar(
        select(Customer).options(joinedload(Customer.unit)).where(Customer.hetu_hash == hetu_hash(code))
    )


def count_lookup(unit: Unit) -> None:
    """Every answer to "is this code a customer anywhere?" counts against the asker's limit
    (HETU_LOOKUP_RATE_LIMIT, per user across all units): going over is refused and audited,
    so a service admin sees someone trying codes in bulk.

    Called before the caller's write transaction: the throttle's audit record is committed on
    its own, and the refusal raised after that commit."""
    if not (limiter.enabled and current_user and current_user.is_authenticated):
        return  # the command line and the demo seeding are not someone at a counter
    limit = parse_limit(current_app.config["HETU_LOOKUP_RATE_LIMIT"])
    if not limits.hit(limit, "hetu-lookup", str(current_user.id)):
        with write_transaction(keep_loaded=True):
            audit.record("customer.hetu_lookups_throttled", unit=unit.id, limit=str(limit))
        raise TooManyLookups()


def _audit_lookup(code: str, unit: Unit, customer: Customer | None, outcome: str, purpose: str) -> None:
    audit.record("customer.hetu_checked", obj=customer, object_type="Customer", unit=unit.id, outcome=outcome,
                 purpose=purpose, masked=hetu.mask(code))


def lookup_hetu(raw: str | None, unit: Unit, purpose: str) -> Customer | None:
    """The customer with this code, or None (also for a code that is not valid, which is not
    looked up): counted, audited and committed like the check; the customer stays loaded."""
    try:
        code, _born = hetu.parse(raw)
    except Refused:
        return None
    count_lookup(unit)
    with write_transaction(keep_loaded=True):
        customer = find_by_hetu(code)
        _audit_lookup(code, unit, customer, "found" if customer else "new", purpose)
    return customer


def check_hetu(raw: str | None, unit: Unit) -> CheckResult:
    """Is this person registered anywhere? Audited with the unit and committed; the answer
    carries what it shows as plain values. Another unit's customer reveals only that unit's
    name. The audit record is the transaction's only change: it takes no lock, and the user
    and unit stay loaded for the answer (three statements in all, see bench/)."""
    try:
        code, born = hetu.parse(raw)
    except Refused as error:
        return CheckResult("invalid", code=(raw or "").strip().upper(), reason=str(error))
    count_lookup(unit)
    with write_transaction(keep_loaded=True):
        customer = find_by_hetu(code)
        if customer is None:
            outcome = "new"
        elif customer.status == CustomerStatus.MARKED_FOR_DELETION:
            outcome = "marked"
        elif customer.unit_id == unit.id:
            outcome = "mine"
        else:
            outcome = "other_unit"
        result = CheckResult(outcome, code=code, customer=customer, born=born)
        if customer is not None:
            result.customer_id, result.customer_name = customer.id, customer.full_name
            result.customer_status, result.unit_name = customer.status, customer.unit.name
        _audit_lookup(code, unit, customer, outcome, "check")
    return result


# --- registering and changing customers ---------------------------------------------------

FIELDS = ("first_name", "last_name", "email", "phone", "language", "basis", "service_form", "channel",
          "review_date", "registered_by", "guardian_name", "guardian_email", "guardian_phone",
          "consent_given_by", "consent_date", "consent_method", "additional_info")


@dataclass(frozen=True, kw_only=True)
class GuardianConsent:
    """The customer form's guardian part: who registers, the guardian, and the consent."""

    registered_by: RegisteredBy | None = None
    guardian_name: str = ""
    guardian_email: str = ""
    guardian_phone: str = ""
    consent_given_by: str = ""
    consent_date: date | None = None
    consent_method: str = ""


@dataclass(frozen=True, kw_only=True)
class CustomerDetails:
    """A customer's details as the registrar gave them (the customer form's values; an empty
    text is stored as none). `guardian` None: the form had no guardian part (the customer is 18
    or over), and what was recorded of a guardian earlier stays."""

    first_name: str
    last_name: str
    email: str = ""
    phone: str = ""
    language: str = "fi"
    basis: Basis
    service_form: ServiceForm
    channel: Channel
    review_date: date | None = None
    additional_info: str = ""
    guardian: GuardianConsent | None = None

    def columns(self) -> dict[str, Any]:
        """The customer's columns these details set, by name (FIELDS, less the guardian part's
        without one)."""
        values = asdict(self)
        guardian = values.pop("guardian")
        return {**values, **(guardian or {})}


def _apply(customer: Customer, details: CustomerDetails) -> None:
    values = details.columns()
    for name in FIELDS:
        if name in values:
            value = values[name]
            setattr(customer, name, value if value != "" else None)
    customer.first_name_key = name_key(customer.first_name)
    customer.last_name_key = name_key(customer.last_name)


def register_customer(unit: Unit, code: str, details: CustomerDetails) -> Customer:
    """Create a customer in the unit. "Already registered" reveals that the code exists, so the
    attempt is counted and audited: that audit record is committed, then Conflict is raised.

    The code is looked up under the write lock (SQLite); where writers do not queue for one
    (PostgreSQL) the unique keyed hash still stops a second registration saved at the same
    moment: the insert is in a savepoint, and its failure is answered as "already registered"."""
    code, born = hetu.parse(code)
    count_lookup(unit)
    with write_transaction():
        existing = find_by_hetu(code)
        customer = None if existing else _insert_customer(unit, code, born, details)
        if customer is None:
            _audit_lookup(code, unit, existing or find_by_hetu(code), "registered_already", "register")
        else:
            audit.record("customer.registered", obj=customer, unit=unit.id, service_form=str(customer.service_form))
            schedule_welcome_mail(customer)
            registration_live.announce_customers_changed(unit.id)
    if customer is None:
        raise Conflict(_("This identity code is already registered. Check the code again to see where."))
    return customer


def _insert_customer(unit: Unit, code: str, born: date, details: CustomerDetails) -> Customer | None:
    """The new customer, flushed; None when another save stored the same code first."""
    customer = Customer(
        **stored_hetu(code), birth_date=born, unit_id=unit.id, status=CustomerStatus.ACTIVE,
    )
    _apply(customer, details)
    try:
        with db.session.begin_nested():
            db.session.add(customer)
            db.session.flush()
    except IntegrityError:
        return None
    return customer


@write_transaction()
def update_customer(customer: Customer, details: CustomerDetails) -> list[str]:
    """Change a customer's details; the audit log keeps which fields changed, not their values."""
    values = details.columns()
    changed = [n for n in FIELDS if n in values and (getattr(customer, n) or None) != (values[n] or None)]
    _apply(customer, details)
    follow_welcome_mail(customer)
    audit.record("customer.updated", obj=customer, unit=customer.unit_id, fields=changed)
    registration_live.announce_customers_changed(customer.unit_id)
    return changed


@write_transaction()
def transfer_customer(customer: Customer, to_unit: Unit, basis: Basis | None) -> Customer:
    """Move a customer to the registrar's unit; both units' lists hear of it. The customer comes
    with a basis for service that the new unit registers on (bases_for: a school registers
    pupils with special or intensified support, not a reading disability): the transfer gives it."""
    if customer.status == CustomerStatus.MARKED_FOR_DELETION:  # since the check that offered the transfer
        raise Conflict(_("Only a service admin can reactivate a customer marked for deletion."))
    from_unit = customer.unit_id
    if from_unit == to_unit.id:
        return customer
    if basis not in bases_for(to_unit):
        raise Refused(_("Choose the basis for service on which %(unit)s registers the customer.", unit=to_unit.name),
                      field="basis")
    changed = ["basis"] if basis != customer.basis else []
    customer.unit_id, customer.basis = to_unit.id, basis
    if customer.status == CustomerStatus.ENDED:
        customer.status, customer.ended_at = CustomerStatus.ACTIVE, None
    audit.record("customer.transferred", obj=customer, unit=to_unit.id, from_unit=from_unit, fields=changed)
    audit.record("customer.transferred_away", obj=customer, unit=from_unit, to_unit=to_unit.id)
    registration_live.announce_customers_changed(from_unit)
    registration_live.announce_customers_changed(to_unit.id)
    return customer


@write_transaction(keep_loaded=True)
def reveal_hetu(customer: Customer) -> str | None:
    """The full code, shown only on request; every showing is audited (the record is the only
    change: the customer stays loaded)."""
    audit.record("customer.hetu_shown", obj=customer, unit=customer.unit_id)
    if not customer.hetu_encrypted:
        return customer.service_identifier
    return hetu.decrypt(customer.hetu_encrypted, current_app.config["IDENTITY_ENCRYPTION_KEY"])


@write_transaction(keep_loaded=True)
def record_view(customer: Customer, part: str = "page") -> None:
    """Every showing of a customer's full details is audited: the page and its partials (the
    record is the only change: the customer stays loaded for the page)."""
    audit.record("customer.viewed", obj=customer, unit=customer.unit_id, part=part)


@write_transaction()
def end_customership(customer: Customer) -> None:
    """The library ends a (temporary) customership when the customer says the need is over."""
    customer.status, customer.ended_at = CustomerStatus.ENDED, utcnow()
    follow_welcome_mail(customer)
    audit.record("customer.ended", obj=customer, unit=customer.unit_id)
    registration_live.announce_customers_changed(customer.unit_id)


@write_transaction()
def resume_customership(customer: Customer) -> None:
    customer.status, customer.ended_at = CustomerStatus.ACTIVE, None
    audit.record("customer.resumed", obj=customer, unit=customer.unit_id)
    registration_live.announce_customers_changed(customer.unit_id)


# --- lists and search ---------------------------------------------------------------------


def search_query(text: str, unit_ids: Collection[int]) -> Select[tuple[Customer]]:
    """Customers of the given units whose surname or first name starts with the text,
    ignoring case and diacritics (Äijälä = aijala)."""
    words = name_key(text).split()
    query = select(Customer).where(
        Customer.unit_id.in_(unit_ids), Customer.status != CustomerStatus.MARKED_FOR_DELETION
    )
    # The keys are lower-case already: a case-sensitive prefix match can use the indexes
    # (SQLite's LIKE ignores case and so cannot; its GLOB can. PostgreSQL: varchar_pattern_ops).
    sqlite = db.engine.dialect.name == "sqlite"
    words = ["".join(c for c in word if c not in "\\%_*?[]") for word in words]
    if not any(words):
        return query.where(false())
    for word in words:
        word = "".join(c for c in word if c not in "\\%_*?[]")
        if not word:
            continue
        if sqlite:
            match = [Customer.last_name_key.op("GLOB")(word + "*"), Customer.first_name_key.op("GLOB")(word + "*")]
        else:
            match = [Customer.last_name_key.like(word + "%"), Customer.first_name_key.like(word + "%")]
        query = query.where(or_(*match))
    return query.order_by(Customer.last_name_key, Customer.first_name_key, Customer.id)


def unit_customers_query(unit_id: int) -> Select[tuple[Customer]]:
    return (
        select(Customer)
        .where(Customer.unit_id == unit_id, Customer.status != CustomerStatus.MARKED_FOR_DELETION)
        .order_by(Customer.created_at.desc(), Customer.id.desc())
    )


def passed_reviews_query(unit_ids: Collection[int], today: date | None = None) -> Select[tuple[Customer]]:
    """Active customers whose review date has passed: a reminder, it ends nothing by itself."""
    return (
        select(Customer)
        .where(Customer.unit_id.in_(unit_ids), Customer.status == CustomerStatus.ACTIVE,
               Customer.review_date.is_not(None), Customer.review_date < (today or local_today()))
        .order_by(Customer.review_date)
    )


def history(customer: Customer, with_access: bool = False) -> Sequence[audit.AuditEvent]:
    """The customer's history, newest first: what changed, and with `with_access` also who
    viewed the customer or checked their code (ACCESS_ACTIONS)."""
    from common.audit import AuditEvent

    query = select(AuditEvent).where(AuditEvent.object_type == "Customer", AuditEvent.object_id == str(customer.id))
    if not with_access:
        query = query.where(AuditEvent.action.not_in(ACCESS_ACTIONS))
    return db.session.scalars(query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())).all()


def access_count(customer: Customer) -> int:
    """How many views and code checks the customer's history leaves out unless asked."""
    from common.audit import AuditEvent

    return db.session.scalar(
        select(func.count()).select_from(AuditEvent)
        .where(AuditEvent.object_type == "Customer", AuditEvent.object_id == str(customer.id),
               AuditEvent.action.in_(ACCESS_ACTIONS))
    ) or 0


# --- the main user's export ----------------------------------------------------------------


def export_units(user: User | None = None) -> list[Unit]:
    """The units whose customers the user may download: those where they are a main user. A
    registrar may not, nor a service admin as such (no role assignment names a unit of theirs)."""
    user = user or current_user
    ids = user.unit_ids(Role.MAIN_USER)
    return list(db.session.scalars(
        select(Unit).where(Unit.id.in_(ids), Unit.active, Unit.kind.in_(CELIA_UNIT_KINDS)).order_by(Unit.name)
    ))


@write_transaction(keep_loaded=True)
def export_customers(units: Sequence[Unit]) -> list[Customer]:
    """The customers of the units, as the unit lists show them (not those marked for deletion,
    who are the service's), by unit and name. Every download is audited in each unit, with the
    number of customers it held."""
    customers = list(db.session.scalars(
        select(Customer).options(joinedload(Customer.unit))
        .where(Customer.unit_id.in_([u.id for u in units]), Customer.status != CustomerStatus.MARKED_FOR_DELETION)
        .order_by(Customer.unit_id, Customer.last_name_key, Customer.first_name_key, Customer.id)
    ))
    for unit in units:
        audit.record("customer.exported", unit=unit.id, count=sum(c.unit_id == unit.id for c in customers))
    return customers


def _csv_cell(value: object) -> str:
    """A cell a spreadsheet shows as text: one that begins like a formula (=, +, -, @) is
    prefixed with an apostrophe, so a name cannot run as one."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def customers_csv(customers: Sequence[Customer]) -> str:
    """The export as CSV: names, status, review date and the masked identity code only (never
    the full code). Semicolons, as the spreadsheets of Finnish, Swedish and Dutch desks expect,
    and a byte-order mark, so that they read the file as UTF-8 (Äijälä)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([_("Unit"), _("Last name"), _("First name"), _("Identity code"), _("Status"),
                     _("Review date"), _("Registered")])
    zone = library_zone()
    for c in customers:
        registered = c.created_at.replace(tzinfo=UTC).astimezone(zone).date()
        writer.writerow([_csv_cell(v) for v in (
            c.unit.name, c.last_name, c.first_name, c.display_identity, c.status_label,
            c.review_date.isoformat() if c.review_date else "", registered.isoformat(),
        )])
    return "\ufeff" + out.getvalue()


# --- service admin -------------------------------------------------------------------------


@write_transaction()
def request_reactivation(customer: Customer, unit: Unit) -> ReactivationRequest:
    """A registrar asks the service admins to reactivate a customer marked for deletion."""
    pending = db.session.scalar(
        select(ReactivationRequest)
        .where(ReactivationRequest.customer_id == customer.id, ReactivationRequest.handled_at.is_(None))
    )
    if pending is None:
        pending = ReactivationRequest(customer_id=customer.id, unit_id=unit.id, requested_by_id=current_user.id)
        db.session.add(pending)
        audit.record("customer.reactivation_requested", obj=customer, unit=unit.id)
        registration_live.announce_reactivation_requested()
    return pending


def customers_marked_for_deletion() -> Sequence[Customer]:
    return db.session.scalars(
        select(Customer).where(Customer.status == CustomerStatus.MARKED_FOR_DELETION).order_by(Customer.last_name_key)
    ).all()


def cd_borrowers_query() -> Select[tuple[Customer]]:
    """Active CD borrowers: the service admin changes them into net users."""
    return (select(Customer).where(Customer.service_form == ServiceForm.CD, Customer.status == CustomerStatus.ACTIVE)
            .order_by(Customer.last_name_key))


def open_reactivation_requests() -> Sequence[ReactivationRequest]:
    return db.session.scalars(
        select(ReactivationRequest)
        .where(ReactivationRequest.handled_at.is_(None))
        .order_by(ReactivationRequest.created_at)
    ).all()


@write_transaction()
def reactivate(customer: Customer, unit: Unit | None = None) -> None:
    """Only a service admin reactivates a customer marked for deletion; a pending request
    moves the customer to the asking unit."""
    if customer.status != CustomerStatus.MARKED_FOR_DELETION:  # reactivated meanwhile
        raise Conflict(_("The customer is not marked for deletion."))
    for request in db.session.scalars(
        select(ReactivationRequest)
        .where(ReactivationRequest.customer_id == customer.id, ReactivationRequest.handled_at.is_(None))
    ):
        request.handled_at = utcnow()
        unit = unit or request.unit
    old = customer.unit_id
    if unit is not None:
        customer.unit_id = unit.id
    customer.status = CustomerStatus.ACTIVE
    follow_welcome_mail(customer)
    audit.record("customer.reactivated", obj=customer, unit=customer.unit_id, from_unit=old)
    registration_live.announce_customers_changed(customer.unit_id)


@write_transaction()
def mark_for_deletion(customer: Customer) -> None:
    customer.status = CustomerStatus.MARKED_FOR_DELETION
    follow_welcome_mail(customer)
    audit.record("customer.marked_for_deletion", obj=customer, unit=customer.unit_id)
    registration_live.announce_customers_changed(customer.unit_id)


@write_transaction()
def make_net_user(customer: Customer) -> None:
    """Changing a CD borrower into a net user is the service admin's job."""
    if customer.service_form != ServiceForm.CD:  # changed meanwhile
        raise Conflict(_("The customer is already a net user."))
    customer.service_form = ServiceForm.NET
    follow_welcome_mail(customer)
    audit.record("customer.made_net_user", obj=customer, unit=customer.unit_id)
    registration_live.announce_customers_changed(customer.unit_id)


def next_service_identifier() -> str:
    return "CELIA-" + secrets.token_hex(4).upper()


@write_transaction()
def register_without_hetu(unit: Unit, born: date, details: CustomerDetails) -> Customer:
    """A person without an identity code, registered by a service admin from the separate
    customer information form, gets an identifier issued by the service."""
    customer = Customer(
        service_identifier=next_service_identifier(), birth_date=born, unit_id=unit.id, status=CustomerStatus.ACTIVE,
    )
    _apply(customer, details)
    db.session.add(customer)
    db.session.flush()
    audit.record("customer.registered_without_hetu", obj=customer, unit=unit.id)
    schedule_welcome_mail(customer)
    registration_live.announce_customers_changed(unit.id)
    return customer


def all_celia_units() -> Sequence[Unit]:
    return db.session.scalars(
        select(Unit).where(Unit.active, Unit.kind.in_(CELIA_UNIT_KINDS)).order_by(Unit.name)
    ).all()


def transferred_away(unit_id: int, days: int = 30, limit: int = 20) -> list[tuple[datetime, Customer, Unit]]:
    """Customers moved from this unit to another lately, so the old unit sees where they went."""
    from common.audit import AuditEvent

    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "customer.transferred_away", AuditEvent.unit_id == unit_id,
               AuditEvent.at >= utcnow() - timedelta(days=days))
        .order_by(AuditEvent.at.desc()).limit(limit)
    ).all()
    found = []
    for event in events:
        assert event.object_id is not None  # the customer, recorded as the event's object
        customer = db.session.get(Customer, int(event.object_id))
        to_unit = db.session.get(Unit, event.detail.get("to_unit"))
        if customer is not None and to_unit is not None:
            found.append((event.at, customer, to_unit))
    return found
