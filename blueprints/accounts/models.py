import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import Enum, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from common.access import Role
from common.clock import utcnow
from extensions import Model, db


class UnitKind(enum.StrEnum):
    LIBRARY = "library"
    SCHOOL = "school"
    HIGHER_EDUCATION = "higher_education"
    BRANCH = "branch"


UNIT_KIND_LABELS = {
    UnitKind.LIBRARY: _l("Library"),
    UnitKind.SCHOOL: _l("School"),
    UnitKind.HIGHER_EDUCATION: _l("Higher-education institution"),
    UnitKind.BRANCH: _l("Branch"),
}

# The Celia side registers customers in these kinds of unit; a branch is the e-book side.
CELIA_UNIT_KINDS = (UnitKind.LIBRARY, UnitKind.SCHOOL, UnitKind.HIGHER_EDUCATION)


class Unit(Model):
    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[UnitKind] = mapped_column(Enum(UnitKind, native_enum=False, length=20))
    branch_code: Mapped[str | None] = mapped_column(String(4), unique=True)
    active: Mapped[bool] = mapped_column(default=True)

    @property
    def kind_label(self):
        return UNIT_KIND_LABELS[self.kind]

    def __str__(self):
        return self.name


class RoleAssignment(Model):
    """A role a user holds in one unit (service admin: in no unit, over all of them)."""

    __tablename__ = "role_assignment"
    __table_args__ = (UniqueConstraint("user_id", "role", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)

    user = relationship("User", back_populates="role_assignments")
    unit = relationship(Unit)


class User(UserMixin, Model):
    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(2), default="fi")
    active: Mapped[bool] = mapped_column(default=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    failed_logins: Mapped[int] = mapped_column(default=0)
    # Each login session carries the version it began with; raising it ends every session.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    role_assignments: Mapped[list[RoleAssignment]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def is_active(self):
        return self.active

    @property
    def is_locked(self):
        return self.locked_at is not None

    @property
    def is_service_admin(self):
        return any(a.role == Role.SERVICE_ADMIN for a in self.role_assignments)

    @property
    def roles(self):
        return {a.role for a in self.role_assignments}

    def has_any_role(self, *roles):
        return self.is_service_admin or bool(self.roles & set(roles))

    def holds(self, role, unit_id):
        """True if the user may act in `role` for that unit (a service admin may everywhere)."""
        if self.is_service_admin:
            return True
        return any(a.role == role and a.unit_id == unit_id for a in self.role_assignments)

    def unit_ids(self, role):
        return {a.unit_id for a in self.role_assignments if a.role == role and a.unit_id is not None}

    def units(self, role, kinds=None):
        """Units where the user acts in `role`; a service admin gets every active unit."""
        query = db.select(Unit).where(Unit.active).order_by(Unit.name)
        if kinds:
            query = query.where(Unit.kind.in_(kinds))
        if not self.is_service_admin:
            query = query.where(Unit.id.in_(self.unit_ids(role)))
        return db.session.scalars(query).all()

    def __str__(self):
        return self.display_name


class PasswordResetToken(Model):
    """A single-use link to set a password; only a hash of the token is stored."""

    __tablename__ = "password_reset_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user = relationship(User)


class Notice(Model):
    """A service notice shown in the pink banner on every staff page while it is in force."""

    __tablename__ = "notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ends_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    # Where it shows: space-separated working areas ("registration ebook"), empty for all;
    # and, when `units` is not empty, only to staff of those units.
    areas: Mapped[str] = mapped_column(String(100), default="")

    created_by = relationship(User)
    units = relationship(Unit, secondary=lambda: notice_unit, order_by=lambda: Unit.name)

    def in_force(self, now):
        return self.ended_at is None and (self.ends_at is None or self.ends_at > now)

    @property
    def area_names(self):
        return self.areas.split()

    def shown_to(self, area, unit_ids):
        """A notice for some areas shows on their pages only; one for some units to their staff only
        (`unit_ids` None: a service admin, who sees every notice of the area)."""
        if self.areas and area not in self.area_names:
            return False
        return not self.units or unit_ids is None or bool(unit_ids & {u.id for u in self.units})


notice_unit: Table = db.Table(
    "notice_unit",
    db.Column("notice_id", ForeignKey("notice.id", ondelete="CASCADE"), primary_key=True),
    db.Column("unit_id", ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True),
)
