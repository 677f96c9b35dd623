"""The province at scale (issue 13, item 5). Run by hand, never by the test suite:

    .venv/bin/python benchmarks/province.py report [--tickets 12000000] [--centres 168]
    .venv/bin/python benchmarks/province.py report-live [--per-day 274] [--centres 168]
    .venv/bin/python benchmarks/province.py catch-up [--tickets 2000]
    .venv/bin/python benchmarks/province.py all

`report`: a fresh PostgreSQL database `tthcc_bench_<random>` (dropped at the end), migrated,
the demo centre and `--centres - 1` province centres (`load_province_demo`); a year (2025)
of tickets written by the database itself (`generate_series`, one INSERT ... SELECT per
table): ~`--tickets` tickets over the year's working days, their ratings (40 % of the
served), and their report facts (`report_ticket_facts`, one row per ticket) with the days'
markers (`report_days`), i.e. the roll-ups as the app keeps them once a day has settled.
The facts are written by SQL from the same per-ticket draw as the tickets; before that, on
a sample of days, the benchmark writes the tickets *and* their `ticket_events` trail, folds
them with the app's own `report_facts.fold_days`, and requires the app's facts to equal the
SQL's row for row (`facts_match`). Then the standard province report
(`build_province_report`, as `GET /api/v1/province/reports`) is timed for the year and for a
month: first run, then the median of `--runs`; from the roll-ups (as the app) and, before
them, from every ticket's facts (`--direct-runs`, the computation the roll-ups replaced),
with the two reports required equal (`equals_direct`).

`catch-up`: `benchmarks/sync.py` (a centre box's busy day offline delivered to a
PostgreSQL hub), its JSON line re-printed with events/s.

Every figure is printed as one JSON line with the command that produced it and the load
of the machine (the 1-minute load average before and after).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# benchmarks.bench_env (open hall, no issuing limits) and benchmarks.hall, which imports it,
# are imported by main() only: the test of this module must not change the suite's setting.

YEAR = 2025
#: Served / no-show / transferred shares of the tickets (as benchmarks/reports.py).
NO_SHOW, TRANSFER = 0.07, 0.03


def load() -> float:
    return os.getloadavg()[0]


def command() -> str:
    return " ".join([".venv/bin/python", "benchmarks/province.py", *sys.argv[1:]])


# --- the draw: one row per ticket, from which tickets, events, facts and ratings follow --


def draw_sql(first: date, last: date, per_day: int, first_id: int) -> str:
    """CREATE the UNLOGGED table `bench_draw`: per centre, working day of first..last and
    ticket of the day, everything the ticket's trail needs (times rounded to the second,
    so epoch arithmetic in the app's fold and in `facts_sql` agree exactly)."""
    return f"""
    CREATE UNLOGGED TABLE bench_draw AS
    WITH days AS (
        SELECT d::date AS day FROM generate_series('{first}'::date, '{last}'::date, '1 day') d
        WHERE extract(isodow FROM d) < 6
    ), slots AS (
        SELECT c.centre_id, c.services, c.counters, days.day, n
        FROM bench_centres c CROSS JOIN days CROSS JOIN generate_series(1, {per_day}) n
    ), drawn AS (
        SELECT s.*,
               {first_id} + row_number() OVER (ORDER BY s.day, s.centre_id, s.n) AS id,
               random() AS fate, random() AS started_p, random() AS rated_p,
               -- 07:30 local (00:30 UTC) + up to 8 h, waits up to ~45 min, service 2-20 min
               (s.day + time '00:30') AT TIME ZONE 'UTC'
                 + make_interval(secs => floor(random() * 28800)) AS issued,
               make_interval(secs => floor(random() * random() * 2700)) AS wait,
               make_interval(secs => 15 + floor(random() * 75)) AS to_start,
               make_interval(secs => 120 + floor(random() * 1080)) AS serve,
               1 + floor(random() * 5)::int AS level_draw
        FROM slots s
    )
    SELECT id::int AS id, centre_id, day, n,
           services[1 + mod(n, cardinality(services))] AS service_id,
           services[1 + mod(n + 1, cardinality(services))] AS to_service_id,
           counters[1 + mod(n, cardinality(counters))] AS counter_id,
           issued, issued + wait AS called,
           CASE WHEN fate < {NO_SHOW} THEN 'no_show'
                WHEN fate < {NO_SHOW + TRANSFER} THEN 'transfer' ELSE 'served' END AS fate,
           CASE WHEN fate >= {NO_SHOW + TRANSFER} AND started_p < 0.7
                THEN issued + wait + to_start END AS started,
           CASE WHEN fate >= {NO_SHOW + TRANSFER}
                THEN issued + wait + to_start + serve END AS finished,
           CASE WHEN fate >= {NO_SHOW + TRANSFER} AND rated_p < 0.4
                THEN (ARRAY[5, 5, 4, 4, 3])[level_draw] END AS level
    FROM drawn
    """


