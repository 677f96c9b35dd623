"""Reports across the province's centres: one row per centre for a period (a month by
default), commune and ward centres ranked apart from the provincial units.

The figures are those a hall can compute for Decision 766/QĐ-TTg's indices: satisfaction
(ratings: index = share of "satisfied" and "very satisfied"), dossiers resolved on time
(result ready or refused by the due date: early + on time, over all resolved in the
period), and waiting time (issue → first call: mean and median). Plus issued and served,
so a small index on a handful of citizens reads as what it is.

Closed days come from the roll-ups (server/services/report_rollups.py: per centre, day
and service, summed into months), today from its finished tickets folded once and the
rest live (server/services/report_today.py): a year reads 12 month rows per centre, not
its tickets. The waiting time's median comes from the summed 1-minute
histograms (within a minute of the exact figure). A fixed number of statements whatever
the number of centres (tests/server/test_province_board.py counts them).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from server.domain.clock import local_day, to_local, utcnow
from server.models import Centre, Dossier
from server.models.centre import CENTRE_KINDS
from server.services.report_facts import aggregate
from server.services.report_rollups import (
    Figures,
    days_figures,
    ensure_days,
    ensure_months,
    hist_percentile,
    month_end,
)
from server.services.report_today import today_days
from server.services.reports import Period, _utc_offset, period_for, rating_counts, satisfaction

#: Ranking order: the first key that differs decides; None (no figure) ranks last.
RANK_KEYS = ("satisfaction_index", "dossiers_on_time_percent", "wait_median")


def build_province_report(
    session: Session,
    period: Period,
    *,
    centre_ids: list[int] | None = None,
    timezone: str = "Asia/Ho_Chi_Minh",
    now: datetime | None = None,
    source: str = "rollup",
    cache: ReportCache | None = None,
) -> dict[str, Any]:
    """One row per centre over `period`, grouped by kind and ranked; for a period longer
    than a month, the same per calendar month too (``months``). The caller commits
    (closed days are rolled up on the way).

    `source`: "rollup" reads the roll-ups of closed days and computes only today live
    (server/services/report_rollups.py); "direct" computes every figure from every
    ticket's facts, ratings and dossiers of the period (the reference the roll-ups must
    equal: tests/server/test_report_rollups.py; benchmarks/province.py times both).

    `cache` (rollup only): a ReportCache kept between calls; today's figures may then be up
    to its `live_max_age` seconds old, stated as ``today_as_of`` (the local "HH:MM" they
    were computed at; None when the period does not hold today)."""
    if source not in ("rollup", "direct"):
        raise ValueError(f"unknown source {source!r}")
    stmt = select(Centre.id, Centre.code, Centre.name, Centre.subtitle, Centre.kind).order_by(
        Centre.id
    )
    if centre_ids is not None:
        stmt = stmt.where(Centre.id.in_(list(centre_ids)))
    centres = session.execute(stmt).all()
    ids = [c.id for c in centres]
    now = now or utcnow()
    today = local_day(now, timezone)
    live_at: list[datetime] = []
    kept = {"now": now, "cache": cache, "live_at": live_at}
    months = []
    if (period.start.year, period.start.month) != (period.end.year, period.end.month):
        parts = months_of(period)
        if source == "rollup":
            per_month = rollup_figures(session, ids, parts, timezone, today, **kept)
            total: dict[int, Figures] = defaultdict(Figures)
            for figures in per_month:
                for centre_id, f in figures.items():
                    total[centre_id].add(f)
        else:
            per_month = [direct_figures(session, ids, m, timezone, today) for m in parts]
            total = direct_figures(session, ids, period, timezone, today)
        for month, figures in zip(parts, per_month, strict=True):
            months.append(
                {
                    "month": month.start.strftime("%Y-%m"),
                    "label": month.label_vi(),
                    "groups": _groups(centres, figures),
                }
            )
    elif source == "rollup":
        total = rollup_figures(session, ids, [period], timezone, today, **kept)[0]
    else:
        total = direct_figures(session, ids, period, timezone, today)
    return {
        "period": _period_view(period),
        "timezone": timezone,
        "rank_by": list(RANK_KEYS),
        "groups": _groups(centres, total),
        "months": months,
        "today_as_of": _today_as_of(live_at, now, timezone, today, period),
    }


def _today_as_of(
    live_at: list[datetime], now: datetime, timezone: str, today: date, period: Period
) -> str | None:
    """The local "HH:MM" today's figures were computed at (the oldest, if several)."""
    if not period.start <= today <= period.end:
        return None
    return to_local(min(live_at) if live_at else now, timezone).strftime("%H:%M")


