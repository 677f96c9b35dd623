"""The province's pages at province size: statements and time per request.

Run by hand:

    .venv/bin/python benchmarks/province_pages.py --db postgres --centres 100
    .venv/bin/python benchmarks/province_pages.py --db sqlite --centres 100

Loads the demo centre and N more (`load_province_demo`), issues `--tickets` tickets per
centre today (some called and finished), then sends requests through the real app (Flask's
test client): the province board, the province report of this month (warm), the public
waits of one centre and the centres near it (the per-process 15 s cache cleared before each
request, so every one computes). Prints one JSON line: median statements and milliseconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import event

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import benchmarks.bench_env  # noqa: E402, F401  (open hall, no issuing limits)
from benchmarks.hall import app_in_process, database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--centres", type=int, default=100)
    parser.add_argument("--tickets", type=int, default=20)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()

    from server.demo import load_demo, load_province_demo
    from server.models import Counter, CounterService
    from server.services import public_waits, wait_estimates
    from server.services.auth import create_user

    with database(args.db) as url:
        app = app_in_process(url, "province-pages")
        db = app.extensions["tthcc_db"]
        with db.transaction() as s:
            load_demo(s)
            ids = load_province_demo(s, args.centres)
            create_user(s, username="tinh", password="tinh-12345", role="viewer")
            services = {
                cid: s.query(CounterService.service_id)
                .join(Counter, Counter.id == CounterService.counter_id)
                .filter(Counter.centre_id == cid)
                .first()[0]
                for cid in ids
            }
            for counter in s.query(Counter).filter(Counter.centre_id.in_(ids)):
                counter.status = "open"
        client = app.test_client()
        token = client.post(
            "/api/v1/auth/token", json={"username": "tinh", "password": "tinh-12345"}
        ).get_json()["token"]
        viewer = {"Authorization": f"Bearer {token}"}
        t0 = time.perf_counter()
        for cid in ids:
            for _ in range(args.tickets):
                client.post("/api/v1/tickets", json={"service_id": services[cid]})
        loading = time.perf_counter() - t0

        count = [0]

        @event.listens_for(db.engine, "before_cursor_execute")
        def _count(*_: object) -> None:
            count[0] += 1

        def measure(path: str, headers: dict | None = None) -> dict:
            statements, millis = [], []
            for _ in range(args.requests):
                public_waits.clear_cache()
                wait_estimates.clear_cache()
                count[0] = 0
                start = time.perf_counter()
                response = client.get(path, headers=headers or {})
                millis.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, response.get_data(as_text=True)[:300]
                statements.append(count[0])
            return {
                "statements": statistics.median(statements),
                "ms_median": round(statistics.median(millis), 1),
                "ms_max": round(max(millis), 1),
            }

        figures = {
            "board": measure("/api/v1/province/board", viewer),
            "board_page": measure("/province", viewer),
            "report_month": measure("/api/v1/province/reports", viewer),
            "public_centre_waits": measure(f"/api/v1/public/centres/{ids[0]}/waits"),
            "public_near": measure(f"/api/v1/public/waits/near?centre={ids[0]}"),
        }
        db.dispose()
        print(
            json.dumps(
                {
                    "figure": "province_pages",
                    "db": args.db,
                    "centres": args.centres + 1,
                    "tickets_today": (args.centres) * args.tickets,
                    "issue_seconds": round(loading, 1),
                    **figures,
                }
            )
        )


if __name__ == "__main__":
    main()
