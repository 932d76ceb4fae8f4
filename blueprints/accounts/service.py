"""The rules for staff accounts: passwords, lockout, expiry, resets, roles, units, notices."""
import hashlib
import hmac
import secrets
import time
from datetime import timedelta
from functools import cache

from flask import current_app, session
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from blueprints.accounts import live as accounts_live
from blueprints.accounts.models import (
    Notice,
    PasswordResetToken,
    RoleAssignment,
    Unit,
    User,
)
from common import audit, mail
from common.access import Role
from common.audit import AuditEvent
from common.clock import utcnow
from common.refusals import Refused
from common.security import hash_password
from common.transactions import begin_write
from extensions import db

MIN_PASSWORD_LENGTH = 12
COMMON_PASSWORDS = frozenset(FREQUENCY_LISTS["passwords"])
# Roles whose holders must change their password every PASSWORD_MAX_AGE_MONTHS months.
EXPIRING_ROLES = {Role.REGISTRAR, Role.MAIN_USER}


# --- passwords -------------------------------------------------------------------------


def password_problems(password, username):
    """The password rules: at least 12 characters, not the username, not a common password."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(_l("Use at least %(count)d characters.", count=MIN_PASSWORD_LENGTH))
    if username and username.casefold() in password.casefold():
        problems.append(_l("Do not use your username in the password."))
    if password.casefold() in COMMON_PASSWORDS:
        problems.append(_l("This password is too common; choose another."))
    return problems


def set_password(user, password, hashed=None):
    """`hashed`: the password hashed beforehand, outside the write transaction (hashing is slow)."""
    user.password_hash = hashed or hash_password(password)
    user.password_changed_at = utcnow()


def password_expired(user, now=None):
    """Registrars and main users must change their password every N months (a setting)."""
    if not (user.roles & EXPIRING_ROLES):
        return False
    months = current_app.config["PASSWORD_MAX_AGE_MONTHS"]
    return (now or utcnow()) - user.password_changed_at > timedelta(days=months * 365 / 12)


def refuse_unchanged(user, new_password):
    """A new password differs from the current one: an unchanged one is no change."""
    if user.password_hash and check_password_hash(user.password_hash, new_password):
        raise Refused(_("The new password must differ from the current one."), field="new_password")


def change_password(user, new_password):
    """A changed password ends the user's other sessions; the one that changed it goes on."""
    refuse_unchanged(user, new_password)
    hashed = hash_password(new_password)
    begin_write()
    set_password(user, new_password, hashed)
    audit.record("password.changed", obj=user, actor=user)
    revoke_password_links(user)
    end_sessions(user)
    db.session.commit()
    start_session(user)


# --- sessions --------------------------------------------------------------------------
# The session cookie carries the user's session version from the login, when the login was
# and when the session was last used. Raising the version on the server ends every session
# of the user at once, wherever its cookie is (a replayed cookie included).

SEEN_EVERY_SECONDS = 60  # how often a session's last use is written back into the cookie


def start_session(user, now=None):
    now = int(now or time.time())
    session["session_version"] = user.session_version
    session["login_at"] = session["seen_at"] = now


def end_sessions(user):
    """Log the user out everywhere (the caller commits, with its own audit record of why)."""
    user.session_version = (user.session_version or 0) + 1


def session_in_force(user, now=None):
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


def find_user(username):
    return db.session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))


