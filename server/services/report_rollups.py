"""Roll-ups: a closed day's figures per centre and service, summed into months.

The province reports (server/services/province_reports.py) read these instead of every
ticket: a year of 168 centres is 168 × 12 month rows, not 12 M tickets. A day is *closed*
once it is over (before the centre's today); today is computed by the same queries
(its finished tickets folded once into `report_live_rollups`: report_today.py). Each row holds counts, sums and a 1-minute histogram of the waits (issue → first
call), so a median or p90 of the waiting time comes from summed histograms
(`hist_percentile`: exact to the minute's bucket, not to the second).

Where a closed day's figures come from: `report_facts.ticket_source` (the stored per-ticket
facts, or the day folded on the fly), the counted ratings (by the local day pressed) and
the dossiers (received, result ready: by local day). A day is rolled by the first report
that needs it (`ensure_days`), a closed month once all its days are (`ensure_months`).

Kept in step: `invalidate` drops a day's roll-up (and its facts, and its month) when
something of that past day changes — the hub projecting a box's late delivery
(server/sync/project.py), a transition of a ticket of an earlier day, a rating of an
earlier day — and the next report rolls it again.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Float,
    String,
    and_,
    case,
    cast,
    delete,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from server.models import (
    Dossier,
    ReportDay,
    ReportRollup,
    ReportRollupDay,
    ReportRollupMonth,
    ReportTicketFact,
)
from server.services.report_facts import epoch, floor_int, ticket_source

#: Whole-number figures of a roll-up row, summed as they are.
COUNTS = (
    "issued",
    "no_show",
    "transferred",
    "served",
    "supplement",
    "redirected",
    "left",
    "wait_count",
    "service_count",
    "r1",
    "r2",
    "r3",
    "r4",
    "r5",
    "dossiers_received",
    "dossiers_resolved",
    "dossiers_on_time",
    "dossiers_late",
)
SUMS = ("wait_sum", "service_sum")
#: Days computed per statement when rolling many (a cold year: 12 rounds).
CHUNK_DAYS = 31
#: Width of a histogram bucket, seconds.
BUCKET = 60


@dataclass
class Figures:
    """Counts, sums and the wait histogram of a centre (and service) over some days."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    sums: dict[str, float] = field(default_factory=lambda: dict.fromkeys(SUMS, 0.0))
    wait_hist: list[int] = field(default_factory=list)

    def add(self, other: Figures) -> None:
        for k, v in other.counts.items():
            self.counts[k] += v
        for k, v in other.sums.items():
            self.sums[k] += v
        add_hist(self.wait_hist, other.wait_hist)

    def add_wait(self, seconds: float) -> None:
        self.counts["wait_count"] += 1
        self.sums["wait_sum"] += seconds
        add_hist(self.wait_hist, bucket_of(seconds), 1)

    def values(self) -> dict[str, Any]:
        return {**self.counts, **self.sums, "wait_hist": list(self.wait_hist)}

    @classmethod
    def of_row(cls, row: Any) -> Figures:
        m = row._mapping
        return cls(
            {k: int(m[k]) for k in COUNTS},
            {k: float(m[k]) for k in SUMS},
            list(m["wait_hist"] or []),
        )

    @property
    def levels(self) -> dict[int, int]:
        return {level: self.counts[f"r{level}"] for level in range(1, 6)}


#: Added to a wait before bucketing: SQLite's timestamps (julianday) make a 120 s wait
#: 119.9999975 s; a millisecond keeps it in its minute.
EPSILON = 0.001


def bucket_of(seconds: float) -> int:
    """The histogram bucket of a wait (as the roll-up's SQL computes it)."""
    return max(0, math.floor((seconds + EPSILON) / BUCKET))


def add_hist(hist: list[int], other: Sequence[int] | int, count: int | None = None) -> None:
    """Add `other` (a histogram, or with `count` one bucket's index) into `hist`."""
    if count is not None:
        other_bucket = int(other)  # type: ignore[arg-type]
        if other_bucket >= len(hist):
            hist.extend([0] * (other_bucket + 1 - len(hist)))
        hist[other_bucket] += count
        return
    if len(other) > len(hist):  # type: ignore[arg-type]
        hist.extend([0] * (len(other) - len(hist)))  # type: ignore[arg-type]
    for i, n in enumerate(other):  # type: ignore[arg-type]
        if n:
            hist[i] += n


