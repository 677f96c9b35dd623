"""The ``ticket_events`` trail folded into one row per ticket, for reports.

`fold_select` groups a set of days' events by ticket with conditional aggregates: issue
time and service, first call (→ waiting time) and who made it, start or last call →
finish (→ service time) and who served, no-shows and transfers with who/where. Days that
can no longer change (before yesterday) are stored once in ``report_ticket_facts``;
yesterday and today are folded on the fly. `ticket_rows` answers both the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    String,
    case,
    cast,
    func,
    literal,
    null,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from server.models import ReportDay, ReportTicketFact, Ticket, TicketEvent

#: Columns of a folded ticket, in the order `ticket_rows` returns them.
FACT_COLUMNS = (
    "centre_id",
    "day",
    "issue_at",
    "issue_service",
    "wait",
    "call_counter",
    "call_staff",
    "finish_at",
    "service_time",
    "fin_service",
    "fin_counter",
    "fin_staff",
    "fin_outcome",
    "n_no_show",
    "ns_service",
    "ns_counter",
    "ns_staff",
    "n_transfer",
    "tr_service",
    "tr_staff",
)
#: Days this close to today are never stored: a ticket may still get events after midnight.
SETTLE_DAYS = 2


def epoch(session: Session, column: Any) -> Any:
    """Seconds since 1970 (UTC) of a timestamp column, computed by the database."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.extract("epoch", column), Float)  # numeric otherwise: Decimals
    return (func.julianday(column) - 2440587.5) * 86400.0