def authenticate(username, password):
    """Check a login. Returns the user, or raises Refused with a message for the page.

    LOCKOUT_THRESHOLD wrong passwords in a row lock the account until a service admin
    unlocks it. An unknown or deactivated username is answered exactly as a real one: wrong
    until the same number of attempts, then locked; so the answers reveal no usernames."""
    user = find_user(username)
    wrong = Refused(_("Wrong username or password."))
    threshold = current_app.config["LOCKOUT_THRESHOLD"]
    if user is None:
        check_password_hash(_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)  # the same time
        if _count_unknown_failure(username) >= threshold:
            raise Refused(locked_message())
        raise wrong
    if not user.active:
        user.failed_logins += 1
        audit.record("login.refused", obj=user, actor=user, reason="inactive", failures=user.failed_logins)
        db.session.commit()
        raise Refused(locked_message()) if user.failed_logins >= threshold else wrong
    if user.is_locked:
        audit.record("login.refused", obj=user, actor=user, reason="locked")
        db.session.commit()
        raise Refused(locked_message())
    if not user.password_hash or not check_password_hash(user.password_hash, password):
        user.failed_logins += 1
        audit.record("login.failed", obj=user, actor=user, failures=user.failed_logins)
        if user.failed_logins >= threshold:
            user.locked_at = utcnow()
            audit.record("account.locked", obj=user, actor=user)
            end_sessions(user)
            db.session.commit()
            raise Refused(locked_message())
        db.session.commit()
        raise wrong
    user.failed_logins = 0
    user.last_login_at = utcnow()
    audit.record("login", obj=user, actor=user)
    db.session.commit()
    return user


def _count_unknown_failure(username):
    """Audit a failed login for a name that is no account and return how many there have
    been for it. What was typed is not stored (it may be a password typed in the wrong
    field): the event names a keyed hash of it."""
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    name_hash = hmac.new(key, username.strip().lower().encode(), hashlib.sha256).hexdigest()[:40]
    audit.record("login.failed", object_type="UnknownUser", object_id=name_hash, reason="unknown user")
    db.session.commit()
    return db.session.scalar(
        select(func.count()).select_from(AuditEvent)
        .where(AuditEvent.object_type == "UnknownUser", AuditEvent.object_id == name_hash)
    )


@cache
def _dummy_hash(method):
    return generate_password_hash(secrets.token_hex(16), method=method)


def locked_message():
    return _("This account is locked after too many wrong passwords. Only a service admin can unlock it.")


def unlock(user):
    user.locked_at = None
    user.failed_logins = 0
    audit.record("account.unlocked", obj=user)
    db.session.commit()


def record_logout(user):
    """Logging out ends the user's sessions, so a copy of the cookie opens nothing."""
    audit.record("logout", obj=user, actor=user)
    end_sessions(user)
    db.session.commit()


# --- forgotten passwords ---------------------------------------------------------------


def _token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def issue_password_link(user, purpose="reset"):
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


def send_password_link(user):
    """A service admin mails the user a link to set a new password."""
    issue_password_link(user)
    db.session.commit()


def revoke_password_links(user, now=None):
    """Every earlier link of the user stops working (a newer link, a reset, a change)."""
    db.session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now or utcnow())
    )


def request_password_reset(email):
    """Send a link to every active account with that address. The caller never learns
    whether one exists, so the page cannot be used to probe addresses."""
    users = db.session.scalars(select(User).where(func.lower(User.email) == email.strip().lower(), User.active))
    for user in users:
        issue_password_link(user)
    db.session.commit()


def valid_reset_token(token):
    """The unused, unexpired token record for a link, or None."""
    record = db.session.scalar(select(PasswordResetToken).where(PasswordResetToken.token_hash == _token_hash(token)))
    if record is None or record.used_at is not None or record.expires_at <= utcnow() or not record.user.active:
        return None
    return record


def reset_password(record, new_password):
    refuse_unchanged(record.user, new_password)
    hashed = hash_password(new_password)
    begin_write()
    record.used_at = utcnow()
    revoke_password_links(record.user)
    set_password(record.user, new_password, hashed)
    audit.record("password.reset", obj=record.user, actor=record.user)
    end_sessions(record.user)
    db.session.commit()


# --- units, users, roles ---------------------------------------------------------------


def check_unit_codes_free(code, branch_code=None, unit=None):
    """A unit's code, and a branch's branch code, belong to one unit only (`unit` itself may
    keep its own)."""
    taken = (Unit.code == code) | (Unit.branch_code == branch_code) if branch_code else Unit.code == code
    query = select(Unit.id).where(taken)
    if unit is not None:
        query = query.where(Unit.id != unit.id)
    if db.session.scalar(query.limit(1)) is not None:
        raise Refused(_("Another unit has this code or branch code."), field="code")


