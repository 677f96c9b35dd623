"""SQL statements per request on the hot paths, counted at the database driver.

Run by hand:

    .venv/bin/python benchmarks/statements.py --db postgres
    .venv/bin/python benchmarks/statements.py --db sqlite

Loads the demo centre on a fresh database and sends requests through the real app (Flask's
test client, so no HTTP parsing is counted): ticket issue without and with the kiosk's
printer (and with an Idempotency-Key, and its retry), a number from the phone (without
and with its key, and its retry), call-next at a counter whose citizen
was being served, start and finish. Every statement the engine sends (BEGIN/COMMIT
included, as the driver sees them) is counted per request; the median of 50 requests is
printed as one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from sqlalchemy import event

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import benchmarks.bench_env  # noqa: E402, F401  (open hall, no issuing limits)
from benchmarks.hall import app_in_process, database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()

    from server.demo import load_demo

    with database(args.db) as url:
        app = app_in_process(url, "statements")
        db = app.extensions["tthcc_db"]
        with db.transaction() as s:
            demo = load_demo(s, issue_kiosk_token=True)
        count = [0]

        @event.listens_for(db.engine, "before_cursor_execute")
        def _count(*_: object) -> None:
            count[0] += 1

        client = app.test_client()
        token = client.post(
            "/api/v1/auth/token", json={"username": "canbo1", "password": "tthcc-canbo"}
        ).get_json()["token"]
        staff = {"Authorization": f"Bearer {token}"}

        def measure(send) -> float:
            counts = []
            for i in range(args.requests):
                count[0] = 0
                response = send(i)
                assert response.status_code in (200, 201), response.get_json()
                counts.append(count[0])
            return statistics.median(counts)

        def kiosk_issue(key: str | None) -> object:
            headers = {"Authorization": f"Bearer {demo.kiosk_token}"}
            if key:
                headers["Idempotency-Key"] = key
            return client.post(
                "/api/v1/tickets",
                json={"service_id": 2, "station_id": demo.kiosk_station_id},
                headers=headers,
            )

        figures = {
            "issue": measure(lambda i: client.post("/api/v1/tickets", json={"service_id": 1})),
            "issue_kiosk_print": measure(lambda i: kiosk_issue(None)),
            # The kiosk page's request: a new Idempotency-Key per press (docs/numbering.md).
            "issue_kiosk_print_keyed": measure(lambda i: kiosk_issue(f"bench-key-{i:08d}")),
            # A retry of one of those presses: answered from the ticket, nothing issued.
            "issue_retry_replayed": measure(lambda i: kiosk_issue(f"bench-key-{i:08d}")),
        }
        from sqlalchemy import select

        from server.models import Service

        with db.transaction() as s:
            ht1 = s.execute(select(Service.id).where(Service.code == "HT1")).scalar_one()

        def phone_issue(phone: int, key: str | None) -> object:
            headers = {"Idempotency-Key": key} if key else {}
            return client.post(
                "/api/v1/remote-tickets",
                json={"service_id": ht1, "phone": f"09{phone:08d}"},
                headers=headers,
            )

        figures.update(
            {
                # One phone per request: the quotas (one number per phone) never refuse.
                "remote_issue": measure(lambda i: phone_issue(i, None)),
                "remote_issue_keyed": measure(lambda i: phone_issue(1000 + i, f"p-key-{i:010d}")),
                "remote_retry_replayed": measure(
                    lambda i: phone_issue(1000 + i, f"p-key-{i:010d}")
                ),
            }
        )
        current: list[int] = []
        client.post("/api/v1/counters/1/call-next", headers=staff)

        for _ in range(args.requests):
            ticket = client.get("/api/v1/counters/1").get_json()["current_ticket"]
            client.post(f"/api/v1/tickets/{ticket['id']}/start", headers=staff)
            count[0] = 0
            response = client.post("/api/v1/counters/1/call-next", headers=staff)
            current.append(count[0])
            assert response.status_code == 200, response.get_json()
        figures["call_next_after_serving"] = statistics.median(current)

        finishes = []
        for _ in range(args.requests):
            ticket = client.get("/api/v1/counters/1").get_json()["current_ticket"]
            if ticket["status"] == "called":
                client.post(f"/api/v1/tickets/{ticket['id']}/start", headers=staff)
            count[0] = 0
            response = client.post(f"/api/v1/tickets/{ticket['id']}/finish", headers=staff)
            finishes.append(count[0])
            assert response.status_code == 200, response.get_json()
            client.post("/api/v1/counters/1/call-next", headers=staff)
        figures["finish"] = statistics.median(finishes)
        db.dispose()
        print(json.dumps({"figure": "statements_per_request", "db": args.db, **figures}))


if __name__ == "__main__":
    main()
