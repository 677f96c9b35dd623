"""Socket.IO: snapshot first, then changes; station agents authenticate and acknowledge prints."""

from __future__ import annotations

from flask_socketio import SocketIOTestClient

from tests.server.factories import provision_kiosk


def sio(app, namespace, **kw) -> SocketIOTestClient:
    return app.extensions["socketio"].test_client(app, namespace=namespace, **kw)


def names(received):
    return [r["name"] for r in received]


def test_hall_client_gets_a_snapshot_then_changes(app, client, demo):
    hall = sio(app, "/hall")
    ack = hall.emit("subscribe", {"centre_id": demo.centre_id}, namespace="/hall", callback=True)
    assert ack == {"ok": True}
    received = hall.get_received("/hall")
    assert names(received) == ["snapshot"]
    snap = received[0]["args"][0]
    assert snap["centre"]["subtitle"] == "PHƯỜNG KINH BẮC"
    assert len(snap["counters"]) >= 6 and snap["latest_call"] is None
    assert snap["centre"]["max_calls"] == 3  # the counter page says when Next marks absent

    client.post("/api/v1/tickets", json={"service_id": 1})
    received = hall.get_received("/hall")
    assert names(received) == ["ticket.issued", "queue.updated"]
    assert received[1]["args"][0]["services"] == [{"id": 1, "waiting": 1}]


def test_resubscribing_after_a_reconnect_gives_the_current_truth(app, client, demo, staff_token):
    client.post("/api/v1/tickets", json={"service_id": 1})
    client.post("/api/v1/counters/1/call-next", headers={"Authorization": f"Bearer {staff_token}"})
    hall = sio(app, "/hall")
    hall.emit("subscribe", {"centre_id": demo.centre_id}, namespace="/hall")
    snap = hall.get_received("/hall")[0]["args"][0]
    assert snap["latest_call"]["number"] == "1001"
    assert snap["latest_call"]["counter_number"] == 1
    counter1 = next(c for c in snap["counters"] if c["number"] == 1)
    assert counter1["current_ticket"]["number"] == "1001"


def test_bad_subscribe_is_answered_not_crashed(app, demo):
    hall = sio(app, "/hall")
    assert (
        hall.emit("subscribe", {"centre_id": "x"}, namespace="/hall", callback=True)["ok"] is False
    )
    assert (
        hall.emit("subscribe", {"centre_id": 999}, namespace="/hall", callback=True)["ok"] is False
    )


def test_station_with_unknown_token_is_refused(app, demo):
    station = sio(app, "/station", auth={"token": "not-a-token"})
    assert not station.is_connected("/station")


def test_print_job_is_delivered_acknowledged_and_reported_to_the_kiosk(app, client, demo):
    kiosk_page = sio(app, "/hall", flask_test_client=provision_kiosk(client))
    kiosk_page.emit(
        "subscribe",
        {"centre_id": demo.centre_id, "station_id": demo.kiosk_station_id},
        namespace="/hall",
    )
    kiosk_page.get_received("/hall")
    # A ticket issued while the agent is away is delivered when it connects.
    ticket = (
        provision_kiosk(client)
        .post("/api/v1/tickets", json={"service_id": 1, "station_id": demo.kiosk_station_id})
        .get_json()
    )
    agent = sio(app, "/station", auth={"token": demo.kiosk_token})
    assert agent.is_connected("/station")
    jobs = [r for r in agent.get_received("/station") if r["name"] == "print.job"]
    assert len(jobs) == 1
    job = jobs[0]["args"][0]
    assert job["job_id"] == ticket["print_job_id"]
    assert job["ticket"]["number"] == "1001"
    assert job["ticket"]["centre_name"] == "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG"
    assert job["ticket"]["counters"] == ["Quầy 1", "Quầy 2"]
    assert job["ticket"]["qr_url"] is None  # a loopback public URL: no QR code

    ack = agent.emit(
        "print.ack",
        {"job_id": job["job_id"], "status": "printed"},
        namespace="/station",
        callback=True,
    )
    assert ack == {"ok": True}
    statuses = [r for r in kiosk_page.get_received("/hall") if r["name"] == "print.status"]
    assert statuses[0]["args"][0]["status"] == "printed"
    assert client.get(f"/api/v1/tickets/{ticket['id']}").get_json()["print_status"] == "printed"

    # A reconnecting agent is not sent the printed job again.
    again = sio(app, "/station", auth={"token": demo.kiosk_token})
    assert [r for r in again.get_received("/station") if r["name"] == "print.job"] == []


