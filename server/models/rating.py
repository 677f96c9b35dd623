"""Citizen satisfaction ratings (Đánh giá mức độ hài lòng)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UTCDateTime


class Rating(Base):
    """One press on a counter's pad (or one web rating), kept forever.

    ``ticket_id`` is set when the press rates a ticket, None for an unattached counter
    rating. A press replaced by a later one within the replace window keeps its ticket
    and points at its successor through ``replaced_by_id``: only ratings with
    ``replaced_by_id`` NULL count, and the database allows one such rating per ticket and
    criterion.
    """

    __tablename__ = "ratings"
    __table_args__ = (
        Index("ix_ratings_centre_pressed", "centre_id", "pressed_at"),
        Index("ix_ratings_counter_pressed", "counter_id", "pressed_at"),
        Index("ix_ratings_ticket", "ticket_id"),
        Index(
            "uq_ratings_ticket_criterion_counted",
            "ticket_id",
            "criterion",
            unique=True,
            sqlite_where=text("ticket_id IS NOT NULL AND replaced_by_id IS NULL"),
            postgresql_where=text("ticket_id IS NOT NULL AND replaced_by_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"))
    counter_id: Mapped[int] = mapped_column(ForeignKey("counters.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), nullable=True)
    #: Who served (the ticket's staff member; for an unattached press, the counter's).
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"), nullable=True)
    #: The station whose agent delivered the press (None for web ratings).
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"), nullable=True)
    #: The key as the pad sent it (after the station's key map), e.g. "5".
    raw_key: Mapped[str] = mapped_column(String(16))
    #: Level on the 5-level survey scale (5 Rất hài lòng … 1 Rất không hài lòng).
    level: Mapped[int] = mapped_column(Integer)
    #: Keys on the pad that was pressed (3, 4 or 5).
    scale: Mapped[int] = mapped_column(Integer, default=5)
    criterion: Mapped[str] = mapped_column(String(40), default="overall")
    source: Mapped[str] = mapped_column(String(10), default="pad")
    pressed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("ratings.id"), nullable=True)

    @property
    def counted(self) -> bool:
        return self.replaced_by_id is None
