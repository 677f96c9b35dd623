"""The province hub as production runs it, on this machine: nginx (Debian, TLS with a
self-signed certificate) in front of two gunicorn processes, PostgreSQL and a Redis of the
hub's own (so a test may stop and restart it without touching the machine's Redis).

`HallClient` is a screen as hall.js is one: it subscribes on every (re)connect, rebuilds
its state from each snapshot and applies `queue.updated` events on top, and keeps every
`ticket.issued` it heard (to count what was received, duplicated or lost).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio

from server.hub.local import LocalHub
from tests.conftest import PG_ADMIN_URL

CENTRE_ID = 1
#: Failed logins per client address and minute on the test hub.
LOGIN_LIMIT = 4


@pytest.fixture(scope="module")
def hub(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalHub]:
    if not request.config.getoption("--pg"):
        pytest.skip("the hub runs on PostgreSQL: run with --pg (./scripts/test sets it)")
    from sqlalchemy import create_engine, text

    name = f"tthcc_hub_{uuid.uuid4().hex[:10]}"
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    local = LocalHub(
        tmp_path_factory.mktemp("hub"),
        url,
        processes=2,
        extra_env={"TTHCC_LOGIN_RATE_LIMIT": f"{LOGIN_LIMIT} per minute"},
    )
    try:
        local.prepare()
        local.start()
        yield local
    finally:
        local.stop()
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def https(hub: LocalHub) -> requests.Session:
    """A session that verifies the hub's certificate (not one that skips the check)."""
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE would otherwise replace `verify`
    session.verify = str(hub.certificate)
    return session


def truth(hub: LocalHub) -> dict[int, int]:
    """Waiting per service right now, read over HTTP through nginx."""
    snap = https(hub).get(f"{hub.url}/api/v1/centres/{CENTRE_ID}/snapshot", timeout=10).json()
    return {s["id"]: s["waiting"] for s in snap["services"]}


class HallClient:
    """A /hall subscriber through nginx over TLS, WebSocket only (see the module doc)."""

    def __init__(self, hub: LocalHub, name: str) -> None:
        self.name = name
        self.lock = threading.Lock()
        self.nodes: list[str] = []  # the process of each snapshot, in order
        self.waiting: dict[int, int] = {}
        # lib/hall.js LineStamps: each line's version of its count shown, per day; and what
        # a screen applying every queue.updated as it comes would show (for the figures).
        self.day: str | None = None
        self.stamps: dict[int, int] = {}
        self.unordered: dict[int, int] = {}
        self.issued: Counter[int] = Counter()
        self.snapshots = 0
        self.snapshot_event = threading.Event()
        self.sio = socketio.Client(
            http_session=https(hub), reconnection_delay=0.3, reconnection_delay_max=2
        )
        self.sio.on("connect", self._on_connect, namespace="/hall")
        self.sio.on("snapshot", self._on_snapshot, namespace="/hall")
        self.sio.on("queue.updated", self._on_queue, namespace="/hall")
        self.sio.on("ticket.issued", self._on_issued, namespace="/hall")
        self.sio.connect(hub.url, namespaces=["/hall"], transports=["websocket"], wait_timeout=10)
        assert self.wait_snapshot(0, timeout=10), f"{name}: no snapshot"

    def _on_connect(self) -> None:
        # hall.js: subscribe on every (re)connect, in the background (not in the handler).
        self.sio.start_background_task(
            self.sio.emit, "subscribe", {"centre_id": CENTRE_ID}, namespace="/hall"
        )

    def _on_snapshot(self, snap: dict[str, Any]) -> None:
        with self.lock:
            self.nodes.append(snap.get("node", "?"))
            self.waiting = {s["id"]: s["waiting"] for s in snap["services"]}
            self.unordered = dict(self.waiting)
            self.day = snap.get("waiting_day")
            self.stamps = {int(k): v for k, v in (snap.get("waiting_stamps") or {}).items()}
            self.snapshots += 1
        self.snapshot_event.set()

    def _on_queue(self, payload: dict[str, Any]) -> None:
        with self.lock:
            listed = {s["id"]: s["waiting"] for s in payload["services"]}
            self.unordered = {sid: listed.get(sid, 0) for sid in self.unordered}
            if self.day and payload["day"] < self.day:
                return  # an earlier day's
            if payload["day"] != self.day:
                self.day, self.stamps = payload["day"], {}
            stale = set()
            for key, version in payload["stamps"].items():
                if version < self.stamps.get(int(key), -1):
                    stale.add(int(key))
                else:
                    self.stamps[int(key)] = version
            self.waiting = {
                sid: n if sid in stale else listed.get(sid, 0) for sid, n in self.waiting.items()
            }

    def _on_issued(self, payload: dict[str, Any]) -> None:
        with self.lock:
            self.issued[payload["ticket"]["id"]] += 1

    @property
    def node(self) -> str:
        return self.nodes[-1]

    def wait_snapshot(self, after: int, timeout: float) -> bool:
        """Wait until more than `after` snapshots have arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.snapshots > after:
                return True
            time.sleep(0.05)
        return False

    def close(self) -> None:
        self.sio.disconnect()


def clients_on_every_node(hub: LocalHub, count: int) -> list[HallClient]:
    """`count` clients through nginx; least_conn spreads them over the processes."""
    clients = [HallClient(hub, f"screen-{i}") for i in range(count)]
    nodes = {c.node for c in clients}
    assert nodes == {a.name for a in hub.apps}, f"clients only on {nodes}"
    return clients


def wait_until(predicate, timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def write_counts(folder: Path, name: str, counts: dict[str, Any]) -> None:
    import json

    folder.mkdir(exist_ok=True)
    path = folder / "hub-faults.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[name] = counts
    path.write_text(json.dumps(data, indent=2))
