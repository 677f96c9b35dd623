"""A citizen's chip ID card read at the kiosk, linked to the ticket it was read for.

What is kept, and for how long, is docs/privacy.md: the ID number only as a keyed hash;
the name, date of birth and address only to pre-fill the dossier receipt at the counter,
cleared when the dossier is received or at the end of the centre's day
(server/services/id_cards.py, ``purge``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UTCDateTime


class CitizenScan(Base):
    """One ID card read at a kiosk: pending (``token``) until linked to a ticket or dropped."""

    __tablename__ = "citizen_scans"
    __table_args__ = (Index("ix_citizen_scans_purge_after", "purge_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The kiosk page's handle on a scan not linked yet (random, unique).
    token: Mapped[str] = mapped_column(String(32), unique=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id", ondelete="CASCADE"))
    station_id: Mapped[int | None] = mapped_column(
        ForeignKey("stations.id", ondelete="SET NULL"), nullable=True
    )
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), nullable=True, unique=True
    )
    #: HMAC-SHA256 of the ID number under the server's secret (server/domain/id_card.py).
    id_hash: Mapped[str] = mapped_column(String(64), index=True)
    #: For the dossier receipt only; None once purged.
    full_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    birth_year: Mapped[int | None] = mapped_column(nullable=True)
    address: Mapped[str | None] = mapped_column(String(300), nullable=True)
    #: The citizen chose to have the name printed on the ticket.
    print_name: Mapped[bool] = mapped_column(Boolean, default=False)
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    linked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: When the personal fields go: a pending scan minutes after it was read, a linked one
    #: at the end of the centre's day (or when its dossier is received, sooner).
    purge_after: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