def _period_view(period: Period) -> dict[str, str]:
    return {
        "kind": period.kind,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "label": period.label_vi(),
    }


def months_of(period: Period) -> list[Period]:
    """The calendar months `period` touches, each cut to the period's days."""
    out = []
    anchor = period.start
    while anchor <= period.end:
        month = period_for("month", anchor)
        start, end = max(month.start, period.start), min(month.end, period.end)
        whole = (start, end) == (month.start, month.end)
        out.append(month if whole else Period("range", start, end))
        anchor = month.end + timedelta(days=1)
    return out


def rollup_figures(
    session: Session,
    ids: list[int],
    periods: list[Period],
    timezone: str,
    today: date,
    *,
    now: datetime | None = None,
    cache: ReportCache | None = None,
    live_at: list[datetime] | None = None,
) -> list[dict[int, Figures]]:
    """Per period, per centre: the closed whole months from the month roll-ups (one read
    for all the periods), the other closed days from the day roll-ups, today live. A fixed
    number of statements whatever the number of centres. With a `cache`, the closed days'
    sums and today's figures are kept (ReportCache); `live_at` receives when today's
    figures were computed."""
    now = now or utcnow()
    live_at = live_at if live_at is not None else []
    out: list[dict[int, Figures]] = [defaultdict(Figures) for _ in periods]
    if not ids:
        return out
    closed_last = today - timedelta(days=1)
    whole: list[tuple[int, date]] = []  # (period index, first day of a closed whole month)
    rest: list[tuple[int, date, date]] = []  # (period index, first, last) of closed days
    for i, p in enumerate(periods):
        last = min(p.end, closed_last)
        anchor = p.start
        while anchor <= last:
            m_end = month_end(anchor.replace(day=1))
            if anchor.day == 1 and m_end <= last:
                whole.append((i, anchor))
            else:
                rest.append((i, anchor, min(m_end, last)))
            anchor = m_end + timedelta(days=1)
    if whole:
        stored = ensure_months(session, ids, sorted({m for _, m in whole}), today, timezone)
        for i, month in whole:
            for centre_id, f in stored[month].items():
                out[i][centre_id].add(f)
    for i, first, last in rest:
        stamp = ensure_days(session, ids, first, last, today, timezone)
        key = (_database(session), tuple(ids), first, last)
        summed = cache.closed_days(key, stamp) if cache is not None else None
        if summed is None:
            summed = dict(days_figures(session, ids, first, last))
            if cache is not None:
                cache.keep_closed_days(key, stamp, summed)
        for centre_id, f in summed.items():
            out[i][centre_id].add(f)
    # Today: its finished tickets folded once (report_today), the rest live (with any day
    # after it the period holds: nothing, normally).
    for i, p in enumerate(periods):
        if p.end >= today:
            first = max(p.start, today)
            key = (_database(session), tuple(ids), first, p.end, timezone)
            live = cache.live(key, now) if cache is not None else None
            if live is None:
                live = (now, defaultdict(Figures))
                for (centre_id, _, _), f in today_days(
                    session, ids, first, p.end, timezone
                ).items():
                    live[1][centre_id].add(f)
                if cache is not None:
                    cache.keep_live(key, *live)
            live_at.append(live[0])
            for centre_id, f in live[1].items():
                out[i][centre_id].add(f)
    return out


def _database(session: Session) -> str:
    """Which database a cached figure was read from (the URL, password hidden)."""
    return session.get_bind().url.render_as_string(hide_password=True)


