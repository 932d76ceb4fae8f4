"""E-book counter signup: branch tariffs, number sequences, customers and subscriptions."""
import enum
from dataclasses import dataclass, fields
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from common.clock import utcnow
from common.crypto import EncryptedText
from extensions import Model


class TariffKind(enum.StrEnum):
    """How long a tariff runs: an age-bound tariff has neither; fixed and temporary ones say so."""

    AGE = "age"
    FIXED = "fixed"
    TEMPORARY = "temporary"


TARIFF_KIND_LABELS = {
    TariffKind.AGE: _l("By age"),
    TariffKind.FIXED: _l("Fixed"),
    TariffKind.TEMPORARY: _l("Temporary"),
}


class PersonKind(enum.StrEnum):
    MAN = "man"
    WOMAN = "woman"
    INSTITUTION = "institution"
    NOT_APPLICABLE = "n/a"


PERSON_KIND_LABELS = {
    PersonKind.MAN: _l("Man"),
    PersonKind.WOMAN: _l("Woman"),
    PersonKind.INSTITUTION: _l("Institution"),
    PersonKind.NOT_APPLICABLE: _l("Not applicable"),
}

# The overview's salutation (seed 002: "Dhr. E.B. Tester"); none for an institution or n.v.t.
SALUTATIONS = {
    PersonKind.MAN: _l("Mr."),
    PersonKind.WOMAN: _l("Mrs."),
}


class Tariff(Model):
    """One row of a branch's tariff table (seeded from the branch's price list, edited by a service admin)."""

    __tablename__ = "ebook_tariff"
    __table_args__ = (UniqueConstraint("unit_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    code: Mapped[str] = mapped_column(String(4))
    name: Mapped[str] = mapped_column(String(80))
    price_cents: Mapped[int] = mapped_column(default=0)
    period_months: Mapped[int] = mapped_column(default=12)
    min_age: Mapped[int | None]
    max_age: Mapped[int | None]
    kind: Mapped[TariffKind] = mapped_column(Enum(TariffKind, native_enum=False, length=12), default=TariffKind.AGE)
    needs_direct_debit: Mapped[bool] = mapped_column(default=False)
    digital_only: Mapped[bool] = mapped_column(default=False)
    trial: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)

    unit = relationship("Unit")

    @property
    def kind_label(self):
        return TARIFF_KIND_LABELS[self.kind]

    def __str__(self):
        return f"{self.code} {self.name}"


class NumberSequence(Model):
    """A counter row: "card:<branch code>" per branch, "actor" for the internal actor ids.

    Incremented inside the saving transaction (see cards.next_in_sequence), so a save
    that fails gives its number back and two saves never share one.
    """

    __tablename__ = "ebook_number_sequence"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_value: Mapped[int] = mapped_column(default=0)


class BranchSettings(Model):
    """What differs per branch: the website a customer logs in on, the card formats its scanners read."""

    __tablename__ = "ebook_branch_settings"

    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)
    login_url: Mapped[str] = mapped_column(String(200), default="")
    # Space-separated names from cards.CARD_FORMATS.
    card_formats: Mapped[str] = mapped_column(String(100), default="branch14")
    # The reasons counter staff may give a discount for, one a line, and the highest discount they
    # may give, as a percentage of the subscription fee (0: the branch gives no discounts).
    discount_reasons: Mapped[str] = mapped_column(String(1000), default="", server_default="")
    max_discount_percent: Mapped[int] = mapped_column(default=0, server_default="0")

    def discount_reason_list(self) -> list[str]:
        return [line.strip() for line in (self.discount_reasons or "").splitlines() if line.strip()]


