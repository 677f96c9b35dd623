"""Numbers taken from a phone: who asked (as a keyed hash and a mask, never the number)
and the check-in code the kiosk takes on arrival."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, UTCDateTime
from server.models.ticket import Ticket


class RemoteNumber(Base):
    """A ticket taken remotely (server.services.remote): one row per ticket."""

    __tablename__ = "remote_numbers"
    __table_args__ = (
        UniqueConstraint("centre_id", "day", "code"),
        Index("ix_remote_numbers_phone_day", "centre_id", "day", "phone_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), unique=True
    )
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    #: HMAC-SHA256 of the normalised number under the app's secret key (quotas only).
    phone_hash: Mapped[str] = mapped_column(String(64))
    #: "091****678": what staff may see.
    phone_masked: Mapped[str] = mapped_column(String(16))
    #: Six digits typed at the kiosk on arrival; unique in the centre's day.
    code: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    checked_in_station_id: Mapped[int | None] = mapped_column(
        ForeignKey("stations.id"), nullable=True
    )

    ticket: Mapped[Ticket] = relationship()
