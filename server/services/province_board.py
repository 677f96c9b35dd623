"""The province board: every centre of the deployment on one screen, most in need first.

Per centre: people waiting, the longest current wait, citizens served today (outcome
served), today's satisfaction (ratings), the alerts a province officer acts on (a line over
its threshold, people waiting with no counter open, a number range nearly used up, device
faults, stations not heard from) and the link state as this hub sees it.

The link state: for a centre with a centre box delivering to this hub (docs/sync.md), the
box's last delivery (`sync_boxes.last_push_at`, source "box"); for a centre served by the
hub directly, the last sign of life the hub has from it (its last ticket event, or the last
time one of its stations was heard from; source "hub").

Every figure comes from a fixed number of statements, grouped by centre, whatever the
number of centres (tests/server/test_province_board.py counts them).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from server.domain.clock import local_day, to_local
from server.domain.lifecycle import ACTIVE_STATUSES, TicketStatus
from server.domain.numbering import RANGE_ALERT_RATIO, NumberRange, range_used
from server.models import (
    Centre,
    Counter,
    CounterService,
    Service,
    Station,
    SyncBox,
    Ticket,
    TicketEvent,
)
from server.models.centre import CENTRE_KINDS
from server.services.reports import counted_ratings, ratings_available, satisfaction
from server.services.supervision import DEVICE_FAULT_STATES, _day_start

#: A centre with no sign of life for this long is shown offline (TTHCC_PROVINCE_OFFLINE_MINUTES).
DEFAULT_OFFLINE_MINUTES = 15
#: A station not heard from for this long counts as a device alert (as on the live board).
STATION_OFFLINE_MINUTES = 5
_ACTIVE = sorted(s.value for s in ACTIVE_STATUSES)


def _centres(session: Session) -> list[Any]:
    """Every centre with the last event the hub holds from it (one indexed look-up each,
    inside the same statement)."""
    last_event = (
        select(func.max(TicketEvent.at))
        .where(TicketEvent.centre_id == Centre.id)
        .correlate(Centre)
        .scalar_subquery()
    )
    return session.execute(
        select(
            Centre.id,
            Centre.code,
            Centre.name,
            Centre.subtitle,
            Centre.kind,
            Centre.timezone,
            last_event.label("last_event_at"),
        ).order_by(Centre.id)
    ).all()


def _today_filter(centres: list[Any], now: datetime) -> tuple[dict[int, date], list[date]]:
    """Each centre's local day, and the distinct days (one per time zone in use)."""
    today = {c.id: local_day(now, c.timezone) for c in centres}
    return today, sorted(set(today.values()))


