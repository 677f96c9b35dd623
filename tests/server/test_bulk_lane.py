"""The bulk filers' lane (issue 14, item 2): a service flagged as the lane draws its
numbers from its own range and is called only at the counters assigned to it, in turn or
out of turn (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.domain.errors import NoTicketWaiting
from server.domain.lifecycle import Resolution
from server.models import Counter, CounterService
from server.services import lifecycle as ops
from server.services.lifecycle import OtherLane


def test_the_lane_has_its_own_numbers_and_only_its_counters_call_them(
    admin, client, demo, database, clock, staff_token, backend
):
    fields = admin("GET", "/admin/fields").get_json()
    lane = admin(
        "POST",
        "/admin/services",
        json={
            "centre_id": demo.centre_id,
            "field_id": fields[0]["id"],
            "code": "TCDN",
            "name": "Tổ chức, doanh nghiệp nộp nhiều hồ sơ",
            "prefix": "D",
            "range_start": 1,
            "range_end": 999,
        },
    ).get_json()
    r = admin("PATCH", f"/admin/services/{lane['id']}", json={"bulk_lane": True})
    assert r.status_code == 200 and r.get_json()["bulk_lane"] is True
    with database.transaction() as s:
        counters = dict(s.execute(select(Counter.number, Counter.id)).all())
        s.add(CounterService(counter_id=counters[7], service_id=lane["id"], position=0))
        for number in (1, 7):
            s.get(Counter, counters[number]).status = "open"
    catalog = client.get("/api/v1/catalog").get_json()
    flags = {s["id"]: s["bulk_lane"] for f in catalog["fields"] for s in f["services"]}
    assert flags[lane["id"]] is True and list(flags.values()).count(True) == 2  # + the demo's

    issued = [client.post("/api/v1/tickets", json={"service_id": lane["id"]}).get_json()]
    issued.append(client.post("/api/v1/tickets", json={"service_id": lane["id"]}).get_json())
    walk_in = client.post("/api/v1/tickets", json={"service_id": 1}).get_json()
    assert [t["number"] for t in issued] == ["D0001", "D0002"] and walk_in["number"] == "1001"

    with database.transaction() as s:
        # Counter 1 (not in the lane) calls its own line, never the lane's.
        called = ops.call_next(s, counter_id=counters[1], now=clock.moment)
        assert called.id == walk_in["id"]
    with database.transaction() as s, pytest.raises(NoTicketWaiting):
        ops.call_next(s, counter_id=counters[1], now=clock.moment, resolve=Resolution.SERVED)
    with database.transaction() as s, pytest.raises(OtherLane):
        ops.call_ticket(s, counter_id=counters[1], ticket_id=issued[1]["id"], now=clock.moment)
    refused = client.post(
        f"/api/v1/counters/{counters[1]}/call",
        json={
            "ticket_id": issued[1]["id"],
            "resolve": "served",
            "current_ticket_id": walk_in["id"],
        },
        headers={"Authorization": f"Bearer {staff_token}"},
    )
    assert (refused.status_code, refused.get_json()["error"]) == (409, "other_lane")
    assert "chỉ quầy được gán luồng này" in refused.get_json()["message"]
    with database.transaction() as s:  # the lane's counter calls it, in turn and out of it
        assert ops.call_next(s, counter_id=counters[7], now=clock.moment).id == issued[0]["id"]
    with database.transaction() as s:
        out_of_turn = ops.call_ticket(
            s,
            counter_id=counters[7],
            ticket_id=issued[1]["id"],
            now=clock.moment,
            resolve=Resolution.SERVED,
        )
        assert out_of_turn.id == issued[1]["id"]


def test_the_demo_centre_has_a_bulk_filers_lane(admin, client, demo, database, clock):
    """The demo's lane DN (issue 14 item 2): its own prefix, numbers at the kiosk and from
    the phone, said where numbers are taken, and called only at Quầy 5; loading the demo
    again adds nothing."""
    from server.demo import load_demo
    from server.models import Service

    catalog = client.get("/api/v1/catalog").get_json()
    (lane,) = [s for f in catalog["fields"] for s in f["services"] if s["bulk_lane"]]
    assert lane["name"] == "Tổ chức, doanh nghiệp nộp nhiều hồ sơ"
    page = client.get(f"/lay-so?centre={demo.centre_id}").get_data(as_text=True)
    assert "Luồng riêng cho tổ chức, doanh nghiệp nộp nhiều hồ sơ" in page
    kiosk = client.post("/api/v1/tickets", json={"service_id": lane["id"]}).get_json()
    phone = client.post(
        "/api/v1/remote-tickets", json={"service_id": lane["id"], "phone": "0912345678"}
    )
    assert phone.status_code == 201, phone.get_json()
    assert (kiosk["number"], phone.get_json()["number"]) == ("D0001", "D0002")
    with database.transaction() as s:
        counters = dict(s.execute(select(Counter.number, Counter.id)).all())
        lane_counters = set(
            s.execute(
                select(CounterService.counter_id).where(CounterService.service_id == lane["id"])
            ).scalars()
        )
        assert lane_counters == {counters[5]}
        for number in (1, 5):
            s.get(Counter, counters[number]).status = "open"
    with database.transaction() as s, pytest.raises(OtherLane):
        ops.call_ticket(s, counter_id=counters[1], ticket_id=kiosk["id"], now=clock.moment)
    with database.transaction() as s:
        called = ops.call_ticket(s, counter_id=counters[5], ticket_id=kiosk["id"], now=clock.moment)
        assert called.id == kiosk["id"]
    with database.transaction() as s:
        load_demo(s)
    with database.transaction() as s:
        assert len(s.execute(select(Service.id).where(Service.code == "DN")).all()) == 1