TICKETS_SQL = """
INSERT INTO tickets (id, centre_id, issued_service_id, service_id, day, number, cycle,
    display_number, public_code, is_priority, status, issued_at, queued_at, called_at,
    started_at, finished_at, counter_id, call_count, transfer_count, outcome)
SELECT id, centre_id, service_id,
       CASE WHEN fate = 'transfer' THEN to_service_id ELSE service_id END, day, n, 0,
       n::text, 'b' || id::text, false,
       CASE fate WHEN 'no_show' THEN 'no_show' WHEN 'transfer' THEN 'waiting' ELSE 'done' END,
       issued, issued, called, started, finished, counter_id, 1,
       CASE WHEN fate = 'transfer' THEN 1 ELSE 0 END,
       CASE WHEN fate = 'served' THEN 'served' END
FROM bench_draw
"""

EVENTS_SQL = """
INSERT INTO ticket_events (ticket_id, centre_id, service_id, kind, from_status, to_status,
    at, actor, counter_id, data, outcome)
SELECT id, centre_id, service_id, 'issue', NULL, 'waiting', issued, 'bench', NULL,
       '{}'::json, NULL FROM bench_draw
UNION ALL
SELECT id, centre_id, service_id, 'call', 'waiting', 'called', called, 'bench', counter_id,
       '{}'::json, NULL FROM bench_draw
UNION ALL
SELECT id, centre_id, service_id, 'no_show', 'called', 'no_show', called + interval '90 s',
       'bench', counter_id, '{}'::json, NULL FROM bench_draw WHERE fate = 'no_show'
UNION ALL
SELECT id, centre_id, service_id, 'transfer', 'called', 'waiting', called + interval '60 s',
       'bench', NULL,
       json_build_object('from_service_id', service_id, 'to_service_id', to_service_id), NULL
FROM bench_draw WHERE fate = 'transfer'
UNION ALL
SELECT id, centre_id, service_id, 'start', 'called', 'serving', started, 'bench',
       counter_id, '{}'::json, NULL FROM bench_draw WHERE started IS NOT NULL
UNION ALL
SELECT id, centre_id, service_id, 'finish', 'serving', 'done', finished, 'bench',
       counter_id, '{}'::json, 'served' FROM bench_draw WHERE finished IS NOT NULL
"""

#: The facts `report_facts.fold_select` folds from the trail EVENTS_SQL writes.
FACTS_SELECT = """
SELECT id AS ticket_id, centre_id, day,
       extract(epoch FROM issued)::float8 AS issue_at, service_id AS issue_service,
       extract(epoch FROM called)::float8 - extract(epoch FROM issued)::float8 AS wait,
       counter_id AS call_counter, NULL::int AS call_staff,
       extract(epoch FROM finished)::float8 AS finish_at,
       extract(epoch FROM finished)::float8
         - extract(epoch FROM coalesce(started, called))::float8 AS service_time,
       CASE WHEN finished IS NOT NULL THEN service_id END AS fin_service,
       CASE WHEN finished IS NOT NULL THEN counter_id END AS fin_counter,
       NULL::int AS fin_staff,
       CASE WHEN finished IS NOT NULL THEN 'served' END AS fin_outcome,
       (fate = 'no_show')::int AS n_no_show,
       CASE WHEN fate = 'no_show' THEN service_id END AS ns_service,
       CASE WHEN fate = 'no_show' THEN counter_id END AS ns_counter,
       NULL::int AS ns_staff,
       (fate = 'transfer')::int AS n_transfer,
       CASE WHEN fate = 'transfer' THEN service_id END AS tr_service,
       NULL::int AS tr_staff
FROM bench_draw
"""

RATINGS_SQL = """
INSERT INTO ratings (centre_id, counter_id, ticket_id, service_id, raw_key, level, scale,
    criterion, source, pressed_at, received_at, idempotency_key)
SELECT centre_id, counter_id, id, service_id, level::text, level, 5, 'overall', 'pad',
       finished + interval '5 s', finished + interval '5 s', 'b' || id::text
FROM bench_draw WHERE level IS NOT NULL
"""


def fact_columns() -> list[str]:
    from server.services.report_facts import FACT_COLUMNS

    return ["ticket_id", *FACT_COLUMNS]


def facts_match(conn: Any) -> dict[str, int]:
    """Rows of the app's folded facts not in FACTS_SELECT's, and the other way round."""
    cols = ", ".join(fact_columns())
    app = f"SELECT {cols} FROM report_ticket_facts"
    ours = f"SELECT {cols} FROM ({FACTS_SELECT}) f"
    return {
        "app_rows": conn.exec_driver_sql("SELECT count(*) FROM report_ticket_facts").scalar(),
        "sql_rows": conn.exec_driver_sql("SELECT count(*) FROM bench_draw").scalar(),
        "only_app": conn.exec_driver_sql(f"SELECT count(*) FROM ({app} EXCEPT {ours}) x").scalar(),
        "only_sql": conn.exec_driver_sql(f"SELECT count(*) FROM ({ours} EXCEPT {app}) x").scalar(),
    }


def setup_centres(url: str, centres: int) -> tuple[Any, list[int]]:
    """Migrate, load the demo centre and `centres - 1` province centres; the table
    `bench_centres(centre_id, services[], counters[])` the draw picks from."""
    from sqlalchemy import create_engine

    from server.db import Database
    from server.demo import load_demo, load_province_demo
    from server.migrate import upgrade

    db = Database(url)
    upgrade(db.engine)
    with db.transaction() as s:
        ids = [load_demo(s).centre_id, *load_province_demo(s, centres - 1)]
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            """CREATE UNLOGGED TABLE bench_centres AS
            SELECT c.id AS centre_id,
                   (SELECT array_agg(id ORDER BY id) FROM services s WHERE s.centre_id = c.id)
                     AS services,
                   (SELECT array_agg(id ORDER BY id) FROM counters k WHERE k.centre_id = c.id)
                     AS counters
            FROM centres c"""
        )
    db.dispose()
    return engine, ids


