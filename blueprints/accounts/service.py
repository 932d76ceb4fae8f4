"""The rules for staff accounts: passwords, lockout, expiry, resets, roles, units, notices."""
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from flask import current_app, session
from flask_babel import LazyString, force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from blueprints.accounts import live as accounts_live
from blueprints.accounts.models import (
    Notice,
    PasswordResetToken,
    RoleAssignment,
    Unit,
    UnitKind,
    User,
)
from common import audit, mail
from common.access import Role
from common.audit import AuditEvent
from common.clock import utcnow
from common.mail import OutboxMail
from common.refusals import Conflict, Refused
from common.security import hash_password
from common.transactions import write_transaction
from extensions import db

MIN_PASSWORD_LENGTH = 12
COMMON_PASSWORDS = frozenset(FREQUENCY_LISTS["passwords"])
# Roles whose holders must change their password every PASSWORD_MAX_AGE_MONTHS months.
EXPIRING_ROLES = {Role.REGISTRAR, Role.MAIN_USER}


# --- passwords -------------------------------------------------------------------------


def password_problems(password: str, username: str | None) -> list[LazyString]:
    """The password rules: at least 12 characters, not the username, not a common password."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(_l("Use at least %(count)d characters.", count=MIN_PASSWORD_LENGTH))
    if username and username.casefold() in password.casefold():
        problems.append(_l("Do not use your username in the password."))
    if password.casefold() in COMMON_PASSWORDS:
        problems.append(_l("This password is too common; choose another."))
    return problems


def set_password(user: User, hashed: str) -> None:
    """`hashed`: the password hashed beforehand, outside the write transaction (hashing is slow)."""
    user.password_hash = hashed
    user.password_changed_at = utcnow()


def password_expired(user: User, now: datetime | None = None) -> bool:
    """Registrars and main users must change their password every N months (a setting)."""
    if not (user.roles & EXPIRING_ROLES):
        return False
    months = current_app.config["PASSWORD_MAX_AGE_MONTHS"]
    return (now or utcnow()) - user.password_changed_at > timedelta(days=months * 365 / 12)


def refuse_unchanged(user: User, new_password: str) -> None:
    """A new password differs from the current one: an unchanged one is no change."""
    if user.password_hash and check_password_hash(user.password_hash, new_password):
        raise Refused(_("The new password must differ from the current one."), field="new_password")


def change_password(user: User, current_password: str, new_password: str) -> None:
    """A changed password ends the user's other sessions; the one that changed it goes on."""
    if not check_password_hash(user.password_hash or "", current_password):
        raise Refused(_("The current password is wrong."), field="current_password")
    refuse_unchanged(user, new_password)
    hashed = hash_password(new_password)
    with write_transaction():
        set_password(user, hashed)
        audit.record("password.changed", obj=user, actor=user)
        revoke_password_links(user)
        end_sessions(user)
    start_session(user)


# --- sessions --------------------------------------------------------------------------
# The session cookie carries the user's session version from the login, when the login was
# and when the session was last used. Raising the version on the server ends every session
# of the user at once, wherever its cookie is (a replayed cookie included).

SEEN_EVERY_SECONDS = 60  # how often a session's last use is written back into the cookie


def start_session(user: User, now: float | None = None) -> None:
    now = int(now or time.time())
    session["session_version"] = user.session_version
    session["login_at"] = session["seen_at"] = now


def end_sessions(user: User) -> None:
    """Log the user out everywhere (in the caller's write transaction, with its own audit record of
    why): their cookies open nothing, and their open sockets are dropped after the commit."""
    user.session_version = (user.session_version or 0) + 1
    accounts_live.drop_ended_sockets(user)


def session_in_force(user: User, now: float | None = None) -> bool:
    """Is the current request's session still the user's? Not after the version was raised,
    after SESSION_IDLE_HOURS unused, or SESSION_MAX_HOURS after the login."""
    now = int(now or time.time())
    config = current_app.config
    if session.get("session_version") != user.session_version:
        return False
    login_at, seen_at = session.get("login_at", 0), session.get("seen_at", 0)
    if now - login_at > config["SESSION_MAX_HOURS"] * 3600 or now - seen_at > config["SESSION_IDLE_HOURS"] * 3600:
        return False
    if now - seen_at >= SEEN_EVERY_SECONDS:
        session["seen_at"] = now
    return True


