"""The append-only audit log: who did what to which object, when and why.

Services call `record` inside their own transaction, so an action and its audit entry commit together
or not at all. Nothing in the code base updates or deletes audit rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.store.models import AuditEntry


def record(
    session: Session,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    *,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEntry(actor=actor, action=action, object_type=object_type, object_id=str(object_id),
                   reason=reason, detail=detail)
    )


def entries(session: Session, *, object_type: str | None = None, object_id: str | None = None,
            limit: int = 200) -> list[AuditEntry]:
    """The newest entries first, optionally for one object."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if object_type:
        query = query.where(AuditEntry.object_type == object_type)
    if object_id:
        query = query.where(AuditEntry.object_id == str(object_id))
    return list(session.execute(query).scalars())
