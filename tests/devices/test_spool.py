"""Durable spool and forwarder: order, exactly-once marking, survival of SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from devices.spool import Forwarder, Spool, SpoolItem

ROOT = Path(__file__).resolve().parents[2]
WAIT = 5.0


def wait_until(predicate, timeout: float = WAIT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


@pytest.fixture
def spool(tmp_path):
    spool = Spool(tmp_path / "spool.sqlite")
    yield spool
    spool.close()


class Server:
    """A fake server: records what it received, fails while ``down`` is true."""

    def __init__(self, fail_first: int = 0) -> None:
        self.received: list[str] = []
        self.attempts: list[str] = []
        self.fail_first = fail_first
        self.lock = threading.Lock()

    def __call__(self, item: SpoolItem) -> bool:
        with self.lock:
            self.attempts.append(item.key)
            if len(self.attempts) <= self.fail_first:
                return False
            self.received.append(item.key)
            return True


def test_put_returns_a_uuid_key_and_items_come_back_in_order(spool):
    keys = [spool.put("rating", {"counter_id": n, "label": "Rất hài lòng"}) for n in range(5)]
    assert all(len(k) == 32 and int(k, 16) >= 0 for k in keys)
    assert len(set(keys)) == 5
    items = spool.pending()
    assert [i.key for i in items] == keys
    assert items[0].payload == {"counter_id": 0, "label": "Rất hài lòng"}
    assert items[0].kind == "rating"
    assert items[0].created_at.tzinfo is not None
    assert [i.key for i in spool.pending(limit=2)] == keys[:2]


def test_mark_delivered_once(spool):
    first, second = spool.put("rating", {}), spool.put("rating", {})
    assert spool.mark_delivered(first) is True
    assert spool.mark_delivered(first) is False
    assert spool.mark_delivered("no-such-key") is False
    assert [i.key for i in spool.pending()] == [second]
    assert spool.pending_count() == 1


def test_spool_file_is_wal_with_full_sync(spool, tmp_path):
    assert spool._db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert spool._db.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL


def test_items_persist_across_reopen(tmp_path):
    path = tmp_path / "spool.sqlite"
    first = Spool(path)
    keys = [first.put("rating", {"n": n}) for n in range(3)]
    first.mark_delivered(keys[0])
    first.close()
    again = Spool(path)
    try:
        assert [i.key for i in again.pending()] == keys[1:]
        assert again.put("rating", {"n": 3}) not in keys
    finally:
        again.close()


def test_purge_delivered(spool):
    old = spool.put("rating", {})
    keep = spool.put("rating", {})
    spool.mark_delivered(old)
    assert spool.purge_delivered(timedelta(days=1)) == 0
    assert spool.purge_delivered(timedelta(seconds=-1)) == 1
    assert [i.key for i in spool.pending()] == [keep]


def test_payload_must_be_json(spool):
    with pytest.raises(TypeError):
        spool.put("rating", {"at": object()})


def test_forwarder_delivers_in_order_exactly_once(spool):
    server = Server()
    keys = [spool.put("rating", {"n": n}) for n in range(20)]
    forwarder = Forwarder(spool, server, retry_initial=0.01, retry_max=0.05)
    forwarder.start()
    try:
        assert wait_until(lambda: spool.pending_count() == 0)
        more = spool.put("rating", {"n": 20})  # arrives while idle: sent without polling
        assert wait_until(lambda: server.received[-1:] == [more])
    finally:
        forwarder.close()
        forwarder.close()
    assert server.received == [*keys, more]
    assert server.attempts == server.received


def test_failed_item_is_retried_and_nothing_overtakes_it(spool):
    server = Server(fail_first=4)
    keys = [spool.put("rating", {"n": n}) for n in range(3)]
    forwarder = Forwarder(spool, server, retry_initial=0.01, retry_max=0.02)
    forwarder.start()
    try:
        assert wait_until(lambda: spool.pending_count() == 0)
    finally:
        forwarder.close()
    assert server.attempts == [keys[0]] * 5 + keys[1:]
    assert server.received == keys


def test_send_exceptions_count_as_failures(spool, caplog):
    calls = []

    def flaky(item: SpoolItem) -> bool:
        calls.append(item.key)
        if len(calls) < 3:
            raise ConnectionError("server unreachable")
        return True

    key = spool.put("rating", {})
    forwarder = Forwarder(spool, flaky, retry_initial=0.01, retry_max=0.02)
    forwarder.start()
    try:
        assert wait_until(lambda: spool.pending_count() == 0)
    finally:
        forwarder.close()
    assert calls == [key] * 3
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1  # one warning for the outage, not one per retry
    assert "ConnectionError" in warnings[0]


def test_wake_skips_the_back_off(spool):
    server = Server(fail_first=1)
    spool.put("rating", {})
    forwarder = Forwarder(spool, server, retry_initial=60, retry_max=60)
    forwarder.start()
    try:
        assert wait_until(lambda: len(server.attempts) == 1)
        forwarder.wake()  # e.g. the Socket.IO connection came back
        assert wait_until(lambda: spool.pending_count() == 0)
    finally:
        forwarder.close()


def run_child(code: str, spool_path: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), str(spool_path), *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )


def read_lines_until(child: subprocess.Popen, last: str) -> list[str]:
    lines = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        line = child.stdout.readline().strip()
        if line == last or not line:
            return lines
        lines.append(line)
    raise AssertionError("child did not finish in time")


def test_items_survive_sigkill(tmp_path):
    path = tmp_path / "spool.sqlite"
    child = run_child(
        """
        import sys, time
        from devices.spool import Spool
        spool = Spool(sys.argv[1])
        for n in range(10):
            print(spool.put("rating", {"n": n}), flush=True)
        print("done", flush=True)
        time.sleep(60)
        """,
        path,
    )
    try:
        keys = read_lines_until(child, "done")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    assert child.returncode == -signal.SIGKILL
    assert len(keys) == 10
    spool = Spool(path)
    try:
        items = spool.pending()
        assert [i.key for i in items] == keys
        assert [i.payload["n"] for i in items] == list(range(10))
    finally:
        spool.close()


def test_delivery_marks_survive_sigkill_mid_forwarding(tmp_path):
    path = tmp_path / "spool.sqlite"
    spool = Spool(path)
    keys = [spool.put("rating", {"n": n}) for n in range(5)]
    spool.close()
    child = run_child(
        """
        import sys, threading
        from devices.spool import Forwarder, Spool
        spool = Spool(sys.argv[1])
        sent = []
        def send(item):
            sent.append(item.key)
            print(item.key, flush=True)
            if len(sent) == 3:
                print("stuck", flush=True)
                threading.Event().wait()  # the third send never returns
            return True
        Forwarder(spool, send).start()
        threading.Event().wait()
        """,
        path,
    )
    try:
        offered = read_lines_until(child, "stuck")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    assert offered == keys[:3]
    spool = Spool(path)
    try:
        # Delivered items are never offered again; the one in flight is, and the
        # server drops it by its key if it did arrive.
        assert [i.key for i in spool.pending()] == keys[2:]
    finally:
        spool.close()
