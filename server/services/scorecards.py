"""Staff scorecards (đánh giá cán bộ): the report figures per staff member or seconding
agency, plus on-duty time and pauses from ``counter_events``, and the low ratings to follow.

On duty means holding a counter that is open or paused; a pause counts as on duty and is
also listed by reason. A counter's state at the start of the period is its last change
before it, so a shift that began the day before is counted from the period's start.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.domain.clock import to_local, utcnow
from server.models import Counter, CounterEvent, Service, Ticket, User
from server.services.reports import (
    RATING_LEVELS_VI,
    Period,
    _rating_model,
    build_report,
    counted_ratings,
    ratings_available,
)

#: Levels whose ratings a supervisor should open and follow up.
LOW_LEVELS = (1, 2)


def duty_segments(
    session: Session,
    centre_ids: Sequence[int],
    lo: datetime,
    hi: datetime,
    *,
    now: datetime | None = None,
) -> list[tuple[int | None, str, str, float]]:
    """(staff_id, status, reason, seconds) of each stretch a counter stayed in one state."""
    ids = list(centre_ids)
    last_before = (
        select(CounterEvent.counter_id, func.max(CounterEvent.id).label("id"))
        .where(CounterEvent.centre_id.in_(ids), CounterEvent.at < lo)
        .group_by(CounterEvent.counter_id)
        .subquery()
    )
    opening = session.execute(
        select(CounterEvent).join(last_before, last_before.c.id == CounterEvent.id)
    ).scalars()
    inside = session.execute(
        select(CounterEvent)
        .where(CounterEvent.centre_id.in_(ids), CounterEvent.at >= lo, CounterEvent.at < hi)
        .order_by(CounterEvent.counter_id, CounterEvent.at, CounterEvent.id)
    ).scalars()
    by_counter: dict[int, list[tuple[datetime, CounterEvent]]] = defaultdict(list)
    for ev in opening:
        by_counter[ev.counter_id].append((lo, ev))
    for ev in inside:
        by_counter[ev.counter_id].append((ev.at, ev))
    end_of_period = min(hi, max(lo, now or utcnow()))
    segments = []
    for changes in by_counter.values():
        for (at, ev), nxt in zip(changes, [*changes[1:], None], strict=True):
            until = nxt[0] if nxt is not None else end_of_period
            if ev.status != "closed" and until > at:
                segments.append((ev.staff_id, ev.status, ev.reason, (until - at).total_seconds()))
    return segments


def duty_by_staff(
    session: Session,
    centre_ids: Sequence[int],
    lo: datetime,
    hi: datetime,
    *,
    now: datetime | None = None,
) -> dict[int, dict[str, Any]]:
    """On-duty and paused seconds per staff member, pauses grouped by reason."""
    out: dict[int, dict[str, Any]] = {}
    for staff_id, status, reason, seconds in duty_segments(session, centre_ids, lo, hi, now=now):
        if staff_id is None:
            continue
        row = out.setdefault(
            staff_id, {"on_duty_seconds": 0.0, "paused_seconds": 0.0, "pauses": {}}
        )
        row["on_duty_seconds"] += seconds
        if status == "paused":
            row["paused_seconds"] += seconds
            pause = row["pauses"].setdefault(
                reason or "(không ghi lý do)", {"count": 0, "seconds": 0.0}
            )
            pause["count"] += 1
            pause["seconds"] += seconds
    return out


def low_ratings(
    session: Session,
    centre_ids: Sequence[int],
    lo: datetime,
    hi: datetime,
    *,
    timezone: str,
    staff_id: int | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Ratings at levels 1–2 with who served, which ticket, counter, service and when."""
    if not ratings_available(session):
        return []
    Rating = _rating_model()
    stmt = (
        select(Rating, Ticket, Counter, Service, User)
        .outerjoin(Ticket, Ticket.id == Rating.ticket_id)
        .outerjoin(Counter, Counter.id == Rating.counter_id)
        .outerjoin(Service, Service.id == Rating.service_id)
        .outerjoin(User, User.id == Rating.staff_id)
        .where(*counted_ratings(Rating, centre_ids, lo, hi), Rating.level.in_(LOW_LEVELS))
        .order_by(Rating.pressed_at.desc())
        .limit(limit)
    )
    if staff_id is not None:
        stmt = stmt.where(Rating.staff_id == staff_id)
    out = []
    for rating, ticket, counter, service, user in session.execute(stmt):
        out.append(
            {
                "rating_id": rating.id,
                "level": rating.level,
                "level_label": RATING_LEVELS_VI.get(rating.level, str(rating.level)),
                "pressed_at": to_local(rating.pressed_at, timezone).isoformat(),
                "ticket_id": ticket.id if ticket else None,
                "ticket_number": ticket.display_number if ticket else None,
                "ticket_day": ticket.day.isoformat() if ticket else None,
                "issued_at": to_local(ticket.issued_at, timezone).isoformat() if ticket else None,
                "finished_at": (
                    to_local(ticket.finished_at, timezone).isoformat()
                    if ticket and ticket.finished_at
                    else None
                ),
                "counter_id": counter.id if counter else None,
                "counter_name": counter.label if counter else None,
                "service_id": service.id if service else None,
                "service_name": service.name if service else None,
                "staff_id": user.id if user else None,
                "staff_name": (user.full_name or user.username) if user else None,
            }
        )
    return out


