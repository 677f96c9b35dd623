"""The hub through nginx over TLS: WebSocket across processes, a process killed, Redis
restarted (docs/deployment.md, "Faults"). Counts go to test-artifacts/hub-faults.json."""

from __future__ import annotations

import http.client
import json
import signal
import ssl
import threading
import time

import pytest
import requests

from tests.deploy.conftest import (
    CENTRE_ID,
    LOGIN_LIMIT,
    HallClient,
    clients_on_every_node,
    https,
    truth,
    wait_until,
    write_counts,
)


def issue(session: requests.Session, base: str, count: int, service_id: int = 1) -> list[int]:
    """Issue `count` tickets at `base`; every one must be acknowledged (201)."""
    ids = []
    for _ in range(count):
        r = session.post(f"{base}/api/v1/tickets", json={"service_id": service_id}, timeout=20)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


def lands_on(hub, node: str, timeout: float) -> bool:
    """Whether a new screen lands on `node` through nginx within `timeout` seconds."""

    def probe() -> bool:
        screen = HallClient(hub, "probe")
        screen.close()
        return screen.node == node

    return wait_until(probe, timeout, step=0.5)


def counts(clients: list[HallClient], sent: list[int]) -> dict[str, int]:
    """Tickets sent (acknowledged 201), and over all screens: `ticket.issued` events
    received, duplicated and missed (a screen that was moving or cut off misses events and
    gets the truth from its next snapshot instead)."""
    received = sum(sum(1 for t in sent if c.issued[t]) for c in clients)
    duplicates = sum(sum(max(0, c.issued[t] - 1) for t in sent) for c in clients)
    return {
        "screens": len(clients),
        "sent": len(sent),
        "events_received": received,
        "events_duplicated": duplicates,
        "events_missed": len(sent) * len(clients) - received,
    }


def test_tls_redirect_headers_and_websocket_only(hub):
    session = https(hub)
    r = session.get(f"{hub.url}/api/v1/centres", timeout=10)
    assert r.status_code == 200 and r.json()[0]["id"] == CENTRE_ID
    # The app knows it is behind https (ProxyFix): HSTS, and the security headers pass.
    assert "max-age" in r.headers["Strict-Transport-Security"]
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    plain = requests.get(f"http://127.0.0.1:{hub.http_port}/kiosk/", allow_redirects=False)
    assert plain.status_code == 301
    assert plain.headers["Server"] == "nginx"  # no version
    assert plain.headers["Location"] == f"https://127.0.0.1:{hub.https_port}/kiosk/"
    # Long-polling is refused outright (no sticky sessions): clients use WebSocket.
    polling = session.get(f"{hub.url}/socket.io/?EIO=4&transport=polling", timeout=10)
    assert polling.status_code == 400
    # Without the certificate, a client refuses the connection (it is really TLS).
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{hub.url}/api/v1/centres", timeout=10)


def login_from(hub, address: str, password: str, forwarded_for: str | None = None) -> int:
    """POST /api/v1/auth/token through nginx from the loopback address `address`."""
    tls = ssl.create_default_context(cafile=str(hub.certificate))
    conn = http.client.HTTPSConnection(
        "127.0.0.1", hub.https_port, context=tls, source_address=(address, 0), timeout=10
    )
    headers = {"Content-Type": "application/json"}
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for  # a client trying to pass for another
    body = json.dumps({"username": "canbo1", "password": password})
    try:
        conn.request("POST", "/api/v1/auth/token", body=body, headers=headers)
        return conn.getresponse().status
    finally:
        conn.close()


def test_each_client_address_is_limited_on_its_own_behind_nginx(hub):
    """Behind nginx every request comes from 127.0.0.1: without trusting nginx's
    X-Forwarded-For (TTHCC_PROXY_HOPS=1) one citizen's failed logins would lock out the
    whole province. A client's own X-Forwarded-For does not let it pass for another."""
    statuses = [
        login_from(hub, "127.0.0.2", "wrong", forwarded_for=f"10.9.9.{i}")
        for i in range(LOGIN_LIMIT + 1)
    ]
    assert statuses == [401] * LOGIN_LIMIT + [429]
    assert login_from(hub, "127.0.0.3", "wrong") == 401
    assert login_from(hub, "127.0.0.3", "tthcc-canbo") == 200