def check_folding(per_day: int, centres: int) -> dict[str, Any]:
    """`check_folding_on` a fresh database of its own."""
    from benchmarks.hall import database

    with database("postgres") as url:
        return check_folding_on(url, per_day, centres)


def check_folding_on(url: str, per_day: int, centres: int) -> dict[str, Any]:
    """On a sample (two weeks of December 2024, every centre): tickets and their events
    written by SQL, facts folded by the app's fold_days; compared with FACTS_SELECT."""
    from sqlalchemy.orm import Session

    from server.services.report_facts import fold_days

    engine, ids = setup_centres(url, centres)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(draw_sql(date(2024, 12, 2), date(2024, 12, 13), per_day, 1))
            conn.exec_driver_sql(TICKETS_SQL)
            conn.exec_driver_sql(EVENTS_SQL)
        with Session(engine) as s, s.begin():
            fold_days(s, ids, date(2024, 12, 1), date(2024, 12, 14), date(2026, 1, 1))
        with engine.connect() as conn:
            return facts_match(conn)
    finally:
        engine.dispose()


def generate_year(engine: Any, per_day: int) -> dict[str, Any]:
    """The year's tickets, ratings, facts and day markers, each one INSERT ... SELECT."""
    timings = {}
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        # Bulk load: the foreign keys (triggers) are not checked row by row; the draw only
        # names centres, services and counters that exist.
        conn.exec_driver_sql("SET session_replication_role = replica")
        steps = [
            ("draw", draw_sql(date(YEAR, 1, 1), date(YEAR, 12, 31), per_day, 1)),
            ("tickets", TICKETS_SQL),
            (
                "facts",
                f"INSERT INTO report_ticket_facts ({', '.join(fact_columns())}) "
                f"SELECT {', '.join(fact_columns())} FROM ({FACTS_SELECT}) f",
            ),
            ("ratings", RATINGS_SQL),
            (
                "days",
                f"""INSERT INTO report_days (centre_id, day, folded_at)
                SELECT c.id, d::date, now() FROM centres c CROSS JOIN
                generate_series('{YEAR}-01-01'::date, '{YEAR}-12-31'::date, '1 day') d""",
            ),
            ("analyze", "ANALYZE"),
        ]
        for name, sql in steps:
            t0 = time.perf_counter()
            conn.exec_driver_sql(sql)
            timings[name] = round(time.perf_counter() - t0, 1)
        counts = {
            table: conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()
            for table in ("tickets", "report_ticket_facts", "ratings", "report_days")
        }
    return {"seconds": timings, "rows": counts}


def time_report(
    engine: Any,
    kind: str,
    anchor: date,
    runs: int,
    source: str = "rollup",
    now: datetime | None = None,
) -> dict[str, Any]:
    """`build_province_report` from `source` ("rollup": the roll-ups, as the API; "direct":
    every ticket's facts, as before the roll-ups): the first run, then `runs` more."""
    from sqlalchemy.orm import Session

    from server.services.province_reports import build_province_report
    from server.services.reports import period_for

    period = period_for(kind, anchor)
    now = now or datetime(YEAR + 1, 3, 1, 3, tzinfo=UTC)

    # "rollup-cache": as the API, a ReportCache kept between the runs (the first run fills
    # it; today's figures then reused, as for up to a minute in the app); "rollup-closed":
    # only the closed days' sums kept (today computed live every run: the API's cost once
    # a minute).
    cache = None
    if source in ("rollup-cache", "rollup-closed"):
        from server.services.province_reports import ReportCache

        cache = ReportCache(60.0 if source == "rollup-cache" else 0.0)

    def run() -> dict:
        with Session(engine) as s, s.begin():  # commits closed days' roll-ups, as the API
            return build_province_report(
                s, period, now=now, source=source.split("-")[0], cache=cache
            )

    t0 = time.perf_counter()
    report = run()
    first = time.perf_counter() - t0
    walls = []
    for _ in range(runs):
        t0 = time.perf_counter()
        run()
        walls.append(time.perf_counter() - t0)
    issued = sum(r["issued"] for g in report["groups"] for r in g["rows"])
    return {
        "report": report,
        "period": kind,
        "source": source,
        "first_ms": round(first * 1000),
        "median_ms": round(statistics.median(walls) * 1000) if walls else None,
        "max_ms": round(max(walls) * 1000) if walls else None,
        "runs": runs,
        "tickets_in_period": issued,
        "centres": sum(len(g["rows"]) for g in report["groups"]),
    }


