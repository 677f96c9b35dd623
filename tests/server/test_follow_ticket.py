"""A phone following one ticket over Socket.IO (/t/<code>): its snapshot, its line's
changes and its call, and nothing about other citizens."""

from __future__ import annotations

import json

from flask_socketio import SocketIOTestClient


def sio(app) -> SocketIOTestClient:
    return app.extensions["socketio"].test_client(app, namespace="/hall")


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def follow(app, code: str) -> tuple[SocketIOTestClient, dict]:
    phone = sio(app)
    ack = phone.emit("subscribe", {"ticket_code": code}, namespace="/hall", callback=True)
    assert ack == {"ok": True}
    received = phone.get_received("/hall")
    assert [r["name"] for r in received] == ["snapshot"]
    return phone, received[0]["args"][0]


def test_unknown_or_malformed_codes_are_refused(app, demo):
    phone = sio(app)
    for code in ("nope-not-a-ticket", "../../etc", 42, None, "x" * 40):
        ack = phone.emit("subscribe", {"ticket_code": code}, namespace="/hall", callback=True)
        assert ack["ok"] is False
    assert phone.get_received("/hall") == []


def test_follower_gets_its_ticket_with_people_ahead_and_estimate(app, client, demo):
    client.post("/api/v1/tickets", json={"service_id": 1})
    mine = client.post("/api/v1/tickets", json={"service_id": 1}).get_json()
    _phone, snap = follow(app, mine["public_code"])
    assert snap["ticket"]["number"] == mine["number"]
    assert snap["ticket"]["waiting_ahead"] == 1
    assert snap["ticket"]["estimate"]["method"] == "counter_replay"
    assert snap["server_time"].endswith("+07:00")


def test_line_changes_and_the_call_reach_the_follower_and_nothing_else(
    app, client, demo, staff_token
):
    first = client.post("/api/v1/tickets", json={"service_id": 1}).get_json()
    mine = client.post("/api/v1/tickets", json={"service_id": 1}).get_json()
    phone, _ = follow(app, mine["public_code"])

    # Other lines, and people issued after me in mine, do not concern me.
    other = client.post("/api/v1/tickets", json={"service_id": 3}).get_json()
    later = client.post("/api/v1/tickets", json={"service_id": 1}).get_json()
    assert phone.get_received("/hall") == []

    # The one ahead of me is called at counter 1: my line moved.
    called = client.post("/api/v1/counters/1/call-next", headers=auth(staff_token)).get_json()
    assert called["number"] == first["number"]
    received = phone.get_received("/hall")
    assert ("line.changed", {"service_id": 1}) in [(r["name"], r["args"][0]) for r in received]
    assert (
        client.get(f"/api/v1/tickets/public/{mine['public_code']}").get_json()["waiting_ahead"] == 0
    )

    # Then me: my own ticket.status says where to go.
    client.post(f"/api/v1/tickets/{first['id']}/finish", headers=auth(staff_token))
    client.post("/api/v1/counters/1/call-next", headers=auth(staff_token))
    received = phone.get_received("/hall")
    statuses = [r["args"][0]["ticket"] for r in received if r["name"] == "ticket.status"]
    assert statuses[-1]["number"] == mine["number"]
    assert statuses[-1]["status"] == "called"
    assert statuses[-1]["counter_name"] == "Quầy 1"

    # Everything the phone was sent: only my own ticket's code, never another citizen's.
    wire = json.dumps(received)
    for stranger in (first, other, later):
        assert stranger["public_code"] not in wire
    assert all(r["name"] in ("line.changed", "ticket.status") for r in received)
