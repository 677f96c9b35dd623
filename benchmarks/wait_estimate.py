"""Backtest of the wait estimate on a simulated busy day, through the real services.

Run by hand (not by the test suite):

    .venv/bin/python benchmarks/wait_estimate.py                 # SQLite, seed 1
    .venv/bin/python benchmarks/wait_estimate.py --db postgres --seed 2 --days 3

A fresh database gets the demo centre (7 counters, 9 services, each counter serving its
services in order). A day is replayed in simulated time: citizens arrive with a morning
peak (07:30–11:30, busiest 08:00–09:30) and an afternoon (13:30–16:30), 8 % with
priority; each counter calls the next ticket through `call_next` as soon as it is free,
serves for a log-normal time around its service's typical length, and 4 % of citizens do
not come (no-show after 60 s). Counter 3 opens late and counter 6 pauses 20 min mid-morning.
Every ticket is issued through `issue_ticket`, whose answer carries the estimate the kiosk
shows and prints; the real wait is its `called_at - issued_at` at the end of the day.

Printed: tickets, median and p90 of |estimate - real wait| in minutes, the share of real
waits inside the band shown to the citizen, and the same by wait length.
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import statistics
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import benchmarks.bench_env  # noqa: E402, F401  (open hall, no issuing limits)

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

#: Typical service minutes by demo service code (median of a log-normal, sigma 0.5).
SERVICE_MINUTES = {
    "HT1": 6.0,
    "HT2": 5.0,
    "CT1": 2.5,
    "CT2": 4.0,
    "DD": 10.0,
    "XD": 9.0,
    "KD": 8.0,
    "BT": 7.0,
    "TK": 2.0,
}
#: Share of arrivals by service code.
SERVICE_MIX = {
    "HT1": 0.22,
    "HT2": 0.06,
    "CT1": 0.32,
    "CT2": 0.08,
    "DD": 0.06,
    "XD": 0.04,
    "KD": 0.04,
    "BT": 0.08,
    "TK": 0.10,
}
#: (local start, local end, arrivals per hour) of the day.
ARRIVALS = [
    ("07:30", "08:00", 60),
    ("08:00", "09:30", 105),
    ("09:30", "11:00", 75),
    ("11:00", "11:30", 30),
    ("13:30", "15:00", 70),
    ("15:00", "16:30", 50),
]
NO_SHOW_SHARE = 0.04
PRIORITY_SHARE = 0.08
IDLE_RETRY_SECONDS = 20


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[index]


@contextmanager
def database_url(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/backtest.sqlite3"
        return
    from sqlalchemy import create_engine, text

    name = f"tthcc_backtest_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def local(day: datetime, hhmm: str) -> datetime:
    """A local (UTC+7) time of `day` as an aware UTC datetime."""
    hours, minutes = map(int, hhmm.split(":"))
    return day + timedelta(hours=hours - 7, minutes=minutes)


def replay_day(
    database, demo, day: datetime, rng: random.Random
) -> list[tuple[float, float, int, int]]:
    """One simulated day; returns (estimate minutes, real minutes, low, high) per ticket."""
    from sqlalchemy import select

    from server.domain.errors import DomainError
    from server.models import Counter, PriorityCategory, Service, Ticket
    from server.services import issuing, lifecycle
    from server.services.lifecycle import set_counter_status

    with database.transaction() as session:
        services = {s.code: s.id for s in session.execute(select(Service)).scalars()}
        minutes_by_id = {services[c]: m for c, m in SERVICE_MINUTES.items()}
        counters = {c.number: c.id for c in session.execute(select(Counter)).scalars()}
        category = session.execute(select(PriorityCategory.id)).scalars().first()

    events: list[tuple[datetime, int, str, dict]] = []
    sequence = 0

    def at(moment: datetime, kind: str, **data: object) -> None:
        nonlocal sequence
        sequence += 1
        heapq.heappush(events, (moment, sequence, kind, data))

    for start, end, per_hour in ARRIVALS:
        moment, stop = local(day, start), local(day, end)
        while True:
            moment += timedelta(seconds=rng.expovariate(per_hour / 3600))
            if moment >= stop:
                break
            code = rng.choices(list(SERVICE_MIX), weights=list(SERVICE_MIX.values()))[0]
            at(moment, "arrive", service_id=services[code], priority=rng.random() < PRIORITY_SHARE)
    opening = {number: local(day, "07:30") for number in counters}
    opening[3] = local(day, "08:40")
    for number, counter_id in counters.items():
        at(opening[number], "open", counter_id=counter_id)
    at(local(day, "09:50"), "pause", counter_id=counters[6], minutes=20)
    at(local(day, "11:45"), "lunch")
    at(local(day, "13:30"), "afternoon")
    closing = local(day, "17:00")

    estimates: dict[int, tuple[int, int, int]] = {}
    paused_until: dict[int, datetime] = {}
    lunch = False
    while events:
        now, _, kind, data = heapq.heappop(events)
        if now > closing:
            break
        with database.transaction() as session:
            if kind == "arrive":
                issued = issuing.issue_ticket(
                    session,
                    service_id=data["service_id"],
                    now=now,
                    priority_category_id=category if data["priority"] else None,
                )
                e = issued.estimate
                if e["minutes"] is not None:
                    estimates[issued.ticket.id] = (
                        e["minutes"],
                        e["low_minutes"],
                        e["high_minutes"],
                    )
            elif kind == "open":
                counter = session.get(Counter, data["counter_id"])
                set_counter_status(session, counter, "open", now=now)
                at(now, "free", counter_id=counter.id)
            elif kind == "pause":
                paused_until[data["counter_id"]] = now + timedelta(minutes=data["minutes"])
            elif kind == "lunch":
                lunch = True
            elif kind == "afternoon":
                lunch = False
                for counter_id in counters.values():
                    at(now, "free", counter_id=counter_id)
            elif kind == "free":
                counter_id = data["counter_id"]
                if lunch:
                    continue
                if paused_until.get(counter_id, now) > now:
                    at(paused_until[counter_id], "free", counter_id=counter_id)
                    continue
                try:
                    ticket = lifecycle.call_next(session, counter_id=counter_id, now=now)
                except DomainError:
                    at(now + timedelta(seconds=IDLE_RETRY_SECONDS), "free", counter_id=counter_id)
                    continue
                if rng.random() < NO_SHOW_SHARE:
                    at(
                        now + timedelta(seconds=60),
                        "no_show",
                        counter_id=counter_id,
                        ticket_id=ticket.id,
                    )
                else:
                    typical = minutes_by_id[ticket.service_id] * 60
                    length = rng.lognormvariate(math.log(typical), 0.5)
                    at(
                        now + timedelta(seconds=length),
                        "finish",
                        counter_id=counter_id,
                        ticket_id=ticket.id,
                    )
            elif kind in ("finish", "no_show"):
                operation = lifecycle.finish if kind == "finish" else lifecycle.mark_no_show
                operation(session, ticket_id=data["ticket_id"], now=now)
                at(now, "free", counter_id=data["counter_id"])

    results = []
    with database.transaction() as session:
        rows = session.execute(
            select(Ticket.id, Ticket.issued_at, Ticket.called_at).where(
                Ticket.id.in_(list(estimates)), Ticket.called_at.is_not(None)
            )
        ).all()
    for ticket_id, issued_at, called_at in rows:
        minutes, low, high = estimates[ticket_id]
        real = (called_at - issued_at).total_seconds() / 60
        results.append((float(minutes), real, low, high))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--days", type=int, default=1)
    args = parser.parse_args()

    from server.app import create_app
    from server.config import Config
    from server.demo import load_demo
    from server.migrate import upgrade

    rng = random.Random(args.seed)
    results: list[tuple[float, float, int, int]] = []
    with database_url(args.db) as url, tempfile.TemporaryDirectory() as tmp:
        config = Config.from_env(
            {}, instance_path=Path(tmp), database_url=url, secret_key="backtest", testing=True
        )
        app = create_app(config)
        database = app.extensions["tthcc_db"]
        upgrade(database.engine)
        with database.transaction() as session:
            demo = load_demo(session)
        first = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # a Monday
        with app.app_context():
            for n in range(args.days):
                results += replay_day(database, demo, first + timedelta(days=n), rng)
        database.dispose()

    errors = [abs(e - r) for e, r, _, _ in results]
    inside = [low <= r <= high for _, r, low, high in results]
    real = [r for _, r, _, _ in results]
    print(f"wait estimate backtest ({args.db}, seed {args.seed}, {args.days} day(s)):")
    print(f"  tickets called: {len(results)}; real wait median {statistics.median(real):.1f} min,")
    print(f"  p90 {pct(real, 90):.1f} min, max {max(real):.1f} min")
    print(
        f"  |estimate - real|: median {statistics.median(errors):.1f} min, "
        f"p90 {pct(errors, 90):.1f} min"
    )
    print(f"  real wait inside the band shown: {100 * sum(inside) / len(inside):.0f} %")
    for low, high in ((0, 10), (10, 30), (30, 60), (60, 10_000)):
        part = [abs(e - r) for e, r, _, _ in results if low <= r < high]
        if part:
            print(
                f"  real {low:>3}-{high if high < 10_000 else '…':>3} min: n={len(part):4d}  "
                f"median {statistics.median(part):5.1f}  p90 {pct(part, 90):5.1f} min"
            )


if __name__ == "__main__":
    main()
