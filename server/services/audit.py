"""The administrative audit log: who changed what, before → after. Append-only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from server.models import AuditEntry, User


def record(
    session: Session,
    *,
    user: User | None,
    entity: str,
    action: str,
    now: datetime,
    entity_id: int | None = None,
    centre_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    actor: str | None = None,
) -> AuditEntry | None:
    """Append one entry; an update that changes nothing is not recorded. `actor` names a
    caller that is not a user (a failed login: "anonymous")."""
    if action == "update" and before == after:
        return None
    if action == "update" and before is not None and after is not None:
        changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
        before = {k: before.get(k) for k in sorted(changed)}
        after = {k: after.get(k) for k in sorted(changed)}
    entry = AuditEntry(
        at=now,
        user_id=user.id if user is not None else None,
        actor=actor or (f"user:{user.username}" if user is not None else "system"),
        centre_id=centre_id,
        entity=entity,
        entity_id=entity_id,
        action=action,
        before=before,
        after=after,
    )
    session.add(entry)
    session.flush()
    return entry


def entries(
    session: Session,
    centre_ids: Sequence[int] | None,
    *,
    limit: int = 200,
    entity: str | None = None,
) -> list[dict[str, Any]]:
    """Newest first; `centre_ids` None means every centre (and deployment-wide entries)."""
    stmt = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    if centre_ids is not None:
        stmt = stmt.where(
            or_(AuditEntry.centre_id.in_(list(centre_ids)), AuditEntry.centre_id.is_(None))
        )
    if entity:
        stmt = stmt.where(AuditEntry.entity == entity)
    return [
        {
            "id": e.id,
            "at": e.at.isoformat(),
            "actor": e.actor,
            "centre_id": e.centre_id,
            "entity": e.entity,
            "entity_id": e.entity_id,
            "action": e.action,
            "before": e.before,
            "after": e.after,
        }
        for e in session.execute(stmt).scalars()
    ]
