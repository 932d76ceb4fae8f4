"""Guide checklist: the versioned guideline and the guidance sessions that follow it."""
import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from common.clock import utcnow
from extensions import Model

CONTENT_LANGUAGES = ("fi", "sv", "en", "nl")
# An item's text marks the seed's bold emphasis as **...** (shown as <strong>, see the guide_text
# filter); where only plain text fits (an <option>, a table cell) the marks are left out.
EMPHASIS = "**"


class ItemGroup(enum.StrEnum):
    ALWAYS = "always"
    IF_TIME = "if_time"
    NEVER = "never"


class Outcome(enum.StrEnum):
    SOLVED = "solved"
    PARTLY_SOLVED = "partly_solved"
    REFERRED_SERVICE_PROVIDER = "referred_service_provider"
    REFERRED_REPAIR_SHOP = "referred_repair_shop"
    REFERRED_LIBRARY_SERVICE = "referred_library_service"


class Referral(enum.StrEnum):
    SERVICE_PROVIDER = "service_provider"
    REPAIR_SHOP = "repair_shop"
    LIBRARY_SERVICE = "library_service"


class ChecklistVersion(Model):
    """One version of the guideline; a session records the version it followed."""

    __tablename__ = "guide_checklist_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    change: Mapped[str] = mapped_column(String(200), default="")

    items: Mapped[list["ChecklistItem"]] = relationship(
        back_populates="version", order_by="ChecklistItem.position", cascade="all, delete-orphan"
    )
    created_by = relationship("User")

    def group(self, group):
        return [item for item in self.items if item.group == group]


class ChecklistItem(Model):
    __tablename__ = "guide_checklist_item"
    __table_args__ = (UniqueConstraint("version_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("guide_checklist_version.id"), index=True)
    # Stable across versions: an edited item keeps its key (the limits are never-1..never-6).
    key: Mapped[str] = mapped_column(String(40))
    group: Mapped[ItemGroup] = mapped_column(Enum(ItemGroup, native_enum=False, length=10))
    position: Mapped[int]
    text_fi: Mapped[str] = mapped_column(Text)
    text_sv: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    text_nl: Mapped[str] = mapped_column(Text)
    # NEVER rules: what the guide does instead.
    instead_fi: Mapped[str | None] = mapped_column(Text)
    instead_sv: Mapped[str | None] = mapped_column(Text)
    instead_en: Mapped[str | None] = mapped_column(Text)
    instead_nl: Mapped[str | None] = mapped_column(Text)

    version = relationship(ChecklistVersion, back_populates="items")

    def text(self, language):
        return getattr(self, f"text_{language if language in CONTENT_LANGUAGES else 'fi'}")

    def plain_text(self, language):
        """The text without the emphasis marks, for places that show plain text only."""
        return " ".join(self.text(language).replace(EMPHASIS, "").split())

    def instead(self, language):
        return getattr(self, f"instead_{language if language in CONTENT_LANGUAGES else 'fi'}")

    def number(self):
        """The item's number within its group, as printed (1-based)."""
        return [i.id for i in self.version.group(self.group)].index(self.id) + 1


class GuidanceSession(Model):
    """One customer helped by a guide. Holds no personal data about the customer."""

    __tablename__ = "guide_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    guide_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("guide_checklist_version.id"))
    device: Mapped[str] = mapped_column(String(20))
    customer_language: Mapped[str] = mapped_column(String(10))
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    ended_at: Mapped[datetime | None]
    duration_minutes: Mapped[int | None]
    outcome: Mapped[Outcome | None] = mapped_column(Enum(Outcome, native_enum=False, length=30))
    note: Mapped[str] = mapped_column(Text, default="")
    # NEVER rule 1's exception: the customer's illness or disability made it necessary to do
    # something on their behalf. When it was recorded (None: it did not apply).
    never_1_exception_at: Mapped[datetime | None]

    unit = relationship("Unit")
    guide = relationship("User")
    version = relationship(ChecklistVersion)
    topics: Mapped[list["SessionTopic"]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    ticks: Mapped[list["SessionTick"]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    limits_met: Mapped[list["LimitMet"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="LimitMet.recorded_at"
    )

    @property
    def in_progress(self):
        return self.ended_at is None

    @property
    def topic_codes(self):
        return [t.topic for t in self.topics]

    @property
    def ticked_item_ids(self):
        return {t.item_id for t in self.ticks}


class SessionTopic(Model):
    __tablename__ = "guide_session_topic"

    session_id: Mapped[int] = mapped_column(ForeignKey("guide_session.id", ondelete="CASCADE"), primary_key=True)
    topic: Mapped[str] = mapped_column(String(30), primary_key=True)


class SessionTick(Model):
    """An ALWAYS or IF TIME item done during the session."""

    __tablename__ = "guide_session_tick"

    session_id: Mapped[int] = mapped_column(ForeignKey("guide_session.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("guide_checklist_item.id"), primary_key=True)
    ticked_at: Mapped[datetime] = mapped_column(default=utcnow)
    ticked_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))


class LimitMet(Model):
    """The guide stopped at a NEVER rule and referred the customer on."""

    __tablename__ = "guide_limit_met"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("guide_session.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("guide_checklist_item.id"))
    referred_to: Mapped[Referral] = mapped_column(Enum(Referral, native_enum=False, length=20))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    item = relationship(ChecklistItem)