def build_board(
    session: Session,
    now: datetime,
    *,
    centre_ids: list[int] | None = None,
    offline_minutes: int = DEFAULT_OFFLINE_MINUTES,
) -> dict[str, Any]:
    """The board at `now`: one row per centre (all of them, or `centre_ids`), by need."""
    centres = _centres(session)
    if centre_ids is not None:
        wanted = set(centre_ids)
        centres = [c for c in centres if c.id in wanted]
    ids = [c.id for c in centres]
    today, days = _today_filter(centres, now)
    if not ids:
        return {"server_time": now.isoformat(), "centres": [], "totals": _totals([])}

    waiting_rows = session.execute(
        select(
            Ticket.centre_id,
            Ticket.day,
            Ticket.service_id,
            func.count(),
            func.min(Ticket.queued_at),
        )
        .where(
            Ticket.centre_id.in_(ids),
            Ticket.day.in_(days),
            Ticket.status == TicketStatus.WAITING.value,
        )
        .group_by(Ticket.centre_id, Ticket.day, Ticket.service_id)
    ).all()
    served_rows = session.execute(
        select(Ticket.centre_id, Ticket.day, func.count())
        .where(
            Ticket.centre_id.in_(ids),
            Ticket.day.in_(days),
            Ticket.status == TicketStatus.DONE.value,
            # Outcome "served" only: guided elsewhere or left is not served.
            or_(Ticket.outcome.is_(None), Ticket.outcome == "served"),
        )
        .group_by(Ticket.centre_id, Ticket.day)
    ).all()
    held_rows = session.execute(
        select(
            Ticket.centre_id,
            Ticket.day,
            Ticket.issued_service_id,
            func.count(Ticket.number.distinct()),
        )
        .join(Service, Service.id == Ticket.issued_service_id)
        .where(
            Ticket.centre_id.in_(ids),
            Ticket.day.in_(days),
            Ticket.status.in_(_ACTIVE),
            Ticket.number.between(Service.range_start, Service.range_end),
        )
        .group_by(Ticket.centre_id, Ticket.day, Ticket.issued_service_id)
    ).all()
    services = session.execute(
        select(
            Service.id,
            Service.centre_id,
            Service.name,
            Service.wait_threshold_minutes,
            Service.range_start,
            Service.range_end,
        ).where(Service.centre_id.in_(ids), Service.active.is_(True))
    ).all()
    open_serving = session.execute(
        select(Counter.centre_id, CounterService.service_id, func.count())
        .join(CounterService, CounterService.counter_id == Counter.id)
        .where(Counter.centre_id.in_(ids), Counter.status == "open")
        .group_by(Counter.centre_id, CounterService.service_id)
    ).all()
    stations = session.execute(
        select(
            Station.centre_id,
            Station.code,
            Station.name,
            Station.last_seen_at,
            Station.token_hash.is_not(None),
            Station.device_states,
        ).where(Station.centre_id.in_(ids))
    ).all()
    levels = _ratings_today(session, centres, now)
    # Centre boxes delivering to this hub (docs/sync.md): their last delivery, and why the
    # hub stopped projecting what they deliver, if it did.
    boxes: dict[int, Any] = {}
    stuck: dict[int, str] = {}
    for centre_id, pushed, error in session.execute(
        select(SyncBox.centre_id, func.max(SyncBox.last_push_at), func.max(SyncBox.project_error))
        .where(SyncBox.centre_id.in_(ids))
        .group_by(SyncBox.centre_id)
    ):
        boxes[centre_id] = pushed
        if error:
            stuck[centre_id] = error

    # Rows of another centre's day (a centre in another time zone) are dropped here.
    waiting: dict[int, dict[int, tuple[int, datetime]]] = defaultdict(dict)
    for centre_id, day, service_id, count, oldest in waiting_rows:
        if today[centre_id] == day:
            waiting[centre_id][service_id] = (count, oldest)
    served = {cid: n for cid, day, n in served_rows if today[cid] == day}
    held = {(cid, sid): n for cid, day, sid, n in held_rows if today[cid] == day}
    serving = {(cid, sid): n for cid, sid, n in open_serving}
    by_centre_services: dict[int, list[Any]] = defaultdict(list)
    for s in services:
        by_centre_services[s.centre_id].append(s)
    by_centre_stations: dict[int, list[Any]] = defaultdict(list)
    for st in stations:
        by_centre_stations[st.centre_id].append(st)

    offline_after = timedelta(minutes=offline_minutes)
    rows = []
    for c in centres:
        lines = waiting.get(c.id, {})
        longest = max(
            (max(0, int((now - oldest).total_seconds())) for _, oldest in lines.values()),
            default=0,
        )
        has_box = c.id in boxes
        if has_box:  # a centre box: its last delivery is the link
            last_seen = boxes[c.id]
        else:  # served by the hub directly: the last sign of life the hub has
            seen = [
                t
                for t in (c.last_event_at, *(st.last_seen_at for st in by_centre_stations[c.id]))
                if t
            ]
            last_seen = max(seen, default=None)
        online = last_seen is not None and now - last_seen <= offline_after
        alerts = _alerts(
            now,
            lines,
            by_centre_services[c.id],
            held,
            serving,
            by_centre_stations[c.id],
            c.id,
            heartbeats=not has_box,
        )
        if c.id in stuck:
            alerts.insert(
                0,
                _alert(
                    "sync_projection_stopped",
                    "danger",
                    "Số liệu từ hộp trung tâm dừng cập nhật (cấu hình máy chủ tỉnh thiếu?): "
                    + stuck[c.id][:200],
                ),
            )
        rows.append(
            {
                "id": c.id,
                "code": c.code,
                "name": c.name,
                "subtitle": c.subtitle,
                "kind": c.kind,
                "kind_label": CENTRE_KINDS.get(c.kind, c.kind),
                "waiting": sum(n for n, _ in lines.values()),
                "longest_wait_seconds": longest,
                "served_today": served.get(c.id, 0),
                **_satisfaction_today(levels.get(c.id, {})),
                "alerts": alerts,
                "alert_count": len(alerts),
                "danger_count": sum(1 for a in alerts if a["severity"] == "danger"),
                "link": {
                    "state": "online" if online else "offline",
                    "last_seen_at": last_seen and to_local(last_seen, c.timezone).isoformat(),
                    "last_event_at": c.last_event_at
                    and to_local(c.last_event_at, c.timezone).isoformat(),
                    "source": "box" if has_box else "hub",
                },
                "live_board": f"/supervisor?centre={c.id}",
            }
        )
    rows.sort(key=need_order)
    return {"server_time": now.isoformat(), "centres": rows, "totals": _totals(rows)}


