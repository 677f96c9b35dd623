"""Under gevent (the gunicorn worker), greenlets get the database in turn, first come first
served: a greenlet whose next request is already waiting must not keep the connection from
the others (server/fair_pool.py).

Each test runs the real Database of server/db.py in a gevent-patched interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
from gevent import monkey

monkey.patch_all()

import json
import sys

import gevent
from gevent.event import Event
from sqlalchemy import text

from server.db import Database

url, scenario = sys.argv[1], sys.argv[2]
db = Database(url)
with db.transaction() as s:
    s.execute(text("CREATE TABLE served (who INTEGER NOT NULL, n INTEGER NOT NULL)"))
out = {"pool": type(db.engine.pool).__name__}

if scenario == "rounds":
    # Keep-alive clients whose next request is always already there: nothing in between
    # makes the greenlet wait for I/O, and on SQLite nothing in the transaction does either.
    clients, requests = 8, 20
    done = [0] * clients
    spread = 0

    def client(i):
        global spread
        for n in range(requests):
            with db.transaction() as s:
                s.execute(text("INSERT INTO served (who, n) VALUES (:w, :n)"), {"w": i, "n": n})
            done[i] += 1
            spread = max(spread, max(done) - min(done))

    gevent.joinall([gevent.spawn(client, i) for i in range(clients)], raise_error=True)
    with db.transaction() as s:
        out["rows"] = s.execute(text("SELECT count(*) FROM served")).scalar_one()
    out["spread"] = spread

elif scenario == "handoff":
    # Every connection is taken; six greenlets queue up one after the other. One holder
    # then gives its connection back and at once asks again (its next request).
    pool = db.engine.pool
    limit = pool.size() + pool._max_overflow
    first_done, others_done, order = Event(), Event(), []

    def holder(k):
        with db.engine.connect() as c:
            c.exec_driver_sql("SELECT 1")
            (first_done if k == 0 else others_done).wait()
        if k == 0:
            with db.engine.connect() as c:
                order.append("again")
                c.exec_driver_sql("SELECT 1")

    def waiter(i):
        with db.engine.connect() as c:
            order.append(i)
            c.exec_driver_sql("SELECT 1")
            gevent.sleep(0.001)  # held across a yield, like an emit to connected displays

    holders = [gevent.spawn(holder, k) for k in range(limit)]
    gevent.sleep(0.2)
    waiters = []
    for i in range(6):
        waiters.append(gevent.spawn(waiter, i))
        gevent.sleep(0.005)
    first_done.set()
    gevent.joinall([holders[0], *waiters], raise_error=True)
    others_done.set()
    gevent.joinall(holders, raise_error=True)
    out["limit"], out["order"] = limit, order

elif scenario == "giving_up":
    # A waiter that times out, and one that is killed, leave the queue; nobody is stuck.
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    pool = db.engine.pool
    limit = pool.size() + pool._max_overflow
    done, outcomes = Event(), []

    def holder():
        with db.engine.connect() as c:
            c.exec_driver_sql("SELECT 1")
            done.wait()

    def waiter(name):
        try:
            with db.engine.connect() as c:
                c.exec_driver_sql("SELECT 1")
            outcomes.append((name, "served"))
        except PoolTimeout:
            outcomes.append((name, "timed out"))

    holders = [gevent.spawn(holder) for _ in range(limit)]
    gevent.sleep(0.2)
    killed = gevent.spawn(waiter, "killed")
    gevent.sleep(0.01)
    pool._timeout = 0.05
    waiter("impatient")
    pool._timeout = 30
    patient = gevent.spawn(waiter, "patient")
    gevent.sleep(0.01)
    killed.kill()
    done.set()
    gevent.joinall([*holders, patient], raise_error=True)
    waiter("after")
    out["outcomes"], out["limit"] = outcomes, limit
    out["queued"], out["free"] = len(pool._gate.waiters), pool._gate.free

db.dispose()
print(json.dumps(out))
"""


def run_green(database_url: str, scenario: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, database_url, scenario],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_greenlets_take_turns_on_sqlite_when_every_request_is_ready(tmp_path):
    """A greenlet never waits for I/O on SQLite: without a turn at checkout, the first
    client made all 20 of its transactions before the seven others made one (spread 20).
    (On PostgreSQL every query yields; the order is the server's, not the pool's.)"""
    out = run_green(f"sqlite:///{tmp_path / 'rounds.sqlite3'}", "rounds")
    assert out["pool"] == "TurnTakingQueuePool"
    assert out["rows"] == 8 * 20
    assert out["spread"] <= 3, out


def test_a_returned_connection_goes_to_the_longest_waiter(database_url):
    """SQLAlchemy's queue let the greenlet that had just returned the connection take it
    back ahead of six waiters, and sent a woken waiter to the back of the line: order
    ["again", 0, 2, 3, 4, 5, 1] on SQLite, ["again", 1, 2, 3, 4, 5, 0] on PostgreSQL."""
    out = run_green(database_url, "handoff")
    assert out["pool"] in ("FairQueuePool", "TurnTakingQueuePool")
    assert out["order"] == [0, 1, 2, 3, 4, 5, "again"], out


def test_waiters_that_give_up_leave_the_queue(database_url):
    out = run_green(database_url, "giving_up")
    assert out["outcomes"] == [
        ["impatient", "timed out"],
        ["patient", "served"],
        ["after", "served"],
    ]
    assert out["queued"] == 0
    assert out["free"] == out["limit"]  # every place came back
