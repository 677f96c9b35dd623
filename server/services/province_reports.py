"""Reports across the province's centres: one row per centre for a period (a month by
default), commune and ward centres ranked apart from the provincial units.

The figures are those a hall can compute for Decision 766/QĐ-TTg's indices: satisfaction
(ratings: index = share of "satisfied" and "very satisfied"), dossiers resolved on time
(result ready or refused by the due date: early + on time, over all resolved in the
period), and waiting time (issue → first call: mean and median). Plus issued and served,
so a small index on a handful of citizens reads as what it is.

A fixed number of statements whatever the number of centres: the tickets through the
report facts grouped by centre (report_facts.aggregate), ratings and dossiers grouped by
centre (tests/server/test_province_board.py counts them).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from server.domain.clock import local_day, utcnow
from server.models import Centre, Dossier
from server.models.centre import CENTRE_KINDS
from server.services.report_facts import aggregate
from server.services.reports import Period, Tally, _utc_offset, period_for, rating_counts

#: Ranking order: the first key that differs decides; None (no figure) ranks last.
RANK_KEYS = ("satisfaction_index", "dossiers_on_time_percent", "wait_median")


def build_province_report(
    session: Session,
    period: Period,
    *,
    centre_ids: list[int] | None = None,
    timezone: str = "Asia/Ho_Chi_Minh",
    now: datetime | None = None,
) -> dict[str, Any]:
    """One row per centre over `period`, grouped by kind and ranked; for a period longer
    than a month, the same per calendar month too (``months``). The caller commits
    (settled days are folded into the report facts on the way)."""
    stmt = select(Centre.id, Centre.code, Centre.name, Centre.subtitle, Centre.kind).order_by(
        Centre.id
    )
    if centre_ids is not None:
        stmt = stmt.where(Centre.id.in_(list(centre_ids)))
    centres = session.execute(stmt).all()
    today = local_day(now or utcnow(), timezone)
    months = []
    if (period.start.year, period.start.month) != (period.end.year, period.end.month):
        for month in months_of(period):
            months.append(
                {
                    "month": month.start.strftime("%Y-%m"),
                    "label": month.label_vi(),
                    "groups": _groups(session, centres, month, timezone, today),
                }
            )
    return {
        "period": _period_view(period),
        "timezone": timezone,
        "rank_by": list(RANK_KEYS),
        "groups": _groups(session, centres, period, timezone, today),
        "months": months,
    }


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


def _groups(
    session: Session, centres: list[Any], period: Period, timezone: str, today: date
) -> list[dict[str, Any]]:
    """The centres' rows over `period`, by kind, each kind ranked: a fixed number of
    statements whatever the number of centres."""
    ids = [c.id for c in centres]
    tallies: dict[int, Tally] = defaultdict(Tally)
    dossiers: dict[int, dict[str, int]] = {}
    if ids:
        offset = _utc_offset(timezone, period.start)
        figures = aggregate(session, ids, period.start, period.end, today, "centre", offset)
        for centre_id, _, _, issued, no_shows, transfers in figures.counts:
            tally = tallies[centre_id]
            tally.issued += issued
            tally.no_show += no_shows
            tally.transferred += transfers
        for centre_id, wait in figures.waits:
            tallies[centre_id].waits.append(wait)
        for centre_id, seconds, outcome in figures.served:
            tallies[centre_id].count_finish(outcome, seconds)
        lo, hi = period.utc_bounds(timezone)
        for centre_id, level, count in rating_counts(session, ids, lo, hi, "centre", offset):
            tallies[centre_id].levels[int(level)] += count
        dossiers = dossier_figures(session, ids, lo, hi)

    rows = []
    for c in centres:
        f = tallies[c.id].figures()
        d = dossiers.get(c.id, {"received": 0, "resolved": 0, "on_time": 0, "late": 0})
        rows.append(
            {
                "id": c.id,
                "code": c.code,
                "label": f"{c.name} {c.subtitle}".strip(),
                "kind": c.kind,
                "issued": f["issued"],
                "served": f["served"],
                "wait_mean": f["wait_mean"],
                "wait_median": f["wait_median"],
                "ratings_total": f["ratings_total"],
                "rating_mean": f["rating_mean"],
                "satisfaction_index": f["satisfaction_index"],
                "dossiers_received": d["received"],
                "dossiers_resolved": d["resolved"],
                "dossiers_on_time": d["on_time"],
                "dossiers_late": d["late"],
                "dossiers_on_time_percent": (
                    round(100.0 * d["on_time"] / d["resolved"], 1) if d["resolved"] else None
                ),
            }
        )
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