def need_order(row: dict[str, Any]) -> tuple:
    """Most in need first: the longest current wait, then danger alerts, then the line."""
    return (
        -row["longest_wait_seconds"],
        -row["danger_count"],
        -row["waiting"],
        row["name"],
        row["id"],
    )


def _ratings_today(
    session: Session, centres: list[Any], now: datetime
) -> dict[int, dict[int, int]]:
    """Counted ratings of each centre's local day, by level: one statement, one condition
    per time zone in use."""
    if not ratings_available(session):
        return {}
    from server.models.rating import Rating

    by_zone: dict[str, list[int]] = defaultdict(list)
    for c in centres:
        by_zone[c.timezone].append(c.id)
    conditions = []
    for zone, ids in by_zone.items():
        start = _day_start(now, zone)
        conditions.append(
            # counted_ratings: the overall criterion, not replaced, pressed in [start, end).
            _and(*counted_ratings(Rating, ids, start, start + timedelta(days=1)))
        )
    rows = session.execute(
        select(Rating.centre_id, Rating.level, func.count())
        .where(or_(*conditions))
        .group_by(Rating.centre_id, Rating.level)
    ).all()
    out: dict[int, dict[int, int]] = defaultdict(dict)
    for centre_id, level, count in rows:
        out[centre_id][int(level)] = count
    return out


def _and(*conditions: Any) -> Any:
    from sqlalchemy import and_

    return and_(*conditions)


def _satisfaction_today(levels: dict[int, int]) -> dict[str, Any]:
    figures = satisfaction(levels)
    return {
        "ratings_today": figures["ratings_total"],
        "rating_mean_today": figures["rating_mean"] and round(figures["rating_mean"], 2),
        "satisfaction_today": figures["satisfaction_index"],
    }


def _alerts(
    now: datetime,
    lines: dict[int, tuple[int, datetime]],
    services: list[Any],
    held: dict[tuple[int, int], int],
    serving: dict[tuple[int, int], int],
    stations: list[Any],
    centre_id: int,
    heartbeats: bool = True,
) -> list[dict[str, Any]]:
    """The alerts of the live board that a province officer acts on, shortened.

    `heartbeats` False: the centre's stations talk to its centre box, not to the hub, so
    the hub cannot tell a silent station (their device states are delivered, though)."""
    alerts: list[dict[str, Any]] = []
    for s in services:
        count, oldest = lines.get(s.id, (0, None))
        if count and oldest is not None:
            longest = int((now - oldest).total_seconds())
            if longest > s.wait_threshold_minutes * 60:
                alerts.append(
                    _alert("wait_over_threshold", "danger", f"{s.name}: chờ {longest // 60} phút")
                )
            if not serving.get((centre_id, s.id)):
                alerts.append(
                    _alert(
                        "no_open_counter",
                        "danger",
                        f"{s.name}: {count} người chờ, không quầy nào mở",
                    )
                )
        number_range = NumberRange(s.range_start, s.range_end)
        used = held.get((centre_id, s.id), 0)
        if range_used(used, number_range) >= RANGE_ALERT_RATIO:
            full = used >= number_range.size
            alerts.append(
                _alert(
                    "number_range_exhausted" if full else "number_range_nearly_full",
                    "danger" if full else "warning",
                    f"{s.name}: {'hết' if full else 'sắp hết'} số thứ tự ({used}/{number_range.size})",
                )
            )
    recent = now - timedelta(minutes=STATION_OFFLINE_MINUTES)
    for st in stations:
        label = st.name or st.code
        silent = st.last_seen_at is None or st.last_seen_at < recent
        if heartbeats and st[4] and silent:
            alerts.append(_alert("device_offline", "warning", f"{label}: mất kết nối"))
        for name, state in sorted((st.device_states or {}).items()):
            if isinstance(state, dict) and state.get("state") in DEVICE_FAULT_STATES:
                alerts.append(
                    _alert(
                        "device_fault",
                        "warning",
                        f"{name} ({st.code}): {state.get('reason') or state.get('state')}",
                    )
                )
    order = {"danger": 0, "warning": 1}
    alerts.sort(key=lambda a: order.get(a["severity"], 2))
    return alerts


def _alert(kind: str, severity: str, message: str) -> dict[str, Any]:
    return {"kind": kind, "severity": severity, "message": message}


def _totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "centres": len(rows),
        "online": sum(1 for r in rows if r["link"]["state"] == "online"),
        "waiting": sum(r["waiting"] for r in rows),
        "served_today": sum(r["served_today"] for r in rows),
        "alerts": sum(r["alert_count"] for r in rows),
    }
