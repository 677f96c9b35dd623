"""Audit trails that are not about tickets: counter status changes and configuration changes.

``counter_events`` is written by the lifecycle store (`server.services.lifecycle`), the only
code that changes a counter's status or staff (open, pause, close, a call that opens a
paused counter). Scorecards read on-duty time and pauses from it. ``audit_log`` records every administrative change: who, what, before → after.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UTCDateTime


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