# --- login and lockout -----------------------------------------------------------------


def find_user(username: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))


def user_with_roles(user_id: int) -> User | None:
    """The user with their roles and the roles' units in one query (every request asks about them)."""
    return db.session.scalars(select(User).where(User.id == user_id).options(
        joinedload(User.role_assignments).joinedload(RoleAssignment.unit))).unique().first()


def authenticate(username: str, password: str) -> User:
    """Check a login. Returns the user, or raises Refused with a message for the page.

    LOCKOUT_THRESHOLD wrong passwords in a row lock the account until a service admin
    unlocks it. An unknown or deactivated username is answered exactly as a real one: wrong
    until the same number of attempts, then locked; so the answers reveal no usernames."""
    user = find_user(username)
    if user is None:
        check_password_hash(_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)  # the same time
        if _count_unknown_failure(username) >= current_app.config["LOCKOUT_THRESHOLD"]:
            raise Refused(locked_message())
        raise Refused(_("Wrong username or password."))
    # The slow hash check before the write transaction; it counts only if the hash it checked
    # is still the user's under the lock.
    checked = user.password_hash
    matches = bool(checked and user.active and not user.is_locked and check_password_hash(checked, password))
    with write_transaction():
        refusal = _record_login_attempt(user, matches and user.password_hash == checked)
    # Raised after the commit: raised inside, it would roll back the failure it counts.
    if refusal is not None:
        raise refusal
    return user


def _record_login_attempt(user: User, password_right: bool) -> Refused | None:
    """Count the attempt on the account (in the caller's write transaction); the refusal to
    answer it with, or None for a login."""
    threshold = current_app.config["LOCKOUT_THRESHOLD"]
    wrong = Refused(_("Wrong username or password."))
    if not user.active:
        user.failed_logins += 1
        audit.record("login.refused", obj=user, actor=user, reason="inactive", failures=user.failed_logins)
        return Refused(locked_message()) if user.failed_logins >= threshold else wrong
    if user.is_locked:
        audit.record("login.refused", obj=user, actor=user, reason="locked")
        return Refused(locked_message())
    if not password_right:
        user.failed_logins += 1
        audit.record("login.failed", obj=user, actor=user, failures=user.failed_logins)
        if user.failed_logins >= threshold:
            user.locked_at = utcnow()
            audit.record("account.locked", obj=user, actor=user)
            end_sessions(user)
            return Refused(locked_message())
        return wrong
    user.failed_logins = 0
    user.last_login_at = utcnow()
    audit.record("login", obj=user, actor=user)
    return None


def _count_unknown_failure(username: str) -> int:
    """Audit a failed login for a name that is no account and return how many there have
    been for it. What was typed is not stored (it may be a password typed in the wrong
    field): the event names a keyed hash of it."""
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    name_hash = hmac.new(key, username.strip().lower().encode(), hashlib.sha256).hexdigest()[:40]
    with write_transaction():
        audit.record("login.failed", object_type="UnknownUser", object_id=name_hash, reason="unknown user")
        return db.session.execute(
            select(func.count()).select_from(AuditEvent)
            .where(AuditEvent.object_type == "UnknownUser", AuditEvent.object_id == name_hash)
        ).scalar_one()


@cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash(secrets.token_hex(16), method=method)


def locked_message() -> str:
    return _("This account is locked after too many wrong passwords. Only a service admin can unlock it.")


@write_transaction()
def unlock(user: User) -> None:
    user.locked_at = None
    user.failed_logins = 0
    audit.record("account.unlocked", obj=user)


@write_transaction()
def record_logout(user: User) -> None:
    """Logging out ends the user's sessions, so a copy of the cookie opens nothing."""
    audit.record("logout", obj=user, actor=user)
    end_sessions(user)


