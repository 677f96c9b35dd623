"""Wait estimates from the hall's state: the one place that loads what
:mod:`server.domain.wait_estimate` needs. Used by the kiosk's answer, the printed ticket,
the citizen's /t/ page and the supervisor's overview, so they always agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, aliased

from server.domain import wait_estimate as method
from server.domain.clock import local_day
from server.domain.lifecycle import TicketStatus
from server.models import Counter, CounterService, Ticket
from server.models.centre import counter_label
from server.services.queue import waiting_counts

#: How long the recent service times of a centre are reused (seconds of hall time, per
#: process): the median of the last 20 moves slowly, issuing is the hot path.
SERVICE_TIMES_TTL = 30.0
#: Arrivals of the last this many minutes give each line's arrival rate.
ARRIVAL_WINDOW_MINUTES = 30

_RECENT_SERVICE = (
    select(Ticket.service_id, Ticket.called_at, Ticket.finished_at)
    .where(
        Ticket.centre_id == bindparam("centre_id"),
        Ticket.day == bindparam("day"),
        Ticket.status.in_([TicketStatus.DONE.value, TicketStatus.NO_SHOW.value]),
        Ticket.called_at.is_not(None),
        Ticket.finished_at.is_not(None),
    )
    .order_by(Ticket.finished_at.desc())
    .limit(bindparam("limit"))
)
_RECENT_ARRIVALS = (
    select(Ticket.service_id, Ticket.is_priority, func.count())
    .where(
        Ticket.centre_id == bindparam("centre_id"),
        Ticket.day == bindparam("day"),
        Ticket.issued_at >= bindparam("since"),
        Ticket.issued_at <= bindparam("now"),
    )
    .group_by(Ticket.service_id, Ticket.is_priority)
)
_CURRENT = aliased(Ticket)
#: Every counter of the centre with the services it serves, in its order; the open ones
#: drive the estimate, all of them say which counters serve a service (kiosk, ticket).
_COUNTERS = (
    select(
        Counter.id,
        Counter.number,
        Counter.name,
        Counter.status,
        CounterService.service_id,
        _CURRENT.service_id.label("current_service_id"),
        _CURRENT.called_at.label("current_called_at"),
    )
    .join(CounterService, CounterService.counter_id == Counter.id)
    .outerjoin(_CURRENT, _CURRENT.id == Counter.current_ticket_id)
    .where(Counter.centre_id == bindparam("centre_id"))
    .order_by(Counter.id, CounterService.position, CounterService.service_id)
)

_cache: dict[tuple[str, str, int, date], tuple[datetime, Any]] = {}


@dataclass(frozen=True)
class HallState:
    """What the replay needs, loaded once for any number of estimates."""

    counters: tuple[method.CounterState, ...]
    waiting: Mapping[int, int]
    service_seconds: Mapping[int, float]
    #: Recent arrivals per second: every ticket, and priority tickets, by service.
    arrivals: Mapping[int, float]
    priority_arrivals: Mapping[int, float]
    #: The labels of the counters serving each service ("Quầy 1"…), open or not.
    serving: Mapping[int, tuple[str, ...]] = field(default_factory=dict)

    def wait(
        self, service_id: int, ahead: int, *, priority: bool = False
    ) -> method.Estimate | None:
        seconds = method.replay_wait(
            self.counters,
            self.waiting,
            self.service_seconds,
            service_id,
            ahead,
            arrivals=self.arrivals,
            jumping=0.0 if priority else self.priority_arrivals.get(service_id, 0.0),
        )
        return None if seconds is None else method.band(seconds)


def service_seconds(session: Session, centre_id: int, day: date, now: datetime) -> dict[int, float]:
    """Median of each service's last :data:`RECENT_SAMPLES` service times (call to finish)
    today; services without any get the centre's median, or the default."""
    key = ("seconds", str(session.get_bind().url), centre_id, day)
    cached = _cache.get(key)
    if cached is not None and 0 <= (now - cached[0]).total_seconds() < SERVICE_TIMES_TTL:
        return cached[1]
    samples: dict[int, list[float]] = {}
    every: list[float] = []
    rows = session.connection().execute(
        _RECENT_SERVICE, {"centre_id": centre_id, "day": day, "limit": 2000}
    )
    for service_id, called_at, finished_at in rows:
        seconds = (finished_at - called_at).total_seconds()
        if seconds < 0:
            continue
        mine = samples.setdefault(service_id, [])
        if len(mine) < method.RECENT_SAMPLES:
            mine.append(seconds)
            if len(every) < 4 * method.RECENT_SAMPLES:
                every.append(seconds)
    fallback = method.median(every) or method.DEFAULT_SERVICE_SECONDS
    result: dict[int, float] = {sid: method.median(v) or fallback for sid, v in samples.items()}
    result = _DefaultDict(result, fallback)
    if len(_cache) > 512:  # a long-running province hub: drop old days
        _cache.clear()
    _cache[key] = (now, result)
    return result