def hist_percentile(hist: Sequence[int], q: float) -> float | None:
    """The q-quantile of the waits a histogram counts, as reports.percentile computes it
    (linear interpolation between ranks) with each bucket's waits taken as evenly spread
    over its minute: the k-th of c waits in bucket m is 60·m + 60·(k + ½)/c seconds.
    Within one minute of the exact figure."""
    total = sum(hist)
    if not total:
        return None
    cumulative = []
    running = 0
    for n in hist:
        running += n
        cumulative.append(running)

    def value(rank: int) -> float:
        m = bisect.bisect_right(cumulative, rank)
        before = cumulative[m - 1] if m else 0
        return BUCKET * m + BUCKET * (rank - before + 0.5) / hist[m]

    pos = (total - 1) * q
    lo = int(pos)
    hi = min(lo + 1, total - 1)
    a, b = value(lo), value(hi)
    return a + (b - a) * (pos - lo)


# --- computing days' figures from the source tables -------------------------------------


def _local_day_number(session: Session, column: Any, offset: float) -> Any:
    """Days since 1970-01-01 of a timestamp's local day (a fixed UTC offset)."""
    return floor_int(session, (epoch(session, column) + offset) / 86400.0)


def compute_days(
    session: Session,
    centre_ids: Sequence[int],
    first: date,
    last: date,
    today: date,
    timezone: str,
) -> dict[tuple[int, date, int], Figures]:
    """(centre, day, service) → Figures of the days first..last, from the tickets (stored
    facts or folded on the fly), counted ratings and dossiers. Three statements (plus the
    facts' folding of settled days)."""
    ids = list(centre_ids)
    out: dict[tuple[int, date, int], Figures] = defaultdict(Figures)
    source = ticket_source(session, ids, first, last, today)
    if source is not None:
        ticket_figures(session, source, out)
    other_figures(session, ids, first, last, timezone, out)
    return {k: v for k, v in out.items() if first <= k[1] <= last}


def ticket_figures(
    session: Session, source: Any, out: dict[tuple[int, date, int], Figures]
) -> None:
    """Add to `out` ((centre, day, service) → Figures) the figures of the tickets `source`
    (a subquery of report_facts.FACT_COLUMNS): one statement."""
    run = session.connection().execute
    # One statement: the tickets (stored facts, or today's folded from the events) are
    # read once as a common table expression, then grouped by each figure's key.
    src = select(*source.c).cte("day_tickets")
    svc = func.coalesce(src.c.issue_service, 0)
    minute = case(
        (src.c.wait + EPSILON < BUCKET, 0),
        else_=floor_int(session, (src.c.wait + EPSILON) / BUCKET),
    )
    zero, zf, none = literal(0), cast(literal(0.0), Float), cast(null(), String)

    def part(
        what: str,
        service: Any,
        n: Any,
        *where: Any,
        bucket: Any = zero,
        outcome: Any = none,
        timed: Any = zero,
        total: Any = zf,
    ) -> Any:
        stmt = select(
            literal(what).label("what"),
            src.c.centre_id,
            src.c.day,
            service.label("service"),
            bucket.label("bucket"),
            outcome.label("outcome"),
            n.label("n"),
            timed.label("timed"),
            total.label("total"),
        )
        if where:
            stmt = stmt.where(*where)
        groups = [src.c.centre_id, src.c.day, service]
        if what == "w":
            groups.append(bucket)
        if what == "f":
            groups.append(outcome)
        return stmt.group_by(*groups)

    rows = run(
        union_all(
            part("i", svc, func.count(src.c.issue_at)),
            part(
                "n",
                func.coalesce(src.c.ns_service, 0),
                func.sum(src.c.n_no_show),
                src.c.n_no_show > 0,
            ),
            part(
                "t",
                func.coalesce(src.c.tr_service, src.c.issue_service, 0),
                func.sum(src.c.n_transfer),
                src.c.n_transfer > 0,
            ),
            part(
                "w",
                svc,
                func.count(),
                src.c.wait.is_not(None),
                bucket=minute,
                total=func.sum(src.c.wait),
            ),
            part(
                "f",
                func.coalesce(src.c.fin_service, 0),
                func.count(),
                src.c.finish_at.is_not(None),
                outcome=src.c.fin_outcome,
                timed=func.count(src.c.service_time),
                total=func.coalesce(func.sum(src.c.service_time), 0.0),
            ),
        )
    ).all()
    for what, centre_id, day, service, bucket, outcome, n, timed, total in rows:
        f = out[(centre_id, _as_date(day), int(service))]
        if what == "i":
            f.counts["issued"] += int(n)
        elif what == "n":
            f.counts["no_show"] += int(n)
        elif what == "t":
            f.counts["transferred"] += int(n)
        elif what == "w":
            f.counts["wait_count"] += int(n)
            f.sums["wait_sum"] += float(total)
            add_hist(f.wait_hist, int(bucket), int(n))
        else:
            kind = outcome if outcome in ("supplement", "redirected", "left") else "served"
            f.counts[kind] += int(n)
            f.counts["service_count"] += int(timed)
            f.sums["service_sum"] += float(total)


