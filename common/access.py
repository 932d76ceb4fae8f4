"""Roles and the checks every route and Socket.IO event makes."""
import enum
from functools import wraps

from flask import abort
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required


class Role(enum.StrEnum):
    REGISTRAR = "registrar"
    MAIN_USER = "main_user"
    SERVICE_ADMIN = "service_admin"
    COUNTER_STAFF = "counter_staff"
    CHAT_AGENT = "chat_agent"
    GUIDE = "guide"


ROLE_LABELS = {
    Role.REGISTRAR: _l("Registrar"),
    Role.MAIN_USER: _l("Main user"),
    Role.SERVICE_ADMIN: _l("Service admin"),
    Role.COUNTER_STAFF: _l("Counter staff"),
    Role.CHAT_AGENT: _l("Chat agent"),
    Role.GUIDE: _l("Guide"),
}


def roles_required(*roles):
    """Let in a logged-in user who holds one of the roles in some unit (service admins always)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_any_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = roles
        return wrapped

    return decorator


def require_unit(role, unit_id):
    """Answer 404 unless the current user holds the role in that unit: another unit's object
    looks exactly like one that does not exist, so no id reveals what other units hold."""
    if not current_user.is_authenticated or not current_user.holds(role, unit_id):
        abort(404)
