"""Two counters never get the same ticket; numbers stay unique across processes."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections import Counter as Tally
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from server.domain.errors import NoTicketWaiting
from server.domain.lifecycle import Resolution
from server.models import Ticket, TicketEvent
from server.services import issuing
from server.services import lifecycle as ops
from tests.server.factories import create_category, create_centre, create_counter, create_service

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
THREADS = 24
TICKETS = 300


def test_parallel_call_next_never_hands_out_a_ticket_twice(database):
    with database.transaction() as s:
        centre = create_centre(s)
        a = create_service(s, centre)
        b = create_service(s, centre, range_start=2001, range_end=2999, policy="strict")
        cat = create_category(s, centre)
        counters = [
            create_counter(s, centre, [a, b] if i % 2 else [b, a]).id for i in range(THREADS)
        ]
        a_id, b_id, cat_id = a.id, b.id, cat.id
    for i in range(TICKETS):
        with database.transaction() as s:
            issuing.issue_ticket(
                s,
                service_id=a_id if i % 3 else b_id,
                priority_category_id=cat_id if i % 7 == 0 else None,
                now=T0 + timedelta(milliseconds=i),
            )

    called: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def counter_worker(counter_id: int) -> None:
        start.wait()
        step = 0
        while True:
            step += 1
            try:
                with database.transaction() as s:
                    ticket = ops.call_next(
                        s,
                        counter_id=counter_id,
                        now=T0 + timedelta(minutes=10, milliseconds=step),
                        resolve=Resolution.SERVED,
                    )
                    ticket_id = ticket.id
            except NoTicketWaiting:
                return
            except BaseException as exc:
                errors.append(exc)
                return
            with lock:
                called.append(ticket_id)

    threads = [threading.Thread(target=counter_worker, args=(c,)) for c in counters]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    duplicates = {tid: n for tid, n in Tally(called).items() if n > 1}
    assert duplicates == {}
    assert len(called) == TICKETS
    with database.transaction() as s:
        # Each ticket got exactly one "call" event, and none is left waiting.
        calls = s.execute(
            select(TicketEvent.ticket_id, func.count())
            .where(TicketEvent.kind == "call")
            .group_by(TicketEvent.ticket_id)
        ).all()
        assert len(calls) == TICKETS and all(n == 1 for _, n in calls)
        assert s.execute(select(func.count()).where(Ticket.status == "waiting")).scalar_one() == 0


ISSUER = """
import sys
from datetime import UTC, datetime
from server.db import Database
from server.services.issuing import issue_ticket
db = Database(sys.argv[1])
for i in range(int(sys.argv[3])):
    with db.transaction() as s:
        issue_ticket(s, service_id=int(sys.argv[2]), now=datetime.now(UTC))
"""


def test_numbers_stay_unique_with_several_processes(database, database_url):
    with database.transaction() as s:
        centre = create_centre(s)
        service_id = create_service(s, centre, range_start=1, range_end=9999).id
    per_process, processes = 60, 4
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", ISSUER, database_url, str(service_id), str(per_process)],
            cwd=ROOT,
            stderr=subprocess.PIPE,
        )
        for _ in range(processes)
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    with database.transaction() as s:
        numbers = (
            s.execute(select(Ticket.number).where(Ticket.service_id == service_id)).scalars().all()
        )
    assert len(numbers) == per_process * processes
    assert sorted(numbers) == list(range(1, per_process * processes + 1))


@pytest.mark.parametrize("runs", [3])
def test_startup_and_demo_are_idempotent_and_safe_concurrently(empty_database_url, runs):
    """Several processes migrate a brand-new database and load the demo at the same time."""
    env_code = (
        "import sys\nfrom server.db import Database\nfrom server.migrate import upgrade\n"
        "from server.demo import load_demo\n"
        "db = Database(sys.argv[1])\nupgrade(db.engine)\n"
        "with db.transaction() as s:\n    load_demo(s)\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", env_code, empty_database_url], cwd=ROOT, stderr=subprocess.PIPE
        )
        for _ in range(runs)
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    from server.db import Database
    from server.models import Centre, Counter, Service, User

    database = Database(empty_database_url)
    with database.transaction() as s:
        assert s.execute(select(func.count()).select_from(Centre)).scalar_one() == 1
        assert s.execute(select(func.count()).select_from(Service)).scalar_one() >= 8
        assert s.execute(select(func.count()).select_from(Counter)).scalar_one() >= 6
        assert (
            s.execute(
                select(func.count()).select_from(User).where(User.username == "admin")
            ).scalar_one()
            == 1
        )
    database.dispose()
