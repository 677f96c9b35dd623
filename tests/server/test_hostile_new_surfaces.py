"""What this round added, tried from outside as a hostile caller would, on SQLite and
PostgreSQL: numbers from the phone, the centre box's batch, the province board, kiosk
codes. Every answer a 4xx with a message, never a 500, never another centre's data."""

from __future__ import annotations

import threading
from collections import Counter as Tally

from sqlalchemy import select

from server.models import RemoteNumber, Service

HUGE_NESTING = "[" * 5000 + "]" * 5000


def _ht1(database) -> int:
    with database.transaction() as s:
        return s.execute(select(Service.id).where(Service.code == "HT1")).scalar_one()


def _json_error(response, *statuses: int) -> dict:
    assert response.status_code in statuses, (response.status_code, response.get_data()[:300])
    body = response.get_json()
    assert body and body.get("message"), body
    return body


def test_hostile_bodies_on_the_phone_and_box_endpoints_are_4xx_with_a_message(client, demo, clock):
    for path in ("/api/v1/remote-tickets", "/api/v1/check-in", "/api/v1/sync/batch"):
        for body in (HUGE_NESTING, "[1, 2]", '"x"', '{"service_id": "1\\u0000"}'):
            r = client.post(path, data=body, content_type="application/json")
            _json_error(r, 400, 401, 403, 413, 422)
        r = client.post(path, data=b"x" * (2 * 1024 * 1024), content_type="application/json")
        _json_error(r, 401, 403, 413)
    r = client.post("/api/v1/remote-tickets", json={"service_id": 2**63, "phone": ["0912"]})
    _json_error(r, 422)


def test_staff_and_kiosks_cannot_read_the_province_or_mint_kiosk_codes(client, demo, staff_token):
    for headers in (
        {"Authorization": f"Bearer {staff_token}"},
        {"Authorization": f"Bearer {demo.kiosk_token}"},
        {},
    ):
        _json_error(client.get("/api/v1/province/board", headers=headers), 401, 403)
        r = client.post(
            f"/api/v1/admin/stations/{demo.kiosk_station_id}/kiosk-code", headers=headers
        )
        _json_error(r, 401, 403)
        _json_error(client.get("/api/v1/sync/link", headers=headers), 401, 403, 404)


def test_many_phones_at_once_each_get_a_number_with_its_own_code(app, demo, database, clock):
    """Twelve phones take a number for the same service at the same moment: twelve numbers,
    twelve different check-in codes, no refusal."""
    service_id, threads = _ht1(database), 12
    statuses: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def phone(i: int) -> None:
        client = app.test_client()
        start.wait()
        r = client.post(
            "/api/v1/remote-tickets",
            json={"service_id": service_id, "phone": f"+84 912 000 {i:03d}"},
        )
        with lock:
            statuses.append(r.status_code)

    workers = [threading.Thread(target=phone, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert Tally(statuses) == {201: threads}
    with database.transaction() as s:
        codes = s.execute(select(RemoteNumber.code)).scalars().all()
    assert len(codes) == len(set(codes)) == threads
