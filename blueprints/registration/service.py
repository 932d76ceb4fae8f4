"""The rules of Celia registration: identity codes, ages, who may see which customer."""
import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from limits import parse as parse_limit
from sqlalchemy import false, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from blueprints.accounts.models import CELIA_UNIT_KINDS, Unit, UnitKind
from blueprints.registration import hetu
from blueprints.registration import live as registration_live
from blueprints.registration.models import (
    Basis,
    CredentialLink,
    Customer,
    CustomerStatus,
    ReactivationRequest,
    ServiceForm,
)
from common import audit, mail
from common.access import Role
from common.clock import local_today, utcnow
from common.refusals import Conflict, Refused
from common.security import hash_password
from common.transactions import begin_write, commit_record
from extensions import db, limiter

CREDENTIAL_LINK_DAYS = 14
CUSTOMER_ROLES = (Role.REGISTRAR, Role.MAIN_USER)


class TooManyLookups(Exception):
    """The user asked whether codes exist more often than HETU_LOOKUP_RATE_LIMIT allows."""


# --- identity codes (parsing, hashing, encryption and masking: hetu.py) ---------------------


def hetu_hash(code):
    """The keyed hash with the application's key: how a customer is found by code."""
    return hetu.keyed_hash(code, current_app.config["IDENTITY_HMAC_KEY"])


def stored_hetu(code):
    """The columns a customer's identity code is kept in: never the code itself, but its keyed
    hash (to find the customer), the code encrypted (to show it on request) and the masked form."""
    return {
        "hetu_hash": hetu_hash(code),
        "hetu_encrypted": hetu.encrypt(code, current_app.config["IDENTITY_ENCRYPTION_KEY"]),
        "hetu_masked": hetu.mask(code),
    }


# --- ages -----------------------------------------------------------------------------


def age_on(born, today):
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


GUARDIAN_REQUIRED, ASK_WHO_REGISTERS, NO_GUARDIAN = "guardian_required", "ask_who_registers", "no_guardian"


def guardian_rule(born, today=None):
    """Under 15 a guardian's consent is required; 15 to 17 the young person may register
    alone or a guardian may do it (the form asks which); from 18 there is no guardian part."""
    age = age_on(born, today or local_today())
    if age < 15:
        return GUARDIAN_REQUIRED
    if age < 18:
        return ASK_WHO_REGISTERS
    return NO_GUARDIAN


def bases_for(unit):
    """Schools register pupils with special or intensified support; others, a reading disability."""
    if unit.kind == UnitKind.SCHOOL:
        return [Basis.SPECIAL_SUPPORT, Basis.INTENSIFIED_SUPPORT]
    return [Basis.READING_DISABILITY]


# --- names ------------------------------------------------------------------------------


