"""Dossiers (hồ sơ) tracked from receipt to the returned result, their hand-offs (the
control slip) and the per-(centre, day) numbering rows of dossier codes."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, UTCDateTime
from server.models.centre import Centre, Counter
from server.models.procedure import Procedure


class DossierSequence(Base):
    """The last dossier number of a centre's local day, bumped inside the creating
    transaction (row lock on PostgreSQL, BEGIN IMMEDIATE on SQLite)."""

    __tablename__ = "dossier_sequences"

    centre_id: Mapped[int] = mapped_column(
        ForeignKey("centres.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class Dossier(Base):
    """A filed application (Hồ sơ), from the receipt slip to the returned result.

    `papers_received` is a list of ``{"name": str, "originals": int, "copies": int}``.
    `due_date`/`appointment_at` are the appointment on the receipt slip; `new_due_date`
    is the date promised in an apology letter when the dossier runs late.
    """

    __tablename__ = "dossiers"
    __table_args__ = (Index("ix_dossiers_centre_status_due", "centre_id", "status", "due_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(60), unique=True)
    procedure_id: Mapped[int] = mapped_column(ForeignKey("procedures.id"))
    applicant_name: Mapped[str] = mapped_column(String(200))
    applicant_phone: Mapped[str | None] = mapped_column(String(30), nullable=True)
    #: From the form (pre-filled from the citizen's ID card when it was scanned at the kiosk).
    applicant_birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    applicant_address: Mapped[str | None] = mapped_column(String(300), nullable=True)
    request: Mapped[str] = mapped_column(String(500), default="")
    papers_received: Mapped[list] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"), nullable=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), nullable=True)
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The legal time used for the appointment, in working days, and whether the 15:00
    #: cut-off applied (copied from the procedure: a later edit of it changes nothing here).
    working_days: Mapped[int] = mapped_column(Integer)
    cutoff_applied: Mapped[bool] = mapped_column(Boolean, default=False)
    due_date: Mapped[date] = mapped_column(Date)
    appointment_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(24), default="received")
    status_reason: Mapped[str] = mapped_column(Text, default="")
    forwarded_to: Mapped[str] = mapped_column(String(300), default="")
    result_ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: early | on_time | late: when the result (or refusal) was ready, against due_date.
    result_timing: Mapped[str | None] = mapped_column(String(10), nullable=True)
    #: Working days after due_date at which the result was ready (0 unless late).
    late_working_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    apology_reason: Mapped[str] = mapped_column(Text, default="")
    new_due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    apology_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    centre: Mapped[Centre] = relationship()
    procedure: Mapped[Procedure] = relationship()
    counter: Mapped[Counter | None] = relationship()
    handoffs: Mapped[list[DossierHandoff]] = relationship(
        order_by="DossierHandoff.id", cascade="all, delete-orphan"
    )


class DossierHandoff(Base):
    """One row of the control slip: who handed the dossier to whom, when, and whether
    that was before, on or after the appointment date. Append-only."""

    __tablename__ = "dossier_handoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(
        ForeignKey("dossiers.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    action: Mapped[str] = mapped_column(String(24))
    from_status: Mapped[str | None] = mapped_column(String(24), nullable=True)
    to_status: Mapped[str] = mapped_column(String(24))
    giver: Mapped[str] = mapped_column(String(300), default="")
    receiver: Mapped[str] = mapped_column(String(300), default="")
    actor: Mapped[str] = mapped_column(String(80), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    #: early | on_time | late against the dossier's due date at the time of the hand-off.
    timing: Mapped[str] = mapped_column(String(10), default="on_time")
