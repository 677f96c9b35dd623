"""Appointments (lịch hẹn): a seat in one slot of a service, held while the citizen fills
the form, then booked with a confirmation code; the centre's closed days; the notices a
cancellation owes the citizen (sent by the notifications work, not here)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, UTCDateTime
from server.models.ticket import Ticket


class Appointment(Base):
    """One booking (server.services.appointments).

    No slot is ever booked twice: a booking that holds a place has a `seat` number in
    0 … capacity-1, unique per (service, slot start); a released one (cancelled, expired)
    has none (NULLs never clash, on SQLite and PostgreSQL alike). The database refuses a
    second booking of a seat, whatever the isolation level or the number of processes.
    """

    __tablename__ = "appointments"
    __table_args__ = (
        UniqueConstraint("service_id", "slot_start", "seat"),
        Index("ix_appointments_centre_day", "centre_id", "day"),
        Index("ix_appointments_phone", "centre_id", "phone_hash"),
        Index("uq_appointments_request_id", "request_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    #: The slot's local day and its start (UTC) and length.
    day: Mapped[date] = mapped_column(Date)
    slot_start: Mapped[datetime] = mapped_column(UTCDateTime)
    slot_minutes: Mapped[int] = mapped_column(Integer)
    seat: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: held | booked | checked_in | cancelled | expired (server.domain.appointments).
    status: Mapped[str] = mapped_column(String(16))
    #: While held: the token the phone confirms with, and until when (the token stays on
    #: the booking it became, so a retry of that confirmation is known: request_id).
    hold_token: Mapped[str | None] = mapped_column(String(32), unique=True, nullable=True)
    hold_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: Once booked: ten digits, unique (the kiosk's check-in, the QR, change and cancel).
    code: Mapped[str | None] = mapped_column(String(12), unique=True, nullable=True)
    phone_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    phone_masked: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    booked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: citizen | closure (the centre closed the day)
    cancel_reason: Mapped[str | None] = mapped_column(String(16), nullable=True)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: on_time | late: how the ticket joined the line.
    arrival: Mapped[str | None] = mapped_column(String(8), nullable=True)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), nullable=True
    )
    #: The phone's Idempotency-Key of the booking: sha256("phone:<hash>", local day, key)
    #: (server.services.issue_keys), unique; with the digest of what was asked (service,
    #: slot, phone). docs/appointments.md, "Retries".
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    request_fingerprint: Mapped[str | None] = mapped_column(String(32), nullable=True)

    ticket: Mapped[Ticket | None] = relationship()


class CentreClosure(Base):
    """A day the centre is closed beyond the calendar (an outage, an event): no slots, and
    the day's bookings cancelled with a notice."""

    __tablename__ = "centre_closures"
    __table_args__ = (UniqueConstraint("centre_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AppointmentNotice(Base):
    """What a citizen must be told about their booking (e.g. cancelled by a closure): an
    outbox for the notifications work (SMS, Zalo, Web Push), which marks `sent_at`."""

    __tablename__ = "appointment_notices"
    __table_args__ = (Index("ix_appointment_notices_unsent", "sent_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), index=True
    )
    #: cancelled_closure
    kind: Mapped[str] = mapped_column(String(32))
    message_vi: Mapped[str] = mapped_column(String(500))
    message_en: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    appointment: Mapped[Appointment] = relationship()
