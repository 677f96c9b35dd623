"""Phone ownership by SMS one-time code, through the API against the local SMS gateway
simulator (SQLite and PostgreSQL): with a gateway set, a remote number and a booking need
the code texted to the phone; a right code is accepted once, a wrong one counts, an
expired or locked one is refused with what to do; sends are limited per number and per
address; the number and the code are never logged or stored in clear."""

from __future__ import annotations

import logging
import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from server.models import PhoneVerification, Service
from server.notify.gateway_sim import GatewaySimulator

PHONE = "0912 345 678"
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # Wednesday 09:00 in Hà Nội


@pytest.fixture
def gateway(app):
    sim = GatewaySimulator().start()
    config = app.config["TTHCC"]
    config.sms_gateway_url, config.sms_gateway_token = sim.url, sim.token
    config.sms_gateway_timeout_seconds = 1
    yield sim
    sim.close()


@pytest.fixture
def many_codes(monkeypatch):
    """The per-address limit lifted (this test is about the per-number ones)."""
    monkeypatch.setenv("TTHCC_PHONE_CODE_RATE_LIMIT", "1000 per minute")


def _sid(database, code: str) -> int:
    with database.transaction() as s:
        return s.execute(select(Service.id).where(Service.code == code)).scalar_one()


def _ask(client, phone: str = PHONE, status: int = 201) -> dict:
    r = client.post("/api/v1/phone-verifications", json={"phone": phone})
    assert r.status_code == status, r.get_json()
    return r.get_json()


def _texted(sim: GatewaySimulator) -> str:
    """The code in the last SMS the gateway took."""
    message = list(sim.accepted.values())[-1]
    found = re.match(r"(\d{6}) là mã xác nhận", message["text"])
    assert found, message["text"]
    return found.group(1)


def _error(r, status: int, error: str) -> dict:
    body = r.get_json()
    assert (r.status_code, body["error"]) == (status, error), body
    assert body["message"] and body["message_en"]
    return body


def test_a_remote_number_needs_the_code_texted_to_the_phone_once(
    app, client, demo, database, gateway, clock, caplog
):
    caplog.set_level(logging.DEBUG)
    ht1 = _sid(database, "HT1")

    def take(**extra):
        body = {"service_id": ht1, "phone": PHONE, **extra}
        return client.post("/api/v1/remote-tickets", json=body)

    refused = _error(take(), 422, "phone_code_required")
    assert "Gửi mã xác nhận" in refused["message"]
    page = client.get(f"/lay-so?centre={demo.centre_id}").get_data(as_text=True)
    assert 'data-verify="1"' in page and "Nhập mã xác nhận đã gửi tới số" in page

    asked = _ask(client)
    assert (asked["phone"], asked["resend_after"], asked["code_digits"]) == ("091****678", 60, 6)
    (message,) = gateway.accepted.values()
    assert message["to"] == "+84912345678" and message["reference"].startswith("tthcc-code-")
    code = _texted(gateway)
    token = asked["verification"]
    wrong = "000000" if code != "000000" else "111111"
    body = _error(take(verification=token, code=wrong), 422, "phone_code_wrong")
    assert body["attempts_left"] == 4 and "4 lần thử còn lại" in body["message"]
    r = take(verification=token, code=f"{code[:3]} {code[3:]}")
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["remote"]["phone"] == "091****678"
    # Replay: the same code again, for another service too.
    _error(take(verification=token, code=code), 409, "phone_code_used")
    _error(take(verification="no-such-verification", code=code), 422, "phone_verification_unknown")
    other = client.post(
        "/api/v1/remote-tickets",
        json={"service_id": ht1, "phone": "0987654321", "verification": token, "code": code},
    )
    _error(other, 422, "phone_code_other_number")
    # Another code too soon: 429 with when to ask again.
    too_soon = client.post("/api/v1/phone-verifications", json={"phone": PHONE})
    assert _error(too_soon, 429, "phone_code_too_soon")["retry_after_seconds"] == 60
    assert too_soon.headers["Retry-After"] == "60"

    # Neither the number nor the code in any log line or in clear in the table.
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in ("912345678", "912 345 678", code):
        assert secret not in logged
    with database.transaction() as s:
        row = s.execute(select(PhoneVerification)).scalar_one()
        stored = repr([getattr(row, c.key) for c in PhoneVerification.__table__.columns])
    assert "912345678" not in stored and code not in stored and token not in stored
    assert (row.attempts, row.used_at) == (1, clock.moment)


