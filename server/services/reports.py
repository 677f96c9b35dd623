"""Periodic reports computed from the ``ticket_events`` trail (and ratings, when present).

One narrow query folds a period's events into one row per ticket (issue time, first call,
start, finish, and who/where each happened) with conditional aggregates; Python then
attributes each ticket's figures to the group asked for (centre, field, service, counter,
staff, agency or day) and computes means and percentiles. Tickets live within one local
day, so a period made of whole local days holds every event of its tickets.

Figures per group: issued, served, no-show, transferred; waiting time (issue → first call)
and service time (start, or the last call when nobody pressed start, → finish) as mean,
median and p90 in seconds; ratings by level, mean level and the satisfaction index
(share of "satisfied" and "very satisfied", in %). Plus the hour × weekday heat map of
arrivals. Which column counts what is written out in docs/reports.md.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from server.domain.clock import local_day, utcnow
from server.domain.errors import InvalidRequest
from server.models import Agency, Centre, Counter, Field, Service, User
from server.models.centre import counter_label
from server.services.report_facts import aggregate, epoch, floor_int

PERIOD_KINDS = ("day", "week", "month", "quarter", "year", "range")
DIMENSIONS = ("centre", "field", "service", "counter", "staff", "agency", "day")
DIMENSION_VI = {
    "centre": "Trung tâm",
    "field": "Lĩnh vực",
    "service": "Dịch vụ",
    "counter": "Quầy",
    "staff": "Cán bộ",
    "agency": "Cơ quan cử đến",
    "day": "Ngày",
}
#: Rating levels, best first, as the ministries' 5-level survey names them.
RATING_LEVELS_VI = {
    5: "Rất hài lòng",
    4: "Hài lòng",
    3: "Bình thường",
    2: "Không hài lòng",
    1: "Rất không hài lòng",
}
#: Levels counted as satisfied in the satisfaction index.
SATISFIED_LEVELS = (4, 5)
#: Largest allowed range for a report, in days (years of data stay answerable).
MAX_RANGE_DAYS = 3 * 366 + 1


# --- periods ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Whole local days, `start` to `end` inclusive."""

    kind: str
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def label_vi(self) -> str:
        fmt = "%d/%m/%Y"
        if self.kind == "day":
            return f"Ngày {self.start.strftime(fmt)}"
        if self.kind == "month":
            return f"Tháng {self.start.month}/{self.start.year}"
        if self.kind == "quarter":
            return f"Quý {(self.start.month - 1) // 3 + 1}/{self.start.year}"
        if self.kind == "year":
            return f"Năm {self.start.year}"
        return f"Từ {self.start.strftime(fmt)} đến {self.end.strftime(fmt)}"

    def utc_bounds(self, timezone: str) -> tuple[datetime, datetime]:
        tz = ZoneInfo(timezone)
        lo = datetime.combine(self.start, time(0), tzinfo=tz).astimezone(UTC)
        hi = datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
        return lo, hi


def period_for(kind: str, anchor: date, end: date | None = None) -> Period:
    """The day, ISO week, month, quarter or year holding `anchor`; or `anchor`..`end`."""
    if kind == "day":
        return Period(kind, anchor, anchor)
    if kind == "week":
        start = anchor - timedelta(days=anchor.weekday())
        return Period(kind, start, start + timedelta(days=6))
    if kind == "month":
        last = calendar.monthrange(anchor.year, anchor.month)[1]
        return Period(kind, anchor.replace(day=1), anchor.replace(day=last))
    if kind == "quarter":
        first_month = (anchor.month - 1) // 3 * 3 + 1
        start = date(anchor.year, first_month, 1)
        last_month = first_month + 2
        return Period(
            kind,
            start,
            date(anchor.year, last_month, calendar.monthrange(anchor.year, last_month)[1]),
        )
    if kind == "year":
        return Period(kind, date(anchor.year, 1, 1), date(anchor.year, 12, 31))
    if kind == "range":
        if end is None or end < anchor:
            raise InvalidRequest(
                "Khoảng thời gian không hợp lệ: ngày kết thúc phải sau ngày bắt đầu.",
                "invalid range: `to` must be on or after `from`",
            )
        if (end - anchor).days + 1 > MAX_RANGE_DAYS:
            raise InvalidRequest(
                "Khoảng thời gian quá dài (tối đa 3 năm).", "range too long (3 years at most)"
            )
        return Period(kind, anchor, end)
    raise InvalidRequest(f"Kỳ báo cáo «{kind}» không hợp lệ.", f"unknown period {kind!r}")