def arrival_rates(
    session: Session, centre_id: int, day: date, now: datetime
) -> tuple[dict[int, float], dict[int, float]]:
    """Arrivals per second of each service over the last :data:`ARRIVAL_WINDOW_MINUTES`
    (all tickets, and priority tickets only)."""
    key = ("arrivals", str(session.get_bind().url), centre_id, day)
    cached = _cache.get(key)
    if cached is not None and 0 <= (now - cached[0]).total_seconds() < SERVICE_TIMES_TTL:
        return cached[1]
    window = ARRIVAL_WINDOW_MINUTES * 60
    every: dict[int, float] = {}
    priority: dict[int, float] = {}
    rows = session.connection().execute(
        _RECENT_ARRIVALS,
        {"centre_id": centre_id, "day": day, "since": now - timedelta(seconds=window), "now": now},
    )
    for service_id, is_priority, count in rows:
        every[service_id] = every.get(service_id, 0.0) + count / window
        if is_priority:
            priority[service_id] = priority.get(service_id, 0.0) + count / window
    _cache[key] = (now, (every, priority))
    return every, priority


class _DefaultDict(dict):
    """Service seconds with the centre's typical time for services not seen today."""

    def __init__(self, values: dict[int, float], fallback: float) -> None:
        super().__init__(values)
        self.fallback = fallback

    def get(self, key: Any, default: Any = None) -> Any:
        return super().get(key, self.fallback)


def clear_cache() -> None:
    """Forget cached service times (tests, backtests replaying several days)."""
    _cache.clear()


def hall_state(
    session: Session,
    centre_id: int,
    timezone: str,
    now: datetime,
    counts: Mapping[int, int] | None = None,
) -> HallState:
    """The open counters, waiting counts and service times of a centre at `now`."""
    day = local_day(now, timezone)
    if counts is None:
        counts = waiting_counts(session, centre_id, day)
    seconds = service_seconds(session, centre_id, day, now)
    services: dict[int, list[int]] = {}
    busy: dict[int, float] = {}
    serving: dict[int, list[tuple[int, str]]] = {}
    rows = session.connection().execute(_COUNTERS, {"centre_id": centre_id})
    for counter_id, number, name, status, service_id, current_service, called_at in rows:
        serving.setdefault(service_id, []).append((number, counter_label(number, name)))
        if status != "open":
            continue
        services.setdefault(counter_id, []).append(service_id)
        if called_at is not None and counter_id not in busy:
            typical = seconds.get(current_service)
            elapsed = max(0.0, (now - called_at).total_seconds())
            busy[counter_id] = method.remaining_seconds(typical, elapsed)
    counters = tuple(
        method.CounterState(tuple(ids), busy.get(cid, 0.0)) for cid, ids in services.items()
    )
    arrivals, priority_arrivals = arrival_rates(session, centre_id, day, now)
    return HallState(
        counters,
        dict(counts),
        seconds,
        arrivals,
        priority_arrivals,
        {sid: tuple(label for _, label in sorted(pairs)) for sid, pairs in serving.items()},
    )


def estimate_view(estimate: method.Estimate | None) -> dict[str, Any]:
    """The ``estimate`` object of the API, the print job and the /t/ page."""
    if estimate is None:
        return {
            "method": method.METHOD,
            "minutes": None,
            "low_minutes": None,
            "high_minutes": None,
            "text": "Chưa có quầy mở cho dịch vụ này",
            "text_en": "No counter is open for this service yet",
        }
    if estimate.high_minutes <= 0 or estimate.minutes == 0:
        text, text_en = "Sắp đến lượt", "Your turn is coming up"
    else:
        low, high = estimate.low_minutes, estimate.high_minutes
        text = f"Khoảng {estimate.minutes} phút (từ {low} đến {high} phút)"
        text_en = f"About {estimate.minutes} min ({low}-{high} min)"
    return {
        "method": method.METHOD,
        "minutes": estimate.minutes,
        "low_minutes": estimate.low_minutes,
        "high_minutes": estimate.high_minutes,
        "text": text,
        "text_en": text_en,
    }


def for_ticket(session: Session, ticket: Ticket, ahead: int, timezone: str, now: datetime) -> dict:
    """The estimate view of one waiting ticket (None-free: a view says when there is none)."""
    state = hall_state(session, ticket.centre_id, timezone, now)
    return estimate_view(state.wait(ticket.service_id, ahead, priority=ticket.is_priority))