def report_figure(args: argparse.Namespace) -> None:
    load_before = load()
    days = sum(
        1
        for d in range((date(YEAR, 12, 31) - date(YEAR, 1, 1)).days + 1)
        if date.fromordinal(date(YEAR, 1, 1).toordinal() + d).weekday() < 5
    )
    per_day = max(1, round(args.tickets / (days * args.centres)))
    from benchmarks.hall import database

    check = check_folding(min(per_day, 40), args.centres)
    print(json.dumps({"figure": "province-facts-check", "command": command(), **check}), flush=True)
    if check["only_app"] or check["only_sql"]:
        sys.exit("the SQL facts differ from the app's folding: the figures would not hold")
    with database("postgres") as url:
        engine, _ = setup_centres(url, args.centres)
        generated = generate_year(engine, per_day)
        print(
            json.dumps(
                {"figure": "province-year-generated", "per_centre_day": per_day, **generated}
            ),
            flush=True,
        )
        # Before: every ticket's facts ("direct", the computation before the roll-ups),
        # the month first (quick, printed even if the year is stopped). After: the
        # roll-ups, the year first (its first run rolls the whole year up: cold), then
        # the month (its first run reads October's month rows rolled by the year's).
        # Both reports must be equal (floats to 1e-6: a mean is a sum in another order).
        periods = {"month": (date(YEAR, 10, 15), 200), "year": (date(YEAR, 6, 1), 1000)}
        plan = [] if args.direct_runs < 0 else [("direct", k) for k in ("month", "year")]
        plan += [("rollup", "year"), ("rollup", "month")]
        reports: dict[tuple[str, str], Any] = {}
        for source, kind in plan:
            anchor, target = periods[kind]
            runs = args.runs if source == "rollup" else args.direct_runs
            figure = time_report(engine, kind, anchor, runs, source)
            reports[(source, kind)] = _rounded(figure.pop("report"))
            if source == "rollup" and ("direct", kind) in reports:
                figure["equals_direct"] = reports[("direct", kind)] == reports[(source, kind)]
            print(
                json.dumps(
                    {
                        "figure": f"province-report-{kind}-{source}",
                        "command": command(),
                        "db": "postgresql",
                        **figure,
                        "target_ms": target,
                        "load_1min": [round(load_before, 1), round(load(), 1)],
                    }
                ),
                flush=True,
            )
        with engine.connect() as conn:
            sizes = {
                table: conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()
                for table in ("report_rollups", "report_rollup_days", "report_rollup_months")
            }
        print(json.dumps({"figure": "province-rollup-rows", **sizes}), flush=True)
        engine.dispose()


def live_figure(args: argparse.Namespace) -> None:
    """The current month with today live: January 2026 seen on Wednesday 28 January at
    15:00 (Hà Nội), every centre of the province at `per_day` tickets a working day. The
    days up to the 26th as the app keeps settled days (tickets, facts, day markers), the
    27th (yesterday: folded on the fly when rolled) and today as the hall writes them
    (tickets and their events); ratings for all. Timed from the roll-ups (first run: rolls
    the 1st to the 27th; then closed days' rows + today computed live) and directly."""
    from benchmarks.hall import database

    load_before = load()
    today = date(2026, 1, 28)
    now = datetime(2026, 1, 28, 8, 0, tzinfo=UTC)
    with database("postgres") as url:
        engine, _ = setup_centres(url, args.centres)
        timings = {}
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql("SET session_replication_role = replica")
            cols = ", ".join(fact_columns())
            steps = [
                ("draw_settled", draw_sql(date(2026, 1, 1), date(2026, 1, 26), args.per_day, 1)),
                ("tickets", TICKETS_SQL),
                (
                    "facts",
                    f"INSERT INTO report_ticket_facts ({cols}) SELECT {cols} FROM "
                    f"({FACTS_SELECT}) f",
                ),
                ("ratings", RATINGS_SQL),
                (
                    "days",
                    "INSERT INTO report_days (centre_id, day, folded_at) SELECT c.id, "
                    "d::date, now() FROM centres c CROSS JOIN generate_series('2026-01-01'::date, "
                    "'2026-01-26'::date, '1 day') d",
                ),
                ("drop", "DROP TABLE bench_draw"),
            ]
            for name, sql in steps:
                t0 = time.perf_counter()
                conn.exec_driver_sql(sql)
                timings[name] = round(time.perf_counter() - t0, 1)
            first_id = conn.exec_driver_sql("SELECT max(id) FROM tickets").scalar() + 1
            for name, sql in (
                ("draw_live", draw_sql(date(2026, 1, 27), today, args.per_day, first_id)),
                ("live_tickets", TICKETS_SQL),
                ("live_events", EVENTS_SQL),
                ("live_ratings", RATINGS_SQL),
                ("analyze", "ANALYZE"),
            ):
                t0 = time.perf_counter()
                conn.exec_driver_sql(sql)
                timings[name] = round(time.perf_counter() - t0, 1)
            today_tickets = conn.exec_driver_sql(
                f"SELECT count(*) FROM tickets WHERE day = '{today}'"
            ).scalar()
            events = conn.exec_driver_sql("SELECT count(*) FROM ticket_events").scalar()
        print(
            json.dumps(
                {
                    "figure": "province-live-month-generated",
                    "per_centre_day": args.per_day,
                    "seconds": timings,
                    "tickets_today": today_tickets,
                    "ticket_events_yesterday_and_today": events,
                }
            ),
            flush=True,
        )
        if args.today_only:
            today_figure(engine, today, args.runs, args.finished_per_refresh, load_before)
            engine.dispose()
            return
        reports = {}
        for source in ("rollup", "rollup-closed", "rollup-cache", "direct"):
            runs = args.runs if source != "direct" else args.direct_runs
            figure = time_report(engine, "month", today, runs, source, now=now)
            reports[source] = _rounded(figure.pop("report"))
            if source != "rollup":
                figure["equals_rollup"] = reports[source] == reports["rollup"]
            print(
                json.dumps(
                    {
                        "figure": f"province-report-current-month-{source}",
                        "command": command(),
                        "db": "postgresql",
                        "today": today.isoformat(),
                        **figure,
                        "target_ms": 200,
                        "load_1min": [round(load_before, 1), round(load(), 1)],
                    }
                ),
                flush=True,
            )
        engine.dispose()


