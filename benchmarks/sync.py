"""A centre box's catch-up after a busy day offline (issue 13, items 2 and 5).

A centre on SQLite serves 2,000 citizens (issue, call, start, finish, rating: ~12,000
captured changes) while the hub is unreachable; then `tthcc sync push` (its own process)
delivers everything to the hub — gunicorn with one gevent worker on PostgreSQL (or SQLite
with --hub-db sqlite). Prints one JSON line: the catch-up time and its counts. The target
is < 60 s.

    .venv/bin/python benchmarks/sync.py [--tickets 2000] [--batch 500] [--hub-db postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import benchmarks.bench_env  # noqa: E402, F401  (open hall, no issuing limits)

# A day of 2,000 citizens: the demo centre without its daily caps and opening hours.
os.environ.setdefault("TTHCC_DEMO_HOURS", "0")

from benchmarks.hall import database, server  # noqa: E402


def busy_day(url: str, instance: Path, tickets: int, box_token: str) -> int:
    """The centre box's day, through the real services: one transaction per step."""
    from sqlalchemy import text

    from server.app import create_app
    from server.config import Config
    from server.demo import load_demo
    from server.migrate import upgrade
    from server.sync.capture import box_id_of, enable
    from tests.server.sync_hall import serve_citizens

    app = create_app(Config.from_env({}, instance_path=instance, database_url=url))
    db = app.extensions["tthcc_db"]
    upgrade(db.engine)
    with db.transaction() as s:
        centre_id = load_demo(s).centre_id
        enable(s, box_id_of(box_token), "BN-KINHBAC")
    # A day from 07:30 local, one citizen every 13 s (served_citizens adds 5 s each).
    start = datetime(2026, 11, 25, 0, 30, tzinfo=UTC)
    for chunk in range(0, tickets, 250):
        serve_citizens(
            db, centre_id, min(250, tickets - chunk), start + timedelta(seconds=5 * chunk)
        )
    with db.engine.connect() as conn:
        events = conn.execute(text("SELECT count(*) FROM sync_outbox")).scalar()
    db.dispose()
    return events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--hub-db", choices=["postgres", "sqlite"], default="postgres")
    args = parser.parse_args()

    from sqlalchemy import create_engine, select, text

    from server.domain.clock import utcnow
    from server.models import Centre
    from server.sync.ingest import add_box

    with database(args.hub_db) as hub_url, server(hub_url) as (url, _worker):
        hub = create_engine(hub_url)
        from sqlalchemy.orm import Session

        with Session(hub) as s, s.begin():
            centre = s.scalars(select(Centre).where(Centre.code == "BN-KINHBAC")).one()
            token = add_box(s, centre, utcnow())[1]
        with tempfile.TemporaryDirectory() as tmp:
            box_url = f"sqlite:///{tmp}/box.sqlite3"
            started = time.monotonic()
            events = busy_day(box_url, Path(tmp), args.tickets, token)
            day_seconds = time.monotonic() - started
            env = dict(
                os.environ,
                TTHCC_INSTANCE_PATH=tmp,
                TTHCC_DATABASE_URL=box_url,
                TTHCC_SECRET_KEY="bench",
                TTHCC_LOG_LEVEL="WARNING",
                TTHCC_SYNC_HUB_URL=url,
                TTHCC_SYNC_TOKEN=token,
            )
            started = time.monotonic()
            out = subprocess.run(
                [sys.executable, "-m", "server.cli", "sync", "push", "--batch", str(args.batch)],
                env=env,
                cwd=ROOT,
                check=True,
                capture_output=True,
                text=True,
            )
            catch_up = time.monotonic() - started
            result = json.loads(out.stdout.strip().splitlines()[-1])
        with hub.connect() as conn:
            stored = conn.execute(text("SELECT count(*) FROM sync_inbox")).scalar()
            distinct = conn.execute(text("SELECT count(DISTINCT seq) FROM sync_inbox")).scalar()
        hub.dispose()
    print(
        json.dumps(
            {
                "figure": "sync-catch-up",
                "hub_db": args.hub_db,
                "box_db": "sqlite",
                "tickets": args.tickets,
                "events": events,
                "batch": args.batch,
                "batches": result["batches"],
                "catch_up_seconds": round(catch_up, 2),
                "push_seconds": result["seconds"],
                "events_per_second": round(events / catch_up),
                "stored_at_hub": stored,
                "duplicates_at_hub": stored - distinct,
                "lost": events - distinct,
                "day_generation_seconds": round(day_seconds, 1),
                "includes": "catch_up: the push process from start to exit; push: its batches only",
                "id": uuid.uuid4().hex[:8],
            }
        )
    )


if __name__ == "__main__":
    main()