def other_figures(
    session: Session,
    ids: list[int],
    first: date,
    last: date,
    timezone: str,
    out: dict[tuple[int, date, int], Figures],
) -> None:
    """Add to `out` the counted ratings pressed and the dossiers received or resolved on
    the local days first..last: two statements."""
    run = session.connection().execute
    lo, hi = _utc_bounds(first, last, timezone)
    offset = _utc_offset(timezone, first)
    from server.services.reports import _rating_model, counted_ratings, ratings_available

    if ratings_available(session):
        Rating = _rating_model()
        day_no = _local_day_number(session, Rating.pressed_at, offset)
        service = func.coalesce(Rating.service_id, 0)
        for centre_id, number, service_id, level, n in run(
            select(Rating.centre_id, day_no, service, Rating.level, func.count())
            .where(*counted_ratings(Rating, ids, lo, hi))
            .group_by(Rating.centre_id, day_no, service, Rating.level)
        ).all():
            if 1 <= int(level) <= 5:
                key = (centre_id, date(1970, 1, 1) + timedelta(days=int(number)), int(service_id))
                out[key].counts[f"r{int(level)}"] += int(n)

    received = and_(Dossier.received_at >= lo, Dossier.received_at < hi)
    resolved = and_(Dossier.result_ready_at >= lo, Dossier.result_ready_at < hi)
    received_day = _local_day_number(session, Dossier.received_at, offset)
    ready_day = _local_day_number(session, Dossier.result_ready_at, offset)
    on_time = Dossier.result_timing.in_(["early", "on_time"])
    late = Dossier.result_timing == "late"
    one = literal(1)
    for what, centre_id, number, n, n_on_time, n_late in run(
        union_all(
            select(
                literal("r").label("what"),
                Dossier.centre_id,
                received_day.label("d"),
                func.count().label("n"),
                literal(0).label("on_time"),
                literal(0).label("late"),
            )
            .where(Dossier.centre_id.in_(ids), received)
            .group_by(Dossier.centre_id, received_day),
            select(
                literal("x").label("what"),
                Dossier.centre_id,
                ready_day.label("d"),
                func.count(),
                func.count(case((on_time, one))),
                func.count(case((late, one))),
            )
            .where(Dossier.centre_id.in_(ids), resolved)
            .group_by(Dossier.centre_id, ready_day),
        )
    ).all():
        f = out[(centre_id, date(1970, 1, 1) + timedelta(days=int(number)), 0)]
        if what == "r":
            f.counts["dossiers_received"] += int(n)
        else:
            f.counts["dossiers_resolved"] += int(n)
            f.counts["dossiers_on_time"] += int(n_on_time)
            f.counts["dossiers_late"] += int(n_late)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _utc_offset(timezone: str, moment: date) -> float:
    local = datetime.combine(moment, time(12), tzinfo=ZoneInfo(timezone))
    return local.utcoffset().total_seconds()  # type: ignore[union-attr]


