"""The message-queue watch (server/realtime_queue.py): when a process's Redis listener may
have missed events, its own clients get the truth again. The whole path with a real Redis
restarted under two processes is tests/deploy/test_hub.py."""

from __future__ import annotations

import pytest
from flask_socketio import SocketIOTestClient

from server.config import Config
from server.realtime_queue import QueueHealth, listener_name, resync_local_clients

A = ("run-a", 7)


def test_no_gap_no_resync():
    health = QueueHealth()
    assert [health.observe(A), health.observe(A), health.observe(A)] == [False] * 3


def test_redis_unreachable_then_back_resyncs_once():
    health = QueueHealth()
    health.observe(A)
    assert health.observe(None) is False
    assert health.observe(None) is False
    assert health.observe(A) is True  # same run and connection: still a gap in between
    assert health.observe(A) is False
    assert health.resyncs == 1


def test_restart_or_reconnect_between_two_looks_resyncs():
    health = QueueHealth()
    health.observe(A)
    assert health.observe(("run-b", 3)) is True  # Redis restarted (new run id)
    assert health.observe(("run-b", 9)) is True  # the listener reconnected (new client id)
    assert health.observe(("run-b", 9)) is False


def test_clients_before_the_listener_first_subscribed_are_resynced():
    health = QueueHealth()
    assert health.observe(None, clients=False) is False
    assert health.observe(A) is False  # nobody was there: nothing to repair
    fresh = QueueHealth()
    assert fresh.observe(None, clients=True) is False
    assert fresh.observe(A) is True


def test_listener_name_names_the_channel_and_process():
    config = Config.from_env({}, socketio_channel="tthcc-hub", node_name="app 2")
    assert listener_name(config) == "tthcc:tthcc-hub:app_2"


def test_transports_setting_is_checked():
    assert Config.from_env({}, socketio_transports="websocket").transports == ["websocket"]
    with pytest.raises(ValueError, match="polling and/or websocket"):
        _ = Config.from_env({}, socketio_transports="carrier-pigeon").transports


def _sio(app, namespace: str, **kw) -> SocketIOTestClient:
    return app.extensions["socketio"].test_client(app, namespace=namespace, **kw)


def test_resync_sends_each_local_subscriber_a_fresh_snapshot(app, client, demo, database):
    socketio = app.extensions["socketio"]
    screen = _sio(app, "/hall")
    screen.emit("subscribe", {"centre_id": demo.centre_id}, namespace="/hall")
    ticket = client.post("/api/v1/tickets", json={"service_id": 1}).get_json()
    follower = _sio(app, "/hall")
    follower.emit("subscribe", {"ticket_code": ticket["public_code"]}, namespace="/hall")
    screen.get_received("/hall")
    follower.get_received("/hall")

    with app.app_context():
        counts = resync_local_clients(socketio, database)

    assert counts == {"centres": 1, "followed": 1, "agents": 0}
    [snap] = screen.get_received("/hall")
    assert snap["name"] == "snapshot"
    waiting = {s["id"]: s["waiting"] for s in snap["args"][0]["services"]}
    assert waiting[1] == 1
    [followed] = follower.get_received("/hall")
    assert followed["name"] == "snapshot"
    assert followed["args"][0]["ticket"]["public_code"] == ticket["public_code"]


def test_resync_forgets_clients_that_left(app, demo, database):
    screen = _sio(app, "/hall")
    screen.emit("subscribe", {"centre_id": demo.centre_id}, namespace="/hall")
    screen.disconnect(namespace="/hall")
    assert resync_local_clients(app.extensions["socketio"], database)["centres"] == 0


def test_resync_reconnects_station_agents(app, demo, database):
    from server.models import Station
    from server.services.auth import issue_station_token

    with database.transaction() as session:
        token = issue_station_token(session, session.get(Station, demo.kiosk_station_id))
    agent = _sio(app, "/station", auth={"token": token})
    assert agent.is_connected("/station")
    counts = resync_local_clients(app.extensions["socketio"], database)
    assert counts["agents"] == 1
    assert not agent.is_connected("/station")
