"""Stations (PCs with devices) as the server sees them: presence, device states, keypads.

What a station agent gets when it connects (its settings and the state of every counter,
so LED boards show the truth at once), what it reports (device states), and what its call
keypads may do (the counter operations of the counter page, under the same rules).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from server.db import OutboxMessage, outbox
from server.domain.actors import Actor
from server.domain.clock import DEFAULT_TIMEZONE, to_local
from server.domain.errors import DomainError, InvalidRequest, NotFound
from server.models import Centre, Counter, CounterService, PrintJob, Station, Ticket
from server.services import events
from server.services import lifecycle as ops
from server.services.ratings import policy_for
from server.services.views import counter_view, iso

#: What a call keypad may ask (docs/devices.md, "Keypad operations").
KEYPAD_OPERATIONS = ("next", "recall", "finish", "no_show")
#: Device states a supervisor must act on.
FAULT_STATES = ("error", "disconnected")
#: How far back the supervisor page lists failed print jobs.
FAILED_PRINTS_SINCE = timedelta(hours=24)
#: A keypad key that reaches the server later than this after it was pressed is refused:
#: staff who saw nothing happen have moved on (pressed again, used the screen), and a
#: "next" run now would call a citizen nobody is looking at.
KEYPAD_STALE_AFTER = timedelta(seconds=5)
#: What each keypad operation is called on the counter page.
KEYPAD_LABELS = {
    "next": ("Gọi số tiếp theo", "next"),
    "recall": ("Gọi lại", "recall"),
    "finish": ("Kết thúc", "finish"),
    "no_show": ("Vắng mặt", "no-show"),
}


class CounterNotBound(DomainError):
    """A station's pad or keypad speaking for a counter that is not bound to it."""

    code = "counter_not_bound"
    http_status = 403


def may_use_counter(station: Station, counter: Counter) -> bool:
    """A counters station sends ratings and keypad keys only for the counters bound to it
    (the counter's "station" in admin, which also prints its dossier slips)."""
    return (
        station.kind == "counter"
        and station.token_revoked_at is None
        and counter.station_id == station.id
        and counter.centre_id == station.centre_id
    )


def refuse_unbound_counter(station: Station, counter: Counter) -> None:
    """Raise :class:`CounterNotBound` unless the station may use the counter."""
    if may_use_counter(station, counter):
        return
    raise CounterNotBound(
        f"{counter.label} không gắn với điểm thiết bị {station.code}: bảng đánh giá và bàn "
        "phím của điểm này chỉ dùng cho các quầy gắn với nó. Quản trị viên gắn quầy tại "
        "Quản trị → Quầy → «Điểm thiết bị của quầy».",
        f"counter {counter.number} is not bound to station {station.code}: its rating pads "
        "and keypads speak only for the counters bound to it. An administrator binds a "
        "counter in admin (Counters, field station_id).",
        details={"counter_id": counter.id, "station": station.code},
    )


class NoCurrentTicket(DomainError):
    code = "no_current_ticket"


class StaleCommand(DomainError):
    """A keypad key delivered too late to be carried out (docs/devices.md)."""

    code = "stale_command"


def refuse_stale_keypad_press(
    *, counter_id: int, operation: str, pressed_at: datetime, now: datetime
) -> None:
    """Raise :class:`StaleCommand` when a key pressed at ``pressed_at`` (on the server's
    clock) reaches the server more than :data:`KEYPAD_STALE_AFTER` later."""
    late = now - pressed_at
    if late <= KEYPAD_STALE_AFTER:
        return
    seconds = round(late.total_seconds())
    label_vi, label_en = KEYPAD_LABELS.get(operation, (operation, operation))
    raise StaleCommand(
        f"Lệnh «{label_vi}» từ bàn phím của quầy đến trễ {seconds} giây nên không được thực hiện. "
        "Vui lòng bấm lại.",
        f"keypad {label_en} for counter {counter_id} arrived {seconds} s after it was pressed "
        "and was not carried out; press again",
    )


def station_config(session: Session, station: Station) -> dict[str, Any]:
    """The ``station.config`` payload: what the agent's devices need from the server."""
    centre = session.get(Centre, station.centre_id)
    return {
        "station_id": station.id,
        "station": station.code,
        "centre_id": centre.id,
        "rating_scale": policy_for(centre).scale,
    }


def counter_states(session: Session, centre_id: int) -> list[dict[str, Any]]:
    """A ``counter.updated`` payload for every counter of the centre (sent on connect)."""
    counters = (
        session.execute(
            select(Counter)
            .where(Counter.centre_id == centre_id)
            .options(selectinload(Counter.service_links).selectinload(CounterService.service))
            .order_by(Counter.number)
        )
        .scalars()
        .all()
    )
    current_ids = [c.current_ticket_id for c in counters if c.current_ticket_id]
    current = (
        {
            t.id: t
            for t in session.execute(select(Ticket).where(Ticket.id.in_(current_ids))).scalars()
        }
        if current_ids
        else {}
    )
    return [{"counter": counter_view(c, current.get(c.current_ticket_id))} for c in counters]


def _presence_message(station: Station, online: bool) -> OutboxMessage:
    return OutboxMessage(
        events.STATION_STATUS,
        {
            "station_id": station.id,
            "station": station.code,
            "online": online,
            "last_seen_at": iso(station.last_seen_at),
        },
        (events.centre_room(station.centre_id),),
    )


def station_connected(session: Session, station: Station, now: datetime) -> None:
    station.last_seen_at = now
    outbox(session).append(_presence_message(station, True))


