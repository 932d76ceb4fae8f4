"""The audit log: an append-only record of who did what to which object, when, from where."""
from datetime import datetime
from typing import TYPE_CHECKING, Any, NoReturn

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import JSON, Connection, ForeignKey, String, event
from sqlalchemy.orm import Mapped, Mapper, mapped_column, relationship

from common.clock import utcnow
from extensions import Model, db

if TYPE_CHECKING:
    from blueprints.accounts.models import Unit, User


class AuditEvent(Model):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(40))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    address: Mapped[str | None] = mapped_column(String(45))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)

    actor = relationship("User", foreign_keys=[actor_id])
    unit = relationship("Unit")

    __table_args__ = (db.Index("ix_audit_object", "object_type", "object_id"),)


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_change(mapper: Mapper[AuditEvent], connection: Connection, target: AuditEvent) -> NoReturn:
    raise PermissionError("the audit log is append-only")


def record(
    action: str,
    obj: object | None = None,
    unit: "Unit | int | None" = None,
    actor: "User | int | None" = None,
    object_type: str | None = None,
    object_id: object | None = None,
    **detail: Any,
) -> AuditEvent:
    """Add an audit event to the current transaction (it lands only if the change lands).
    `obj`: the model the event is about (its class names the type, its id the object)."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    if obj is not None:
        object_type = object_type or type(obj).__name__
        object_id = object_id or getattr(obj, "id", None)
    entry = AuditEvent(
        action=action,
        actor_id=getattr(actor, "id", actor),
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        unit_id=getattr(unit, "id", unit),
        address=request.remote_addr if has_request_context() else None,
        detail=detail,
    )
    db.session.add(entry)
    return entry
