"""Per-ticket report facts, folded once from the ``ticket_events`` trail of a closed day.

A ticket's events all fall within its local day (plus, rarely, a few minutes after
midnight), so once a day is over its trail no longer changes: folding it into one row per
ticket lets a year's report read 500k narrow rows instead of grouping 2M events. Days not
folded yet (yesterday, today) are folded on the fly by the same query, unsaved.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Date, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UTCDateTime


class ReportTicketFact(Base):
    """One ticket's figures: times in epoch seconds (UTC), durations in seconds."""

    __tablename__ = "report_ticket_facts"
    # Clustered by (centre, day) on SQLite: a period's rows are read in one sequential scan.
    __table_args__ = ({"sqlite_with_rowid": False},)

    centre_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    issue_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    issue_service: Mapped[int | None] = mapped_column(Integer, nullable=True)
    wait: Mapped[float | None] = mapped_column(Float, nullable=True)
    call_counter: Mapped[int | None] = mapped_column(Integer, nullable=True)
    call_staff: Mapped[int | None] = mapped_column(Integer, nullable=True)
    finish_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    service_time: Mapped[float | None] = mapped_column(Float, nullable=True)
    fin_service: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fin_counter: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fin_staff: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: How the ticket ended (served, supplement, redirected, left; None: served, folded
    #: before outcomes existed).
    fin_outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)
    n_no_show: Mapped[int] = mapped_column(Integer, default=0)
    ns_service: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ns_counter: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ns_staff: Mapped[int | None] = mapped_column(Integer, nullable=True)
    n_transfer: Mapped[int] = mapped_column(Integer, default=0)
    tr_service: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tr_staff: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ReportDay(Base):
    """A (centre, local day) whose tickets are folded into ``report_ticket_facts``."""

    __tablename__ = "report_days"

    centre_id: Mapped[int] = mapped_column(
        ForeignKey("centres.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    folded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RollupFigures:
    """The figures of a roll-up row, the same for a day and service and for a month."""

    issued: Mapped[int] = mapped_column(Integer, default=0)
    no_show: Mapped[int] = mapped_column(Integer, default=0)
    transferred: Mapped[int] = mapped_column(Integer, default=0)
    served: Mapped[int] = mapped_column(Integer, default=0)
    supplement: Mapped[int] = mapped_column(Integer, default=0)
    redirected: Mapped[int] = mapped_column(Integer, default=0)
    left: Mapped[int] = mapped_column(Integer, default=0)
    wait_count: Mapped[int] = mapped_column(Integer, default=0)
    wait_sum: Mapped[float] = mapped_column(Float, default=0.0)
    wait_hist: Mapped[list] = mapped_column(JSON, default=list)
    service_count: Mapped[int] = mapped_column(Integer, default=0)
    service_sum: Mapped[float] = mapped_column(Float, default=0.0)
    r1: Mapped[int] = mapped_column(Integer, default=0)
    r2: Mapped[int] = mapped_column(Integer, default=0)
    r3: Mapped[int] = mapped_column(Integer, default=0)
    r4: Mapped[int] = mapped_column(Integer, default=0)
    r5: Mapped[int] = mapped_column(Integer, default=0)
    dossiers_received: Mapped[int] = mapped_column(Integer, default=0)
    dossiers_resolved: Mapped[int] = mapped_column(Integer, default=0)
    dossiers_on_time: Mapped[int] = mapped_column(Integer, default=0)
    dossiers_late: Mapped[int] = mapped_column(Integer, default=0)


class ReportRollup(RollupFigures, Base):
    """A closed day's figures of one centre and service (docs/reports.md, "Roll-ups").

    Attribution as the reports make it: issued and waits by the service of issue, finished
    tickets by the service they finished in, no-shows by theirs, transfers by the service
    left. ``service_id`` 0: not attributed to a service (dossiers, tickets without one).
    ``wait_hist[m]``: tickets whose wait (issue → first call) was m to m+1 minutes.
    """

    __tablename__ = "report_rollups"
    __table_args__ = ({"sqlite_with_rowid": False},)

    centre_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    service_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class ReportRollupDay(Base):
    """A (centre, closed local day) whose ``report_rollups`` rows are written (maybe none)."""

    __tablename__ = "report_rollup_days"

    centre_id: Mapped[int] = mapped_column(
        ForeignKey("centres.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    rolled_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReportRollupMonth(RollupFigures, Base):
    """A centre's closed calendar month: its days' roll-ups summed over every service
    (``month``: the first day). Present once computed; dropped when one of its days is."""

    __tablename__ = "report_rollup_months"

    centre_id: Mapped[int] = mapped_column(
        ForeignKey("centres.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    rolled_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReportLiveRollup(RollupFigures, Base):
    """Today's figures of a centre and service from its **finished** tickets, folded in
    as they finish (server/services/report_today.py); the tickets not finished yet, the
    ratings and the dossiers are added live by the report. Only today (and yesterday, until
    the next fold drops it) is held: a closed day is rolled from scratch (`ReportRollup`)."""

    __tablename__ = "report_live_rollups"
    __table_args__ = ({"sqlite_with_rowid": False},)

    centre_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    service_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class ReportLiveTicket(Base):
    """A ticket of the day whose figures are in ``report_live_rollups`` (folded once: the
    primary key refuses a second fold). ``batch``: the fold that took it."""

    __tablename__ = "report_live_tickets"
    __table_args__ = (
        Index("ix_report_live_tickets_centre_day", "centre_id", "day"),
        Index("ix_report_live_tickets_batch", "batch"),
    )

    ticket_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    centre_id: Mapped[int] = mapped_column(Integer)
    day: Mapped[date] = mapped_column(Date)
    batch: Mapped[int] = mapped_column(BigInteger)
