"""Roles and the checks every route and Socket.IO event makes."""
import enum
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

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

View = TypeVar("View", bound=Callable[..., Any])


def roles_required(*roles: Role) -> Callable[[View], View]:
    """Let in a logged-in user who holds one of the roles in some unit (service admins always)."""

    def decorator(view: View) -> View:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.has_any_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        # The roles a view lets in, as tests/test_authorization.py reads them.
        wrapped.required_roles = roles  # type: ignore[attr-defined]
        return cast(View, wrapped)

    return decorator


def require_unit(role: Role, unit_id: int | None) -> None:
    """Answer 404 unless the current user holds the role in that unit: another unit's object
    looks exactly like one that does not exist, so no id reveals what other units hold."""
    if not current_user.is_authenticated or not current_user.holds(role, unit_id):
        abort(404)
