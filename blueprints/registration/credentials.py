"""Celia credentials: the link by which a customer sets the password of their net account
(mailed to them or to their guardian, exchanged at once for a page without the token), and the
service's welcome mail to a new net customer, CELIA_WELCOME_MAIL_DAYS after the registration."""
import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from blueprints.registration.models import (
    CredentialLink,
    Customer,
    CustomerStatus,
    ServiceForm,
)
from common import audit, mail
from common.access import Role
from common.clock import utcnow
from common.refusals import Conflict, Refused
from common.security import hash_password
from common.transactions import write_transaction
from extensions import db

CREDENTIAL_LINK_DAYS = 14
CUSTOMER_ROLES = (Role.REGISTRAR, Role.MAIN_USER)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def credential_recipients(customer: Customer) -> list[tuple[str, str]]:
    """Where credentials may go: the customer's email and the guardian's, as stored. To use
    another address the email is changed first, then the credentials are sent."""
    found = []
    if customer.email:
        found.append(("customer", customer.email))
    if customer.guardian_email:
        found.append(("guardian", customer.guardian_email))
    return found


WELCOME_SUBJECT = _l("Welcome to Celia")


def schedule_welcome_mail(customer: Customer) -> mail.OutboxMail | None:
    """The service welcomes a new net customer by email about two weeks after the registration
    (seed 000): an outbox mail due then, sent by the delivery loop. None without an address."""
    if not gets_welcome_mail(customer):
        return None
    due = (customer.created_at or utcnow()) + timedelta(days=current_app.config["CELIA_WELCOME_MAIL_DAYS"])
    customer.welcome_mail = mail.send_mail(*_welcome_message(customer), due_at=due)
    return customer.welcome_mail


def follow_welcome_mail(customer: Customer) -> None:
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


def _welcome_message(customer: Customer) -> tuple[str, str, str]:
    """(recipient, subject, body) of the welcome mail, in the customer's language."""
    recipient = customer.email or customer.guardian_email
    assert recipient, "the welcome mail is for a customer who gets_welcome_mail()"
    with force_locale(customer.language or "fi"):
        body = _(
            "Hello %(name)s,\n\nwelcome to Celia. You can now borrow and listen to books in the Celia "
            "library with the credentials your library gave you. Ask your library for book tips, or "
            "contact the Celia service at %(email)s.\n\nCelia",
            name=customer.full_name, email=current_app.config["CELIA_SERVICE_EMAIL"],
        )
        return recipient, str(WELCOME_SUBJECT), body


def gets_welcome_mail(customer: Customer) -> bool:
    """The welcome mail is for net customers with an address (theirs or their guardian's)."""
    return customer.service_form == ServiceForm.NET and bool(customer.email or customer.guardian_email)


def getting_started(customer: Customer, now: datetime | None = None) -> datetime | None:
    """While a net customer is new (until the day of the welcome mail, about two weeks), that day:
    the customer page shows the getting-started steps; None for another customer or later."""
    if customer.service_form != ServiceForm.NET:
        return None
    due = customer.created_at + timedelta(days=current_app.config["CELIA_WELCOME_MAIL_DAYS"])
    return due if due > (now or utcnow()) else None


CREDENTIALS_SUBJECT = _l("Your Celia credentials")


@write_transaction()
def send_credentials(customer: Customer, recipient_kind: str) -> CredentialLink:
    """Mail an expiring link to set a password (never a password) to the stored address."""
    if customer.status != CustomerStatus.ACTIVE:  # the page offered the credentials to an active one
        raise Conflict(_("Credentials are sent to active customers only."))
    addresses = dict(credential_recipients(customer))
    if recipient_kind not in addresses:
        raise Refused(
            _("There is no email address for this recipient. Change the email first, then send the credentials.")
        )
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
    audit.record("customer.credentials_sent", obj=customer, unit=customer.unit_id, recipient=address,
                 recipient_kind=recipient_kind)
    return link


def valid_credential_link(token: str) -> CredentialLink | None:
    link = db.session.scalar(select(CredentialLink).where(CredentialLink.token_hash == _token_hash(token)))
    if link is None or link.used_at is not None or link.expires_at < utcnow():
        return None
    return link


def set_customer_password(link: CredentialLink, password: str) -> None:
    hashed = hash_password(password)  # slow: before the write transaction
    with write_transaction():
        # The same link sent twice at once (two tabs, a double click): it works once.
        db.session.refresh(link, with_for_update=True)
        if link.used_at is not None:
            raise Conflict(_l("This link has been used or has expired."))
        link.customer.password_hash = hashed
        link.used_at = utcnow()
        audit.record("customer.password_set", obj=link.customer, unit=link.customer.unit_id)


def credential_history(customer: Customer) -> Sequence[CredentialLink]:
    return db.session.scalars(
        select(CredentialLink)
        .where(CredentialLink.customer_id == customer.id)
        .order_by(CredentialLink.created_at.desc())
    ).all()