def station_disconnected(session: Session, station_id: int, now: datetime) -> None:
    station = session.get(Station, station_id)
    if station is None:
        return
    station.last_seen_at = now
    outbox(session).append(_presence_message(station, False))


def record_device_status(
    session: Session, station_id: int, data: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """Keep a device's latest state on the station and tell the hall (supervisor page)."""
    station = session.get(Station, station_id)
    if station is None:
        raise NotFound("Không tìm thấy điểm thiết bị.", f"station {station_id} not found")
    device = str(data["device"])[:80]
    state = {
        "kind": str(data.get("kind") or "")[:20],
        "state": str(data.get("state") or "")[:20],
        "reason": (str(data["reason"])[:200] if data.get("reason") else None),
        "at": now.isoformat(),
    }
    states = dict(station.device_states or {})
    states[device] = state
    station.device_states = states  # a new dict: JSON columns track assignment only
    station.last_seen_at = now
    outbox(session).append(
        OutboxMessage(
            events.DEVICE_STATUS,
            {"station_id": station.id, "station": station.code, **state, "device": device},
            (events.centre_room(station.centre_id),),
        )
    )
    return state


def counter_command(
    session: Session, *, station: Station, counter_id: int, operation: str, now: datetime
) -> Ticket:
    """A call keypad's key: the counter page's operation on the counter's current ticket.

    The station acts for the staff member holding the counter, so the ticket (and later
    its rating) is credited to them.
    """
    if operation not in KEYPAD_OPERATIONS:
        raise InvalidRequest(
            "Phím không hợp lệ.",
            f"unknown operation {operation!r}; use one of {', '.join(KEYPAD_OPERATIONS)}",
        )
    counter = session.get(Counter, counter_id)
    if counter is None or counter.centre_id != station.centre_id:
        raise NotFound(
            f"Không tìm thấy quầy số {counter_id} của trung tâm này.",
            f"counter {counter_id} is not in station {station.code}'s centre",
        )
    refuse_unbound_counter(station, counter)
    actor = Actor(f"station:{station.code}", staff_id=counter.staff_id)
    if operation == "next":
        return ops.call_next(session, counter_id=counter.id, now=now, actor=actor)
    if counter.current_ticket_id is None:
        raise NoCurrentTicket(
            f"{counter.label} không có phiếu nào đang phục vụ.",
            f"counter {counter.number} has no current ticket",
        )
    operate = {"recall": ops.recall, "finish": ops.finish, "no_show": ops.mark_no_show}[operation]
    return operate(session, ticket_id=counter.current_ticket_id, now=now, actor=actor)


def station_views(
    session: Session, *, centre_ids: list[int] | None, online: set[int], now: datetime
) -> list[dict[str, Any]]:
    """Stations with presence, device states and print jobs still failed (supervisors)."""
    query = select(Station).order_by(Station.centre_id, Station.id)
    if centre_ids is not None:
        query = query.where(Station.centre_id.in_(centre_ids))
    stations = session.execute(query).scalars().all()
    zones = dict(session.execute(select(Centre.id, Centre.timezone)).all())
    failed = _failed_prints(session, [s.id for s in stations], now - FAILED_PRINTS_SINCE, zones)
    views = []
    for station in stations:
        zone = zones.get(station.centre_id, DEFAULT_TIMEZONE)
        devices = [
            {"name": name, **state, "at": _local_iso(state.get("at"), zone)}
            for name, state in sorted((station.device_states or {}).items())
        ]
        views.append(
            {
                "id": station.id,
                "centre_id": station.centre_id,
                "code": station.code,
                "kind": station.kind,
                "name": station.name,
                "zone": station.zone,
                "has_printer": station.has_printer,
                "token_active": station.token_hash is not None,
                "online": station.id in online,
                "last_seen_at": iso(station.last_seen_at and to_local(station.last_seen_at, zone)),
                "devices": devices,
                "faults": sum(1 for d in devices if d.get("state") in FAULT_STATES),
                "failed_prints": failed.get(station.id, []),
            }
        )
    return views


def _local_iso(moment: Any, zone: str) -> str | None:
    """An ISO time from a device state (stored in UTC) in the centre's time."""
    if not isinstance(moment, str):
        return None
    try:
        return to_local(datetime.fromisoformat(moment), zone).isoformat()
    except ValueError:
        return moment


def _failed_prints(
    session: Session, station_ids: list[int], since: datetime, zones: dict[int, str]
) -> dict[int, list[dict[str, Any]]]:
    """Per station, tickets whose latest print job failed (a reprint clears them)."""
    if not station_ids:
        return {}
    rows = session.execute(
        select(PrintJob, Ticket)
        .join(Ticket, Ticket.id == PrintJob.ticket_id)
        .where(PrintJob.station_id.in_(station_ids), PrintJob.created_at >= since)
        .order_by(PrintJob.id)
    ).all()
    latest: dict[int, tuple[PrintJob, Ticket]] = {}
    for job, ticket in rows:
        latest[ticket.id] = (job, ticket)
    failed: dict[int, list[dict[str, Any]]] = {}
    for job, ticket in latest.values():
        if job.status != "failed":
            continue
        zone = zones.get(ticket.centre_id, DEFAULT_TIMEZONE)
        failed.setdefault(job.station_id, []).append(
            {
                "job_id": job.job_id,
                "ticket_id": ticket.id,
                "number": ticket.display_number,
                "reason": job.reason,
                "at": iso(to_local(job.acked_at or job.created_at, zone)),
            }
        )
    return failed