def test_a_ticket_issued_on_one_process_reaches_screens_on_every_process(hub, artifacts):
    clients = clients_on_every_node(hub, 4)
    try:
        session = https(hub)
        sent = []
        for app in hub.apps:  # straight at each process, and through nginx
            sent += issue(requests.Session(), app.url, 5)
        sent += issue(session, hub.url, 5)
        # Then at once on both processes: their queue.updated may reach a screen out of
        # order; each line's version (stamps) keeps the newer count.
        racing: list[list[int]] = []
        threads = [
            threading.Thread(
                target=lambda u=app.url: racing.append(issue(requests.Session(), u, 5))
            )
            for app in hub.apps
            for _ in range(3)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        sent += [t for batch in racing for t in batch]
        assert len(sent) == 5 * (len(hub.apps) + 1) + 15 * len(hub.apps)
        assert wait_until(lambda: all(all(c.issued[t] for t in sent) for c in clients), 15)
        expected = truth(hub)
        assert wait_until(lambda: all(c.waiting == expected for c in clients), 5)
        result = counts(clients, sent) | {
            "screens_state_wrong": sum(1 for c in clients if c.waiting != expected),
            # what screens applying every update as it came would show (not asserted)
            "screens_wrong_without_stamps": sum(1 for c in clients if c.unordered != expected),
        }
        write_counts(artifacts, "cross_process", result)
        assert result["events_missed"] == 0 and result["events_duplicated"] == 0, result
        assert result["screens_state_wrong"] == 0
    finally:
        for c in clients:
            c.close()


def test_a_killed_process_clients_move_to_another_and_resync(hub, browser, artifacts):
    """kill -9 of each process in turn: its screens reconnect through nginx to the other
    and rebuild from its snapshot, tickets issued meanwhile included; the lobby display in
    Chromium moves at least once (it is on one of the two)."""
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.goto(f"{hub.url}/display/?centre={CENTRE_ID}&slides=0")
    page.wait_for_function(
        "() => window.tthccDisplay && tthccDisplay.connection === 'connected'"
        " && tthccDisplay.state.centre !== null",
        timeout=20_000,
    )
    page.evaluate(
        "() => { window.__nodes = []; tthccDisplay.socket.on('snapshot', s => __nodes.push(s.node)); }"
    )
    clients = clients_on_every_node(hub, 6)
    session = https(hub)
    sent: list[int] = []
    moved: list[str] = []
    try:
        for victim in list(hub.apps):
            on_victim = [c for c in clients if c.node == victim.name]
            before = {c.name: c.snapshots for c in on_victim}
            victim.kill(signal.SIGKILL)
            # Issued through nginx while the screens move: nginx skips the dead process.
            sent += issue(session, hub.url, 5)
            for c in on_victim:
                assert c.wait_snapshot(before[c.name], timeout=20), f"{c.name} did not come back"
                moved.append(c.name)
            assert all(c.node != victim.name for c in clients)
            sent += issue(session, hub.url, 3)
            victim.start()
            # Once nginx's pause on the failed process is over (fail_timeout), the least
            # busy process, the restarted one, takes the next screen.
            assert lands_on(hub, victim.name, timeout=20)
        expected = truth(hub)
        assert wait_until(lambda: all(c.waiting == expected for c in clients), 10), [
            (c.name, c.waiting) for c in clients
        ]
        assert wait_until(
            lambda: (
                page.evaluate(
                    "() => [...tthccDisplay.state.services.values()].reduce((n, s) => n + s.waiting, 0)"
                )
                == sum(expected.values())
            ),
            10,
        )
        browser_nodes = page.evaluate("() => __nodes")
        assert len(browser_nodes) >= 1, "the display never reconnected"
        result = counts(clients, sent) | {
            "screens_moved": len(moved),
            "screens_state_wrong": sum(1 for c in clients if c.waiting != expected),
            "display_snapshots_after_kills": len(browser_nodes),
            "display_nodes": browser_nodes,
        }
        write_counts(artifacts, "process_killed", result)
        assert result["events_duplicated"] == 0
    finally:
        for c in clients:
            c.close()
        page.screenshot(path=str(artifacts / "hub-display-after-kills.png"))
        context.close()


def test_redis_restarted_screens_resync_and_nothing_is_lost(hub, artifacts):
    clients = clients_on_every_node(hub, 4)
    session = https(hub)
    try:
        before = {c.name: c.snapshots for c in clients}
        hub.stop_redis(signal.SIGKILL)
        # Redis is down: issuing still works (the database is the truth) ...
        during = issue(session, hub.url, 6)
        # Logins count failures in Redis: they fall back to counting in memory.
        login = session.post(
            f"{hub.url}/api/v1/auth/token",
            json={"username": "canbo2", "password": "tthcc-canbo"},
            timeout=20,
        )
        assert login.status_code == 200, login.text
        time.sleep(1.5)  # ... and the watch on each process has noticed
        hub.start_redis()
        # Each process resyncs its own screens once its listener is back.
        for c in clients:
            assert c.wait_snapshot(before[c.name], timeout=90), (
                f"{c.name}: no resync\n"
                + "\n".join(f"{a.name}: {a.log.read_text()[-3000:]}" for a in hub.apps)
            )
        expected = truth(hub)
        assert wait_until(lambda: all(c.waiting == expected for c in clients), 10)
        # And events flow again between the processes.
        after = issue(session, hub.url, 4)
        assert wait_until(lambda: all(all(c.issued[t] for t in after) for c in clients), 15)
        # A line's waiting count comes in its own event, just after the ticket's (CI: one
        # screen of 8 read a moment before it); still wrong 10 s later is wrong.
        expected = truth(hub)
        wait_until(lambda: all(c.waiting == expected for c in clients), 10)
        result = {
            "during_outage": counts(clients, during),
            "after_restart": counts(clients, after),
            "screens_resynced": sum(1 for c in clients if c.snapshots > before[c.name]),
            "screens_state_wrong": sum(1 for c in clients if c.waiting != expected),
        }
        write_counts(artifacts, "redis_restarted", result)
        assert result["after_restart"]["events_missed"] == 0
        assert result["screens_state_wrong"] == 0
    finally:
        for c in clients:
            c.close()


def test_a_centre_box_delivers_through_nginx_across_a_killed_process_and_a_redis_restart(
    hub, artifacts, tmp_path, monkeypatch
):
    """A centre box's catch-up through nginx over TLS: one application process killed
    with -9 after its third batch, then Redis killed while more of the day is delivered.
    Every change once at the hub, and projected (docs/sync.md)."""
    from datetime import UTC, datetime

    from sqlalchemy import create_engine, select, text

    from server.app import create_app
    from server.config import Config
    from server.demo import load_demo
    from server.migrate import upgrade
    from server.models import Centre
    from server.sync.capture import enable
    from server.sync.ingest import add_box
    from server.sync.push import HubUnreachable, http_transport, push
    from tests.server.sync_hall import serve_citizens

    t0 = datetime(2026, 11, 25, 1, 30, tzinfo=UTC)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(hub.certificate))  # the box trusts the hub
    hub_app = create_app(
        Config.from_env({}, instance_path=tmp_path / "h", database_url=hub.database_url)
    )
    with hub_app.extensions["tthcc_db"].transaction() as s:
        centre = s.scalars(select(Centre).where(Centre.code == "BN-KINHBAC")).one()
        box_id, token = (lambda b, t: (b.id, t))(*add_box(s, centre, t0))
    hub_app.extensions["tthcc_db"].dispose()
    box_app = create_app(
        Config.from_env(
            {}, instance_path=tmp_path / "b", database_url=f"sqlite:///{tmp_path / 'box.sqlite3'}"
        )
    )
    box = box_app.extensions["tthcc_db"]
    upgrade(box.engine)
    with box.transaction() as s:
        centre_id = load_demo(s).centre_id
        enable(s, box_id, "BN-KINHBAC")

    tally = {"sent": 0, "received": 0, "duplicates_refused": 0, "unanswered": 0}
    send = http_transport(hub.url, token)

    def transport(body):
        tally["sent"] += len(body["events"])
        try:
            status, reply = send(body)
        except HubUnreachable:
            tally["unanswered"] += len(body["events"])
            raise
        if status == 200:
            tally["received"] += reply["received"]
            tally["duplicates_refused"] += reply["duplicates"]
        return status, reply

    def deliver() -> None:
        deadline = time.monotonic() + 60
        while True:
            try:
                push(box, transport, batch_size=5)
                return
            except HubUnreachable:
                assert time.monotonic() < deadline, "the box could not deliver"
                time.sleep(0.2)

    serve_citizens(box, centre_id, 8, t0)
    push(box, transport, batch_size=5, max_batches=3)
    victim = hub.apps[0]
    victim.kill(signal.SIGKILL)
    try:
        deliver()  # nginx sends the rest to the other process
    finally:
        victim.start()
    serve_citizens(box, centre_id, 8, t0.replace(hour=4))
    hub.stop_redis(signal.SIGKILL)
    try:
        deliver()  # ingest needs the database only
    finally:
        hub.start_redis()

    engine = create_engine(hub.database_url)
    with engine.connect() as conn:
        received = list(
            conn.execute(
                text("SELECT seq FROM sync_inbox WHERE box_id = :b ORDER BY id"), {"b": box_id}
            ).scalars()
        )
        projected = conn.execute(
            text("SELECT projected_seq, project_error FROM sync_boxes WHERE id = :b"),
            {"b": box_id},
        ).one()
        hub_tickets = conn.execute(
            text("SELECT count(*) FROM sync_ids WHERE box_id = :b AND table_name = 'tickets'"),
            {"b": box_id},
        ).scalar()
    engine.dispose()
    with box.engine.connect() as conn:
        outbox = list(conn.execute(text("SELECT seq FROM sync_outbox ORDER BY seq")).scalars())
        box_tickets = conn.execute(text("SELECT count(*) FROM tickets")).scalar()
    box.dispose()
    result = {
        "events": len(outbox),
        **tally,
        "stored": len(received),
        "duplicates_stored": len(received) - len(set(received)),
        "lost": len(set(outbox) - set(received)),
        "projected_seq": projected[0],
        "tickets_at_box": box_tickets,
        "tickets_projected": hub_tickets,
    }
    write_counts(artifacts, "centre_box_process_killed_redis_restarted", result)
    assert received == outbox  # each once, in order
    assert result["duplicates_stored"] == 0 and result["lost"] == 0
    assert tuple(projected) == (len(outbox), "") and hub_tickets == box_tickets == 16


