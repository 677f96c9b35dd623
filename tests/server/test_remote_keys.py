"""Idempotency-Key on POST /api/v1/remote-tickets (SQLite and PostgreSQL): a phone's press
retried after a lost answer gets the number it took, once (one ticket, one remote row, its
quota counted once, no second SMS, the code it used accepted again); the key is the phone
number's, so another number sending it gets its own number or the usual code requirement."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from server.models import PhoneVerification, RemoteNumber, Service, Ticket
from server.notify.gateway_sim import GatewaySimulator

KEY = "p-mk2x7f3a-0q9w8e7r6t"
PHONE = "+84 912 345 678"
OTHER = "0987 654 321"


@pytest.fixture
def gateway(app):
    sim = GatewaySimulator().start()
    config = app.config["TTHCC"]
    config.sms_gateway_url, config.sms_gateway_token = sim.url, sim.token
    config.sms_gateway_timeout_seconds = 1
    yield sim
    sim.close()


def _sid(database, code: str) -> int:
    with database.transaction() as s:
        return s.execute(select(Service.id).where(Service.code == code)).scalar_one()


def _take(client, service_id: int, phone: str = PHONE, key: str | None = KEY, **extra):
    headers = {"Idempotency-Key": key} if key is not None else {}
    body = {"service_id": service_id, "phone": phone, **extra}
    return client.post("/api/v1/remote-tickets", json=body, headers=headers)


def _counts(database) -> tuple[int, int]:
    with database.transaction() as s:
        tickets = s.scalar(select(func.count()).select_from(Ticket))
        remotes = s.scalar(select(func.count()).select_from(RemoteNumber))
    return tickets, remotes


def _error(r, status: int, error: str) -> dict:
    body = r.get_json()
    assert (r.status_code, body["error"]) == (status, error), body
    assert body["message"] and body["message_en"]
    return body


def _same(first: dict, again: dict) -> None:
    for name in ("id", "number", "public_code", "public_url", "service_name", "remote"):
        assert first[name] == again[name], name
    assert again["waiting_ahead"] == first["waiting_ahead"] == 0
    assert (again["estimate"] is None) == (first["estimate"] is None)


def test_a_retried_press_answers_its_number_once_and_never_another_phones(
    client, demo, database, clock
):
    ht1, ht2 = _sid(database, "HT1"), _sid(database, "HT2")
    first = _take(client, ht1)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    # The phone's one number of HT1 is taken (remote_per_phone 1): a retry is not refused
    # by the quota, it answers that number; "0912345678" is the same number.
    for phone in (PHONE, "0912345678"):
        again = _take(client, ht1, phone)
        assert again.status_code == 200, again.get_json()
        assert again.headers["Idempotent-Replayed"] == "true"
        _same(first.get_json(), again.get_json())
    assert len(first.get_json()["remote"]["code"]) == 6
    assert _counts(database) == (1, 1)
    # A new press (a new key) is counted as always.
    _error(_take(client, ht1, key="p-another-press-000001"), 429, "phone_quota_reached")
    # The same key for another service: refused, nothing taken.
    r = _take(client, ht2)
    assert "Idempotency-Key" in _error(r, 422, "idempotency_key_reused")["message_en"]
    for bad in ("short-key", "x" * 65, "p-mk2x7f3a 0q9w8e7r6t", ""):
        _error(_take(client, ht1, key=bad), 422, "invalid_idempotency_key")
    assert _counts(database) == (1, 1)
    # Another number sending the same key: its own number, never the first one's.
    theirs = _take(client, ht1, OTHER)
    assert theirs.status_code == 201, theirs.get_json()
    assert theirs.get_json()["number"] != first.get_json()["number"]
    assert theirs.get_json()["remote"]["code"] != first.get_json()["remote"]["code"]
    assert theirs.get_json()["remote"]["phone"] == "098****321"
    assert _take(client, ht1).get_json()["number"] == first.get_json()["number"]
    # Without a key, as before.
    assert _take(client, ht2, key=None).status_code == 201
    assert _counts(database) == (3, 3)
    # The same key the next day is a new press.
    clock.set(clock.moment + timedelta(days=1))
    assert _take(client, ht1).status_code == 201
    assert _counts(database) == (4, 4)


def _texted(sim: GatewaySimulator) -> str:
    found = re.match(r"(\d{6}) là mã xác nhận", list(sim.accepted.values())[-1]["text"])
    assert found
    return found.group(1)


def test_with_sms_codes_a_retry_with_the_used_code_answers_the_number_and_texts_nothing(
    client, demo, database, gateway, clock
):
    ht1 = _sid(database, "HT1")
    asked = client.post("/api/v1/phone-verifications", json={"phone": PHONE, "service_id": ht1})
    assert asked.status_code == 201, asked.get_json()
    proof = {"verification": asked.get_json()["verification"], "code": _texted(gateway)}
    # A malformed key is refused before the code is looked at: the code stays usable.
    _error(_take(client, ht1, key="bad key", **proof), 422, "invalid_idempotency_key")
    first = _take(client, ht1, **proof)
    assert first.status_code == 201, first.get_json()
    # The answer was lost: the page sends the same press again, code and all.
    again = _take(client, ht1, **proof)
    assert (again.status_code, again.headers.get("Idempotent-Replayed")) == (200, "true")
    _same(first.get_json(), again.get_json())
    # Without the key, the same code is a replay of the code (as before).
    _error(_take(client, ht1, key=None, **proof), 409, "phone_code_used")
    # Another number with the same key: the usual code requirement, never the first number.
    _error(_take(client, ht1, OTHER), 422, "phone_code_required")
    _error(_take(client, ht1, OTHER, **proof), 422, "phone_code_other_number")
    assert len(gateway.accepted) == 1
    assert _counts(database) == (1, 1)
    with database.transaction() as s:
        row = s.execute(select(PhoneVerification)).scalar_one()
    assert row.used_at is not None and row.attempts == 0


def test_eight_retries_racing_take_one_number(app, demo, database, clock):
    """Eight requests of one press at the same moment: PostgreSQL makes the later ones wait
    on the phone's lock, then they answer the first one's number (without the lock first,
    they would be refused by the quota); SQLite serialises the writers."""
    ht1, threads, answers, lock = _sid(database, "HT1"), 8, [], threading.Lock()
    start = threading.Barrier(threads)

    def press() -> None:
        client = app.test_client()
        start.wait()
        r = _take(client, ht1)
        with lock:
            answers.append((r.status_code, r.get_json().get("id")))

    workers = [threading.Thread(target=press) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=30)
    assert sorted(status for status, _ in answers) == [200] * 7 + [201], answers
    assert len({ticket_id for _, ticket_id in answers}) == 1
    assert _counts(database) == (1, 1)
