"""How fast reports come back over a year of a busy centre. Run by hand, not by the tests:

    .venv/bin/python benchmarks/reports.py                 # SQLite and PostgreSQL
    .venv/bin/python benchmarks/reports.py --db sqlite --tickets 500000
    .venv/bin/python benchmarks/reports.py --keep /tmp/year.sqlite3   # reuse a generated file

It migrates a fresh database, loads the demo centre, then writes a year of tickets and
their ``ticket_events`` (and ratings, when the ratings table exists) with bulk Core inserts:
~2,000 tickets per working day, 250 working days, arrivals peaking mid-morning and
mid-afternoon. Then it times the standard reports (a month, a quarter, a year; by service,
staff and day) and a staff scorecard, each run several times; medians are printed.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import benchmarks.bench_env  # noqa: E402, F401  (open hall, no issuing limits)

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

from sqlalchemy import insert, inspect, select, text  # noqa: E402

from server.db import Database  # noqa: E402
from server.demo import load_demo  # noqa: E402
from server.migrate import upgrade  # noqa: E402
from server.models import Counter, Service, Ticket, TicketEvent, User  # noqa: E402
from server.services.reports import build_report, period_for  # noqa: E402

YEAR = 2025
LOCAL = timedelta(hours=7)


@contextmanager
def database(kind: str, keep: str | None):
    if kind == "sqlite":
        if keep:
            yield f"sqlite:///{keep}"
            return
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/bench.sqlite3"
        return
    from sqlalchemy import create_engine

    name = f"tthcc_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def working_days(year: int) -> list[date]:
    day, out = date(year, 1, 1), []
    while day.year == year:
        if day.weekday() < 5:
            out.append(day)
        day += timedelta(days=1)
    return out


def _arrival(rng: random.Random) -> float:
    """Seconds after 07:30 local: peaks at 09:00 and 14:30, lunch break 11:30–13:30."""
    if rng.random() < 0.62:
        return max(0.0, min(4 * 3600 - 60, rng.gauss(1.5 * 3600, 0.8 * 3600)))
    return 6 * 3600 + max(0.0, min(3.5 * 3600 - 60, rng.gauss(1.0 * 3600, 0.9 * 3600)))


def generate(db: Database, tickets_total: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    with db.transaction() as s:
        centre_id = load_demo(s).centre_id
    with db.session_factory() as s:
        services = (
            s.execute(select(Service.id).where(Service.centre_id == centre_id)).scalars().all()
        )
        counters = s.execute(select(Counter).where(Counter.centre_id == centre_id)).scalars().all()
        by_service: dict[int, list[int]] = {sid: [] for sid in services}
        for c in counters:
            for link in c.service_links:
                by_service[link.service_id].append(c.id)
        staff_of = {}
        for c in counters:
            user = s.execute(select(User.id).where(User.username == f"canbo{c.number}")).scalar()
            staff_of[c.id] = user
    has_ratings = inspect(db.engine).has_table("ratings")
    days = working_days(YEAR)
    per_day = tickets_total // len(days)
    ticket_id = 10_000_000
    event_id = 10_000_000
    rating_rows: list[dict] = []
    started = time.perf_counter()
    for day in days:
        day_start = (
            datetime.combine(day, datetime.min.time(), tzinfo=UTC)
            - LOCAL
            + timedelta(hours=7, minutes=30)
        )
        tickets, events = [], []
        numbers: dict[int, int] = {}
        for _ in range(per_day):
            ticket_id += 1
            sid = rng.choice(services)
            numbers[sid] = numbers.get(sid, 0) + 1
            issued = day_start + timedelta(seconds=_arrival(rng))
            counter = rng.choice(by_service[sid] or [counters[0].id])
            staff = staff_of[counter]
            called = issued + timedelta(seconds=rng.expovariate(1 / 900))
            fate = rng.random()
            rows = [("issue", None, "waiting", issued, None, None, {})]
            rows.append(("call", "waiting", "called", called, counter, staff, {}))
            status = "done"
            finished = None
            if fate < 0.07:
                rows.append(
                    (
                        "no_show",
                        "called",
                        "no_show",
                        called + timedelta(seconds=90),
                        counter,
                        staff,
                        {},
                    )
                )
                status = "no_show"
            elif fate < 0.10:
                target = rng.choice([x for x in services if x != sid])
                rows.append(
                    (
                        "transfer",
                        "called",
                        "waiting",
                        called + timedelta(seconds=60),
                        None,
                        staff,
                        {"from_service_id": sid, "to_service_id": target},
                    )
                )
                status = "waiting"
            else:
                started_at = called + timedelta(seconds=rng.uniform(15, 90))
                if rng.random() < 0.7:
                    rows.append(("start", "called", "serving", started_at, counter, staff, {}))
                finished = started_at + timedelta(seconds=rng.lognormvariate(6.0, 0.6))
                rows.append(("finish", "serving", "done", finished, counter, staff, {}))
            tickets.append(
                {
                    "id": ticket_id,
                    "centre_id": centre_id,
                    "issued_service_id": sid,
                    "service_id": sid,
                    "day": day,
                    "number": numbers[sid],
                    "cycle": 0,
                    "display_number": str(numbers[sid]),
                    "public_code": uuid.uuid4().hex[:16],
                    "is_priority": False,
                    "status": status,
                    "issued_at": issued,
                    "queued_at": issued,
                    "called_at": called,
                    "finished_at": finished,
                    "counter_id": counter,
                    "staff_id": staff,
                    "call_count": 1,
                    "transfer_count": 0,
                }
            )
            for kind, before, after, at, cid, uid, data in rows:
                event_id += 1
                events.append(
                    {
                        "id": event_id,
                        "ticket_id": ticket_id,
                        "centre_id": centre_id,
                        "service_id": sid,
                        "kind": kind,
                        "from_status": before,
                        "to_status": after,
                        "at": at,
                        "actor": "bench",
                        "counter_id": cid,
                        "staff_id": uid,
                        "data": data,
                    }
                )
            if has_ratings and finished is not None and rng.random() < 0.4:
                level = rng.choices([5, 4, 3, 2, 1], [55, 30, 9, 4, 2])[0]
                rating_rows.append(
                    {
                        "ticket_id": ticket_id,
                        "centre_id": centre_id,
                        "counter_id": counter,
                        "staff_id": staff,
                        "service_id": sid,
                        "level": level,
                        "pressed_at": finished + timedelta(seconds=5),
                    }
                )
        with db.engine.begin() as conn:
            conn.execute(insert(Ticket), tickets)
            conn.execute(insert(TicketEvent), events)
    if rating_rows:
        _insert_ratings(db, rating_rows)
    with db.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    print(
        f"  generated {per_day * len(days):,} tickets, {event_id - 10_000_000:,} events,"
        f" {len(rating_rows):,} ratings in {time.perf_counter() - started:.0f} s"
    )
    return centre_id


def _insert_ratings(db: Database, rows: list[dict]) -> None:
    from server.models.rating import Rating

    for row in rows:
        row.update(
            raw_key=str(row["level"]),
            scale=5,
            criterion="overall",
            source="pad",
            received_at=row["pressed_at"],
            idempotency_key=uuid.uuid4().hex,
        )
    with db.engine.begin() as conn:
        for i in range(0, len(rows), 20_000):
            conn.execute(insert(Rating), rows[i : i + 20_000])


def timed(fn, runs: int = 5) -> tuple[float, float]:
    """Median wall-clock and CPU seconds (CPU: this process, i.e. SQLite's work too)."""
    fn()  # warm caches, as a server that has been up a while would have
    walls, cpus = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus)