def test_a_station_agent_prints_through_nginx_over_websocket_only(hub, tmp_path, caplog):
    """A hub refuses long-polling, so a station agent set to `transports = ["websocket"]`
    with the hub's CA (`ca_file`) connects through nginx over TLS and prints the kiosk's
    ticket; with the default transports (polling first) it cannot connect, and its log says
    what to set."""
    import subprocess
    import sys

    from devices.agent.agent import Agent
    from devices.config import load_config
    from server.hub.local import PROJECT_ROOT

    token = subprocess.run(
        [sys.executable, "-m", "server.cli", "station", "token", "KIOSK-1"],
        env=hub.env(),
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (tmp_path / "hub-ca.pem").write_bytes(hub.certificate.read_bytes())

    def agent(transports: str) -> Agent:
        path = tmp_path / f"station-{len(transports)}.toml"
        path.write_text(
            f'server_url = "{hub.url}"\nstation_token = "{token}"\nspool_dir = "spool"\n'
            f'ca_file = "hub-ca.pem"\ntransports = {transports}\n\n'
            f'[[printers]]\nname = "kiosk-printer"\nurl = "sim://{tmp_path}/paper"\n',
            encoding="utf-8",
        )
        started = Agent(load_config(path, env={}), connect_timeout=3.0)
        started.start()
        return started

    refused = agent('["polling", "websocket"]')
    try:
        assert wait_until(lambda: "WebSocket only" in caplog.text, 10), caplog.text
        assert not refused.connected
    finally:
        refused.close()
    station = agent('["websocket"]')
    try:
        assert station.wait_connected(15), station.last_connect_error
        # Its connection lives on one process; the supervisors' list on either says online.
        login = https(hub).post(
            f"{hub.url}/api/v1/auth/token",
            json={"username": "giamsat", "password": "tthcc-giamsat"},
            timeout=20,
        )
        supervisor = {"Authorization": f"Bearer {login.json()['token']}"}

        def online_on(app) -> bool:
            rows = requests.get(f"{app.url}/api/v1/stations", headers=supervisor, timeout=10)
            return {s["code"]: s["online"] for s in rows.json()}["KIOSK-1"]

        assert [online_on(app) for app in hub.apps] == [True] * len(hub.apps)
        r = https(hub).post(
            f"{hub.url}/api/v1/tickets",
            json={"service_id": 1, "station_id": 1},
            headers={"Authorization": f"Bearer {token}"},
            timeout=20,
        )
        assert r.status_code == 201, r.text
        assert wait_until(lambda: len(list((tmp_path / "paper").glob("*.bin"))) == 1, 15)
        printed = next((tmp_path / "paper").glob("*.bin")).read_bytes()
        assert r.json()["number"].encode("cp1258") in printed
    finally:
        station.close()
    assert wait_until(lambda: not any(online_on(app) for app in hub.apps), 10)
