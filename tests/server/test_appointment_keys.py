"""Idempotency-Key on POST /api/v1/appointments (SQLite and PostgreSQL): a phone's press of
«Xác nhận đặt lịch» retried after a lost answer gets the booking it made, once (one
booking, the phone's quota counted once, no second SMS, the code it used accepted again);
the key is the phone number's, so another number sending it books its own or is asked its
own code (docs/appointments.md, "Retries")."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import func, select

from server.models import Appointment, NotifyMessage, NotifySubscription, Service
from server.notify.gateway_sim import GatewaySimulator

KEY = "b-mk2x7f3a-0q9w8e7r6t"
PHONE = "0912 345 678"
OTHER = "0987 654 321"
HOURS = "T2-T6 07:30-11:30, 13:30-17:00; T7 07:30-11:30"
NINE30, TEN, TEN15 = (f"2026-11-26T{t}:00+07:00" for t in ("09:30", "10:00", "10:15"))


@pytest.fixture
def gateway(app):
    sim = GatewaySimulator().start()
    config = app.config["TTHCC"]
    config.sms_gateway_url, config.sms_gateway_token = sim.url, sim.token
    config.sms_gateway_timeout_seconds = 1
    yield sim
    sim.close()


@pytest.fixture
def ht1(admin, demo, database) -> int:
    r = admin("PATCH", f"/admin/centres/{demo.centre_id}", json={"opening_hours": HOURS})
    assert r.status_code == 200, r.get_json()
    with database.transaction() as s:
        return s.execute(select(Service.id).where(Service.code == "HT1")).scalar_one()


def _hold(client, service_id: int, start: str) -> str:
    r = client.post("/api/v1/appointment-holds", json={"service_id": service_id, "start": start})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["hold"]


def _book(client, phone: str = PHONE, key: str | None = KEY, **body):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post("/api/v1/appointments", json={"phone": phone, **body}, headers=headers)


def _booked(database) -> int:
    with database.transaction() as s:
        return s.scalar(
            select(func.count()).select_from(Appointment).where(Appointment.status == "booked")
        )


def _error(r, status: int, error: str) -> dict:
    body = r.get_json()
    assert (r.status_code, body["error"]) == (status, error), body
    assert body["message"] and body["message_en"]
    return body


def _replayed(r, first: dict) -> None:
    assert (r.status_code, r.headers.get("Idempotent-Replayed")) == (200, "true"), r.get_json()
    assert r.get_json() == first


def test_a_retried_booking_answers_its_booking_once_and_never_another_phones(
    client, database, clock, ht1
):
    hold = _hold(client, ht1, NINE30)
    first = _book(client, hold=hold)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    booking = first.get_json()
    # The answer was lost: the same press again, by its hold or by its slot, the same number.
    for again in (
        _book(client, hold=hold),
        _book(client, "0912345678", hold=hold),
        _book(client, service_id=ht1, start=NINE30),
    ):
        _replayed(again, booking)
    assert _booked(database) == 1
    # The phone's quota (2) counts the booking once: one more press books, the next is
    # refused, and the first press's retry is still its booking, not 429.
    assert _book(client, key="b-another-press-00001", service_id=ht1, start=TEN).status_code == 201
    refused = _book(client, key="b-another-press-00002", service_id=ht1, start=TEN15)
    _error(refused, 429, "booking_quota_reached")
    _replayed(_book(client, hold=hold), booking)
    # The same key for another slot: refused, nothing booked.
    reused = _error(_book(client, service_id=ht1, start=TEN15), 422, "idempotency_key_reused")
    assert "Idempotency-Key" in reused["message_en"]
    for bad in ("short-key", "x" * 65, "b-mk2x7f3a 0q9w8e7r6t", ""):
        _error(_book(client, key=bad, hold=hold), 422, "invalid_idempotency_key")
    assert _booked(database) == 2
    # Another number sending the same key: its own booking, never the first one's.
    theirs = _book(client, OTHER, service_id=ht1, start=NINE30)
    assert theirs.status_code == 201, theirs.get_json()
    assert theirs.get_json()["code"] != booking["code"]
    assert theirs.get_json()["phone"] == "098****321"
    # Without a key, as before: the used hold is over.
    _error(_book(client, key=None, hold=hold), 409, "hold_expired")
    assert _booked(database) == 3


def _texted(sim: GatewaySimulator) -> str:
    found = re.match(r"(\d{6}) là mã xác nhận", list(sim.accepted.values())[-1]["text"])
    assert found
    return found.group(1)


def test_with_sms_codes_a_retry_with_the_used_code_answers_the_booking_and_texts_nothing(
    client, database, gateway, clock, ht1
):
    hold = _hold(client, ht1, NINE30)
    asked = client.post("/api/v1/phone-verifications", json={"phone": PHONE, "hold": hold})
    assert asked.status_code == 201, asked.get_json()
    proof = {"verification": asked.get_json()["verification"], "code": _texted(gateway)}
    # A malformed key is refused before the code is looked at: the code stays usable.
    _error(_book(client, key="bad key", hold=hold, **proof), 422, "invalid_idempotency_key")
    first = _book(client, hold=hold, notify=True, **proof)
    assert first.status_code == 201, first.get_json()
    _replayed(_book(client, hold=hold, notify=True, **proof), first.get_json())
    # Without the key, the same code is a replay of the code (as before).
    _error(_book(client, key=None, hold=hold, **proof), 409, "phone_code_used")
    # Another number with the same key: the usual code requirement, never the booking.
    _error(_book(client, OTHER, service_id=ht1, start=NINE30), 422, "phone_code_required")
    _error(
        _book(client, OTHER, service_id=ht1, start=NINE30, **proof), 422, "phone_code_other_number"
    )
    assert len(gateway.accepted) == 1  # the code: nothing texted by the retry
    assert _booked(database) == 1
    with database.transaction() as s:  # one consent, one confirmation queued
        assert s.scalar(select(func.count()).select_from(NotifySubscription)) == 1
        assert s.scalar(select(func.count()).select_from(NotifyMessage)) == 1


def test_six_retries_racing_book_once(app, database, clock, ht1):
    """Six requests of one press at once: PostgreSQL makes the later ones wait on the
    phone's lock, then they answer the first one's booking; SQLite serialises writers."""
    threads, answers, lock = 6, [], threading.Lock()
    start = threading.Barrier(threads)

    def press() -> None:
        client = app.test_client()
        start.wait()
        r = _book(client, service_id=ht1, start=NINE30)
        with lock:
            answers.append((r.status_code, r.get_json().get("code")))

    workers = [threading.Thread(target=press) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=30)
    assert sorted(status for status, _ in answers) == [200] * 5 + [201], answers
    assert len({code for _, code in answers}) == 1
    assert _booked(database) == 1
