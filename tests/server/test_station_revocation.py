"""Revoking (or replacing) a station's token drops its live Socket.IO connection within a
second (issue 11, item 3)."""

from __future__ import annotations

import time

NS = "/station"


def _connect(app, token: str):
    client = app.extensions["socketio"].test_client(app, namespace=NS, auth={"token": token})
    assert client.is_connected(NS)
    return client


def _disconnected_within(client, seconds: float) -> float | None:
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if not client.is_connected(NS):
            return time.monotonic() - start
        time.sleep(0.05)
    return None


def test_a_revoked_token_drops_the_live_connection_within_a_second(
    app, client, demo, admin_token, backend
):
    agent = _connect(app, demo.kiosk_token)
    time.sleep(0.6)  # a check passes with the token still valid: still connected
    assert agent.is_connected(NS)
    r = client.delete(
        f"/api/v1/admin/stations/{demo.kiosk_station_id}/token",
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    assert r.status_code == 204
    took = _disconnected_within(agent, 3.0)
    assert took is not None and took < 1.0, took
    # and it cannot come back with that token
    again = app.extensions["socketio"].test_client(
        app, namespace=NS, auth={"token": demo.kiosk_token}
    )
    assert not again.is_connected(NS)


def test_a_replaced_token_drops_the_old_connection_not_the_new_one(
    app, client, demo, admin_token, backend
):
    old = _connect(app, demo.kiosk_token)
    r = client.post(
        f"/api/v1/admin/stations/{demo.kiosk_station_id}/token",
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    new = _connect(app, r.get_json()["token"])
    took = _disconnected_within(old, 3.0)
    assert took is not None and took < 1.0, took
    time.sleep(1.0)
    assert new.is_connected(NS)
    new.disconnect(NS)
