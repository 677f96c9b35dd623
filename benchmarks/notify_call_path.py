"""What the notification triggers cost the call path (docs/notifications.md).

    .venv/bin/python benchmarks/notify_call_path.py [--db sqlite|postgres|both] [--calls 300]

The call path runs no statement of ours: the worker reads calls and no-shows from the
ticket trail. What it can still cost a call is the worker's own rounds on the same
database (on SQLite they take the write lock for a moment). So: the real app in this
process (Flask test client, no HTTP server), the demo centre, a day of tickets of which
every third has SMS notifications on (to a gateway on a closed port: every send fails
fast and is retried, the busiest case), counters calling the next ticket; calls alternate
in blocks between the worker running its rounds (every --interval seconds: 2 is the
default TTHCC_NOTIFY_INTERVAL_SECONDS, 0 back to back) and paused, so drift hits both
alike. Prints the median and p95 of call-next each way.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.hall import app_in_process, database, pct  # noqa: E402


def run(db: str, calls: int, interval: float) -> dict:
    import threading

    from sqlalchemy import func, select

    from server.demo import load_demo
    from server.models import NotifyMessage
    from server.notify.delivery import NotifyWorker, channels_from_config

    with database(db) as url:
        app = app_in_process(url, f"notify-{db}")
        app.config["TTHCC"].sms_gateway_url = "http://127.0.0.1:9"  # refused at once
        with app.extensions["tthcc_db"].transaction() as s:
            load_demo(s)
        client = app.test_client()
        token = client.post(
            "/api/v1/auth/token", json={"username": "admin", "password": "tthcc-admin"}
        ).get_json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        counters = (1, 2)  # HT1+HT2 and HT1+CT1 in the demo
        for c in counters:
            client.post(f"/api/v1/counters/{c}/status", json={"status": "open"}, headers=headers)
        for i in range(calls + 20):
            ticket = client.post("/api/v1/tickets", json={"service_id": 1}).get_json()
            if i % 3 == 0:
                r = client.post(
                    f"/api/v1/tickets/{ticket['public_code']}/notifications",
                    json={"channel": "sms", "phone": "0912345678", "consent": True},
                )
                assert r.status_code == 201, r.get_json()
        worker = NotifyWorker(
            app.extensions["tthcc_db"], channels_from_config(app.config["TTHCC"]), "bench"
        )
        running, stop = threading.Event(), threading.Event()
        rounds = 0

        def work() -> None:
            nonlocal rounds
            while not stop.is_set():
                if running.wait(0.05):
                    worker.run_once()
                    rounds += 1
                    stop.wait(interval)

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        timings: dict[bool, list[float]] = {True: [], False: []}
        current: dict[int, int] = {}
        block = 25
        for i in range(calls):
            on = (i // block) % 2 == 0
            (running.set if on else running.clear)()
            counter = counters[i % 2]
            body = (
                {"resolve": "served", "current_ticket_id": current[counter]}
                if counter in current
                else {}
            )
            t0 = time.perf_counter()
            r = client.post(f"/api/v1/counters/{counter}/call-next", json=body, headers=headers)
            timings[on].append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200, r.get_json()
            current[counter] = r.get_json()["id"]
        stop.set()
        thread.join()
        with app.extensions["tthcc_db"].transaction() as s:
            queued = s.scalar(select(func.count()).where(NotifyMessage.kind == "called"))
        app.extensions["tthcc_db"].dispose()
    return {
        "db": db,
        "calls_each": len(timings[True]),
        "interval_s": interval,
        "worker_rounds": rounds,
        "worker_running_median_ms": round(statistics.median(timings[True]), 3),
        "worker_paused_median_ms": round(statistics.median(timings[False]), 3),
        "worker_running_p95_ms": round(pct(timings[True], 95), 3),
        "worker_paused_p95_ms": round(pct(timings[False], 95), 3),
        "called_messages_queued": queued,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--interval", type=float, default=2.0)
    args = parser.parse_args()
    for db in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
        print(json.dumps(run(db, args.calls, args.interval)))


if __name__ == "__main__":
    main()