def floor_int(session: Session, expr: Any) -> Any:
    """floor() of a non-negative number as an integer: PostgreSQL's cast to integer rounds
    (a press at 23:59:59.7 would fall on the next day), SQLite's truncates."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.floor(expr), Integer)
    return cast(expr, Integer)


def _when(kind: str | tuple[str, ...], value: Any) -> Any:
    test = TicketEvent.kind == kind if isinstance(kind, str) else TicketEvent.kind.in_(kind)
    return case((test, value))


def fold_select(session: Session, centre_ids: Sequence[int], days: Any) -> Any:
    """SELECT ticket_id + FACT_COLUMNS for the tickets of `days` (a list or (first, last))."""
    at = epoch(session, TicketEvent.at)
    one = literal(1)
    issue_at = func.min(_when("issue", at))
    first_call = func.min(_when("call", at))
    last_call = func.max(_when(("call", "recall"), at))
    start = func.max(_when("start", at))
    finish = func.max(_when("finish", at))
    began = func.coalesce(case((start <= finish, start)), last_call)
    if isinstance(days, tuple):
        day_filter = Ticket.day.between(days[0], days[1])
    else:
        day_filter = Ticket.day.in_(list(days))
    return (
        select(
            TicketEvent.ticket_id.label("ticket_id"),
            Ticket.centre_id.label("centre_id"),
            Ticket.day.label("day"),
            issue_at.label("issue_at"),
            func.max(_when("issue", TicketEvent.service_id)).label("issue_service"),
            (first_call - issue_at).label("wait"),
            func.max(_when("call", TicketEvent.counter_id)).label("call_counter"),
            func.max(_when("call", TicketEvent.staff_id)).label("call_staff"),
            finish.label("finish_at"),
            (finish - began).label("service_time"),
            func.max(_when("finish", TicketEvent.service_id)).label("fin_service"),
            func.max(_when("finish", TicketEvent.counter_id)).label("fin_counter"),
            func.max(_when("finish", TicketEvent.staff_id)).label("fin_staff"),
            func.max(_when("finish", TicketEvent.outcome)).label("fin_outcome"),
            func.count(_when("no_show", one)).label("n_no_show"),
            func.max(_when("no_show", TicketEvent.service_id)).label("ns_service"),
            func.max(_when("no_show", TicketEvent.counter_id)).label("ns_counter"),
            func.max(_when("no_show", TicketEvent.staff_id)).label("ns_staff"),
            func.count(_when("transfer", one)).label("n_transfer"),
            # The service the ticket was first transferred out of.
            func.min(_when("transfer", TicketEvent.data["from_service_id"].as_integer())).label(
                "tr_service"
            ),
            func.max(_when("transfer", TicketEvent.staff_id)).label("tr_staff"),
        )
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(Ticket.centre_id.in_(list(centre_ids)), day_filter)
        .group_by(TicketEvent.ticket_id, Ticket.centre_id, Ticket.day)
    )


def fold_days(
    session: Session, centre_ids: Sequence[int], first: date, last: date, now_day: date
) -> None:
    """Store the facts of the settled days in first..last that are not stored yet.

    A fixed number of statements whatever the number of centres (the province's reports):
    one to find what is stored, then one insert of every missing (centre, day)'s facts per
    400 days, and one of the days' markers.
    """
    last = min(last, now_day - timedelta(days=SETTLE_DAYS))
    if last < first:
        return
    ids = list(centre_ids)
    done = set(
        session.execute(
            select(ReportDay.centre_id, ReportDay.day).where(
                ReportDay.centre_id.in_(ids), ReportDay.day.between(first, last)
            )
        ).all()
    )
    all_days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    missing = [(c, d) for c in ids for d in all_days if (c, d) not in done]
    if not missing:
        return
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    from server.domain.clock import utcnow

    centres = sorted({c for c, _ in missing})
    days = sorted({d for _, d in missing})
    # A (centre, day) already stored is skipped by the database, not listed here.
    stored = (
        select(ReportDay.centre_id)
        .where(ReportDay.centre_id == Ticket.centre_id, ReportDay.day == Ticket.day)
        .exists()
    )
    for i in range(0, len(days), 400):
        chunk = days[i : i + 400]
        session.execute(
            insert(ReportTicketFact)
            .from_select(
                ["ticket_id", *FACT_COLUMNS], fold_select(session, centres, chunk).where(~stored)
            )
            .on_conflict_do_nothing()
        )
    folded_at = utcnow()
    session.execute(
        insert(ReportDay).on_conflict_do_nothing(),
        [{"centre_id": c, "day": d, "folded_at": folded_at} for c, d in missing],
    )


def ticket_source(
    session: Session, centre_ids: Sequence[int], first: date, last: date, now_day: date
) -> Any | None:
    """FACT_COLUMNS of every ticket of first..last as one subquery: the stored facts of
    settled days, then the unsettled days folded on the fly. None when the range is empty."""
    fold_days(session, centre_ids, first, last, now_day)
    settled_end = min(last, now_day - timedelta(days=SETTLE_DAYS))
    ids = list(centre_ids)
    parts = []
    if settled_end >= first:
        parts.append(
            select(*[getattr(ReportTicketFact, c).label(c) for c in FACT_COLUMNS]).where(
                ReportTicketFact.centre_id.in_(ids),
                ReportTicketFact.day.between(first, settled_end),
            )
        )
    live_start = max(first, settled_end + timedelta(days=1))
    if live_start <= last:
        live = fold_select(session, ids, (live_start, last)).subquery("live")
        parts.append(select(*[live.c[c] for c in FACT_COLUMNS]))
    if not parts:
        return None
    return (parts[0] if len(parts) == 1 else union_all(*parts)).subquery("period_tickets")


#: Per dimension, the column each figure is attributed by: (issue, wait, finish, no-show,
#: transfer). None: not attributed (an issue has no counter or staff yet). Field and
#: agency are grouped by service and staff, then mapped (see reports.build_report).
KEY_COLUMNS: dict[str, tuple[str | None, ...]] = {
    "centre": ("centre_id",) * 5,
    "service": ("issue_service", "issue_service", "fin_service", "ns_service", "tr_service"),
    "field": ("issue_service", "issue_service", "fin_service", "ns_service", "tr_service"),
    "counter": (None, "call_counter", "fin_counter", "ns_counter", "call_counter"),
    "staff": (None, "call_staff", "fin_staff", "ns_staff", "tr_staff"),
    "agency": (None, "call_staff", "fin_staff", "ns_staff", "tr_staff"),
    "day": ("day",) * 5,
}


@dataclass
class Aggregates:
    """What a report needs, grouped by the dimension's keys (None: not attributed)."""

    counts: list[
        tuple[Any, Any, Any, int, int, int]
    ]  # issue key, no-show key, transfer key, issued, no-shows, transfers
    waits: Sequence[tuple[Any, float]]
    served: Sequence[tuple[Any, float | None, str | None]]  # key, service time, outcome
    heat: list[tuple[int, int, int]]  # weekday (Monday 0), hour, tickets issued


def aggregate(
    session: Session,
    centre_ids: Sequence[int],
    first: date,
    last: date,
    now_day: date,
    dimension: str,
    utc_offset: float,
) -> Aggregates:
    """Counts and the heat map summed by the database; durations fetched as (key, seconds)
    for the percentiles: four scans of narrow rows, whatever the period."""
    src = ticket_source(session, centre_ids, first, last, now_day)
    if src is None:
        return Aggregates([], [], [], [])
    sqlite = session.get_bind().dialect.name == "sqlite"

    def key(name: str | None) -> Any:
        if name is None:
            return null()
        if name == "tr_service":
            return func.coalesce(src.c.tr_service, src.c.issue_service)
        if name == "day" and sqlite:
            return type_coerce(src.c.day, String)  # ISO text: no date parsing per row
        return src.c[name]

    names = KEY_COLUMNS[dimension]
    k_issue, k_wait, k_fin, k_ns, k_tr = (key(n) for n in names)
    grouping = [k for k, n in ((k_issue, names[0]), (k_ns, names[3]), (k_tr, names[4])) if n]
    # Core rows through the connection: the ORM's row handling would double the cost.
    run = session.connection().execute
    counts = run(
        select(
            k_issue.label("k_issue"),
            k_ns.label("k_ns"),
            k_tr.label("k_tr"),
            func.count(src.c.issue_at),
            func.coalesce(func.sum(src.c.n_no_show), 0),
            func.coalesce(func.sum(src.c.n_transfer), 0),
        ).group_by(*grouping)
    ).all()
    waits = run(select(k_wait, src.c.wait).where(src.c.wait.is_not(None))).all()
    served = run(
        select(k_fin, src.c.service_time, src.c.fin_outcome).where(src.c.finish_at.is_not(None))
    ).all()
    local = floor_int(session, src.c.issue_at + utc_offset)
    weekday = (local // 86400 + 3) % 7
    hour = (local % 86400) // 3600
    heat = run(
        select(weekday, hour, func.count())
        .where(src.c.issue_at.is_not(None))
        .group_by(weekday, hour)
    ).all()
    return Aggregates(
        [tuple(r) for r in counts],
        waits,  # Rows unpack like tuples: no copy of 500k rows
        served,
        [(int(w), int(h), int(n)) for w, h, n in heat],
    )
