"""The live supervision view: counters, lines, devices and the alerts a supervisor acts on.

Computed on request (``GET /api/v1/supervisor/overview``); the supervisor page refreshes it
every few seconds and in between applies the hall's Socket.IO events. Alert thresholds are
per centre in ``Centre.settings["supervision"]`` (minutes), defaults below.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from server.domain.clock import local_day, to_local
from server.domain.numbering import RANGE_ALERT_RATIO, NumberRange, range_used
from server.models import (
    Centre,
    Service,
    Station,
    Ticket,
    TicketEvent,
    User,
)
from server.services import wait_estimates
from server.services.hall import centre_or_404, counters_with_current
from server.services.numbering import numbers_held
from server.services.reports import ratings_available

DEFAULTS = {
    #: A counter open with nobody at it while its lines have people waiting.
    "idle_minutes": 3,
    #: A counter paused longer than this.
    "pause_minutes": 15,
    #: A station not heard from for this long is offline (when presence is unknown).
    "offline_minutes": 5,
    #: Low ratings given within this many minutes are shown as alerts.
    "low_rating_minutes": 60,
}
DEVICE_FAULT_STATES = {"disconnected", "error", "paper_out", "cover_open", "offline", "fault"}


def thresholds(centre: Centre) -> dict[str, int]:
    configured = (centre.settings or {}).get("supervision") or {}
    return {k: int(configured.get(k, v)) for k, v in DEFAULTS.items()}


def _day_start(now: datetime, timezone: str) -> datetime:
    return datetime.combine(local_day(now, timezone), time(0), tzinfo=ZoneInfo(timezone))


def _seconds(now: datetime, since: datetime | None) -> int | None:
    return None if since is None else max(0, int((now - since).total_seconds()))


def _alert(kind: str, severity: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "severity": severity, "message": message, **extra}


def overview(
    session: Session, centre_id: int, now: datetime, *, online: set[int] | None = None
) -> dict[str, Any]:
    """Everything the supervisor page shows, computed at `now`."""
    centre = centre_or_404(session, centre_id)
    tz = centre.timezone
    limits = thresholds(centre)
    day = local_day(now, tz)
    day_start = _day_start(now, tz)

    waiting = session.execute(
        select(Ticket.service_id, func.count(), func.min(Ticket.queued_at))
        .where(Ticket.centre_id == centre.id, Ticket.day == day, Ticket.status == "waiting")
        .group_by(Ticket.service_id)
    ).all()
    waiting_by_service = {sid: (n, oldest) for sid, n, oldest in waiting}
    served_today = session.execute(
        select(func.count()).where(
            Ticket.centre_id == centre.id,
            Ticket.day == day,
            Ticket.status == "done",
            # Outcome "served" only: guided elsewhere or left is not served.
            or_(Ticket.outcome.is_(None), Ticket.outcome == "served"),
        )
    ).scalar_one()
    hall = wait_estimates.hall_state(
        session, centre.id, tz, now, {sid: n for sid, (n, _) in waiting_by_service.items()}
    )
    counters, current = counters_with_current(session, centre.id)
    last_activity = dict(
        session.execute(
            select(TicketEvent.counter_id, func.max(TicketEvent.at))
            .where(TicketEvent.centre_id == centre.id, TicketEvent.at >= day_start)
            .group_by(TicketEvent.counter_id)
        ).all()
    )
    services = (
        session.execute(
            select(Service)
            .where(Service.centre_id == centre.id, Service.active.is_(True))
            .order_by(Service.position, Service.id)
        )
        .scalars()
        .all()
    )
    open_counters: dict[int, int] = {}
    for c in counters:
        if c.status == "open":
            for link in c.service_links:
                open_counters[link.service_id] = open_counters.get(link.service_id, 0) + 1

    held_by_service = numbers_held(session, centre.id, day)
    alerts: list[dict[str, Any]] = _range_alerts(services, held_by_service)
    service_rows = []
    for s in services:
        count, oldest = waiting_by_service.get(s.id, (0, None))
        longest = _seconds(now, oldest) if count else 0
        serving = open_counters.get(s.id, 0)
        # The same estimate as the kiosk and the ticket: for someone joining the line now.
        wait = hall.wait(s.id, count) if count else None
        estimate = (None if wait is None else round(wait.seconds)) if count else 0
        service_rows.append(
            {
                "id": s.id,
                "name": s.name,
                "prefix": s.prefix,
                "waiting": count,
                "longest_wait_seconds": longest,
                "estimated_wait_seconds": estimate,
                "threshold_minutes": s.wait_threshold_minutes,
                "open_counters": serving,
                "over_threshold": bool(count and longest > s.wait_threshold_minutes * 60),
                "numbers_held": held_by_service.get(s.id, 0),
                "range_size": s.range_end - s.range_start + 1,
            }
        )
        if count and longest > s.wait_threshold_minutes * 60:
            alerts.append(
                _alert(
                    "wait_over_threshold",
                    "danger",
                    f"{s.name}: công dân chờ {longest // 60} phút "
                    f"(ngưỡng {s.wait_threshold_minutes} phút)",
                    service_id=s.id,
                    seconds=longest,
                )
            )
        if count and not serving:
            alerts.append(
                _alert(
                    "no_open_counter",
                    "danger",
                    f"{s.name}: {count} người đang chờ nhưng không quầy nào mở",
                    service_id=s.id,
                )
            )

    staff_ids = [c.staff_id for c in counters if c.staff_id is not None]
    staff_names = {
        u.id: u.full_name or u.username
        for u in session.execute(
            select(User.id, User.full_name, User.username).where(User.id.in_(staff_ids))
        )
    }
    counter_rows = []
    for c in counters:
        ticket = current.get(c.current_ticket_id)
        waiting_here = sum(
            waiting_by_service.get(link.service_id, (0, None))[0] for link in c.service_links
        )
        status_seconds = _seconds(now, c.status_since)
        idle_since = max(
            [t for t in (c.status_since, last_activity.get(c.id)) if t is not None], default=None
        )
        idle_seconds = _seconds(now, idle_since) if c.status == "open" and ticket is None else None
        row = {
            "id": c.id,
            "number": c.number,
            "name": c.label,
            "status": c.status,
            "status_reason": c.status_reason,
            "status_since": c.status_since and to_local(c.status_since, tz).isoformat(),
            "status_seconds": status_seconds,
            "staff_id": c.staff_id,
            "staff_name": staff_names.get(c.staff_id),
            "services": [link.service_id for link in c.service_links],
            "waiting": waiting_here,
            "idle_seconds": idle_seconds,
            "current_ticket": None,
        }
        if ticket is not None:
            began = ticket.started_at or ticket.called_at
            row["current_ticket"] = {
                "id": ticket.id,
                "number": ticket.display_number,
                "status": ticket.status,
                "service_id": ticket.service_id,
                "called_at": ticket.called_at and to_local(ticket.called_at, tz).isoformat(),
                "serving_seconds": _seconds(now, began),
            }
        counter_rows.append(row)
        if idle_seconds is not None and waiting_here and idle_seconds > limits["idle_minutes"] * 60:
            alerts.append(
                _alert(
                    "counter_idle",
                    "warning",
                    f"{c.label} đang mở nhưng không gọi số trong {idle_seconds // 60} phút "
                    f"khi có {waiting_here} người chờ",
                    counter_id=c.id,
                    seconds=idle_seconds,
                )
            )
        if (
            c.status == "paused"
            and status_seconds
            and status_seconds > limits["pause_minutes"] * 60
        ):
            alerts.append(
                _alert(
                    "counter_paused_too_long",
                    "warning",
                    f"{c.label} tạm dừng {status_seconds // 60} phút"
                    + (f" ({c.status_reason})" if c.status_reason else ""),
                    counter_id=c.id,
                    seconds=status_seconds,
                )
            )

    devices = _devices(session, centre.id, now, online, limits)
    for station in devices:
        if not station["online"] and station["token_active"]:
            alerts.append(
                _alert(
                    "device_offline",
                    "danger" if station["kind"] == "kiosk" else "warning",
                    f"Điểm thiết bị {station['name'] or station['code']} mất kết nối",
                    station_id=station["id"],
                )
            )
        for device in station["devices"]:
            if device.get("state") in DEVICE_FAULT_STATES:
                is_printer = device.get("kind") == "printer" or "printer" in device["name"]
                alerts.append(
                    _alert(
                        "printer_fault" if is_printer else "device_fault",
                        "danger" if is_printer else "warning",
                        f"{'Máy in' if is_printer else 'Thiết bị'} {device['name']} "
                        f"({station['code']}): {device.get('reason') or device.get('state')}",
                        station_id=station["id"],
                        device=device["name"],
                    )
                )
    low = _recent_low_ratings(session, centre, now, limits["low_rating_minutes"])
    for r in low:
        alerts.append(
            _alert(
                "low_rating",
                "warning",
                f"Đánh giá «{r['level_label']}» tại {r['counter_name']} "
                f"(phiếu {r['ticket_number'] or '—'}, {r['staff_name'] or 'không rõ cán bộ'})",
                rating_id=r["rating_id"],
                counter_id=r["counter_id"],
            )
        )
    order = {"danger": 0, "warning": 1, "info": 2}
    alerts.sort(key=lambda a: order.get(a["severity"], 3))
    return {
        "centre": {
            "id": centre.id,
            "code": centre.code,
            "name": centre.name,
            "subtitle": centre.subtitle,
        },
        "server_time": to_local(now, tz).isoformat(),
        "thresholds": limits,
        "counters": counter_rows,
        "services": service_rows,
        "devices": devices,
        "alerts": alerts,
        "low_ratings": low,
        "totals": {
            "waiting": sum(r["waiting"] for r in service_rows),
            "open_counters": sum(1 for c in counters if c.status == "open"),
            "served_today": served_today,
        },
    }


def _range_alerts(services: list[Service], held: dict[int, int]) -> list[dict[str, Any]]:
    """A service whose range is at least 90 % held today (active numbers / range size):
    soon the kiosk refuses it (``number_range_exhausted``); full, it already does."""
    alerts = []
    for s in services:
        number_range = NumberRange(s.range_start, s.range_end)
        count = held.get(s.id, 0)
        used = range_used(count, number_range)
        if used < RANGE_ALERT_RATIO:
            continue
        percent = min(100, count * 100 // number_range.size)
        if count >= number_range.size:
            message = (
                f"{s.name}: hết số thứ tự ({count}/{number_range.size} số đang có người giữ), "
                "ki-ốt đang từ chối cấp phiếu: mở thêm quầy phục vụ hoặc nới dải số"
            )
            kind, severity = "number_range_exhausted", "danger"
        else:
            message = (
                f"{s.name}: sắp hết số thứ tự ({count}/{number_range.size} số đang có người "
                f"giữ, {percent} %): mở thêm quầy phục vụ hoặc nới dải số"
            )
            kind, severity = "number_range_nearly_full", "warning"
        alerts.append(
            _alert(
                kind,
                severity,
                message,
                service_id=s.id,
                numbers_held=count,
                range_size=number_range.size,
                percent=percent,
            )
        )
    return alerts


def _devices(
    session: Session,
    centre_id: int,
    now: datetime,
    online: set[int] | None,
    limits: dict[str, int],
) -> list[dict[str, Any]]:
    stations = session.execute(
        select(Station).where(Station.centre_id == centre_id).order_by(Station.id)
    ).scalars()
    recent = now - timedelta(minutes=limits["offline_minutes"])
    out = []
    for st in stations:
        if online is not None:
            is_online = st.id in online
        else:
            is_online = st.last_seen_at is not None and st.last_seen_at >= recent
        out.append(
            {
                "id": st.id,
                "code": st.code,
                "kind": st.kind,
                "name": st.name,
                "online": is_online,
                "token_active": st.token_hash is not None,
                "last_seen_at": st.last_seen_at and st.last_seen_at.isoformat(),
                "devices": [
                    {"name": name, **state}
                    for name, state in sorted((st.device_states or {}).items())
                ],
            }
        )
    return out


def _recent_low_ratings(
    session: Session, centre: Centre, now: datetime, minutes: int
) -> list[dict[str, Any]]:
    if not ratings_available(session):
        return []
    from server.services.scorecards import low_ratings

    return low_ratings(
        session,
        [centre.id],
        now - timedelta(minutes=minutes),
        now + timedelta(seconds=1),
        timezone=centre.timezone,
        limit=20,
    )