def test_an_expired_code_a_locked_one_and_the_limits_per_number(
    many_codes, app, client, demo, database, gateway, clock
):
    ht1 = _sid(database, "HT1")

    def take(token: str, code: str):
        body = {"service_id": ht1, "phone": PHONE, "verification": token, "code": code}
        return client.post("/api/v1/remote-tickets", json=body)

    token = _ask(client)["verification"]
    code = _texted(gateway)
    clock.set(NOW + timedelta(minutes=5, seconds=1))
    assert "Gửi lại mã" in _error(take(token, code), 409, "phone_code_expired")["message"]

    clock.set(NOW + timedelta(minutes=6, seconds=2))
    token = _ask(client)["verification"]
    code = _texted(gateway)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    left = [_error(take(token, wrong), 422, "phone_code_wrong")["attempts_left"] for _ in range(4)]
    assert left == [4, 3, 2, 1]
    _error(take(token, wrong), 429, "phone_code_locked")
    locked = _error(take(token, code), 429, "phone_code_locked")  # even the right one now
    assert "sai mã 5 lần" in locked["message"]

    # Five codes an hour for one number (each a minute apart), then not before the hour.
    for minute in range(8, 11):
        clock.set(NOW + timedelta(minutes=minute))
        _ask(client)
    clock.set(NOW + timedelta(minutes=12))
    limit = _error(
        client.post("/api/v1/phone-verifications", json={"phone": PHONE}), 429, "phone_code_limit"
    )
    assert "trong một giờ" in limit["message"]
    assert len(gateway.accepted) == 5
    _ask(client, "0987654321")  # another number is not held back


def test_a_booking_needs_the_code_and_a_failed_sms_can_be_asked_again(
    app, client, admin, demo, database, gateway, clock
):
    hours = "T2-T6 07:30-11:30, 13:30-17:00; T7 07:30-11:30"
    r = admin("PATCH", f"/admin/centres/{demo.centre_id}", json={"opening_hours": hours})
    assert r.status_code == 200, r.get_json()
    ht1 = _sid(database, "HT1")
    hold = client.post(
        "/api/v1/appointment-holds",
        json={"service_id": ht1, "start": "2026-11-26T08:00:00+07:00"},
    ).get_json()["hold"]
    _error(
        client.post("/api/v1/appointments", json={"hold": hold, "phone": PHONE}),
        422,
        "phone_code_required",
    )
    page = client.get(f"/dat-lich?centre={demo.centre_id}").get_data(as_text=True)
    assert 'data-verify="1"' in page and "Nhập mã xác nhận đã gửi tới số" in page
    gateway.fault("error")  # the gateway is down: nothing to wait for, ask again at once
    down = _error(
        client.post("/api/v1/phone-verifications", json={"phone": PHONE}), 503, "sms_unavailable"
    )
    assert "thử lại sau ít phút" in down["message"]
    token = _ask(client)["verification"]
    booked = client.post(
        "/api/v1/appointments",
        json={"hold": hold, "phone": PHONE, "verification": token, "code": _texted(gateway)},
    )
    assert booked.status_code == 201, booked.get_json()
    again = client.post(
        "/api/v1/appointments",
        json={
            "service_id": ht1,
            "start": "2026-11-26T08:15:00+07:00",
            "phone": PHONE,
            "verification": token,
            "code": _texted(gateway),
        },
    )
    _error(again, 409, "phone_code_used")
    # Without an SMS gateway: no code is asked for, and none can be (documented).
    app.config["TTHCC"].sms_gateway_url = ""
    _error(
        client.post("/api/v1/phone-verifications", json={"phone": PHONE}),
        409,
        "phone_verification_off",
    )
    assert 'data-verify="1"' not in client.get(f"/dat-lich?centre={demo.centre_id}").get_data(
        as_text=True
    )
    plain = client.post(
        "/api/v1/appointments",
        json={"service_id": ht1, "start": "2026-11-26T08:15:00+07:00", "phone": PHONE},
    )
    assert plain.status_code == 201, plain.get_json()


def test_one_code_used_by_racing_requests_is_taken_once(app, demo, database, gateway, clock):
    """Three requests with the same right code at the same moment, for three services the
    number may take: one number is issued, the others are told the code was used."""
    token = _ask(app.test_client())["verification"]
    code = _texted(gateway)
    services = [_sid(database, c) for c in ("HT1", "HT2", "CT1")]
    start, statuses, lock = threading.Barrier(len(services)), [], threading.Lock()

    def take(service_id: int) -> None:
        client = app.test_client()
        start.wait()
        r = client.post(
            "/api/v1/remote-tickets",
            json={"service_id": service_id, "phone": PHONE, "verification": token, "code": code},
        )
        with lock:
            statuses.append((r.status_code, r.get_json().get("error")))

    threads = [threading.Thread(target=take, args=(sid,)) for sid in services]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(statuses, key=str) == sorted(
        [(201, None), (409, "phone_code_used"), (409, "phone_code_used")], key=str
    )


