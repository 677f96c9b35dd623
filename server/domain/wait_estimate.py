"""How long a ticket will wait: the "counter replay" estimate.

Method (named so it can be explained to a citizen and checked in a backtest):

1. Each open counter is free now, or when its current citizen is done: the service's recent
   median service time minus the time already spent (at least a quarter of the median,
   since someone who is over time is not done the next second).
2. The counters are replayed forward in time: whichever counter is free first takes the
   next waiting ticket of the first service **in its own order** that has one (a counter
   serving "Chứng thực" first and "Hộ tịch" second helps Hộ tịch only when nobody waits
   for Chứng thực), and is busy for that service's recent median service time.
3. Citizens keep arriving for the other services at their rate of the last 30 minutes,
   for the next 30 minutes, and keep counters busy with their earlier services; for a
   normal ticket, priority tickets arriving meanwhile go before it.
4. The ticket's wait is the moment a counter takes it, once the people ahead of it in its
   line have been taken.

With one counter and one service this is "people ahead × median service time"; with n
counters it is about "people ahead ÷ n × median". What it cannot foresee (a counter that
pauses, a lunch break, a rush after the first half hour, unusually long services) is the
estimate's error, measured by ``benchmarks/wait_estimate.py`` and published as
:data:`TYPICAL_ERROR_MINUTES` / :data:`TYPICAL_ERROR_SHARE`.
Pure: no I/O, the caller supplies the hall's state.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

#: The method's name, shown with the figures (API field ``estimate.method``).
METHOD = "counter_replay"
#: Service time assumed for a service nobody has been served in yet today (seconds).
DEFAULT_SERVICE_SECONDS = 300.0
#: The recent service times whose median is used, per service.
RECENT_SAMPLES = 20
#: The error band shown with an estimate: ± max(minutes, share × estimate), from the
#: backtest's p90 absolute error on a simulated busy day (benchmarks/wait_estimate.py).
TYPICAL_ERROR_MINUTES = 3
TYPICAL_ERROR_SHARE = 0.35
#: Arrivals are foreseen this far ahead, at the recent rate; later ones are not.
ARRIVAL_HORIZON_SECONDS = 30 * 60.0
#: How far an idle counter looks ahead for the next arrival it would serve (seconds).
IDLE_STEP_SECONDS = 30.0
#: Replay at most this many calls: a line of thousands is "more than two hours" anyway.
MAX_STEPS = 5000


@dataclass(frozen=True)
class CounterState:
    """An open counter: its services in its order, and seconds until it is free."""

    services: tuple[int, ...]
    free_in: float = 0.0


@dataclass(frozen=True)
class Estimate:
    """A wait in seconds with the band a citizen is told (whole minutes)."""

    seconds: float
    minutes: int
    low_minutes: int
    high_minutes: int


def median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def remaining_seconds(typical: float, elapsed: float) -> float:
    """Seconds until a counter is free, `elapsed` seconds into a `typical`-long service."""
    return max(typical - elapsed, typical / 4)


def replay_wait(
    counters: Sequence[CounterState],
    waiting: Mapping[int, int],
    service_seconds: Mapping[int, float],
    service_id: int,
    ahead: int,
    *,
    arrivals: Mapping[int, float] | None = None,
    jumping: float = 0.0,
) -> float | None:
    """Seconds until a ticket of `service_id` with `ahead` people before it is called.

    `waiting` counts every service's waiting tickets (the ticket's own line is replaced by
    `ahead` + the ticket itself: who comes after it does not matter). `arrivals` are the
    recent arrivals per second of each service: they keep a counter busy with its earlier
    services. `jumping` is the rate of tickets that go before this one although issued
    later (priority tickets, for a normal ticket). None when no open counter serves the
    service.
    """
    if not any(service_id in c.services for c in counters):
        return None
    arrivals = arrivals or {}
    taken: dict[int, int] = {}
    heap = [(max(0.0, c.free_in), i) for i, c in enumerate(counters)]
    heapq.heapify(heap)

    def left(line: int, at: float) -> float:
        foreseen = min(at, ARRIVAL_HORIZON_SECONDS)
        if line == service_id:
            return max(0, ahead) + 1 + jumping * foreseen - taken.get(line, 0)
        return waiting.get(line, 0) + arrivals.get(line, 0.0) * foreseen - taken.get(line, 0)

    at = 0.0
    for _ in range(MAX_STEPS):
        if not heap:
            return None
        at, index = heapq.heappop(heap)
        services = counters[index].services
        line = next((sid for sid in services if left(sid, at) >= 1), None)
        if line is None:
            if at >= ARRIVAL_HORIZON_SECONDS or not any(
                arrivals.get(sid, 0.0) > 0 for sid in services if sid != service_id
            ):
                continue  # nothing this counter serves will come: it takes no part any more
            # Idle until the next arrival it would serve.
            heapq.heappush(heap, (at + IDLE_STEP_SECONDS, index))
            continue
        if line == service_id and left(line, at) < 2:
            return at
        taken[line] = taken.get(line, 0) + 1
        typical = service_seconds.get(line, DEFAULT_SERVICE_SECONDS)
        heapq.heappush(heap, (at + typical, index))
    return at


def band(seconds: float) -> Estimate:
    """The estimate as a citizen reads it: minutes, rounded up, with the typical error."""
    minutes = math.ceil(seconds / 60) if seconds > 0 else 0
    spread = max(TYPICAL_ERROR_MINUTES, round(minutes * TYPICAL_ERROR_SHARE))
    return Estimate(seconds, minutes, max(0, minutes - spread), minutes + spread)