def create_unit(code, name, kind, branch_code=None):
    check_unit_codes_free(code, branch_code)
    unit = Unit(code=code, name=name, kind=kind, branch_code=branch_code or None)
    db.session.add(unit)
    db.session.flush()
    audit.record("unit.created", obj=unit, unit=unit, code=code, kind=str(kind))
    db.session.commit()
    return unit


def update_unit(unit, **fields):
    check_unit_codes_free(fields.get("code", unit.code), fields.get("branch_code", unit.branch_code), unit)
    for name, value in fields.items():
        setattr(unit, name, value)
    audit.record("unit.changed", obj=unit, unit=unit, **{k: str(v) for k, v in fields.items()})
    db.session.commit()


def check_username_free(username, user=None):
    """A username (in any case) belongs to one account only (`user` itself may keep its own)."""
    other = find_user(username)
    if other is not None and other is not user:
        raise Refused(_("This username is taken."), field="username")


def create_user(username, display_name, email, language="fi", password=None, roles=(), send_link=False):
    """Create a staff account. `roles` is a list of (Role, Unit or None)."""
    check_username_free(username)
    user = User(username=username, display_name=display_name, email=email, language=language)
    if password:
        set_password(user, password)
    db.session.add(user)
    db.session.flush()
    audit.record("user.created", obj=user, username=username)
    for role, unit in roles:
        grant_role(user, role, unit, commit=False)
    if send_link:
        issue_password_link(user, purpose="welcome")
    db.session.commit()
    return user


def grant_role(user, role, unit=None, commit=True):
    if role == Role.SERVICE_ADMIN:
        unit = None
    elif unit is None:
        raise Refused(_("This role is held in a unit: choose one."))
    unit_id = getattr(unit, "id", None)
    if any(a.role == role and a.unit_id == unit_id for a in user.role_assignments):
        raise Refused(_("The user already has this role in this unit."))
    user.role_assignments.append(RoleAssignment(role=role, unit_id=unit_id))
    audit.record("role.granted", obj=user, unit=unit_id, role=str(role))
    accounts_live.announce_roles_changed(user)
    if commit:
        db.session.commit()


def revoke_role(assignment):
    user = assignment.user
    audit.record("role.revoked", obj=user, unit=assignment.unit_id, role=str(assignment.role))
    user.role_assignments.remove(assignment)
    end_sessions(user)  # pages and sockets opened with the role close with it
    accounts_live.announce_roles_changed(user)
    db.session.commit()


def end_all_sessions(user):
    """A service admin logs a user out everywhere (a lost laptop, a shared password)."""
    end_sessions(user)
    audit.record("sessions.ended", obj=user)
    db.session.commit()


def update_user(user, **fields):
    if "username" in fields:
        check_username_free(fields["username"], user)
    for name, value in fields.items():
        setattr(user, name, value)
    audit.record("user.changed", obj=user, **{k: str(v) for k, v in fields.items()})
    db.session.commit()


def add_registrar(unit, username, display_name, email, language):
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
        raise Refused(_("This account does not belong to %(unit)s. A service admin can add it to the unit.", unit=unit.name),
                      field="username")
    grant_role(existing, Role.REGISTRAR, unit)
    return existing


def registrars_of(units):
    """Registrar assignments in the given units, for the main user's page."""
    unit_ids = [u.id for u in units]
    return db.session.scalars(
        select(RoleAssignment)
        .join(User)
        .where(RoleAssignment.role == Role.REGISTRAR, RoleAssignment.unit_id.in_(unit_ids))
        .order_by(User.display_name)
    ).all()


# --- notices ---------------------------------------------------------------------------


def notices_in_force(now=None, area=None, user=None):
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


def publish_notice(text, ends_at, author, areas=(), units=()):
    notice = Notice(text=text, ends_at=ends_at, created_by_id=author.id, areas=" ".join(areas), units=list(units))
    db.session.add(notice)
    db.session.flush()
    audit.record("notice.published", obj=notice)
    accounts_live.announce_notice_changed()
    db.session.commit()
    return notice


def end_notice(notice):
    notice.ended_at = utcnow()
    audit.record("notice.ended", obj=notice)
    accounts_live.announce_notice_changed()
    db.session.commit()