def test_paper_out_is_reported_as_failed_and_the_ticket_survives(app, client, demo):
    ticket = (
        provision_kiosk(client)
        .post("/api/v1/tickets", json={"service_id": 1, "station_id": demo.kiosk_station_id})
        .get_json()
    )
    agent = sio(app, "/station", auth={"token": demo.kiosk_token})
    job = next(r for r in agent.get_received("/station") if r["name"] == "print.job")["args"][0]
    agent.emit(
        "print.ack",
        {"job_id": job["job_id"], "status": "failed", "reason": "paper out"},
        namespace="/station",
    )
    body = client.get(f"/api/v1/tickets/{ticket['id']}").get_json()
    assert (body["status"], body["print_status"], body["print_reason"]) == (
        "waiting",
        "failed",
        "paper out",
    )


def test_device_status_reaches_the_hall(app, demo):
    hall = sio(app, "/hall")
    hall.emit("subscribe", {"centre_id": demo.centre_id}, namespace="/hall")
    hall.get_received("/hall")
    agent = sio(app, "/station", auth={"token": demo.kiosk_token})
    agent.emit(
        "device.status",
        {"device": "kiosk-printer", "kind": "printer", "state": "error", "reason": "paper out"},
        namespace="/station",
    )
    events = [r["args"][0] for r in hall.get_received("/hall") if r["name"] == "device.status"]
    assert events and events[0]["state"] == "error" and events[0]["station"] == "KIOSK-1"


def test_print_jobs_older_than_a_minute_are_not_printed_late(app, client, demo, database):
    from datetime import timedelta

    from server.models import PrintJob

    ticket = (
        provision_kiosk(client)
        .post("/api/v1/tickets", json={"service_id": 1, "station_id": demo.kiosk_station_id})
        .get_json()
    )
    with database.transaction() as s:
        job = s.query(PrintJob).one()
        job.created_at = job.created_at - timedelta(minutes=5)
    agent = sio(app, "/station", auth={"token": demo.kiosk_token})
    assert [r for r in agent.get_received("/station") if r["name"] == "print.job"] == []
    body = client.get(f"/api/v1/tickets/{ticket['id']}").get_json()
    assert (body["print_status"], body["print_reason"]) == ("failed", "expired")


def test_a_change_committed_while_the_snapshot_is_built_still_reaches_the_page(
    app, demo, database, monkeypatch
):
    import server.realtime as realtime
    from server.domain.clock import utcnow
    from server.services.issuing import issue_ticket

    real_snapshot = realtime.snapshot

    def snapshot_with_a_kiosk_racing(session, centre_id, now):
        with database.transaction() as other:  # another request commits meanwhile
            issue_ticket(other, service_id=1, now=utcnow())
        return real_snapshot(session, centre_id, now)

    monkeypatch.setattr(realtime, "snapshot", snapshot_with_a_kiosk_racing)
    hall = sio(app, "/hall")
    hall.emit("subscribe", {"centre_id": demo.centre_id}, namespace="/hall")
    assert "ticket.issued" in names(hall.get_received("/hall"))


def test_a_failed_subscribe_leaves_no_room_joined(app, client, demo):
    hall = sio(app, "/hall")
    assert (
        hall.emit("subscribe", {"centre_id": 999}, namespace="/hall", callback=True)["ok"] is False
    )
    client.post("/api/v1/tickets", json={"service_id": 1})
    assert hall.get_received("/hall") == []


def test_the_centre_room_never_carries_a_tickets_public_code(app, client, demo, staff_token):
    """The public code is the key of a citizen's /t/ page; the centre's room is open to
    any phone on the hall's Wi-Fi."""
    hall = sio(app, "/hall")
    hall.emit("subscribe", {"centre_id": demo.centre_id}, namespace="/hall")
    hall.get_received("/hall")
    issued = client.post("/api/v1/tickets", json={"service_id": 1}).get_json()
    assert issued["public_code"]  # the citizen's own answer has it
    client.post("/api/v1/counters/1/call-next", headers={"Authorization": f"Bearer {staff_token}"})
    sent = [r for r in hall.get_received("/hall") if r["name"].startswith("ticket.")]
    assert [r["name"] for r in sent] == ["ticket.issued", "ticket.called"]
    for r in sent:
        assert "public_code" not in r["args"][0]["ticket"]
        assert issued["public_code"] not in repr(r["args"])
