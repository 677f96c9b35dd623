"""Several server processes on one PostgreSQL database, real-time through Redis.

A display connected to one process sees what another process did, and numbers stay unique
when kiosks talk to different processes at the same time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter as Tally
from pathlib import Path

import pytest
import requests
import socketio

from tests.conftest import PG_ADMIN_URL
from tests.e2e.conftest import ROOT, LiveServer

REDIS_URL = os.environ.get("TTHCC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def pg_url(request: pytest.FixtureRequest):
    if not request.config.getoption("--pg"):
        pytest.skip("PostgreSQL tests run with --pg (the README's test command sets it)")
    from sqlalchemy import create_engine, text

    name = f"tthcc_mp_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def two_servers(pg_url: str, tmp_path: Path):
    from tests.e2e.conftest import free_port

    # A channel of our own, so parallel test runs sharing the Redis server don't mix.
    channel = f"tthcc-test-{uuid.uuid4().hex[:8]}"
    servers = []
    for name in ("a", "b"):
        instance = tmp_path / name
        instance.mkdir()
        port = free_port()
        env = dict(
            os.environ,
            TTHCC_INSTANCE_PATH=str(instance),
            TTHCC_DATABASE_URL=pg_url,
            TTHCC_REDIS_URL=REDIS_URL,
            TTHCC_SOCKETIO_CHANNEL=channel,
            TTHCC_SECRET_KEY="shared-secret",
            TTHCC_PORT=str(port),
        )
        servers.append(LiveServer(f"http://127.0.0.1:{port}", port, instance, env))
    # Both processes migrate and load the demo at the same moment: start-up is concurrent-safe.
    setups = [
        subprocess.Popen(
            [sys.executable, "-m", "server.cli", "demo"],
            env=s.env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for s in servers
    ]
    for p in setups:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    for s in servers:
        s.start()
    try:
        yield servers
    finally:
        for s in servers:
            s.stop()


def test_an_event_from_one_process_reaches_a_display_on_another(two_servers):
    a, b = two_servers
    received: list[tuple[str, dict]] = []
    got_issue = threading.Event()
    client = socketio.Client(reconnection=False)

    @client.on("snapshot", namespace="/hall")
    def _snapshot(data):
        received.append(("snapshot", data))

    @client.on("ticket.issued", namespace="/hall")
    def _issued(data):
        received.append(("ticket.issued", data))
        got_issue.set()

    client.connect(b.url, namespaces=["/hall"], transports=["websocket"])
    try:
        ack = client.call("subscribe", {"centre_id": 1}, namespace="/hall", timeout=10)
        assert ack == {"ok": True}
        ticket = requests.post(f"{a.url}/api/v1/tickets", json={"service_id": 1}, timeout=10).json()
        assert got_issue.wait(10), f"nothing arrived on the other process: {received}"
        issued = [data for name, data in received if name == "ticket.issued"]
        assert issued[0]["ticket"]["id"] == ticket["id"]
    finally:
        client.disconnect()


def test_numbers_stay_unique_across_processes(two_servers):
    numbers: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()

    def kiosk(server: LiveServer) -> None:
        with requests.Session() as s:
            for _ in range(40):
                r = s.post(f"{server.url}/api/v1/tickets", json={"service_id": 1}, timeout=20)
                with lock:
                    (numbers if r.status_code == 201 else errors).append(
                        r.json()["number"] if r.status_code == 201 else r.text
                    )

    threads = [threading.Thread(target=kiosk, args=(s,)) for s in two_servers for _ in range(3)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert len(numbers) == 240, f"{len(numbers)} tickets in {time.monotonic() - started:.1f} s"
    assert {n: c for n, c in Tally(numbers).items() if c > 1} == {}