def today_figure(engine: Any, today: date, runs: int, finished: int, load_before: float) -> None:
    """Today's figures of every centre, the once-a-minute refresh of the report (docs/
    province.md, "Today's figures"): **before**, computed from scratch from every event of
    the day (`report_rollups.compute_days`, what the report did up to commit 13-today);
    **after**, `report_today.today_days`: the first refresh folds every ticket finished so
    far (once), then each refresh folds what finished since the last one and adds the rest
    live. `finished` tickets are held back (their finish events removed) before the first
    fold and put back in each timed refresh's transaction, rolled back after it: what a
    minute of the province's day finishes (168 centres x 274 a day / 8 h ~ 96). Every
    result is required equal to the from-scratch computation."""
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from server.services.report_rollups import compute_days
    from server.services.report_today import today_days

    tz = "Asia/Ho_Chi_Minh"
    with Session(engine) as s:
        ids = list(s.scalars(text("SELECT id FROM centres ORDER BY id")))
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE bench_held AS SELECT e.* FROM ticket_events e JOIN tickets t "
            f"ON t.id = e.ticket_id WHERE t.day = '{today}' AND e.kind = 'finish' "
            f"ORDER BY random() LIMIT {int(finished)}"
        )
        conn.exec_driver_sql("DELETE FROM ticket_events WHERE id IN (SELECT id FROM bench_held)")

    def rounded(figures: dict) -> dict:
        return _rounded({k: f.values() for k, f in figures.items() if any(f.counts.values())})

    def backend_cpu(pid: int) -> float:
        """CPU seconds (user + system) of a PostgreSQL backend so far (/proc, same host)."""
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    cpu: list[tuple[float, float]] = []  # (database, Python) CPU seconds of each run

    def timed(fn: Any, *, put_back: bool, commit: bool) -> tuple[float, dict, dict]:
        with Session(engine) as s, s.begin():
            # One backend does the work (no parallel workers): its CPU time is the
            # database's share, the figure that does not depend on the machine's load.
            s.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
            pid = s.scalar(text("SELECT pg_backend_pid()"))
            if put_back:
                s.execute(text("INSERT INTO ticket_events SELECT * FROM bench_held"))
            db0, py0 = backend_cpu(pid), time.process_time()
            t0 = time.perf_counter()
            out = fn(s)
            wall = time.perf_counter() - t0
            cpu.append((backend_cpu(pid) - db0, time.process_time() - py0))
            check = rounded(compute_days(s, ids, today, today, today, tz))
            if not commit:
                s.rollback()
        return wall, rounded(out), check

    def scratch(s: Any) -> dict:
        return compute_days(s, ids, today, today, today, tz)

    def incremental(s: Any) -> dict:
        return today_days(s, ids, today, today, tz)

    def figure(name: str, walls: list[float], equal: bool, **extra: Any) -> None:
        runs = cpu[-len(walls) :]
        kept = runs[1:] or runs
        extra["db_cpu_ms"] = round(statistics.median(d for d, _ in kept) * 1000)
        extra["py_cpu_ms"] = round(statistics.median(p for _, p in kept) * 1000)
        extra["first_db_cpu_ms"] = round(runs[0][0] * 1000)
        print(
            json.dumps(
                {
                    "figure": f"province-today-refresh-{name}",
                    "command": command(),
                    "db": "postgresql",
                    "centres": len(ids),
                    "first_ms": round(walls[0] * 1000),
                    "median_ms": round(statistics.median(walls[1:] or walls) * 1000),
                    "max_ms": round(max(walls[1:] or walls) * 1000),
                    "runs": len(walls),
                    "equals_scratch": equal,
                    **extra,
                    "load_1min": [round(load_before, 1), round(load(), 1)],
                }
            ),
            flush=True,
        )

    before = [timed(scratch, put_back=True, commit=False) for _ in range(runs + 1)]
    figure("before", [w for w, _, _ in before], True, finished_since_last=finished)
    want = before[0][1]
    wall, got, check = timed(incremental, put_back=False, commit=True)  # folds everything
    with engine.connect() as conn:
        folded = conn.exec_driver_sql("SELECT count(*) FROM report_live_tickets").scalar()
    figure("after-first-fold", [wall], got == check, tickets_folded=folded)
    after = [timed(incremental, put_back=True, commit=False) for _ in range(runs + 1)]
    figure(
        "after",
        [w for w, _, _ in after],
        all(g == want == c for _, g, c in after),
        finished_since_last=finished,
    )
    idle = [timed(incremental, put_back=False, commit=False) for _ in range(runs + 1)]
    figure(
        "after-nothing-new",
        [w for w, _, _ in idle],
        all(g == c for _, g, c in idle),
        finished_since_last=0,
    )


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def catch_up_figure(args: argparse.Namespace) -> None:
    load_before = load()
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "sync.py"),
            "--tickets",
            str(args.tickets),
            "--hub-db",
            "postgres",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    line = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        json.dumps(
            {
                "figure": "province-catch-up",
                "command": command(),
                "tickets": line["tickets"],
                "events": line["events"],
                "seconds": line["catch_up_seconds"],
                "events_per_second": line["events_per_second"],
                "duplicates_at_hub": line["duplicates_at_hub"],
                "lost": line["lost"],
                "target_seconds": 60,
                "load_1min": [round(load_before, 1), round(load(), 1)],
                "sync_py": line,
            }
        ),
        flush=True,
    )