def name_key(name):
    """Lower-case ASCII form of a name for diacritic- and case-insensitive search."""
    decomposed = unicodedata.normalize("NFKD", (name or "").strip().casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# --- who may see what ---------------------------------------------------------------


def working_units(user=None):
    """The Celia units where the user registers customers (a service admin: all)."""
    user = user or current_user
    units = {}
    for role in CUSTOMER_ROLES:
        for unit in user.units(role, kinds=CELIA_UNIT_KINDS):
            units[unit.id] = unit
    return sorted(units.values(), key=lambda u: u.name)


def may_work_in(unit_id, user=None):
    user = user or current_user
    return any(user.holds(role, unit_id) for role in CUSTOMER_ROLES)


def may_see(customer, user=None):
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
    # What the result shows, read before the audit commit expires the loaded objects.
    customer_id: int | None = None
    customer_name: str = ""
    customer_status: str = ""
    unit_name: str = ""


def find_by_hetu(code):
    # The unit comes in the same query: every check that finds someone shows the unit's name.
    return db.session.scalar(
        select(Customer).options(joinedload(Customer.unit)).where(Customer.hetu_hash == hetu_hash(code))
    )


def count_lookup(unit):
    """Every answer to "is this code a customer anywhere?" counts against the asker's limit
    (HETU_LOOKUP_RATE_LIMIT, per user across all units): going over is refused and audited,
    so a service admin sees someone trying codes in bulk."""
    if not (limiter.enabled and current_user and current_user.is_authenticated):
        return  # the command line and the demo seeding are not someone at a counter
    limit = parse_limit(current_app.config["HETU_LOOKUP_RATE_LIMIT"])
    if not limiter.limiter.hit(limit, "hetu-lookup", str(current_user.id)):
        audit.record("customer.hetu_lookups_throttled", unit=unit.id, limit=str(limit))
        db.session.commit()
        raise TooManyLookups()


def _audit_lookup(code, unit, customer, outcome, purpose):
    audit.record("customer.hetu_checked", obj=customer, object_type="Customer", unit=unit.id, outcome=outcome,
                 purpose=purpose, masked=hetu.mask(code))


def lookup_hetu(code, unit, purpose):
    """The customer with this (valid) code, or None: counted, audited and committed like the check."""
    count_lookup(unit)
    customer = find_by_hetu(code)
    _audit_lookup(code, unit, customer, "found" if customer else "new", purpose)
    commit_record()
    return customer


def check_hetu(raw, unit):
    """Is this person registered anywhere? Audited with the unit and committed; the answer
    carries what it shows as plain values, which the commit does not expire. Another unit's
    customer reveals only that unit's name."""
    try:
        code, born = hetu.parse(raw)
    except Refused as error:
        return CheckResult("invalid", code=(raw or "").strip().upper(), reason=str(error))
    count_lookup(unit)
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
    commit_record()
    return result


# --- registering and changing customers ---------------------------------------------------

FIELDS = ("first_name", "last_name", "email", "phone", "language", "basis", "service_form", "channel",
          "review_date", "registered_by", "guardian_name", "guardian_email", "guardian_phone",
          "consent_given_by", "consent_date", "consent_method", "additional_info")


def _apply(customer, fields):
    for name in FIELDS:
        if name in fields:
            value = fields[name]
            setattr(customer, name, value if value != "" else None)
    customer.first_name_key = name_key(customer.first_name)
    customer.last_name_key = name_key(customer.last_name)


def register_customer(unit, code, fields):
    """Create a customer in the unit. The unique keyed hash makes a second registration of
    the same code fail even when two registrars save at the same moment. "Already
    registered" reveals that the code exists, so the attempt is counted and audited."""
    code, born = hetu.parse(code)
    count_lookup(unit)
    begin_write()
    customer = Customer(
        **stored_hetu(code), birth_date=born, unit_id=unit.id, status=CustomerStatus.ACTIVE,
    )
    _apply(customer, fields)
    db.session.add(customer)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        _audit_lookup(code, unit, find_by_hetu(code), "registered_already", "register")
        db.session.commit()
        raise Conflict(_("This identity code is already registered. Check the code again to see where.")) from None
    audit.record("customer.registered", obj=customer, unit=unit.id, service_form=str(customer.service_form))
    schedule_welcome_mail(customer)
    registration_live.announce_customers_changed(unit.id)
    db.session.commit()
    return customer


def update_customer(customer, fields):
    """Change a customer's details; the audit log keeps which fields changed, not their values."""
    changed = [n for n in FIELDS if n in fields and (getattr(customer, n) or None) != (fields[n] or None)]
    _apply(customer, fields)
    follow_welcome_mail(customer)
    audit.record("customer.updated", obj=customer, unit=customer.unit_id, fields=changed)
    registration_live.announce_customers_changed(customer.unit_id)
    db.session.commit()
    return changed


def transfer_customer(customer, to_unit):
    """Move a customer to the registrar's unit; both units' lists hear of it."""
    if customer.status == CustomerStatus.MARKED_FOR_DELETION:
        raise Refused(_("Only a service admin can reactivate a customer marked for deletion."))
    from_unit = customer.unit_id
    if from_unit == to_unit.id:
        return customer
    customer.unit_id = to_unit.id
    if customer.status == CustomerStatus.ENDED:
        customer.status, customer.ended_at = CustomerStatus.ACTIVE, None
    audit.record("customer.transferred", obj=customer, unit=to_unit.id, from_unit=from_unit)
    audit.record("customer.transferred_away", obj=customer, unit=from_unit, to_unit=to_unit.id)
    registration_live.announce_customers_changed(from_unit)
    registration_live.announce_customers_changed(to_unit.id)
    db.session.commit()
    return customer


def reveal_hetu(customer):
    """The full code, shown only on request; every showing is audited."""
    audit.record("customer.hetu_shown", obj=customer, unit=customer.unit_id)
    db.session.commit()
    if not customer.hetu_encrypted:
        return customer.service_identifier
    return hetu.decrypt(customer.hetu_encrypted, current_app.config["IDENTITY_ENCRYPTION_KEY"])


def record_view(customer, part="page"):
    """Every showing of a customer's full details is audited: the page and its partials."""
    audit.record("customer.viewed", obj=customer, unit=customer.unit_id, part=part)
    db.session.commit()


def end_customership(customer):
    """The library ends a (temporary) customership when the customer says the need is over."""
    customer.status, customer.ended_at = CustomerStatus.ENDED, utcnow()
    follow_welcome_mail(customer)
    audit.record("customer.ended", obj=customer, unit=customer.unit_id)
    registration_live.announce_customers_changed(customer.unit_id)
    db.session.commit()


def resume_customership(customer):
    customer.status, customer.ended_at = CustomerStatus.ACTIVE, None
    audit.record("customer.resumed", obj=customer, unit=customer.unit_id)
    registration_live.announce_customers_changed(customer.unit_id)
    db.session.commit()


# --- credentials --------------------------------------------------------------------------


def _token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def credential_recipients(customer):
    """Where credentials may go: the customer's email and the guardian's, as stored. To use
    another address the email is changed first, then the credentials are sent."""
    found = []
    if customer.email:
        found.append(("customer", customer.email))
    if customer.guardian_email:
        found.append(("guardian", customer.guardian_email))
    return found


WELCOME_SUBJECT = _l("Welcome to Celia")


def schedule_welcome_mail(customer):
    """The service welcomes a new net customer by email about two weeks after the registration
    (seed 000): an outbox mail due then, sent by the delivery loop. None without an address."""
    if not gets_welcome_mail(customer):
        return None
    due = (customer.created_at or utcnow()) + timedelta(days=current_app.config.get("CELIA_WELCOME_MAIL_DAYS", 14))
    customer.welcome_mail = mail.send_mail(*_welcome_message(customer), due_at=due)
    return customer.welcome_mail


def follow_welcome_mail(customer):
    """A welcome mail not sent yet follows the customer (seed 000: change the email first, then
    send): it goes to the address the customer has when it is due, in their language, and not at
    all once the customership has ended or the customer is marked for deletion. A new net customer
    who has an address only now gets it on its usual day."""
    wanted = customer.status == CustomerStatus.ACTIVE and gets_welcome_mail(customer)
    if customer.welcome_mail_id is None:
        if wanted and getting_started(customer):
            schedule_welcome_mail(customer)
    elif wanted:
        mail.rewrite_unsent(customer.welcome_mail_id, *_welcome_message(customer))
    else:
        mail.cancel_unsent(customer.welcome_mail_id)


def _welcome_message(customer):
    """(recipient, subject, body) of the welcome mail, in the customer's language."""
    with force_locale(customer.language or "fi"):
        body = _(
            "Hello %(name)s,\n\nwelcome to Celia. You can now borrow and listen to books in the Celia "
            "library with the credentials your library gave you. Ask your library for book tips, or "
            "contact the Celia service at %(email)s.\n\nCelia",
            name=customer.full_name, email=current_app.config.get("CELIA_SERVICE_EMAIL", ""),
        )
        return customer.email or customer.guardian_email, str(WELCOME_SUBJECT), body


def gets_welcome_mail(customer):
    """The welcome mail is for net customers with an address (theirs or their guardian's)."""
    return customer.service_form == ServiceForm.NET and bool(customer.email or customer.guardian_email)


def getting_started(customer, now=None):
    """While a net customer is new (until the day of the welcome mail, about two weeks), that day:
    the customer page shows the getting-started steps; None for another customer or later."""
    if customer.service_form != ServiceForm.NET:
        return None
    due = customer.created_at + timedelta(days=current_app.config.get("CELIA_WELCOME_MAIL_DAYS", 14))
    return due if due > (now or utcnow()) else None


CREDENTIALS_SUBJECT = _l("Your Celia credentials")


def send_credentials(customer, recipient_kind):
    """Mail an expiring link to set a password (never a password) to the stored address."""
    if customer.status != CustomerStatus.ACTIVE:
        raise Refused(_("Credentials are sent to active customers only."))
    addresses = dict(credential_recipients(customer))
    if recipient_kind not in addresses:
        raise Refused(_("There is no email address for this recipient. Change the email first, then send the credentials."))
    address = addresses[recipient_kind]
    token = secrets.token_urlsafe(32)
    link = CredentialLink(
        customer=customer, token_hash=_token_hash(token), recipient=address, recipient_kind=recipient_kind,
        sent_by_id=current_user.id, expires_at=utcnow() + timedelta(days=CREDENTIAL_LINK_DAYS),
    )
    db.session.add(link)
    url = mail.external_link("registration.set_customer_password", token=token)
    with force_locale(customer.language or "fi"):
        body = _(
            "Hello %(name)s,\n\nyou are now a Celia customer. Set your password with this link "
            "(valid for %(days)d days):\n%(url)s\n\nYour user name is your email address.\n\nCelia",
            name=customer.full_name, days=CREDENTIAL_LINK_DAYS, url=url,
        )
        mail.send_mail(address, str(CREDENTIALS_SUBJECT), body, secret=token)
    audit.record("customer.credentials_sent", obj=customer, unit=customer.unit_id, recipient=address, recipient_kind=recipient_kind)
    db.session.commit()
    return link


def valid_credential_link(token):
    link = db.session.scalar(select(CredentialLink).where(CredentialLink.token_hash == _token_hash(token)))
    if link is None or link.used_at is not None or link.expires_at < utcnow():
        return None
    return link


def set_customer_password(link, password):
    hashed = hash_password(password)  # slow: before the write transaction
    begin_write()
    link.customer.password_hash = hashed
    link.used_at = utcnow()
    audit.record("customer.password_set", obj=link.customer, unit=link.customer.unit_id)
    db.session.commit()


def credential_history(customer):
    return db.session.scalars(
        select(CredentialLink).where(CredentialLink.customer_id == customer.id).order_by(CredentialLink.created_at.desc())
    ).all()


# --- lists and search ---------------------------------------------------------------------


def search_query(text, unit_ids):
    """Customers of the given units whose surname or first name starts with the text,
    ignoring case and diacritics (Äijälä = aijala)."""
    words = name_key(text).split()
    query = select(Customer).where(Customer.unit_id.in_(unit_ids), Customer.status != CustomerStatus.MARKED_FOR_DELETION)
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


def unit_customers_query(unit_id):
    return (
        select(Customer)
        .where(Customer.unit_id == unit_id, Customer.status != CustomerStatus.MARKED_FOR_DELETION)
        .order_by(Customer.created_at.desc(), Customer.id.desc())
    )


def passed_reviews_query(unit_ids, today=None):
    """Active customers whose review date has passed: a reminder, it ends nothing by itself."""
    return (
        select(Customer)
        .where(Customer.unit_id.in_(unit_ids), Customer.status == CustomerStatus.ACTIVE,
               Customer.review_date.is_not(None), Customer.review_date < (today or local_today()))
        .order_by(Customer.review_date)
    )


def history(customer):
    from common.audit import AuditEvent

    return db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == "Customer", AuditEvent.object_id == str(customer.id))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    ).all()