def build_scorecards(
    session: Session,
    centre_ids: Sequence[int],
    period: Period,
    *,
    by: str = "staff",
    timezone: str = "Asia/Ho_Chi_Minh",
    now: datetime | None = None,
) -> dict[str, Any]:
    """One scorecard per staff member (or agency) who did anything in the period."""
    if by not in ("staff", "agency"):
        by = "staff"
    report = build_report(session, centre_ids, period, by, timezone=timezone, now=now)
    lo, hi = period.utc_bounds(timezone)
    duty = duty_by_staff(session, centre_ids, lo, hi, now=now)
    rows = {row["key"]: row for row in report["rows"]}
    if by == "staff":
        keyed = duty
    else:
        agency_of = dict(session.execute(select(User.id, User.agency_id)).all())
        keyed = {}
        for staff_id, d in duty.items():
            agg = keyed.setdefault(
                agency_of.get(staff_id),
                {"on_duty_seconds": 0.0, "paused_seconds": 0.0, "pauses": {}},
            )
            agg["on_duty_seconds"] += d["on_duty_seconds"]
            agg["paused_seconds"] += d["paused_seconds"]
            for reason, p in d["pauses"].items():
                q = agg["pauses"].setdefault(reason, {"count": 0, "seconds": 0.0})
                q["count"] += p["count"]
                q["seconds"] += p["seconds"]
    empty = {k: v for k, v in report["total"].items() if k not in ("key", "label")}
    for key in keyed:
        if key not in rows:
            rows[key] = {"key": key, "label": _label(session, by, key), **_zeroed(empty)}
    cards = []
    for key, row in rows.items():
        d = keyed.get(key, {"on_duty_seconds": 0.0, "paused_seconds": 0.0, "pauses": {}})
        cards.append(
            {
                **row,
                "on_duty_seconds": round(d["on_duty_seconds"], 1),
                "paused_seconds": round(d["paused_seconds"], 1),
                "pauses": [
                    {"reason": reason, "count": p["count"], "seconds": round(p["seconds"], 1)}
                    for reason, p in sorted(d["pauses"].items())
                ],
            }
        )
    cards.sort(key=lambda c: (c["key"] is None, c["label"]))
    return {
        "period": report["period"],
        "by": by,
        "by_label": report["by_label"],
        "ratings_available": report["ratings_available"],
        "cards": cards,
        "low_ratings": low_ratings(session, centre_ids, lo, hi, timezone=timezone),
    }


def _zeroed(figures: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in figures.items():
        if k == "ratings":
            out[k] = {level: 0 for level in v}
        elif isinstance(v, int) and not isinstance(v, bool):
            out[k] = 0
        else:
            out[k] = None
    return out


def _label(session: Session, by: str, key: Any) -> str:
    if key is None:
        return "(không xác định)"
    if by == "staff":
        user = session.get(User, key)
        return (user.full_name or user.username) if user else f"#{key}"
    from server.models import Agency

    agency = session.get(Agency, key)
    return agency.name if agency else f"#{key}"