class EbookCustomer(Model):
    """A customer signed up at the counter for a digital subscription: a card number, no physical card."""

    __tablename__ = "ebook_customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    card_number: Mapped[str] = mapped_column(String(14), unique=True)
    actor_id: Mapped[int] = mapped_column(unique=True)
    initials: Mapped[str] = mapped_column(String(20), default="")
    prefix: Mapped[str] = mapped_column(String(20), default="")
    surname: Mapped[str] = mapped_column(String(80))
    surname_key: Mapped[str] = mapped_column(String(80), index=True)  # lower case, no prefix: for duplicates
    first_name: Mapped[str] = mapped_column(String(60), default="")
    birth_date: Mapped[date]
    language: Mapped[str] = mapped_column(String(2), default="nl")
    country: Mapped[str] = mapped_column(String(2), default="NL")
    postcode: Mapped[str] = mapped_column(String(10), index=True)
    house_number: Mapped[int]
    house_number_addition: Mapped[str] = mapped_column(String(10), default="")
    street: Mapped[str] = mapped_column(String(120), default="")
    city: Mapped[str] = mapped_column(String(80), default="")
    # An optional postal address ("Postadres") besides the main one: all four parts or none.
    postal_street: Mapped[str] = mapped_column(String(120), default="", server_default="")
    postal_house_number: Mapped[str] = mapped_column(String(20), default="", server_default="")
    postal_postcode: Mapped[str] = mapped_column(String(10), default="", server_default="")
    postal_city: Mapped[str] = mapped_column(String(80), default="", server_default="")
    # "Opmerking": staff's remark on the customer, shown on the overview, never on the receipt.
    remark: Mapped[str] = mapped_column(String(1000), default="", server_default="")
    person_kind: Mapped[PersonKind] = mapped_column(
        Enum(PersonKind, native_enum=False, length=20), default=PersonKind.NOT_APPLICABLE
    )
    phone: Mapped[str] = mapped_column(String(30), default="")
    sms_number: Mapped[str] = mapped_column(String(30), default="")
    iban: Mapped[str] = mapped_column(EncryptedText, default="")  # encrypted at rest, as identity codes are
    bic: Mapped[str] = mapped_column(String(11), default="")
    identity_checked: Mapped[bool] = mapped_column(default=False)
    identity_document: Mapped[str] = mapped_column(String(30), default="")  # the type only, never a copy
    email: Mapped[str] = mapped_column(String(254), default="")
    newsletter: Mapped[bool] = mapped_column(default=False)
    keep_loan_history: Mapped[bool] = mapped_column(default=False)
    warn_borrowed_before: Mapped[bool] = mapped_column(default=False)
    physical_card: Mapped[bool] = mapped_column(default=False)
    password_hash: Mapped[str] = mapped_column(String(255))
    password_issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    # "Klant afsluiten": the subscription ends on this day; the customer stays findable as ended.
    ended_on: Mapped[date | None]
    end_reason: Mapped[str] = mapped_column(String(200), default="")

    unit = relationship("Unit")
    created_by = relationship("User")
    subscriptions: Mapped[list["Subscription"]] = relationship(
        back_populates="customer", order_by="Subscription.id.desc()", cascade="all, delete-orphan"
    )

    @property
    def subscription(self):
        return self.subscriptions[0] if self.subscriptions else None

    @property
    def display_name(self):
        parts = [self.initials, self.prefix, self.surname]
        return " ".join(p for p in parts if p)

    @property
    def salutation(self):
        return SALUTATIONS.get(self.person_kind, "")

    @property
    def addressed_name(self):
        """The name as the overview line shows it: "Dhr. E.B. Tester"."""
        return f"{self.salutation} {self.display_name}".strip()

    @property
    def has_postal_address(self):
        return bool(self.postal_street or self.postal_postcode or self.postal_city)

    def ended(self, today):
        return self.ended_on is not None and self.ended_on <= today


@dataclass(frozen=True, kw_only=True)
class CustomerDetails:
    """A customer's own fields as staff enter them (forms.CustomerForm.customer_details): what
    signups.sign_up saves and signups.update_customer corrects. The defaults are the columns'."""

    initials: str = ""
    prefix: str = ""
    surname: str
    first_name: str = ""
    birth_date: date
    language: str = "nl"
    country: str = "NL"
    postcode: str
    house_number: int
    house_number_addition: str = ""
    street: str = ""
    city: str = ""
    postal_street: str = ""
    postal_house_number: str = ""
    postal_postcode: str = ""
    postal_city: str = ""
    remark: str = ""
    person_kind: PersonKind = PersonKind.NOT_APPLICABLE
    phone: str = ""
    sms_number: str = ""
    iban: str = ""  # compact, without spaces
    bic: str = ""
    identity_checked: bool = False
    identity_document: str = ""
    email: str = ""
    newsletter: bool = False
    keep_loan_history: bool = False
    warn_borrowed_before: bool = False

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(field.name for field in fields(cls))

    def columns(self) -> dict[str, object]:
        """The fields by column name, for EbookCustomer(**...)."""
        return {name: getattr(self, name) for name in self.names()}


class Subscription(Model):
    """The tariff a customer took, with its price and dates copied when it was taken (later edits of the
    tariff do not change it). A change of tariff ends the current one and starts a new one."""

    __tablename__ = "ebook_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("ebook_customer.id", ondelete="CASCADE"), index=True)
    tariff_id: Mapped[int | None] = mapped_column(ForeignKey("ebook_tariff.id"))
    tariff_code: Mapped[str] = mapped_column(String(4))
    tariff_name: Mapped[str] = mapped_column(String(80))
    price_cents: Mapped[int]
    registration_fee_cents: Mapped[int] = mapped_column(default=0)
    # "Korting abonnement": the discount counter staff gave on the subscription fee, and why.
    discount_cents: Mapped[int] = mapped_column(default=0)
    discount_percent: Mapped[int | None]  # when it was given as a percentage of the fee
    discount_reason: Mapped[str] = mapped_column(String(100), default="", server_default="")
    # "Korting overdracht": the unused part of the subscription this one replaced (a tariff changed in Wijzig).
    transfer_discount_cents: Mapped[int] = mapped_column(default=0, server_default="0")
    trial: Mapped[bool] = mapped_column(default=False)
    starts_on: Mapped[date]
    rights_until: Mapped[date]
    billed_until: Mapped[date]
    direct_debit: Mapped[bool] = mapped_column(default=False)
    mandate_reference: Mapped[str] = mapped_column(String(35), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer = relationship(EbookCustomer, back_populates="subscriptions")
    tariff = relationship(Tariff)

    @property
    def total_discount_cents(self):
        return self.discount_cents + self.transfer_discount_cents

    @property
    def balance_cents(self):
        return self.price_cents + self.registration_fee_cents - self.discount_cents - self.transfer_discount_cents