@pytest.fixture
def two_codes_a_minute(monkeypatch):
    monkeypatch.setenv("TTHCC_PHONE_CODE_RATE_LIMIT", "2 per minute")


def test_codes_are_limited_per_address(two_codes_a_minute, app, client, demo, gateway):
    for i in range(2):
        _ask(client, f"091200000{i}")
    r = client.post("/api/v1/phone-verifications", json={"phone": "0912000009"})
    assert r.status_code == 429 and "mã xác nhận quá nhiều lần" in r.get_json()["message"]
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    _ask(elsewhere, "0912000009")
    assert len(gateway.accepted) == 3


def test_sms_for_a_ticket_needs_the_code_unless_it_is_the_number_it_was_taken_with(
    app, client, demo, database, gateway, clock
):
    """Turning SMS on for a ticket texts a number: with a gateway, the number is proved by
    its code first, except the number the remote ticket itself was taken with."""
    ht1 = _sid(database, "HT1")
    kiosk = client.post("/api/v1/tickets", json={"service_id": ht1}).get_json()
    url = f"/api/v1/tickets/{kiosk['public_code']}/notifications"

    def sms(phone: str = PHONE, **extra):
        return client.post(url, json={"channel": "sms", "phone": phone, "consent": True, **extra})

    refused = _error(sms(), 422, "phone_code_required")
    assert "Gửi mã xác nhận" in refused["message"]
    _error(sms("12345"), 422, "invalid_request")  # a malformed number before any code
    assert client.get(url).get_json() == {"subscriptions": []} and not gateway.accepted
    token = _ask(client)["verification"]
    code = _texted(gateway)
    _error(
        sms(verification=token, code="000000" if code != "000000" else "1"), 422, "phone_code_wrong"
    )
    on = sms(verification=token, code=code)
    assert on.status_code == 201, on.get_json()
    assert on.get_json()["phone"] == "***5678"
    _error(sms(verification=token, code=code), 409, "phone_code_used")  # once only

    # A remote number taken with its code: that same number needs no second one.
    other = "0987 654 321"
    token = _ask(client, other)["verification"]
    remote = client.post(
        "/api/v1/remote-tickets",
        json={"service_id": ht1, "phone": other, "verification": token, "code": _texted(gateway)},
    )
    assert remote.status_code == 201, remote.get_json()
    url = f"/api/v1/tickets/{remote.get_json()['public_code']}/notifications"
    assert sms("+84987654321").status_code == 201
    _error(sms(PHONE), 422, "phone_code_required")  # another number still needs one
    assert len(gateway.accepted) == 2  # the two codes; the "joined" messages wait in the outbox