# --- forgotten passwords ---------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@write_transaction()
def issue_password_link(user: User, purpose: str = "reset") -> None:
    """Mail the user a single-use link to set a password, valid PASSWORD_RESET_HOURS."""
    token = secrets.token_urlsafe(32)
    hours = current_app.config["PASSWORD_RESET_HOURS"]
    now = utcnow()
    revoke_password_links(user, now)  # only the newest link works
    db.session.add(
        PasswordResetToken(
            user=user, token_hash=_token_hash(token), created_at=now, expires_at=now + timedelta(hours=hours)
        )
    )
    link = mail.external_link("accounts.reset_password", token=token)
    with force_locale(user.language):
        if purpose == "welcome":
            subject = _("Your account for the library staff site")
            intro = _("An account has been made for you. Your username is %(username)s.", username=user.username)
        else:
            subject = _("Set a new password")
            intro = _("Someone asked to reset the password of %(username)s.", username=user.username)
        body = "\n\n".join(
            [
                intro,
                _("Choose your password here (the link works once, for %(hours)d hour(s)):", hours=hours),
                link,
                _("If you did not ask for this, you can ignore this message."),
            ]
        )
    mail.send_mail(user.email, subject, body, secret=token)
    audit.record("password.link_sent", obj=user, purpose=purpose)


def send_password_link(user: User) -> None:
    """A service admin mails the user a link to set a new password."""
    issue_password_link(user)


def revoke_password_links(user: User, now: datetime | None = None) -> None:
    """Every earlier link of the user stops working (a newer link, a reset, a change); in the
    caller's write transaction."""
    db.session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now or utcnow())
    )


@write_transaction()
def request_password_reset(email: str) -> None:
    """Send a link to every active account with that address. The caller never learns
    whether one exists, so the page cannot be used to probe addresses."""
    users = db.session.scalars(select(User).where(func.lower(User.email) == email.strip().lower(), User.active)).all()
    for user in users:
        issue_password_link(user)


def valid_reset_token(token: str) -> PasswordResetToken | None:
    """The unused, unexpired token record for a link, or None."""
    record = db.session.scalar(select(PasswordResetToken).where(PasswordResetToken.token_hash == _token_hash(token)))
    if record is None or record.used_at is not None or record.expires_at <= utcnow() or not record.user.active:
        return None
    return record


def reset_password(record: PasswordResetToken, new_password: str) -> None:
    refuse_unchanged(record.user, new_password)
    hashed = hash_password(new_password)
    with write_transaction():
        if record.used_at is not None:  # the same link sent twice at once: it works once
            raise Conflict(_("This link has been used or has expired."))
        record.used_at = utcnow()
        revoke_password_links(record.user)
        set_password(record.user, hashed)
        audit.record("password.reset", obj=record.user, actor=record.user)
        end_sessions(record.user)


# --- units, users, roles ---------------------------------------------------------------


def check_unit_codes_free(code: str, branch_code: str | None = None, unit: Unit | None = None) -> None:
    """A unit's code, and a branch's branch code, belong to one unit only (`unit` itself may
    keep its own)."""
    taken = (Unit.code == code) | (Unit.branch_code == branch_code) if branch_code else Unit.code == code
    query = select(Unit.id).where(taken)
    if unit is not None:
        query = query.where(Unit.id != unit.id)
    if db.session.scalar(query.limit(1)) is not None:
        raise Refused(_("Another unit has this code or branch code."), field="code")


@write_transaction()
def create_unit(code: str, name: str, kind: UnitKind, branch_code: str | None = None) -> Unit:
    check_unit_codes_free(code, branch_code)
    unit = Unit(code=code, name=name, kind=kind, branch_code=branch_code or None)
    db.session.add(unit)
    db.session.flush()
    audit.record("unit.created", obj=unit, unit=unit, code=code, kind=str(kind))
    return unit


@write_transaction()
def update_unit(unit: Unit, **fields: Any) -> None:
    check_unit_codes_free(fields.get("code", unit.code), fields.get("branch_code", unit.branch_code), unit)
    for name, value in fields.items():
        setattr(unit, name, value)
    changed: dict[str, Any] = {k: str(v) for k, v in fields.items()}  # the audit record's detail
    audit.record("unit.changed", obj=unit, unit=unit, **changed)