def _utc_bounds(first: date, last: date, timezone: str) -> tuple[datetime, datetime]:
    tz = ZoneInfo(timezone)
    lo = datetime.combine(first, time(0), tzinfo=tz).astimezone(UTC)
    hi = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return lo, hi


# --- keeping the roll-ups -------------------------------------------------------------


def _insert(session: Session) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def _write_rows(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """Core executemany in chunks (the ORM's bulk path costs more); a row already there is
    left alone."""
    insert = _insert(session)(model.__table__).on_conflict_do_nothing()
    for i in range(0, len(rows), 5000):
        session.connection().execute(insert, rows[i : i + 5000])


def _runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive days as (first, last) runs."""
    out: list[tuple[date, date]] = []
    for d in sorted(set(days)):
        if out and out[-1][1] + timedelta(days=1) == d:
            out[-1] = (out[-1][0], d)
        else:
            out.append((d, d))
    return out


def ensure_days(
    session: Session,
    centre_ids: Sequence[int],
    first: date,
    last: date,
    today: date,
    timezone: str,
) -> tuple[int, Any] | None:
    """Roll every closed (centre, day) of first..last not rolled yet: one statement to count
    the rolled ones (and, if some are missing, one to find them, then per run of
    consecutive missing days `compute_days` and one insert each of the rows and of the
    days' markers).

    Returns the days' *stamp* (how many are rolled, the latest `rolled_at`), None when no
    day of the range is closed: it changes whenever a day of the range is invalidated and
    rolled again, so a sum of the range's rows kept with it (province_reports.ReportCache)
    is known to be current."""
    last = min(last, today - timedelta(days=1))
    if last < first:
        return None
    ids = list(centre_ids)
    expected = len(set(ids)) * ((last - first).days + 1)
    in_range = (ReportRollupDay.centre_id.in_(ids), ReportRollupDay.day.between(first, last))
    count, latest = session.execute(
        select(func.count(), func.max(ReportRollupDay.rolled_at)).where(*in_range)
    ).one()
    if count == expected:
        return (int(count), latest)
    done = set(
        session.execute(
            select(ReportRollupDay.centre_id, ReportRollupDay.day).where(
                ReportRollupDay.centre_id.in_(ids), ReportRollupDay.day.between(first, last)
            )
        ).all()
    )
    all_days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    missing = {(c, d) for c in ids for d in all_days if (c, d) not in done}
    centres = sorted({c for c, _ in missing})
    for lo, hi in _runs(d for _, d in missing):
        while lo <= hi:  # a month of days at a time: a cold year stays in memory's bounds
            end = min(hi, lo + timedelta(days=CHUNK_DAYS - 1))
            rows = [
                {"centre_id": centre_id, "day": day, "service_id": service_id, **f.values()}
                for (centre_id, day, service_id), f in compute_days(
                    session, centres, lo, end, today, timezone
                ).items()
                if (centre_id, day) in missing
            ]
            _write_rows(session, ReportRollup, rows)
            lo = end + timedelta(days=1)
    now = datetime.now(UTC)
    marks = [{"centre_id": c, "day": d, "rolled_at": now} for c, d in sorted(missing)]
    _write_rows(session, ReportRollupDay, marks)
    return (expected, now)


def days_figures(
    session: Session, centre_ids: Sequence[int], first: date, last: date
) -> dict[int, Figures]:
    """Per centre, the stored roll-ups of first..last summed (the days must be rolled)."""
    out: dict[int, Figures] = defaultdict(Figures)
    cols = [getattr(ReportRollup, k) for k in (*COUNTS, *SUMS, "wait_hist")]
    for row in session.connection().execute(
        select(ReportRollup.centre_id, *cols).where(
            ReportRollup.centre_id.in_(list(centre_ids)), ReportRollup.day.between(first, last)
        )
    ):
        out[row.centre_id].add(Figures.of_row(row))
    return out


def month_end(month: date) -> date:
    nxt = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def ensure_months(
    session: Session,
    centre_ids: Sequence[int],
    months: Sequence[date],
    today: date,
    timezone: str,
) -> dict[date, dict[int, Figures]]:
    """month → centre → Figures of closed calendar months (first days; each must end before
    today): the stored month rows, those missing summed from their days (rolled first) and
    stored."""
    ids = list(centre_ids)
    out: dict[date, dict[int, Figures]] = {m: {} for m in months}
    if not months or not ids:
        return out
    cols = [getattr(ReportRollupMonth, k) for k in (*COUNTS, *SUMS, "wait_hist")]
    for row in session.connection().execute(
        select(ReportRollupMonth.centre_id, ReportRollupMonth.month, *cols).where(
            ReportRollupMonth.centre_id.in_(ids), ReportRollupMonth.month.in_(list(months))
        )
    ):
        out[_as_date(row.month)][row.centre_id] = Figures.of_row(row)
    todo = [m for m in months if len(out[m]) < len(ids)]
    if not todo:
        return out
    now = datetime.now(UTC)
    rows = []
    for first_run, last_run in _runs(d for m in todo for d in _month_days(m)):
        centres = sorted({c for m in todo for c in ids if c not in out[m]})
        ensure_days(session, centres, first_run, last_run, today, timezone)
    by_key: dict[tuple[int, date], Figures] = defaultdict(Figures)
    cols_day = [getattr(ReportRollup, k) for k in (*COUNTS, *SUMS, "wait_hist")]
    lo, hi = min(todo), month_end(max(todo))
    missing = {(c, m) for m in todo for c in ids if c not in out[m]}
    for row in session.connection().execute(
        select(ReportRollup.centre_id, ReportRollup.day, *cols_day).where(
            ReportRollup.centre_id.in_(sorted({c for c, _ in missing})),
            ReportRollup.day.between(lo, hi),
        )
    ):
        key = (row.centre_id, _as_date(row.day).replace(day=1))
        if key in missing:
            by_key[key].add(Figures.of_row(row))
    for centre_id, month in sorted(missing):
        f = by_key[(centre_id, month)]
        out[month][centre_id] = f
        rows.append({"centre_id": centre_id, "month": month, "rolled_at": now, **f.values()})
    _write_rows(session, ReportRollupMonth, rows)
    return out


def _month_days(month: date) -> list[date]:
    return [month + timedelta(days=i) for i in range(month_end(month).day)]


def invalidate(session: Session, pairs: Iterable[tuple[int, date]]) -> None:
    """Something of these past (centre, day)s changed: drop their roll-ups, their months'
    and their stored ticket facts; the next report that needs them rolls them again."""
    pairs = sorted(set(pairs))
    if not pairs:
        return
    by_centre: dict[int, set[date]] = defaultdict(set)
    for c, d in pairs:
        by_centre[c].add(d)
    for centre_id, days in by_centre.items():
        days_list = sorted(days)
        for model in (ReportRollup, ReportRollupDay, ReportTicketFact, ReportDay):
            session.execute(
                delete(model).where(model.centre_id == centre_id, model.day.in_(days_list))
            )
        session.execute(
            delete(ReportRollupMonth).where(
                ReportRollupMonth.centre_id == centre_id,
                ReportRollupMonth.month.in_(sorted({d.replace(day=1) for d in days_list})),
            )
        )


def invalidate_if_past(
    session: Session, pairs: Iterable[tuple[int, date]], now: datetime, timezone: str
) -> None:
    """`invalidate` those of `pairs` before the local today (nothing else: the hot paths
    call this on every transition, and a day not closed yet has no roll-up)."""
    from server.domain.clock import local_day

    today = local_day(now, timezone)
    past = [(c, d) for c, d in pairs if d < today]
    if past:
        invalidate(session, past)


__all__ = [
    "Figures",
    "compute_days",
    "days_figures",
    "ensure_days",
    "ensure_months",
    "hist_percentile",
    "invalidate",
    "invalidate_if_past",
]
