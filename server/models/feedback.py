"""Feedback and petitions (phản ánh, kiến nghị) and their handling trail."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, UTCDateTime
from server.models.procedure import Procedure


class Feedback(Base):
    """A citizen's complaint or suggestion about a procedure rule or a civil servant.

    Contact details are stored only when `contact_consent` is true (the service enforces
    it); they are personal data and never written to logs.
    """

    __tablename__ = "feedback"
    __table_args__ = (Index("ix_feedback_centre_status_due", "centre_id", "status", "due_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id", ondelete="CASCADE"))
    #: Given to the citizen to follow the case, e.g. PA-7KQ2M9XD.
    reference: Mapped[str] = mapped_column(String(24), unique=True)
    about: Mapped[str] = mapped_column(String(16))
    #: kiosk | web | rating | staff
    source: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    procedure_id: Mapped[int | None] = mapped_column(ForeignKey("procedures.id"), nullable=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"), nullable=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), nullable=True)
    #: The rating that opened this case (ratings table belongs to the ratings feature).
    rating_id: Mapped[int | None] = mapped_column(Integer, nullable=True, unique=True)
    #: Free text when the citizen cannot name the civil servant ("quầy 3, buổi sáng").
    staff_description: Mapped[str] = mapped_column(String(300), default="")
    contact_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    contact_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    contact_phone: Mapped[str | None] = mapped_column(String(30), nullable=True)
    contact_email: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="received")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    answer: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_date: Mapped[date] = mapped_column(Date)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    procedure: Mapped[Procedure | None] = relationship()
    events: Mapped[list[FeedbackEvent]] = relationship(
        order_by="FeedbackEvent.id", cascade="all, delete-orphan"
    )


class FeedbackEvent(Base):
    """Append-only: who moved a case, when, and with what note."""

    __tablename__ = "feedback_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    feedback_id: Mapped[int] = mapped_column(
        ForeignKey("feedback.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    action: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(80), default="")
    note: Mapped[str] = mapped_column(Text, default="")