# --- live fan-out: the hub with many screens connected ---------------------------------


def _client_process(
    url: str, cafile: str, centres: list[int], out: Any, go: Any, stop: Any
) -> None:
    """Socket.IO clients in one process (asyncio): each connects to /hall through nginx
    (WebSocket only, as the hub's pages), subscribes to its centre as hall.js does, and
    notes the wall-clock time each `ticket.called` arrives. Puts ("ready", n) when all are
    connected, then ("calls", [(ticket id, time)...], cpu seconds) after `stop`."""
    import asyncio
    import resource
    import ssl

    import aiohttp
    import socketio

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    received: list[tuple[int, float]] = []

    # One HTTP session and one TLS context (verifying the hub's certificate) for all the
    # process's clients: a context each would load the CA store per client (~1 MB each).
    tls = ssl.create_default_context(cafile=cafile)

    async def one(centre_id: int, gate: asyncio.Semaphore, http: Any) -> Any:
        sio = socketio.AsyncClient(
            http_session=http, websocket_extra_options={"ssl": tls}, reconnection_delay=0.5
        )

        async def on_called(payload: dict) -> None:
            received.append((payload["ticket"]["id"], time.time()))

        async def on_connect() -> None:
            await sio.emit("subscribe", {"centre_id": centre_id}, namespace="/hall")

        sio.on("ticket.called", on_called, namespace="/hall")
        sio.on("connect", on_connect, namespace="/hall")
        async with gate:
            await sio.connect(url, namespaces=["/hall"], transports=["websocket"], wait_timeout=30)
        return sio

    async def run() -> None:
        gate = asyncio.Semaphore(20)
        http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, ssl=tls))
        clients = await asyncio.gather(
            *(one(c, gate, http) for c in centres), return_exceptions=True
        )
        ok = [c for c in clients if not isinstance(c, BaseException)]
        out.put(("ready", len(ok), len(clients) - len(ok)))
        while not stop.is_set():
            await asyncio.sleep(0.2)
        await asyncio.sleep(2)  # the last calls' events
        await asyncio.gather(*(c.disconnect() for c in ok), return_exceptions=True)
        await http.close()

    go.wait()
    asyncio.run(run())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out.put(("calls", received, usage.ru_utime + usage.ru_stime, usage.ru_maxrss))


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants (from /proc)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            with contextlib.suppress(OSError):
                todo += [int(c) for c in (task / "children").read_text().split()]
    return found


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def _redis_stats(url: str) -> dict[str, int]:
    import redis

    info = redis.Redis.from_url(url).info()
    keys = ("total_commands_processed", "total_net_input_bytes", "total_net_output_bytes")
    return {k: int(info[k]) for k in keys}