class ReportCache:
    """What the province report keeps between requests (one per application process:
    server/api/province/board.py keeps it on the app).

    - **Closed days** of a period that are not a whole closed month (the current month's
      1st to yesterday): their roll-up rows summed per centre, kept with the days' stamp
      (`report_rollups.ensure_days`: how many days are rolled, the latest `rolled_at`).
      Exact: a late event for a past day invalidates that day's roll-up, the next report
      rolls it again, the stamp changes and the sum is read again.
    - **Today live**: today's figures per centre, computed at `computed_at` (the app's
      clock) and reused for at most `live_max_age` seconds (60): the report states when
      («Số liệu hôm nay cập nhật lúc HH:MM»). A new local day is a new key.
    """

    #: Entries kept of each kind (oldest dropped first): periods asked for at once.
    SIZE = 32

    def __init__(self, live_max_age: float = 60.0) -> None:
        if not 0 <= live_max_age <= 60:
            raise ValueError("live_max_age must be within 0..60 seconds")
        self.live_max_age = live_max_age
        self._closed: dict[Any, tuple[Any, dict[int, Figures]]] = {}
        self._live: dict[Any, tuple[datetime, dict[int, Figures]]] = {}
        self._lock = threading.Lock()

    def closed_days(self, key: Any, stamp: Any) -> dict[int, Figures] | None:
        with self._lock:
            kept = self._closed.get(key)
        return kept[1] if kept is not None and stamp is not None and kept[0] == stamp else None

    def keep_closed_days(self, key: Any, stamp: Any, figures: dict[int, Figures]) -> None:
        if stamp is not None:
            self._keep(self._closed, key, (stamp, figures))

    def live(self, key: Any, now: datetime) -> tuple[datetime, dict[int, Figures]] | None:
        with self._lock:
            kept = self._live.get(key)
        if kept is None:
            return None
        age = (now - kept[0]).total_seconds()
        return kept if 0 <= age <= self.live_max_age else None

    def keep_live(self, key: Any, computed_at: datetime, figures: dict[int, Figures]) -> None:
        if self.live_max_age > 0:
            self._keep(self._live, key, (computed_at, figures))

    def _keep(self, store: dict, key: Any, value: Any) -> None:
        with self._lock:
            store.pop(key, None)
            store[key] = value
            while len(store) > self.SIZE:
                store.pop(next(iter(store)))


def direct_figures(
    session: Session, ids: list[int], period: Period, timezone: str, today: date
) -> dict[int, Figures]:
    """Per centre, every figure computed from every ticket of the period (the report facts,
    report_facts.aggregate), its counted ratings and its dossiers: what the roll-ups sum
    to. Its cost grows with the tickets."""
    out: dict[int, Figures] = defaultdict(Figures)
    if not ids:
        return out
    offset = _utc_offset(timezone, period.start)
    figures = aggregate(session, ids, period.start, period.end, today, "centre", offset)
    for centre_id, _, _, issued, no_shows, transfers in figures.counts:
        c = out[centre_id].counts
        c["issued"] += issued
        c["no_show"] += no_shows
        c["transferred"] += transfers
    for centre_id, wait in figures.waits:
        out[centre_id].add_wait(wait)
    for centre_id, seconds, outcome in figures.served:
        f = out[centre_id]
        kind = outcome if outcome in ("supplement", "redirected", "left") else "served"
        f.counts[kind] += 1
        if seconds is not None:
            f.counts["service_count"] += 1
            f.sums["service_sum"] += seconds
    lo, hi = period.utc_bounds(timezone)
    for centre_id, level, count in rating_counts(session, ids, lo, hi, "centre", offset):
        if 1 <= int(level) <= 5:
            out[centre_id].counts[f"r{int(level)}"] += count
    for centre_id, d in dossier_figures(session, ids, lo, hi).items():
        c = out[centre_id].counts
        c["dossiers_received"] += d["received"]
        c["dossiers_resolved"] += d["resolved"]
        c["dossiers_on_time"] += d["on_time"]
        c["dossiers_late"] += d["late"]
    return out


def centre_row(centre: Any, f: Figures) -> dict[str, Any]:
    """A centre's row of the report from its figures."""
    c = f.counts
    sat = satisfaction(f.levels)
    return {
        "id": centre.id,
        "code": centre.code,
        "label": f"{centre.name} {centre.subtitle}".strip(),
        "kind": centre.kind,
        "issued": c["issued"],
        "served": c["served"],
        "wait_mean": f.sums["wait_sum"] / c["wait_count"] if c["wait_count"] else None,
        # From the 1-minute histogram: within a minute of the exact median.
        "wait_median": hist_percentile(f.wait_hist, 0.5),
        "ratings_total": sat["ratings_total"],
        "rating_mean": sat["rating_mean"],
        "satisfaction_index": sat["satisfaction_index"],
        "dossiers_received": c["dossiers_received"],
        "dossiers_resolved": c["dossiers_resolved"],
        "dossiers_on_time": c["dossiers_on_time"],
        "dossiers_late": c["dossiers_late"],
        "dossiers_on_time_percent": (
            round(100.0 * c["dossiers_on_time"] / c["dossiers_resolved"], 1)
            if c["dossiers_resolved"]
            else None
        ),
    }