def units_by_name() -> Sequence[Unit]:
    return db.session.scalars(select(Unit).order_by(Unit.name)).all()


def units_by_kind() -> Sequence[Unit]:
    """Every unit, for the service admin's list: by kind, then by name."""
    return db.session.scalars(select(Unit).order_by(Unit.kind, Unit.name)).all()


def active_units() -> Sequence[Unit]:
    return db.session.scalars(select(Unit).where(Unit.active).order_by(Unit.name)).all()


def unit_with_code(code: str) -> Unit | None:
    return db.session.scalar(select(Unit).where(Unit.code == code))


def check_username_free(username: str, user: User | None = None) -> None:
    """A username (in any case) belongs to one account only (`user` itself may keep its own)."""
    other = find_user(username)
    if other is not None and other is not user:
        raise Refused(_("This username is taken."), field="username")


def create_user(
    username: str,
    display_name: str,
    email: str,
    language: str = "fi",
    password: str | None = None,
    roles: Iterable[tuple[Role, Unit | None]] = (),
    send_link: bool = False,
) -> User:
    """Create a staff account. `roles` is a list of (Role, Unit or None)."""
    hashed = hash_password(password) if password else None  # slow: before the transaction
    with write_transaction():
        check_username_free(username)
        user = User(username=username, display_name=display_name, email=email, language=language)
        if hashed:
            set_password(user, hashed)
        db.session.add(user)
        db.session.flush()
        audit.record("user.created", obj=user, username=username)
        for role, unit in roles:
            grant_role(user, role, unit)
        if send_link:
            issue_password_link(user, purpose="welcome")
    return user


@write_transaction()
def grant_role(user: User, role: Role, unit: Unit | None = None) -> None:
    if role == Role.SERVICE_ADMIN:
        unit = None
    elif unit is None:
        raise Refused(_("This role is held in a unit: choose one."), field="role")
    unit_id = getattr(unit, "id", None)
    if any(a.role == role and a.unit_id == unit_id for a in user.role_assignments):
        raise Refused(_("The user already has this role in this unit."), field="role")
    user.role_assignments.append(RoleAssignment(role=role, unit_id=unit_id))
    audit.record("role.granted", obj=user, unit=unit_id, role=str(role))
    accounts_live.announce_roles_changed(user)


@write_transaction()
def revoke_role(assignment: RoleAssignment) -> None:
    user = assignment.user
    audit.record("role.revoked", obj=user, unit=assignment.unit_id, role=str(assignment.role))
    user.role_assignments.remove(assignment)
    end_sessions(user)  # pages and sockets opened with the role close with it
    accounts_live.announce_roles_changed(user)


@write_transaction()
def end_all_sessions(user: User) -> None:
    """A service admin logs a user out everywhere (a lost laptop, a shared password)."""
    end_sessions(user)
    audit.record("sessions.ended", obj=user)


@write_transaction()
def update_user(user: User, **fields: Any) -> None:
    if "username" in fields:
        check_username_free(fields["username"], user)
    deactivated = user.active and fields.get("active") is False
    for name, value in fields.items():
        setattr(user, name, value)
    changed: dict[str, Any] = {k: str(v) for k, v in fields.items()}  # the audit record's detail
    audit.record("user.changed", obj=user, **changed)
    if deactivated:
        end_sessions(user)  # as a lockout: reactivating the account brings no session back


def users_matching(search: str = "") -> Select[tuple[User]]:
    """The query of the accounts whose username or display name contains `search`, by name."""
    query = select(User).order_by(User.display_name)
    if search:
        like = f"%{search.lower()}%"
        query = query.where(func.lower(User.username).like(like) | func.lower(User.display_name).like(like))
    return query


