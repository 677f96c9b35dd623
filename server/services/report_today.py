"""Today's figures for the province reports, kept incrementally.

A ticket's figures (issue, wait, service time, outcome, no-shows, transfers: the report
facts, report_facts.fold_select) only stop changing when it is **finished**: `done` is the
one final state (a no-show may be called again or put back in line, a transfer goes on
waiting). So a finished ticket is folded **once** into today's row of its centre and service
(`report_live_rollups`) and marked (`report_live_tickets`, the ticket id as primary key);
the report then reads those rows and adds, live, only what may still change:

- the tickets of the day not folded (waiting, called, being served, no-show: at any moment
  the people in the hall, a few per counter), folded on the fly from their events;
- the counted ratings and the dossiers of the day (indexed by their time: a grouped count
  of the day's rows, and a rating can stop counting when a later press replaces it).

A ticket is folded when its `finish` event is stored (not its status: the hub may project a
box's ticket row before its events, docs/sync.md); no event follows a finish. The sum of the
folded rows and the live part is the from-scratch computation of the day
(report_rollups.compute_days), tested equal after random hall days on SQLite and PostgreSQL
(tests/server/test_report_today.py).

Concurrency: a fold takes one lock for the transaction — `pg_advisory_xact_lock` on
PostgreSQL, the database write lock of `BEGIN IMMEDIATE` on SQLite — before it looks for
newly finished tickets, and the rows and the live part are read under it, so two processes
never fold the same ticket twice (the primary key would refuse it too) and a reader never
sees a ticket in neither or both parts. The lock is held to the end of the report's
transaction (a fraction of a second, once a minute per process with the ReportCache).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, func, literal, select, text
from sqlalchemy.orm import Session

from server.models import ReportLiveRollup, ReportLiveTicket, Ticket, TicketEvent
from server.services.report_facts import fold_select
from server.services.report_rollups import (
    COUNTS,
    SUMS,
    Figures,
    _insert,
    _utc_bounds,
    other_figures,
    ticket_figures,
)

#: pg_advisory_xact_lock key of today's fold (any constant the app uses nowhere else).
LOCK_KEY = 0x7454_6F64_6179  # "tToday"

Key = tuple[int, date, int]


def lock(session: Session) -> None:
    """Serialise folds (and reads of folded rows with the live part) across processes."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
    # SQLite: every transaction of this app begins with BEGIN IMMEDIATE (server/db.py):
    # the database write lock is already ours.


def fold(session: Session, centre_ids: Sequence[int], day: date, timezone: str) -> int:
    """Fold the tickets of `day` finished since the last fold into `report_live_rollups`;
    how many. Takes the lock (held until the caller's transaction ends)."""
    ids = list(centre_ids)
    lock(session)
    batch = time.time_ns()
    # Candidates from the tickets' index (centre, day, status): done and not folded yet
    # (the NOT IN list hashed once); folded only with their finish event stored.
    finish_event = (
        select(TicketEvent.id)
        .where(TicketEvent.ticket_id == Ticket.id, TicketEvent.kind == "finish")
        .exists()
    )
    finished = select(Ticket.id, Ticket.centre_id, Ticket.day, literal(batch)).where(
        Ticket.centre_id.in_(ids),
        Ticket.day == day,
        Ticket.status == "done",
        Ticket.id.not_in(_folded(ids, day)),
        finish_event,
    )
    session.execute(
        _insert(session)(ReportLiveTicket)
        .from_select(["ticket_id", "centre_id", "day", "batch"], finished)
        .on_conflict_do_nothing()
    )
    # (rowcount is not reliable for INSERT … SELECT on every driver: count the batch.)
    inserted = session.scalar(
        select(func.count()).select_from(ReportLiveTicket).where(ReportLiveTicket.batch == batch)
    )
    if not inserted:
        return 0
    mine = select(ReportLiveTicket.ticket_id).where(ReportLiveTicket.batch == batch)
    source = fold_select(session, ids, (day, day)).where(TicketEvent.ticket_id.in_(mine))
    delta: dict[Key, Figures] = defaultdict(Figures)
    ticket_figures(session, source.subquery("folded_now"), delta)
    if delta:
        rows = stored(session, ids, day)
        for key, f in delta.items():
            rows[key].add(f)
        values = [
            {"centre_id": c, "day": d, "service_id": s, **rows[(c, d, s)].values()}
            for (c, d, s) in delta
        ]
        stmt = _insert(session)(ReportLiveRollup)
        names = (*COUNTS, *SUMS, "wait_hist")
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=["centre_id", "day", "service_id"],
                set_={n: stmt.excluded[n] for n in names},
            ),
            values,
        )
    # The days before yesterday are rolled from scratch when closed: drop their rows.
    for model in (ReportLiveTicket, ReportLiveRollup):
        session.execute(
            delete(model).where(model.centre_id.in_(ids), model.day < day - timedelta(days=1))
        )
    return inserted


def _folded(ids: list[int], day: date) -> Any:
    """The tickets of the day folded so far, as a subquery for NOT IN: the database hashes
    it once (an anti-join by a correlated EXISTS may be planned as a nested loop over a
    table whose statistics are a day old: quadratic in the day's tickets)."""
    return select(ReportLiveTicket.ticket_id).where(
        ReportLiveTicket.centre_id.in_(ids), ReportLiveTicket.day == day
    )


def stored(session: Session, centre_ids: Sequence[int], day: date) -> dict[Key, Figures]:
    """(centre, day, service) → Figures of the finished tickets folded so far."""
    out: dict[Key, Figures] = defaultdict(Figures)
    cols = [getattr(ReportLiveRollup, k) for k in (*COUNTS, *SUMS, "wait_hist")]
    for row in session.connection().execute(
        select(ReportLiveRollup.centre_id, ReportLiveRollup.service_id, *cols).where(
            ReportLiveRollup.centre_id.in_(list(centre_ids)), ReportLiveRollup.day == day
        )
    ):
        out[(row.centre_id, day, row.service_id)] = Figures.of_row(row)
    return out


def today_days(
    session: Session,
    centre_ids: Sequence[int],
    today: date,
    last: date,
    timezone: str,
) -> dict[Key, Figures]:
    """(centre, day, service) → Figures of today..last (last ≥ today: the rest of a period,
    normally empty), as report_rollups.compute_days computes them from scratch: today's
    finished tickets folded once (`fold`), the other tickets, the ratings and the dossiers
    live. A fixed number of statements whatever the number of centres."""
    ids = list(centre_ids)
    fold(session, ids, today, timezone)
    out = stored(session, ids, today)
    lo, _ = _utc_bounds(today, last, timezone)
    live = fold_select(session, ids, (today, last)).where(
        Ticket.id.not_in(_folded(ids, today)),
        # A ticket's events are on or after its day's start: the day's events only.
        TicketEvent.centre_id.in_(ids),
        TicketEvent.at >= lo,
    )
    ticket_figures(session, live.subquery("live_tickets"), out)
    other_figures(session, ids, today, last, timezone, out)
    return {k: v for k, v in out.items() if today <= k[1] <= last}


__all__ = ["fold", "stored", "today_days"]
