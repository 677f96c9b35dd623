"""Audit trails that are not about tickets: counter status changes and configuration changes.

``counter_events`` is written by a ``before_flush`` hook, so every code path that changes a
counter's status or staff (the status API, a call that opens a paused counter, a close)
leaves a row without each caller having to remember it. Scorecards read on-duty time and
pauses from it. ``audit_log`` records every administrative change: who, what, before → after.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, event, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column

from server.models.base import Base, UTCDateTime
from server.models.centre import Counter


class CounterEvent(Base):
    """One change of a counter's status or staff: open, paused (with reason), closed."""

    __tablename__ = "counter_events"
    __table_args__ = (
        Index("ix_counter_events_centre_at", "centre_id", "at"),
        Index("ix_counter_events_staff_at", "staff_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id", ondelete="CASCADE"))
    counter_id: Mapped[int] = mapped_column(ForeignKey("counters.id", ondelete="CASCADE"))
    #: The staff member the counter is held by after the change (before it, for a close).
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    from_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """One administrative change (nhật ký thay đổi cấu hình)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_centre_at", "centre_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    #: Who, as text, kept even when the user is deleted ("user:admin").
    actor: Mapped[str] = mapped_column(String(80), default="")
    centre_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: What kind of thing: centre, field, service, counter, user, agency, station, config.
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: create, update, delete, reset_password, issue_token, revoke_token, import.
    action: Mapped[str] = mapped_column(String(40))
    before: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict | None] = mapped_column(JSON, nullable=True)


def _history_changed(state: Any, name: str) -> tuple[bool, Any]:
    history = state.attrs[name].history
    if not history.has_changes():
        return False, None
    return True, history.deleted[0] if history.deleted else None


@event.listens_for(Session, "before_flush")
def _record_counter_changes(session: Session, flush_context: Any, instances: Any) -> None:
    """Append a CounterEvent for each counter whose status or staff changes in this flush."""
    for obj in list(session.dirty):
        if not isinstance(obj, Counter):
            continue
        state = inspect(obj)
        status_changed, old_status = _history_changed(state, "status")
        staff_changed, old_staff = _history_changed(state, "staff_id")
        if not status_changed and not staff_changed:
            continue
        if status_changed and old_status == obj.status and not staff_changed:
            continue
        staff_id = obj.staff_id if obj.staff_id is not None else old_staff
        session.add(
            CounterEvent(
                centre_id=obj.centre_id,
                counter_id=obj.id,
                staff_id=staff_id,
                from_status=old_status if status_changed else obj.status,
                status=obj.status,
                reason=obj.status_reason or "",
                # status_since is set together with the status; a change of staff alone
                # (someone takes an open counter) happens now.
                at=(obj.status_since if status_changed else None) or _now(),
            )
        )


def _now() -> datetime:
    from server.domain.clock import utcnow

    return utcnow()