def _groups(centres: list[Any], figures: dict[int, Figures]) -> list[dict[str, Any]]:
    """The centres' rows, by kind, each kind ranked."""
    rows = [centre_row(c, figures.get(c.id) or Figures()) for c in centres]
    groups = []
    for kind, label in CENTRE_KINDS.items():
        members = rank([r for r in rows if r["kind"] == kind])
        if members:
            groups.append({"kind": kind, "label": label, "rows": members})
    others = rank([r for r in rows if r["kind"] not in CENTRE_KINDS])
    if others:
        groups.append({"kind": "other", "label": "Khác", "rows": others})
    return groups


def rank(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Best first: higher satisfaction, then more dossiers on time, then a shorter median
    wait; centres without a figure after those with one. Ties share a rank."""

    def key(r: dict[str, Any]) -> tuple:
        s, d, w = (r[k] for k in RANK_KEYS)
        return (s is None, -(s or 0), d is None, -(d or 0), w is None, w or 0)

    ordered = sorted(rows, key=lambda r: (*key(r), r["label"], r["id"]))
    previous = None
    for position, row in enumerate(ordered, start=1):
        if previous is None or key(row) != key(previous):
            row["rank"] = position
        else:
            row["rank"] = previous["rank"]
        previous = row
    return ordered


def dossier_figures(
    session: Session, centre_ids: list[int], lo: datetime, hi: datetime
) -> dict[int, dict[str, int]]:
    """Per centre: dossiers received in [lo, hi), and those whose result (or refusal) was
    ready in [lo, hi): how many, how many on time (early or on time), how many late."""
    received = and_(Dossier.received_at >= lo, Dossier.received_at < hi)
    resolved = and_(Dossier.result_ready_at >= lo, Dossier.result_ready_at < hi)
    rows = session.execute(
        select(
            Dossier.centre_id,
            func.count(case((received, 1))),
            func.count(case((resolved, 1))),
            func.count(case((and_(resolved, Dossier.result_timing.in_(["early", "on_time"])), 1))),
            func.count(case((and_(resolved, Dossier.result_timing == "late"), 1))),
        )
        .where(Dossier.centre_id.in_(centre_ids), or_(received, resolved))
        .group_by(Dossier.centre_id)
    ).all()
    return {
        cid: {"received": a, "resolved": b, "on_time": c, "late": d} for cid, a, b, c, d in rows
    }


# --- files -----------------------------------------------------------------------------


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60.0, 1)


#: (header, value) of the exported columns, Vietnamese headers.
COLUMNS: tuple[tuple[str, Any], ...] = (
    ("Hạng", lambda r: r["rank"]),
    ("Trung tâm", lambda r: r["label"]),
    ("Mã", lambda r: r["code"]),
    ("Số phiếu cấp", lambda r: r["issued"]),
    ("Đã phục vụ", lambda r: r["served"]),
    ("Thời gian chờ TB (phút)", lambda r: _minutes(r["wait_mean"])),
    ("Thời gian chờ trung vị (phút)", lambda r: _minutes(r["wait_median"])),
    ("Tổng lượt đánh giá", lambda r: r["ratings_total"]),
    ("Chỉ số hài lòng (%)", lambda r: r["satisfaction_index"]),
    ("Hồ sơ tiếp nhận", lambda r: r["dossiers_received"]),
    ("Hồ sơ đã giải quyết", lambda r: r["dossiers_resolved"]),
    ("Giải quyết đúng hạn", lambda r: r["dossiers_on_time"]),
    ("Giải quyết quá hạn", lambda r: r["dossiers_late"]),
    ("Tỷ lệ đúng hạn (%)", lambda r: r["dossiers_on_time_percent"]),
)


def sheets(report: dict[str, Any]) -> list[tuple[str, list[str], list[list[Any]]]]:
    """(sheet title, header, rows) per kind of centre, and for a period longer than a month
    one more with a row per month and centre; for report_export's writers."""
    header = [name for name, _ in COLUMNS]
    out = []
    for group in report["groups"]:
        body = [[get(r) for _, get in COLUMNS] for r in group["rows"]]
        out.append((f"{group['label']} – {report['period']['label']}", header, body))
    if report.get("months"):
        body = [
            [month["label"], group["label"], *[get(r) for _, get in COLUMNS]]
            for month in report["months"]
            for group in month["groups"]
            for r in group["rows"]
        ]
        out.append((f"Theo tháng – {report['period']['label']}", ["Tháng", "Loại", *header], body))
    return out