def test_six_asks_for_one_number_at_once_text_one_code(many_codes, app, demo, gateway, clock):
    """Six presses of «Gửi mã» for one number at the same moment (a double tap, two tabs): one
    code is texted, the others are told when to ask again (the number's row lock)."""
    threads, statuses, lock = 6, [], threading.Lock()
    start = threading.Barrier(threads)

    def ask() -> None:
        client = app.test_client()
        start.wait()
        r = client.post("/api/v1/phone-verifications", json={"phone": PHONE})
        with lock:
            statuses.append((r.status_code, r.get_json().get("error")))

    workers = [threading.Thread(target=ask) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert sorted(statuses, key=str) == sorted(
        [(201, None)] + [(429, "phone_code_too_soon")] * 5, key=str
    ), statuses
    assert len(gateway.accepted) == 1


def test_no_code_is_texted_for_a_number_the_phone_could_not_take(
    many_codes, app, client, admin, demo, database, gateway, clock, caplog
):
    """/lay-so asks for its code with the service chosen: the phone's quotas, the day's cap,
    the cut-off and a closure refuse there, with the message taking the number would give,
    and no SMS goes out. The number stays proved for the rest of its day, so the
    comparison with taking the number needs no second code."""
    caplog.set_level(logging.DEBUG)
    ht1, ht2, ct1 = (_sid(database, c) for c in ("HT1", "HT2", "CT1"))

    def ask(service_id: int, phone: str = PHONE):
        return client.post(
            "/api/v1/phone-verifications", json={"phone": phone, "service_id": service_id}
        )

    token = ask(ht1).get_json()["verification"]
    first = client.post(
        "/api/v1/remote-tickets",
        json={"service_id": ht1, "phone": PHONE, "verification": token, "code": _texted(gateway)},
    )
    assert first.status_code == 201, first.get_json()
    clock.set(NOW + timedelta(minutes=2))  # past the resend cool-down: only the rules refuse

    def same_refusal(service_id: int, status: int, error: str) -> str:
        before = len(gateway.accepted)
        refused = _error(ask(service_id), status, error)
        final = client.post(
            "/api/v1/remote-tickets",
            json={"service_id": service_id, "phone": PHONE, "verification": token},
        )
        assert _error(final, status, error)["message"] == refused["message"]
        assert len(gateway.accepted) == before  # no code texted
        return refused["message"]

    quota = same_refusal(ht1, 429, "phone_quota_reached")  # one HT1 number a phone a day
    assert quota
    admin("PATCH", f"/admin/services/{ct1}", json={"issue_cutoff": "08:00"})
    assert "08:00" in same_refusal(ct1, 409, "outside_opening_hours")
    admin("PATCH", f"/admin/services/{ht2}", json={"daily_cap": 1})
    assert client.post("/api/v1/tickets", json={"service_id": ht2}).status_code == 201
    same_refusal(ht2, 409, "daily_cap_reached")
    # Another number, with no quota used, is still texted where the rules allow it.
    assert ask(ht1, "0987654321").status_code == 201
    r = admin(
        "POST",
        f"/centres/{demo.centre_id}/closures",
        json={"day": "2026-11-25", "reason": "Mất điện"},
    )
    assert r.status_code == 201, r.get_json()
    assert "Mất điện" in same_refusal(ht2, 409, "centre_closed")
    assert len(gateway.accepted) == 2  # the first code, and the other number's
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "912345678" not in logged and "987654321" not in logged


def test_a_number_proved_today_needs_no_second_code_until_the_day_ends(
    app, client, demo, database, gateway, clock, caplog
):
    """The page sends back the verification of a code accepted today (no code): a second
    remote number, SMS for a kiosk ticket, all without a new SMS; another number, or the
    next day, needs a code again."""
    caplog.set_level(logging.DEBUG)
    ht1, ht2 = _sid(database, "HT1"), _sid(database, "HT2")
    token = _ask(client)["verification"]

    def take(service_id: int, phone: str = PHONE, **extra):
        body = {"service_id": service_id, "phone": phone, "verification": token, **extra}
        return client.post("/api/v1/remote-tickets", json=body)

    # Not yet proved: the verification alone is not enough.
    _error(take(ht1), 422, "phone_code_required")
    assert take(ht1, code=_texted(gateway)).status_code == 201
    clock.set(NOW + timedelta(hours=6))  # 15:00 the same day
    second = take(ht2)
    assert second.status_code == 201, second.get_json()
    kiosk = client.post("/api/v1/tickets", json={"service_id": ht1}).get_json()
    sms = client.post(
        f"/api/v1/tickets/{kiosk['public_code']}/notifications",
        json={"channel": "sms", "phone": PHONE, "consent": True, "verification": token},
    )
    assert sms.status_code == 201, sms.get_json()
    _error(take(ht2, "0987654321"), 422, "phone_code_other_number")
    assert len(gateway.accepted) == 1  # the one code; "joined" waits in the outbox
    clock.set(NOW + timedelta(hours=15))  # 00:00 the next day in Hà Nội
    expired = _error(take(ht2), 422, "phone_code_required")
    assert "trong ngày" in expired["message"]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "912345678" not in logged and token not in logged


def test_no_code_is_texted_for_a_held_slot_the_phone_could_not_book(
    many_codes, app, client, admin, demo, database, gateway, clock
):
    """/dat-lich asks for its code with the held slot: a phone that holds its bookings
    already, or a hold that expired, is refused there with booking's own message, and no
    SMS goes out."""
    hours = "T2-T6 07:30-11:30, 13:30-17:00; T7 07:30-11:30"
    assert admin("PATCH", f"/admin/centres/{demo.centre_id}", json={"opening_hours": hours})
    ht1 = _sid(database, "HT1")
    app.config["TTHCC"].phone_verification = False  # two bookings for the number, no codes
    for start in ("2026-11-26T08:00:00+07:00", "2026-11-26T08:15:00+07:00"):
        r = client.post(
            "/api/v1/appointments", json={"service_id": ht1, "start": start, "phone": PHONE}
        )
        assert r.status_code == 201, r.get_json()
    app.config["TTHCC"].phone_verification = True
    hold = client.post(
        "/api/v1/appointment-holds", json={"service_id": ht1, "start": "2026-11-26T08:30:00+07:00"}
    ).get_json()["hold"]

    def ask(phone: str = PHONE):
        return client.post("/api/v1/phone-verifications", json={"phone": phone, "hold": hold})

    quota = _error(ask(), 429, "booking_quota_reached")
    assert "đã có 2 lịch hẹn sắp tới" in quota["message"]
    assert not gateway.accepted
    assert ask("0987654321").status_code == 201  # another number may book it
    clock.set(NOW + timedelta(minutes=6))  # the hold is over
    _error(ask("0987000000"), 409, "hold_expired")
    assert len(gateway.accepted) == 1
