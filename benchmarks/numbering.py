"""Ticket numbering when a service's range is full, on the real deployment.

Run by hand, not by the test suite:

    .venv/bin/python benchmarks/numbering.py                 # SQLite and PostgreSQL
    .venv/bin/python benchmarks/numbering.py --db postgres --refusals 500

For each database: gunicorn (one gevent worker) on the demo centre; every number of the
demo's first service (1001-1999) is issued over HTTP, nobody is called, so the range is
full. Then:

- ``fill``: the fast path (first pass of the day), median/p99 of ``POST /api/v1/tickets``;
- ``refusal_http``: ``--refusals`` more requests, each answered 503; median/p99;
- ``refusal_service``: the same refusal in process (``issue_ticket`` in a transaction, on
  the server's database), median/p99, and the SQL statements one refusal runs;
- ``after_wrap_service``: one number is freed (its ticket done) at the far end of the
  scan, the one just before the last number handed out; the allocation that finds it,
  median/p99 and statements (each rolled back, so every round finds the same number).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import benchmarks.bench_env  # noqa: E402, F401  (open hall, no issuing limits)
from benchmarks.hall import database, pct, server  # noqa: E402

SERVICE_ID = 1  # the demo's first service: numbers 1001-1999


def _figures(values: list[float]) -> dict:
    return {
        "median_ms": round(statistics.median(values), 3),
        "p99_ms": round(pct(values, 99), 3),
    }


def _fill(url: str) -> tuple[list[float], int]:
    """Issue until the service refuses; returns the latencies and how many were issued."""
    latencies = []
    with requests.Session() as s:
        while True:
            t0 = time.perf_counter()
            r = s.post(f"{url}/api/v1/tickets", json={"service_id": SERVICE_ID})
            elapsed = (time.perf_counter() - t0) * 1000
            if r.status_code == 503:
                return latencies, len(latencies)
            r.raise_for_status()
            latencies.append(elapsed)


def _http_refusals(url: str, n: int) -> tuple[list[float], dict]:
    latencies = []
    body: dict = {}
    with requests.Session() as s:
        for _ in range(n):
            t0 = time.perf_counter()
            r = s.post(f"{url}/api/v1/tickets", json={"service_id": SERVICE_ID})
            latencies.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 503, r.text
            body = r.json()
    return latencies, body


class _Statements:
    """Counts the SQL statements sent on an engine."""

    def __init__(self, engine) -> None:
        from sqlalchemy import event

        self.count = 0
        event.listen(engine, "before_cursor_execute", self._on_execute)

    def _on_execute(self, *args) -> None:
        self.count += 1


def _service_rounds(db_url: str, n: int) -> dict:
    """In process: refusals, then allocations after a wrap that find one far free number."""
    from sqlalchemy import select, update

    from server.db import Database
    from server.domain.clock import utcnow
    from server.domain.errors import NumberRangeExhausted
    from server.models import NumberSequence, Ticket
    from server.services.issuing import issue_ticket

    db = Database(db_url)
    statements = _Statements(db.engine)
    try:
        refusals, refusal_statements = [], []
        for _ in range(n):
            session = db.session_factory()
            before = statements.count
            t0 = time.perf_counter()
            try:
                issue_ticket(session, service_id=SERVICE_ID, now=utcnow())
                raise AssertionError("the range should be full")
            except NumberRangeExhausted:
                session.rollback()
            refusals.append((time.perf_counter() - t0) * 1000)
            refusal_statements.append(statements.count - before)
            session.close()

        # Free the number just before the last one handed out: the scan after the wrap
        # meets it last of all.
        with db.transaction() as session:
            last = session.execute(
                select(NumberSequence.last_number).where(NumberSequence.service_id == SERVICE_ID)
            ).scalar_one()
            session.execute(
                update(Ticket)
                .where(Ticket.issued_service_id == SERVICE_ID, Ticket.number == last - 1)
                .values(status="done")
            )
        allocations, allocation_statements, numbers = [], [], set()
        for _ in range(n):
            session = db.session_factory()
            before = statements.count
            t0 = time.perf_counter()
            issued = issue_ticket(session, service_id=SERVICE_ID, now=utcnow())
            session.flush()
            allocations.append((time.perf_counter() - t0) * 1000)
            allocation_statements.append(statements.count - before)
            numbers.add(issued.ticket.number)
            session.rollback()
            session.close()
        assert numbers == {last - 1}, numbers
    finally:
        db.dispose()
    return {
        "refusal_service": {
            **_figures(refusals),
            "statements": statistics.median(refusal_statements),
        },
        "after_wrap_service": {
            **_figures(allocations),
            "statements": statistics.median(allocation_statements),
            "number_found": last - 1,
        },
    }


def bench_numbering(db: str, refusals: int) -> dict:
    with database(db) as db_url, server(db_url) as (url, _):
        fill, issued = _fill(url)
        http, body = _http_refusals(url, refusals)
        return {
            "db": db,
            "range_size": issued,
            "fill": _figures(fill),
            "refusal_http": {**_figures(http), "error": body.get("error")},
            **_service_rounds(db_url, refusals),
        }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--refusals", type=int, default=200)
    args = parser.parse_args()
    for db in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
        result = bench_numbering(db, args.refusals)
        print(json.dumps({"benchmark": "numbering", **result}, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
