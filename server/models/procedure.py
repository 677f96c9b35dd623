"""The public catalogue of administrative procedures (thủ tục hành chính) and the
administrator's yearly working-calendar overrides."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, UTCDateTime
from server.models.centre import Field, Service


class Procedure(Base):
    """One procedure as posted publicly: papers, fee, legal processing time, where to collect.

    `papers` is a list of ``{"name": str, "originals": int, "copies": int, "note": str}``.
    `search_text` is the folded code and name (server.domain.textfold), kept in step by
    the service that writes the row, so search ignores diacritics and case on any backend.
    """

    __tablename__ = "procedures"
    __table_args__ = (
        UniqueConstraint("centre_id", "code"),
        Index("ix_procedures_centre_field", "centre_id", "field_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id", ondelete="CASCADE"))
    field_id: Mapped[int] = mapped_column(ForeignKey("fields.id"))
    #: The queue a citizen takes a ticket for to file this procedure (may be unset).
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"), nullable=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(400))
    search_text: Mapped[str] = mapped_column(String(600), default="")
    papers: Mapped[list] = mapped_column(JSON, default=list)
    fee_text: Mapped[str] = mapped_column(String(500), default="")
    #: Base fee in đồng (0 = free; None = see fee_text).
    fee_amount: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: Legal processing time in working days; 0 with `same_day` for same-day procedures.
    processing_days: Mapped[int] = mapped_column(Integer, default=0)
    same_day: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Received at/after 15:00 counts from the next working day.
    cutoff_15h: Mapped[bool] = mapped_column(Boolean, default=False)
    processing_note: Mapped[str] = mapped_column(String(500), default="")
    agency: Mapped[str] = mapped_column(String(300), default="")
    result_place: Mapped[str] = mapped_column(String(300), default="")
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    field: Mapped[Field] = relationship()
    service: Mapped[Service | None] = relationship()


class CalendarYear(Base):
    """An administrator's schedule for one year, replacing the shipped TOML for that year.

    `data` has exactly the structure of calendar_data/vn_YYYY.toml as JSON
    (`YearSchedule.to_dict`), validated by `YearSchedule.from_dict` before it is stored.
    """

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(80), default="")