def measure(db: Database, centre_id: int) -> None:
    from server.services.scorecards import build_scorecards

    cases = [
        ("month by service", "month", date(YEAR, 10, 15), "service"),
        ("month by staff", "month", date(YEAR, 10, 15), "staff"),
        ("month by day", "month", date(YEAR, 10, 15), "day"),
        ("week by counter", "week", date(YEAR, 10, 15), "counter"),
        ("quarter by field", "quarter", date(YEAR, 10, 15), "field"),
        ("year by service", "year", date(YEAR, 6, 1), "service"),
        ("year by agency", "year", date(YEAR, 6, 1), "agency"),
    ]
    for name, kind, anchor, by in cases:
        period = period_for(kind, anchor)

        def run(period=period, by=by):
            with db.transaction() as s:  # commits the facts of settled days, as the API does
                return build_report(s, [centre_id], period, by)

        t0 = time.perf_counter()
        report = run()
        first = time.perf_counter() - t0
        wall, cpu = timed(run)
        print(
            f"  {name:<18} {wall * 1000:7.0f} ms median ({cpu * 1000:5.0f} ms CPU)"
            f"   first run {first * 1000:6.0f} ms   ({report['total']['issued']:,} tickets)"
        )
    period = period_for("month", date(YEAR, 10, 15))

    def cards():
        with db.transaction() as s:
            return build_scorecards(s, [centre_id], period)

    wall, cpu = timed(cards)
    print(f"  {'month scorecards':<18} {wall * 1000:7.0f} ms median ({cpu * 1000:5.0f} ms CPU)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--tickets", type=int, default=500_000)
    parser.add_argument("--keep", help="SQLite file to create or reuse")
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    for kind in kinds:
        print(f"{kind}:")
        with database(kind, args.keep if kind == "sqlite" else None) as url:
            db = Database(url)
            upgrade(db.engine)
            with db.session_factory() as s:
                existing = s.execute(select(Ticket.id).limit(1)).first()
            if existing is None:
                centre_id = generate(db, args.tickets)
            else:
                with db.session_factory() as s:
                    centre_id = s.execute(select(Ticket.centre_id).limit(1)).scalar_one()
            measure(db, centre_id)
            db.dispose()


if __name__ == "__main__":
    main()