# --- statistics ------------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (PostgreSQL's percentile_cont)."""
    if not sorted_values:
        return None
    pos = (len(sorted_values) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def duration_stats(values: Iterable[float]) -> dict[str, float | None]:
    ordered = sorted(values)
    return {
        "count": len(ordered),
        "mean": sum(ordered) / len(ordered) if ordered else None,
        "median": percentile(ordered, 0.5),
        "p90": percentile(ordered, 0.9),
    }


def satisfaction(levels: dict[int, int]) -> dict[str, Any]:
    total = sum(levels.values())
    satisfied = sum(levels.get(level, 0) for level in SATISFIED_LEVELS)
    return {
        "ratings": {str(level): levels.get(level, 0) for level in RATING_LEVELS_VI},
        "ratings_total": total,
        "rating_mean": sum(k * v for k, v in levels.items()) / total if total else None,
        "satisfaction_index": round(100.0 * satisfied / total, 1) if total else None,
    }


@dataclass
class Tally:
    """Running figures of one group."""

    issued: int = 0
    #: Finished tickets by outcome: served (the request handled), supplement (papers to
    #: bring), redirected (guided elsewhere), left (the citizen left first).
    served: int = 0
    supplement: int = 0
    redirected: int = 0
    left: int = 0
    no_show: int = 0
    transferred: int = 0
    waits: list[float] = field(default_factory=list)
    services: list[float] = field(default_factory=list)
    levels: dict[int, int] = field(default_factory=lambda: defaultdict(int))

    def count_finish(self, outcome: str | None, seconds: float | None) -> None:
        """One finished ticket: counted by its outcome; its service time kept whatever it
        was (the counter's time was spent)."""
        kind = outcome if outcome in ("supplement", "redirected", "left") else "served"
        setattr(self, kind, getattr(self, kind) + 1)
        if seconds is not None:
            self.services.append(seconds)

    def figures(self) -> dict[str, Any]:
        wait, serve = duration_stats(self.waits), duration_stats(self.services)
        return {
            "issued": self.issued,
            "served": self.served,
            "supplement": self.supplement,
            "redirected": self.redirected,
            "left": self.left,
            "no_show": self.no_show,
            "transferred": self.transferred,
            "wait_mean": wait["mean"],
            "wait_median": wait["median"],
            "wait_p90": wait["p90"],
            "service_mean": serve["mean"],
            "service_median": serve["median"],
            "service_p90": serve["p90"],
            **satisfaction(self.levels),
        }


# --- ratings (another part of the system; optional) ----------------------------------


def _rating_model() -> Any | None:
    try:
        from server.models.rating import Rating
    except ImportError:
        return None
    return Rating


def ratings_available(session: Session) -> bool:
    """Ratings come from another part of the system: report them only once the table exists."""
    model = _rating_model()
    if model is None:
        return False
    bind = session.get_bind()
    if bind.url in _HAS_RATINGS:
        return True
    # Inspect through the session's own connection: a second SQLite connection would wait
    # for the write lock this transaction holds.
    found = inspect(session.connection()).has_table(model.__tablename__)
    if found:
        _HAS_RATINGS.add(bind.url)
    return found


_HAS_RATINGS: set[Any] = set()


def counted_ratings(Rating: Any, centre_ids: Sequence[int], lo: datetime, hi: datetime) -> list:
    """Conditions of the ratings that count: the overall criterion, not replaced by a later
    press, pressed in [lo, hi)."""
    return [
        Rating.centre_id.in_(list(centre_ids)),
        Rating.pressed_at >= lo,
        Rating.pressed_at < hi,
        Rating.replaced_by_id.is_(None),
        Rating.criterion == "overall",
    ]


#: The ratings column each dimension groups by (field, agency and day are mapped after).
_RATING_KEY = {
    "centre": "centre_id",
    "service": "service_id",
    "field": "service_id",
    "counter": "counter_id",
    "staff": "staff_id",
    "agency": "staff_id",
}


def rating_counts(
    session: Session,
    centre_ids: Sequence[int],
    lo: datetime,
    hi: datetime,
    dimension: str,
    utc_offset: float,
) -> list[tuple[Any, int, int]]:
    """(key, level, count) of the period's ratings that count, summed by the database.

    For "day" the key is the local day as days since 1970-01-01."""
    if not ratings_available(session):
        return []
    Rating = _rating_model()
    if dimension == "day":
        key = floor_int(session, (epoch(session, Rating.pressed_at) + utc_offset) / 86400.0)
    else:
        key = getattr(Rating, _RATING_KEY[dimension])
    stmt = (
        select(key, Rating.level, func.count())
        .where(*counted_ratings(Rating, centre_ids, lo, hi))
        .group_by(key, Rating.level)
    )
    return [tuple(r) for r in session.connection().execute(stmt)]


# --- building a report -----------------------------------------------------------------


@dataclass
class Labels:
    """Names of the rows a report may group by, and the maps field/agency are read through."""

    centres: dict[int, str]
    services: dict[int, str]
    service_field: dict[int, int]
    fields: dict[int, str]
    counters: dict[int, str]
    staff: dict[int, str]
    staff_agency: dict[int, int | None]
    agencies: dict[int, str]

    @classmethod
    def load(cls, session: Session, centre_ids: Sequence[int]) -> Labels:
        ids = list(centre_ids)
        services = session.execute(
            select(Service.id, Service.name, Service.field_id).where(Service.centre_id.in_(ids))
        ).all()
        users = session.execute(
            select(User.id, User.full_name, User.username, User.agency_id)
        ).all()
        return cls(
            centres=dict(
                session.execute(select(Centre.id, Centre.name).where(Centre.id.in_(ids))).all()
            ),
            services={s.id: s.name for s in services},
            service_field={s.id: s.field_id for s in services},
            fields=dict(
                session.execute(select(Field.id, Field.name).where(Field.centre_id.in_(ids))).all()
            ),
            counters={
                c.id: counter_label(c.number, c.name)
                for c in session.execute(
                    select(Counter.id, Counter.name, Counter.number).where(
                        Counter.centre_id.in_(ids)
                    )
                )
            },
            staff={u.id: u.full_name or u.username for u in users},
            staff_agency={u.id: u.agency_id for u in users},
            agencies=dict(
                session.execute(
                    select(Agency.id, Agency.name).where(Agency.centre_id.in_(ids))
                ).all()
            ),
        )

    def name(self, dimension: str, key: Any) -> str:
        if key is None:
            return "(không xác định)"
        table = {
            "centre": self.centres,
            "field": self.fields,
            "service": self.services,
            "counter": self.counters,
            "staff": self.staff,
            "agency": self.agencies,
        }.get(dimension)
        if table is None:
            return date.fromisoformat(str(key)).strftime("%d/%m/%Y")
        return table.get(key, f"#{key}")


def _utc_offset(timezone: str, moment: date) -> float:
    local = datetime.combine(moment, time(12), tzinfo=ZoneInfo(timezone))
    return local.utcoffset().total_seconds()


#: Dimensions a ticket's issue cannot be attributed to (nobody has served it yet).
_NO_ISSUE_ATTRIBUTION = ("counter", "staff", "agency")


def build_report(
    session: Session,
    centre_ids: Sequence[int],
    period: Period,
    by: str = "service",
    *,
    timezone: str = "Asia/Ho_Chi_Minh",
    now: datetime | None = None,
) -> dict[str, Any]:
    """The report of `centre_ids` over `period`, one row per `by` group, plus totals.

    May store the facts of settled days (see report_facts): the caller commits.
    """
    if by not in DIMENSIONS:
        raise InvalidRequest(f"Không nhóm được theo «{by}».", f"cannot group by {by!r}")
    labels = Labels.load(session, centre_ids)
    offset = _utc_offset(timezone, period.start)
    # Figures come grouped by the dimension's own column; field and agency are mapped from
    # service and staff here, and "day" keys made ISO text.
    remap = {
        "field": labels.service_field.get,
        "agency": labels.staff_agency.get,
        "day": lambda d: d if d is None or isinstance(d, str) else d.isoformat(),
    }.get(by, lambda k: k)
    groups: dict[Any, Tally] = defaultdict(Tally)
    total = Tally()
    heat = [[0] * 24 for _ in range(7)]
    today = local_day(now or utcnow(), timezone)
    figures = aggregate(session, centre_ids, period.start, period.end, today, by, offset)

    for k_issue, k_ns, k_tr, issued, no_shows, transfers in figures.counts:
        total.issued += issued
        total.no_show += no_shows
        total.transferred += transfers
        if by not in _NO_ISSUE_ATTRIBUTION and issued:
            groups[remap(k_issue)].issued += issued
        if no_shows:
            groups[remap(k_ns)].no_show += no_shows
        if transfers:
            groups[remap(k_tr)].transferred += transfers
    waits: dict[Any, list[float]] = defaultdict(list)
    for k, wait in figures.waits:
        waits[k].append(wait)
    for k, values in waits.items():
        groups[remap(k)].waits.extend(values)
        total.waits.extend(values)
    for k, seconds, outcome in figures.served:
        tally = groups[remap(k)]
        for t in (tally, total):
            t.count_finish(outcome, seconds)
    for weekday, hour, count in figures.heat:
        heat[weekday][hour] += count

    lo, hi = period.utc_bounds(timezone)
    has_ratings = ratings_available(session)
    for key, level, count in rating_counts(session, centre_ids, lo, hi, by, offset):
        if by == "day":
            key = (date(1970, 1, 1) + timedelta(days=int(key))).isoformat()
        groups[remap(key)].levels[int(level)] += count
        total.levels[int(level)] += count

    rows = [
        {"key": key, "label": labels.name(by, key), **tally.figures()}
        for key, tally in groups.items()
    ]
    rows.sort(key=lambda r: (r["key"] is None, r["label"] if by != "day" else str(r["key"])))
    return {
        "period": {
            "kind": period.kind,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "label": period.label_vi(),
        },
        "centres": [{"id": cid, "name": labels.centres.get(cid, "")} for cid in centre_ids],
        "by": by,
        "by_label": DIMENSION_VI[by],
        "issued_attributed": by not in _NO_ISSUE_ATTRIBUTION,
        "ratings_available": has_ratings,
        "rows": rows,
        "total": {"key": None, "label": "Tổng cộng", **total.figures()},
        "heatmap": heat,
        "timezone": timezone,
        "appointments": appointment_figures(session, centre_ids, period, now or utcnow()),
    }


APPOINTMENT_KEYS = ("bookings", "cancelled", "checked_in", "on_time", "late", "no_show")
APPOINTMENT_COLUMNS_VI = (
    "Lịch hẹn đã đặt", "Đã hủy", "Đã đến", "Đến đúng giờ", "Đến muộn", "Không đến",
)  # fmt: skip


def appointment_figures(
    session: Session, centre_ids: Sequence[int], period: Period, now: datetime
) -> dict[str, Any]:
    """Bookings, check-ins and no-shows of the period's days (server.services.appointments)."""
    from server.services.appointment_arrivals import day_figures

    per_day = day_figures(session, centre_ids, period.start, period.end, now)
    total = {key: sum(f[key] for f in per_day.values()) for key in APPOINTMENT_KEYS}
    return {
        "total": total,
        "days": [{"day": day.isoformat(), **per_day[day]} for day in sorted(per_day)],
    }