def fanout_figure(args: argparse.Namespace) -> None:
    """The hub (nginx, `--processes` gunicorn processes, Redis, PostgreSQL) with the
    screens of `--centres` centres connected; a day replayed at `--speed`."""
    import multiprocessing
    import random
    import shutil
    import tempfile
    import threading
    import uuid

    import requests
    from sqlalchemy import create_engine, text

    from benchmarks.hall import PG_ADMIN, cpu_seconds, pct
    from server.hub.local import LocalHub

    load_before = load()
    # gunicorn's gevent worker takes 1,000 connections unless told (its default).
    os.environ["GUNICORN_CMD_ARGS"] = f"--worker-connections {args.worker_connections}"
    name = f"tthcc_bench_{uuid.uuid4().hex[:8]}"
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    hub = LocalHub(
        Path(tempfile.mkdtemp(prefix="tthcc-fanout-")),
        url,
        processes=args.processes,
        # Two connections per screen (client and upstream), and room for the requests.
        nginx_worker_connections=max(
            4096, 2 * (args.counter_pages + args.displays + args.kiosks) + 1024
        ),
    )
    clients = args.counter_pages + args.displays + args.kiosks
    procs: list[Any] = []
    try:
        hub.prepare(demo_args=("demo", "--province", str(args.centres - 1)))
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("UPDATE counters SET status = 'open'"))
            rows = conn.execute(
                text(
                    "SELECT c.id, array_agg(DISTINCT s.id), array_agg(DISTINCT k.id)"
                    " FROM centres c JOIN services s ON s.centre_id = c.id"
                    " JOIN counters k ON k.centre_id = c.id GROUP BY c.id ORDER BY c.id"
                )
            ).all()
        engine.dispose()
        centres = {cid: (sorted(svc), sorted(cnt)) for cid, svc, cnt in rows}
        ids = list(centres)
        hub.start()
        http = requests.Session()
        http.trust_env = False
        http.verify = str(hub.certificate)
        token = http.post(
            f"{hub.url}/api/v1/auth/token", json={"username": "admin", "password": "tthcc-admin"}
        ).json()["token"]
        staff = {"Authorization": f"Bearer {token}"}

        # Screens spread over the centres round-robin, then over the client processes.
        screens = [ids[i % len(ids)] for i in range(clients)]
        ctx = multiprocessing.get_context("spawn")
        out, go, stop = ctx.Queue(), ctx.Event(), ctx.Event()
        for k in range(args.client_procs):
            p = ctx.Process(
                target=_client_process,
                args=(
                    hub.url,
                    str(hub.certificate),
                    screens[k :: args.client_procs],
                    out,
                    go,
                    stop,
                ),
            )
            p.start()
            procs.append(p)
        t0 = time.perf_counter()
        go.set()
        connected = failed = 0
        for _ in procs:
            _, ok, bad = out.get(timeout=600)
            connected, failed = connected + ok, failed + bad
        connect_seconds = time.perf_counter() - t0
        per_centre = {c: screens.count(c) for c in ids}

        redis_before = _redis_stats(hub.redis_url)
        pids = {a.name: _tree(a.process.pid) for a in hub.apps}
        pids["redis"] = [hub._redis.pid] if hub._redis else []
        pids["nginx"] = _tree(hub._nginx.pid) if hub._nginx else []
        cpu_before = {n: sum(cpu_seconds(p) for p in ps) for n, ps in pids.items()}

        # The day at `speed`: each centre's tickets spread over 8 hours, issued and called
        # at the same rate (a call waits for a ticket at its centre).
        rate = args.centres * args.tickets_per_day / (8 * 3600) * args.speed
        issue_ms: list[float] = []
        call_ms: list[float] = []
        sent: dict[int, tuple[float, int]] = {}  # ticket id -> (call sent at, centre)
        waiting: dict[int, int] = dict.fromkeys(ids, 0)
        current: dict[int, int] = {}
        lock = threading.Lock()
        deadline = time.monotonic() + args.seconds
        rng = random.Random(7)

        statuses: collections.Counter[str] = collections.Counter()

        def post(s: requests.Session, what: str, *a: Any, **kw: Any) -> Any:
            """The request, its status counted; a refused connection counted, not raised."""
            try:
                r = s.post(*a, timeout=30, **kw)
            except requests.RequestException as exc:
                statuses[f"{what} {type(exc).__name__}"] += 1
                return None
            statuses[f"{what} {r.status_code}"] += 1
            return r

        def issue_loop(share: int) -> None:
            s = requests.Session()
            s.trust_env, s.verify = False, str(hub.certificate)
            due = time.monotonic()
            while time.monotonic() < deadline:
                due += args.threads / rate
                centre = rng.choice(ids)
                start = time.perf_counter()
                r = post(
                    s,
                    "issue",
                    f"{hub.url}/api/v1/tickets",
                    json={"service_id": rng.choice(centres[centre][0])},
                )
                if r is not None and r.status_code in (200, 201):
                    issue_ms.append((time.perf_counter() - start) * 1000)
                    with lock:
                        waiting[centre] += 1
                time.sleep(max(0.0, due - time.monotonic()))

        def call_loop(share: int) -> None:
            s = requests.Session()
            s.trust_env, s.verify = False, str(hub.certificate)
            due = time.monotonic() + 5  # calls start when some are waiting
            time.sleep(5)
            while time.monotonic() < deadline:
                due += args.threads / rate
                with lock:
                    ready = [c for c in ids if waiting[c] > 0 and c % args.threads == share]
                    centre = rng.choice(ready) if ready else None
                    if centre is not None:
                        waiting[centre] -= 1
                if centre is not None:
                    counter = rng.choice(centres[centre][1])
                    body = (
                        {"resolve": "served", "current_ticket_id": current[counter]}
                        if counter in current
                        else {}
                    )
                    at = time.time()
                    start = time.perf_counter()
                    r = post(
                        s,
                        "call-next",
                        f"{hub.url}/api/v1/counters/{counter}/call-next",
                        json=body,
                        headers=staff,
                    )
                    if r is not None and r.status_code == 200:
                        call_ms.append((time.perf_counter() - start) * 1000)
                        current[counter] = r.json()["id"]
                        sent[r.json()["id"]] = (at, centre)
                time.sleep(max(0.0, due - time.monotonic()))

        threads = [threading.Thread(target=issue_loop, args=(i,)) for i in range(args.threads)]
        threads += [threading.Thread(target=call_loop, args=(i,)) for i in range(args.threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        cpu_after = {
            n: sum(cpu_seconds(p) for p in ps if Path(f"/proc/{p}").exists())
            for n, ps in pids.items()
        }
        rss = {
            n: round(sum(_rss_mb(p) for p in ps if Path(f"/proc/{p}").exists()), 1)
            for n, ps in pids.items()
        }
        redis_after = _redis_stats(hub.redis_url)
        stop.set()
        latencies: list[float] = []
        received = client_cpu = 0.0
        client_rss = []
        for _ in procs:
            _, calls, cpu, maxrss = out.get(timeout=120)
            client_cpu += cpu
            client_rss.append(round(maxrss / 1024, 1))
            for ticket_id, at in calls:
                if ticket_id in sent:
                    latencies.append((at - sent[ticket_id][0]) * 1000)
            received += len(calls)
        expected = sum(per_centre[c] for _, c in sent.values())
        elapsed = args.seconds
        figure = {
            "figure": "province-fanout",
            "command": command(),
            "processes": args.processes,
            "worker_connections": args.worker_connections,
            "centres": args.centres,
            "clients": {
                "counter_pages": args.counter_pages,
                "displays": args.displays,
                "kiosks": args.kiosks,
                "connected": connected,
                "failed": failed,
                "client_processes": args.client_procs,
                "connect_seconds": round(connect_seconds, 1),
            },
            "replay": {
                "speed": args.speed,
                "seconds": args.seconds,
                "tickets_per_centre_day": args.tickets_per_day,
                "target_rate_per_s": round(rate, 2),
                "issued": len(issue_ms),
                "called": len(call_ms),
            },
            "call_to_display_ms": {
                "p50": round(pct(latencies, 50), 1) if latencies else None,
                "p99": round(pct(latencies, 99), 1) if latencies else None,
                "max": round(max(latencies), 1) if latencies else None,
                "deliveries": len(latencies),
                "expected": expected,
                "target_p99": 100,
            },
            "issue_ms": {
                "p50": round(pct(issue_ms, 50), 1) if issue_ms else None,
                "p99": round(pct(issue_ms, 99), 1) if issue_ms else None,
                "target_p99": 50,
            },
            "responses": dict(sorted(statuses.items())),
            "call_next_ms": {
                "p50": round(pct(call_ms, 50), 1) if call_ms else None,
                "p99": round(pct(call_ms, 99), 1) if call_ms else None,
            },
            "cpu_percent": {
                n: round(100 * (cpu_after[n] - cpu_before[n]) / elapsed, 1) for n in pids
            },
            "rss_mb": rss,
            "client_processes_cpu_percent_total": round(100 * client_cpu / elapsed, 1),
            "client_processes_rss_mb": client_rss,
            "redis": {k: redis_after[k] - redis_before[k] for k in redis_after},
            "load_1min": [round(load_before, 1), round(load(), 1)],
            "machine": f"{os.cpu_count()} cores, shared with other work",
        }
        print(json.dumps(figure), flush=True)
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
        hub.stop()
        shutil.rmtree(hub.folder, ignore_errors=True)
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="figure", required=True)
    rep = sub.add_parser("report", help="the province report over a year and a month (PostgreSQL)")
    rep.add_argument("--tickets", type=int, default=12_000_000, help="tickets in the year")
    rep.add_argument("--centres", type=int, default=168)
    rep.add_argument("--runs", type=int, default=5, help="timed runs after the first")
    rep.add_argument(
        "--direct-runs",
        type=int,
        default=1,
        help="timed runs after the first of the direct computation (before the roll-ups; "
        "a year takes minutes); -1: skip it",
    )
    live = sub.add_parser(
        "report-live", help="the current month with today live, 168 centres (PostgreSQL)"
    )
    live.add_argument("--centres", type=int, default=168)
    live.add_argument("--per-day", type=int, default=274, help="tickets per centre and day")
    live.add_argument("--runs", type=int, default=5, help="timed runs after the first")
    live.add_argument("--direct-runs", type=int, default=3)
    live.add_argument(
        "--today-only",
        action="store_true",
        help="only today's refresh: from scratch (before) and incremental (after)",
    )
    live.add_argument("--finished-per-refresh", type=int, default=96)
    cat = sub.add_parser("catch-up", help="a centre box's busy day offline, to a PostgreSQL hub")
    cat.add_argument("--tickets", type=int, default=2000)
    fan = sub.add_parser("fanout", help="the hub with many screens, a day at 10x speed")
    fan.add_argument("--centres", type=int, default=20)
    fan.add_argument("--counter-pages", type=int, default=200)
    fan.add_argument("--displays", type=int, default=48)
    fan.add_argument("--kiosks", type=int, default=40)
    fan.add_argument("--processes", type=int, default=2, help="gunicorn processes")
    fan.add_argument(
        "--worker-connections", type=int, default=1000, help="per gunicorn process (its default)"
    )
    fan.add_argument("--client-procs", type=int, default=2, help="Socket.IO client processes")
    fan.add_argument("--seconds", type=int, default=120, help="replay duration")
    fan.add_argument("--speed", type=float, default=10.0)
    fan.add_argument("--tickets-per-day", type=int, default=290, help="per centre")
    fan.add_argument("--threads", type=int, default=2, help="issuing (and calling) threads")
    every = sub.add_parser("all", help="report and catch-up with their defaults")
    every.set_defaults(tickets=None, centres=168, runs=5, direct_runs=1)
    args = parser.parse_args(argv)
    import benchmarks.bench_env  # noqa: F401  (open hall, no issuing limits)

    if args.figure in ("report", "all"):
        report_figure(argparse.Namespace(**{**vars(args), "tickets": args.tickets or 12_000_000}))
    if args.figure == "report-live":
        live_figure(args)
    if args.figure == "fanout":
        fanout_figure(args)
    if args.figure in ("catch-up", "all"):
        catch_up_figure(argparse.Namespace(**{**vars(args), "tickets": args.tickets or 2000}))


if __name__ == "__main__":
    main()