@write_transaction()
def add_registrar(unit: Unit, username: str, display_name: str, email: str, language: str) -> User:
    """A main user makes someone a registrar of their unit: a new account, mailed a link to set
    its password, or the role for an existing account that already belongs to the unit (holds a
    role there) and whose email is the one given. Staff of other units, and accounts without a
    unit, are added by a service admin; guessing a username and its address gets no account."""
    existing = find_user(username)
    if existing is None:
        return create_user(username, display_name, email, language, roles=[(Role.REGISTRAR, unit)], send_link=True)
    if existing.email.lower() != email.strip().lower():
        raise Refused(_("This username is taken by another person."), field="username")
    if not any(a.unit_id == unit.id for a in existing.role_assignments):
        raise Refused(
            _("This account does not belong to %(unit)s. A service admin can add it to the unit.", unit=unit.name),
            field="username",
        )
    grant_role(existing, Role.REGISTRAR, unit)
    return existing


def registrars_of(units: Iterable[Unit]) -> Sequence[RoleAssignment]:
    """Registrar assignments in the given units, for the main user's page."""
    unit_ids = [u.id for u in units]
    return db.session.scalars(
        select(RoleAssignment)
        .join(User)
        .where(RoleAssignment.role == Role.REGISTRAR, RoleAssignment.unit_id.in_(unit_ids))
        .order_by(User.display_name)
    ).all()


# --- notices ---------------------------------------------------------------------------


def notices_in_force(
    now: datetime | None = None, area: str | None = None, user: User | None = None
) -> Sequence[Notice]:
    """The notices in force; with `area` and `user`, only those for that working area and the
    user's units (a notice for the Celia service does not show on the Dutch counter's pages)."""
    now = now or utcnow()
    query = (
        select(Notice)
        .where(Notice.ended_at.is_(None), (Notice.ends_at.is_(None)) | (Notice.ends_at > now))
        .order_by(Notice.created_at.desc())
    )
    notices = db.session.scalars(query).all()
    if user is None:
        return notices
    unit_ids = None if user.is_service_admin else {a.unit_id for a in user.role_assignments if a.unit_id is not None}
    return [n for n in notices if n.shown_to(area, unit_ids)]


def recent_notices(limit: int = 50) -> Sequence[Notice]:
    return db.session.scalars(select(Notice).order_by(Notice.created_at.desc()).limit(limit)).all()


@write_transaction()
def publish_notice(
    text: str, ends_at: datetime | None, author: User, areas: Iterable[str] = (), unit_ids: Iterable[int] = ()
) -> Notice:
    """A notice for the given areas and units (none given: everywhere, every unit's staff)."""
    if ends_at is not None and ends_at <= utcnow():
        raise Refused(_("The end time must be in the future."), field="ends_at")
    units = db.session.scalars(select(Unit).where(Unit.id.in_(unit_ids))).all() if unit_ids else []
    notice = Notice(text=text, ends_at=ends_at, created_by_id=author.id, areas=" ".join(areas), units=units)
    db.session.add(notice)
    db.session.flush()
    audit.record("notice.published", obj=notice)
    accounts_live.announce_notice_changed()
    return notice


@write_transaction()
def end_notice(notice: Notice) -> None:
    notice.ended_at = utcnow()
    audit.record("notice.ended", obj=notice)
    accounts_live.announce_notice_changed()


# --- audit log and outbox --------------------------------------------------------------


def audit_events_matching(
    action: str = "", actor: str = "", unit_id: int | None = None, about: str = ""
) -> Select[tuple[AuditEvent]]:
    """The query of the audit events, newest first: an action that starts with `action`, by the
    username `actor`, in a unit, `about` an object ("Type" or "Type:id")."""
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if action:
        query = query.where(AuditEvent.action.startswith(action))
    if actor:
        query = query.join(User, AuditEvent.actor_id == User.id).where(User.username == actor)
    if unit_id is not None:
        query = query.where(AuditEvent.unit_id == unit_id)
    if about:
        object_type, _sep, object_id = about.partition(":")
        query = query.where(AuditEvent.object_type == object_type)
        if object_id:
            query = query.where(AuditEvent.object_id == object_id)
    return query


def outbox_newest_first() -> Select[tuple[OutboxMail]]:
    """The query of the mail in the outbox, newest first."""
    return select(OutboxMail).order_by(OutboxMail.created_at.desc(), OutboxMail.id.desc())