# --- service admin -------------------------------------------------------------------------


def request_reactivation(customer, unit):
    """A registrar asks the service admins to reactivate a customer marked for deletion."""
    pending = db.session.scalar(
        select(ReactivationRequest).where(ReactivationRequest.customer_id == customer.id, ReactivationRequest.handled_at.is_(None))
    )
    if pending is None:
        pending = ReactivationRequest(customer_id=customer.id, unit_id=unit.id, requested_by_id=current_user.id)
        db.session.add(pending)
        audit.record("customer.reactivation_requested", obj=customer, unit=unit.id)
        registration_live.announce_reactivation_requested()
        db.session.commit()
    return pending


def open_reactivation_requests():
    return db.session.scalars(
        select(ReactivationRequest).where(ReactivationRequest.handled_at.is_(None)).order_by(ReactivationRequest.created_at)
    ).all()


def reactivate(customer, unit=None):
    """Only a service admin reactivates a customer marked for deletion; a pending request
    moves the customer to the asking unit."""
    if customer.status != CustomerStatus.MARKED_FOR_DELETION:
        raise Refused(_("The customer is not marked for deletion."))
    for request in db.session.scalars(
        select(ReactivationRequest).where(ReactivationRequest.customer_id == customer.id, ReactivationRequest.handled_at.is_(None))
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
    db.session.commit()


def mark_for_deletion(customer):
    customer.status = CustomerStatus.MARKED_FOR_DELETION
    follow_welcome_mail(customer)
    audit.record("customer.marked_for_deletion", obj=customer, unit=customer.unit_id)
    registration_live.announce_customers_changed(customer.unit_id)
    db.session.commit()


def make_net_user(customer):
    """Changing a CD borrower into a net user is the service admin's job."""
    if customer.service_form != ServiceForm.CD:
        raise Refused(_("The customer is already a net user."))
    customer.service_form = ServiceForm.NET
    follow_welcome_mail(customer)
    audit.record("customer.made_net_user", obj=customer, unit=customer.unit_id)
    registration_live.announce_customers_changed(customer.unit_id)
    db.session.commit()


def next_service_identifier():
    return "CELIA-" + secrets.token_hex(4).upper()


def register_without_hetu(unit, born, fields):
    """A person without an identity code, registered by a service admin from the separate
    customer information form, gets an identifier issued by the service."""
    customer = Customer(service_identifier=next_service_identifier(), birth_date=born, unit_id=unit.id, status=CustomerStatus.ACTIVE)
    _apply(customer, fields)
    db.session.add(customer)
    db.session.flush()
    audit.record("customer.registered_without_hetu", obj=customer, unit=unit.id)
    schedule_welcome_mail(customer)
    registration_live.announce_customers_changed(unit.id)
    db.session.commit()
    return customer


def all_celia_units():
    return db.session.scalars(select(Unit).where(Unit.active, Unit.kind.in_(CELIA_UNIT_KINDS)).order_by(Unit.name)).all()


def transferred_away(unit_id, days=30, limit=20):
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
        customer = db.session.get(Customer, int(event.object_id))
        to_unit = db.session.get(Unit, event.detail.get("to_unit"))
        if customer is not None and to_unit is not None:
            found.append((event.at, customer, to_unit))
    return found
