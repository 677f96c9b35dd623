"""Access findings of issue 11 (the "Access" list): staff of one centre cannot read or move
another centre's tickets or reprint them; ratings marked "pad" come only from a station;
staff rate only a counter they may operate; the broadcast of a rating names no staff."""

from __future__ import annotations

import pytest

from server.services.auth import create_user
from tests.server.factories import create_centre


@pytest.fixture
def other_centre_staff(client, database, demo) -> dict[str, str]:
    with database.transaction() as session:
        centre = create_centre(session, code="BN-KHAC", name="Trung tâm khác")
        create_user(
            session, username="canbo-khac", password="khac-12345", role="staff", centre_id=centre.id
        )
    token = client.post(
        "/api/v1/auth/token", json={"username": "canbo-khac", "password": "khac-12345"}
    ).get_json()["token"]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def waiting_ticket(client, demo) -> dict:
    r = client.post(
        "/api/v1/tickets",
        json={"service_id": 1, "station_id": demo.kiosk_station_id},
        headers={"Authorization": f"Bearer {demo.kiosk_token}"},
    )
    assert r.status_code == 201
    return r.get_json()


def test_staff_of_another_centre_cannot_read_move_or_reprint_its_tickets(
    client, demo, other_centre_staff, waiting_ticket, staff_token, backend
):
    r = client.get(f"/api/v1/tickets/today?centre_id={demo.centre_id}", headers=other_centre_staff)
    assert r.status_code == 403 and r.get_json()["message_en"]
    r = client.post(
        f"/api/v1/tickets/{waiting_ticket['id']}/transfer",
        json={"service_id": 2},
        headers=other_centre_staff,
    )
    assert r.status_code == 403
    r = client.post(f"/api/v1/tickets/{waiting_ticket['id']}/reprint", headers=other_centre_staff)
    assert r.status_code == 403
    # staff of the ticket's own centre still may
    own = {"Authorization": f"Bearer {staff_token}"}
    assert client.get("/api/v1/tickets/today", headers=own).status_code == 200
    r = client.post(f"/api/v1/tickets/{waiting_ticket['id']}/reprint", headers=own)
    assert r.status_code == 200


def _token(client, username: str) -> dict[str, str]:
    token = client.post(
        "/api/v1/auth/token", json={"username": username, "password": "tthcc-canbo"}
    ).get_json()["token"]
    return {"Authorization": f"Bearer {token}"}


def _counters_station(database) -> dict[str, str]:
    from sqlalchemy import select

    from server.models import Station
    from server.services.auth import issue_station_token

    with database.transaction() as session:
        station = session.execute(select(Station).where(Station.code == "COUNTERS-1")).scalar_one()
        return {"Authorization": f"Bearer {issue_station_token(session, station)}"}


def test_staff_cannot_forge_a_pad_rating_or_rate_a_colleagues_counter(
    client, database, demo, backend
):
    canbo1, canbo2 = _token(client, "canbo1"), _token(client, "canbo2")
    counter_1 = demo.counters[0][0]
    r = client.post(f"/api/v1/counters/{counter_1}/status", json={"status": "open"}, headers=canbo1)
    assert r.status_code == 200 and r.get_json()["staff_id"] is not None  # canbo1's now
    r = client.post(
        "/api/v1/ratings",
        json={"counter_id": counter_1, "level": 1, "key": "forged-pad-1", "source": "pad"},
        headers=canbo1,
    )
    assert r.status_code == 403 and "pad" in r.get_json()["message_en"]
    r = client.post(
        "/api/v1/ratings",
        json={"counter_id": counter_1, "level": 1, "key": "colleague-0001"},
        headers=canbo2,
    )
    assert r.status_code == 403
    # the pad of the station the counter is bound to still records "pad" ratings
    r = client.post(
        "/api/v1/ratings",
        json={"counter_id": counter_1, "level": 5, "key": "station-pad-1", "source": "pad"},
        headers=_counters_station(database),
    )
    assert r.status_code == 201 and r.get_json()["source"] == "pad"


def test_the_rating_broadcast_names_no_staff(client, database, demo, backend):
    sent: list = []
    database.add_outbox_sink(sent.extend)
    r = client.post(
        "/api/v1/ratings",
        json={"counter_id": demo.counters[0][0], "level": 4, "key": "broadcast-001"},
        headers=_counters_station(database),
    )
    assert r.status_code == 201 and "staff_id" in r.get_json()  # the API keeps it
    [recorded] = [m for m in sent if m.event == "rating.recorded"]
    assert "staff_id" not in recorded.payload["rating"]


def _station_id(database, code: str) -> int:
    from sqlalchemy import select

    from server.models import Station

    with database.transaction() as session:
        return session.execute(select(Station.id).where(Station.code == code)).scalar_one()


def test_no_ticket_prints_on_a_station_that_is_not_a_kiosk(client, database, demo, backend):
    """Anyone could name the counters' slip printer in POST /tickets; now nobody without a
    kiosk's credential names any station (tests/server/test_station_least_privilege.py)."""
    from sqlalchemy import func, select

    from server.models import PrintJob

    counters_station = _station_id(database, "COUNTERS-1")
    with database.transaction() as session:
        jobs_before = session.execute(select(func.count(PrintJob.id))).scalar_one()
    for station_id in (counters_station, _station_id(database, "DISPLAY-1")):
        r = client.post("/api/v1/tickets", json={"service_id": 1, "station_id": station_id})
        assert r.status_code == 403 and "not provisioned" in r.get_json()["message_en"]
    with database.transaction() as session:
        assert session.execute(select(func.count(PrintJob.id))).scalar_one() == jobs_before


def test_a_station_token_prints_only_on_its_own_printer(client, database, demo, backend):
    from server.models import Station
    from server.services.auth import issue_station_token

    with database.transaction() as session:
        other = Station(centre_id=demo.centre_id, code="KIOSK-2", kind="kiosk", has_printer=True)
        session.add(other)
        session.flush()
        other_id = other.id
        issue_station_token(session, other)
    kiosk = {"Authorization": f"Bearer {demo.kiosk_token}"}
    r = client.post(
        "/api/v1/tickets", json={"service_id": 1, "station_id": other_id}, headers=kiosk
    )
    assert r.status_code == 403 and r.get_json()["message_en"]
    r = client.post(
        "/api/v1/tickets",
        json={"service_id": 1, "station_id": demo.kiosk_station_id},
        headers=kiosk,
    )
    assert r.status_code == 201 and r.get_json()["print_job_id"]
