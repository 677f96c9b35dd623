"""Soak: many call attempts at a few counters from 2 processes; count double calls.

Run by hand, not by the test suite:

    .venv/bin/python benchmarks/soak.py                      # 100,000 attempts, PostgreSQL
    .venv/bin/python benchmarks/soak.py --db sqlite --attempts 20000

Two worker processes, each with `--threads` threads, press at 3 counters that share their
services, through the lifecycle store (`server.services.lifecycle`) on one database: call
next (with or without saying the current citizen was served), start, finish, no-show and
recall, as staff do; a feeder keeps people waiting. Afterwards the `ticket_events` trail is
replayed in order: a "double" is a call at a counter that still had a ticket called or
being served (the losing ticket of a double press), and the final state is checked for
tickets left called or serving that are no counter's current ticket. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import sys
import threading
import time
from collections import Counter as Tally
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import benchmarks.bench_env  # noqa: E402, F401  (open hall, no issuing limits)
from benchmarks.hall import database  # noqa: E402

COUNTERS = (1, 2, 3)


def _app(url: str):
    from server.app import create_app
    from server.config import Config

    config = Config.from_env(
        {},
        instance_path=Path("/tmp") / "tthcc-soak",
        database_url=url,
        secret_key="soak",
        testing=True,
        async_mode="threading",
    )
    return create_app(config)


def setup(url: str) -> None:
    from server.migrate import upgrade
    from tests.server.factories import create_centre, create_counter, create_service

    app = _app(url)
    db = app.extensions["tthcc_db"]
    upgrade(db.engine)
    with db.transaction() as s:
        centre = create_centre(s)
        a = create_service(s, centre, range_start=1, range_end=9999)
        b = create_service(s, centre, range_start=1, range_end=9999, policy="strict")
        for number in COUNTERS:
            create_counter(s, centre, [a, b] if number % 2 else [b, a], number=number)
    db.dispose()


def worker(url: str, seed: int, attempts: int, threads: int, results: multiprocessing.Queue):
    from server.domain.errors import DomainError
    from server.domain.lifecycle import Outcome, Resolution
    from server.services import issuing
    from server.services import lifecycle as ops

    app = _app(url)
    db = app.extensions["tthcc_db"]
    tally: Tally = Tally()
    lock = threading.Lock()

    def now() -> datetime:
        return datetime.now(UTC)

    def run(thread: int) -> None:
        rng = random.Random(seed * 1000 + thread)
        local: Tally = Tally()
        for _ in range(attempts // threads):
            counter = rng.choice(COUNTERS)
            press = rng.random()
            try:
                with db.transaction() as s:
                    if press < 0.25:  # the feeder: someone takes a number
                        issuing.issue_ticket(s, service_id=rng.choice((1, 2)), now=now())
                        local["issue"] += 1
                        continue
                    row = ops.load_counter(s, counter, now())
                    current = row.current_ticket_id if row else None
                    if press < 0.7 or current is None:
                        resolve = rng.choice((None, Resolution.SERVED, Resolution.NO_SHOW))
                        ops.call_next(
                            s,
                            counter_id=counter,
                            now=now(),
                            resolve=resolve,
                            resolve_for=current if resolve else None,
                        )
                        local["call_ok"] += 1
                    elif press < 0.8:
                        ops.start(s, ticket_id=current, now=now())
                        local["start_ok"] += 1
                    elif press < 0.9:
                        ops.finish(s, ticket_id=current, now=now(), outcome=Outcome.SERVED)
                        local["finish_ok"] += 1
                    elif press < 0.95:
                        ops.mark_no_show(s, ticket_id=current, now=now())
                        local["no_show_ok"] += 1
                    else:
                        ops.recall(s, ticket_id=current, now=now())
                        local["recall_ok"] += 1
            except DomainError as exc:
                local[f"refused:{exc.code}"] += 1
            except Exception as exc:  # a server error: counted, and shown
                local[f"error:{type(exc).__name__}"] += 1
        with lock:
            tally.update(local)

    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    db.dispose()
    results.put(dict(tally))


def check(url: str) -> dict:
    """Replay the trail: doubles, and tickets left at a counter that is not holding them."""
    from sqlalchemy import select

    from server.models import Counter, Ticket, TicketEvent

    app = _app(url)
    db = app.extensions["tthcc_db"]
    doubles = 0
    at_counter: dict[int, int | None] = {}
    calls = 0
    with db.transaction() as s:
        for e in s.execute(select(TicketEvent).order_by(TicketEvent.id)).scalars().yield_per(5000):
            if e.kind == "call":
                calls += 1
                if at_counter.get(e.counter_id) is not None:
                    doubles += 1
                at_counter[e.counter_id] = e.ticket_id
            elif e.kind in ("finish", "no_show", "transfer"):
                for c, t in at_counter.items():
                    if t == e.ticket_id:
                        at_counter[c] = None
        current = {c.id: c.current_ticket_id for c in s.execute(select(Counter)).scalars()}
        held = s.execute(
            select(Ticket.id, Ticket.counter_id).where(Ticket.status.in_(("called", "serving")))
        ).all()
    orphans = [t for t, c in held if current.get(c) != t]
    db.dispose()
    return {"calls_in_trail": calls, "doubles": doubles, "orphans": len(orphans)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--attempts", type=int, default=100_000, help="in all, both processes")
    parser.add_argument("--threads", type=int, default=4, help="per process")
    args = parser.parse_args()
    with database(args.db) as url:
        setup(url)
        results: multiprocessing.Queue = multiprocessing.Queue()
        started = time.perf_counter()
        procs = [
            multiprocessing.Process(
                target=worker, args=(url, seed, args.attempts // 2, args.threads, results)
            )
            for seed in (1, 2)
        ]
        for p in procs:
            p.start()
        tallies = [results.get() for _ in procs]
        for p in procs:
            p.join()
        seconds = time.perf_counter() - started
        total: Tally = Tally()
        for t in tallies:
            total.update(t)
        print(
            json.dumps(
                {
                    "figure": "soak",
                    "db": args.db,
                    "processes": 2,
                    "threads_per_process": args.threads,
                    "attempts": sum(total.values()),
                    "seconds": round(seconds, 1),
                    "outcomes": dict(sorted(total.items())),
                    **check(url),
                }
            )
        )


if __name__ == "__main__":
    main()
