"""Celia customers, the links that let them set a password, and reactivation requests."""
import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from common.clock import utcnow
from extensions import Model


class CustomerStatus(enum.StrEnum):
    ACTIVE = "active"
    MARKED_FOR_DELETION = "marked_for_deletion"
    ENDED = "ended"


class ServiceForm(enum.StrEnum):
    NET = "net"  # net user: downloads and streams
    CD = "cd"  # CD borrower: gets discs by post


class Basis(enum.StrEnum):
    SPECIAL_SUPPORT = "special_support"  # schools
    INTENSIFIED_SUPPORT = "intensified_support"  # schools
    READING_DISABILITY = "reading_disability"  # libraries and other communities


class Channel(enum.StrEnum):
    FACE_TO_FACE = "face_to_face"
    PHONE = "phone"


class RegisteredBy(enum.StrEnum):
    SELF = "self"
    GUARDIAN = "guardian"


STATUS_LABELS = {
    CustomerStatus.ACTIVE: _l("Active"),
    CustomerStatus.MARKED_FOR_DELETION: _l("Marked for deletion"),
    CustomerStatus.ENDED: _l("Customership ended"),
}
SERVICE_FORM_LABELS = {ServiceForm.NET: _l("Net user"), ServiceForm.CD: _l("CD borrower")}
BASIS_LABELS = {
    Basis.SPECIAL_SUPPORT: _l("Special support at school"),
    Basis.INTENSIFIED_SUPPORT: _l("Intensified support at school"),
    Basis.READING_DISABILITY: _l("Reading disability"),
}
CHANNEL_LABELS = {Channel.FACE_TO_FACE: _l("Face to face"), Channel.PHONE: _l("Phone interview")}
REGISTERED_BY_LABELS = {
    RegisteredBy.SELF: _l("The young person registers themselves"),
    RegisteredBy.GUARDIAN: _l("A guardian registers them"),
}


class Customer(Model):
    """A Celia customer. The identity code is never stored in plain text: a keyed hash
    (unique, for lookup), a Fernet-encrypted copy (for authorised display) and a mask."""

    __tablename__ = "celia_customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    hetu_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    hetu_encrypted: Mapped[str | None] = mapped_column(Text)
    hetu_masked: Mapped[str | None] = mapped_column(String(11))
    # A person without an identity code gets an identifier issued by the service.
    service_identifier: Mapped[str | None] = mapped_column(String(20), unique=True)
    birth_date: Mapped[date]
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80))
    # Lower-case ASCII forms of the names (Äijälä -> aijala) for prefix search.
    first_name_key: Mapped[str] = mapped_column(String(80))
    last_name_key: Mapped[str] = mapped_column(String(80))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(2), default="fi")
    status: Mapped[CustomerStatus] = mapped_column(
        Enum(CustomerStatus, native_enum=False, length=20), default=CustomerStatus.ACTIVE, index=True
    )
    service_form: Mapped[ServiceForm] = mapped_column(Enum(ServiceForm, native_enum=False, length=10))
    basis: Mapped[Basis] = mapped_column(Enum(Basis, native_enum=False, length=30))
    channel: Mapped[Channel] = mapped_column(Enum(Channel, native_enum=False, length=20))
    review_date: Mapped[date | None] = mapped_column(index=True)
    registered_by: Mapped[RegisteredBy | None] = mapped_column(Enum(RegisteredBy, native_enum=False, length=10))
    guardian_name: Mapped[str | None] = mapped_column(String(160))
    guardian_email: Mapped[str | None] = mapped_column(String(254))
    guardian_phone: Mapped[str | None] = mapped_column(String(40))
    consent_given_by: Mapped[str | None] = mapped_column(String(160))
    consent_date: Mapped[date | None]
    consent_method: Mapped[str | None] = mapped_column(String(160))
    additional_info: Mapped[str | None] = mapped_column(Text)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    ended_at: Mapped[datetime | None]
    # The service's welcome mail, scheduled about two weeks after the registration: until it goes
    # out it follows the customer's address, language and status (credentials.follow_welcome_mail).
    welcome_mail_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_mail.id", ondelete="SET NULL"))

    unit = relationship("Unit")
    welcome_mail = relationship("OutboxMail")

    __table_args__ = (
        Index("ix_celia_customer_unit_last", "unit_id", "last_name_key",
              postgresql_ops={"last_name_key": "varchar_pattern_ops"}),
        Index("ix_celia_customer_unit_first", "unit_id", "first_name_key",
              postgresql_ops={"first_name_key": "varchar_pattern_ops"}),
    )

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}"

    @property
    def display_identity(self):
        return self.hetu_masked or self.service_identifier

    @property
    def status_label(self):
        return STATUS_LABELS[self.status]

    @property
    def service_form_label(self):
        return SERVICE_FORM_LABELS[self.service_form]

    @property
    def basis_label(self):
        return BASIS_LABELS[self.basis]

    @property
    def channel_label(self):
        return CHANNEL_LABELS[self.channel]

    @property
    def registered_by_label(self):
        return REGISTERED_BY_LABELS.get(self.registered_by, "")


class CredentialLink(Model):
    """An expiring single-use link to set a customer's password; only its hash is kept."""

    __tablename__ = "celia_credential_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("celia_customer.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    recipient: Mapped[str] = mapped_column(String(254))
    recipient_kind: Mapped[str] = mapped_column(String(10))  # customer or guardian
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    customer = relationship(Customer)
    sent_by = relationship("User")


class ReactivationRequest(Model):
    """A registrar's request that a service admin reactivates a customer marked for deletion."""

    __tablename__ = "celia_reactivation_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("celia_customer.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    handled_at: Mapped[datetime | None]

    customer = relationship(Customer)
    unit = relationship("Unit")
    requested_by = relationship("User")


# The customer's history, as the customer page shows it.
ACTION_LABELS = {
    "customer.hetu_checked": _l("identity code checked"),
    "customer.registered": _l("registered"),
    "customer.registered_without_hetu": _l("registered without an identity code"),
    "customer.updated": _l("details changed"),
    "customer.viewed": _l("viewed"),
    "customer.hetu_shown": _l("full identity code shown"),
    "customer.transferred": _l("transferred to this unit"),
    "customer.transferred_away": _l("transferred away"),
    "customer.credentials_sent": _l("credentials sent"),
    "customer.password_set": _l("customer set a password"),
    "customer.ended": _l("customership ended"),
    "customer.resumed": _l("customership resumed"),
    "customer.reactivation_requested": _l("reactivation requested"),
    "customer.reactivated": _l("reactivated"),
    "customer.marked_for_deletion": _l("marked for deletion"),
    "customer.made_net_user": _l("changed into a net user"),
}

# Who looked, rather than what changed: the history shows these only when asked (the audit log
# keeps them all the same), so that the changes are not buried under a view a visit.
ACCESS_ACTIONS = ("customer.viewed", "customer.hetu_checked", "customer.hetu_shown")
