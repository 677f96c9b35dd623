"""Tickets, their append-only event trail, the per-day numbering rows and print jobs
(tickets and dossier slips)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, UTCDateTime
from server.models.centre import Counter, PriorityCategory, Service


class NumberSequence(Base):
    """The last number handed out per (service, local day), locked while issuing.

    Also carries the interleave counter of the service's priority policy for that day.
    """

    __tablename__ = "number_sequences"

    service_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cycle: Mapped[int] = mapped_column(Integer, default=0)
    normal_since_priority: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: Tickets issued for the service that day: the daily cap is checked on this locked row.
    issued: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Tickets waiting in the service's line that day (`status` waiting, `service_id` this
    #: service): kept by triggers on `tickets` in the writing transaction, never by the
    #: code (migration d5e6f7a8b9c0); `queue.updated` reads it instead of counting.
    waiting: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Bumped by the same triggers whenever `waiting` moves (migration a9c4e6f1d2b8): the
    #: order of a line's counts, carried by `queue.updated` so a page can drop an older one.
    waiting_version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class Ticket(Base):
    """A numbered place in a service's line (Phiếu số thứ tự)."""

    __tablename__ = "tickets"
    __table_args__ = (
        # The database, not just the code, guarantees one holder per number per cycle.
        UniqueConstraint("issued_service_id", "day", "cycle", "number"),
        # call_next: the oldest waiting ticket of a line.
        Index("ix_tickets_queue", "service_id", "day", "status", "is_priority", "queued_at", "id"),
        # Waiting counts per service for a centre's day, answered from the index alone.
        Index("ix_tickets_waiting", "centre_id", "day", "status", "service_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"))
    #: The service whose range gave the number (a transfer does not change it).
    issued_service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    #: The line the ticket stands in now.
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    day: Mapped[date] = mapped_column(Date)
    number: Mapped[int] = mapped_column(Integer)
    cycle: Mapped[int] = mapped_column(Integer, default=0)
    display_number: Mapped[str] = mapped_column(String(12))
    public_code: Mapped[str] = mapped_column(String(32), unique=True)
    #: sha256 of (caller, day, the kiosk's Idempotency-Key): a retried request returns the
    #: same ticket (server.services.issue_keys). None: issued without a key.
    request_id: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    #: Digest of what the keyed request asked for: the same key with another request is
    #: refused.
    request_fingerprint: Mapped[str | None] = mapped_column(String(32), nullable=True)
    is_priority: Mapped[bool] = mapped_column(Boolean, default=False)
    priority_category_id: Mapped[int | None] = mapped_column(
        ForeignKey("priority_categories.id"), nullable=True
    )
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Place in line: the issue time, kept across transfers; a requeued no-show goes back
    #: at the time it was put back.
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    called_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"), nullable=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"), nullable=True)
    call_count: Mapped[int] = mapped_column(Integer, default=0)
    transfer_count: Mapped[int] = mapped_column(Integer, default=0)
    #: How a done ticket ended (served, supplement, redirected, left); None otherwise.
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)
    #: Where it came from: "appointment" (a booking checked in at the kiosk, on time or
    #: late), "remote" (a number taken on a phone); None: a walk-in at the kiosk.
    origin: Mapped[str | None] = mapped_column(String(12), nullable=True)

    service: Mapped[Service] = relationship(foreign_keys=[service_id])
    issued_service: Mapped[Service] = relationship(foreign_keys=[issued_service_id])
    counter: Mapped[Counter | None] = relationship(foreign_keys=[counter_id])
    priority_category: Mapped[PriorityCategory | None] = relationship()


class TicketEvent(Base):
    """Append-only audit trail: one row per ticket transition; the source of reports."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_centre_at", "centre_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    kind: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(80), default="")
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"), nullable=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    #: On a finish: how the ticket ended (reports count from it).
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)
    data: Mapped[dict] = mapped_column(JSON, default=dict)


class PrintJob(Base):
    """A document to print at a station: a queue ticket, a dossier's receipt slip, or a
    procedure's papers list.

    `job_id` is the agent's idempotency key; `kind` says which document `payload` is and
    which of `ticket_id` / `dossier_id` it belongs to.
    """

    __tablename__ = "print_jobs"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'ticket' AND ticket_id IS NOT NULL)"
            " OR (kind = 'dossier_slip' AND dossier_id IS NOT NULL)"
            " OR (kind = 'papers' AND procedure_id IS NOT NULL)",
            name="owner",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(String(40), unique=True)
    #: ticket | dossier_slip | papers (the `kind` of the print.job event).
    kind: Mapped[str] = mapped_column(String(20), default="ticket", server_default="ticket")
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id"), index=True, nullable=True
    )
    dossier_id: Mapped[int | None] = mapped_column(
        ForeignKey("dossiers.id", ondelete="CASCADE"), index=True, nullable=True
    )
    #: A procedure's papers list printed at a kiosk ("what to bring", kind papers).
    procedure_id: Mapped[int | None] = mapped_column(
        ForeignKey("procedures.id", ondelete="CASCADE"), nullable=True
    )
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str] = mapped_column(String(200), default="")
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
