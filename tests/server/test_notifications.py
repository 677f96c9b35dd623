"""Notifications through the real app (SQLite and PostgreSQL): consent recorded, the
triggers (joined, N ahead, called, no-show) queue messages in the move's transaction, the
worker sends them through the real channels to local simulators (an SMS gateway that
fails, stalls and answers 5xx; a Web Push service that checks the VAPID JWT and decrypts
the payload), retries with back-off, never sends one message twice, and never logs a
phone number."""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from server.domain.clock import local_day, utcnow
from server.models import NotifyMessage, NotifySubscription, Service, Ticket
from server.notify import store
from server.notify.delivery import NotifyWorker, channels_from_config
from server.notify.gateway_sim import GatewaySimulator
from server.notify.keys import generate_vapid_key
from tests.push_service import PushService
from tests.server.test_appointments import _logged_in

PHONE = "0912345678"
DIGITS = ("912345678", "+84912345678", "0912 345 678")


@pytest.fixture
def clock(app):
    """The app's clock from the real time (the counters' calls use the real one), moved on
    by the tests past the worker's back-off."""

    class Clock:
        moment = utcnow()

        def set(self, moment) -> None:
            self.moment = moment

    fixed = Clock()
    app.extensions["tthcc_clock"] = lambda: fixed.moment
    return fixed


@pytest.fixture
def gateway(app):
    sim = GatewaySimulator(stall=1.5).start()
    config = app.config["TTHCC"]
    config.sms_gateway_url, config.sms_gateway_token = sim.url, sim.token
    config.sms_gateway_timeout_seconds = 1
    config.phone_verification = False  # the code step: tests/server/test_phone_check.py
    yield sim
    sim.close()


def _worker(app, clock, **kw) -> NotifyWorker:
    return NotifyWorker(
        app.extensions["tthcc_db"],
        channels_from_config(app.config["TTHCC"]),
        app.config["SECRET_KEY"],
        clock=lambda: clock.moment,
        send_timeout=1,
        **kw,
    )


def _issue(client, service_id: int) -> dict:
    r = client.post("/api/v1/tickets", json={"service_id": service_id})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _messages(database) -> list[tuple[str, str, int]]:
    with database.transaction() as s:
        rows = s.execute(
            select(NotifyMessage.kind, NotifyMessage.status, NotifyMessage.attempts).order_by(
                NotifyMessage.id
            )
        )
        return [tuple(r) for r in rows]


def test_sms_from_consent_to_no_show_retried_reported_and_never_logging_the_number(
    app, client, demo, database, clock, gateway, admin, staff_token, caplog
):
    caplog.set_level(logging.DEBUG)
    admin("PATCH", f"/admin/centres/{demo.centre_id}", json={"notify_ahead": 1})
    with database.transaction() as s:
        sid = s.execute(select(Service.id).where(Service.code == "HT1")).scalar_one()
    first, second, mine = (_issue(client, sid) for _ in range(3))
    url = f"/api/v1/tickets/{mine['public_code']}/notifications"

    no = client.post(url, json={"channel": "sms", "phone": PHONE, "consent": False})
    assert no.status_code == 422 and "đồng ý" in no.get_json()["message"]
    r = client.post(url, json={"channel": "sms", "phone": PHONE, "consent": True})
    assert r.status_code == 201, r.get_json()
    assert (r.get_json()["phone"], r.get_json()["ahead_threshold"]) == ("***5678", 1)
    with database.transaction() as s:
        sub = s.execute(select(NotifySubscription)).scalar_one()
        assert sub.consented_at == clock.moment and sub.channel == "sms"
        assert PHONE not in sub.phone_sealed and sub.phone_masked == "***5678"

    # joined: a 503, then a stall past the client's time-out, then accepted once.
    worker = _worker(app, clock)
    gateway.fault("error")
    gateway.fault("stall")
    assert worker.run_once() == {"queued": 0, "pending": 1}
    assert worker.run_once() == {"queued": 0}  # not due yet: 5 s back-off
    clock.set(clock.moment + timedelta(seconds=6))
    assert worker.run_once() == {"queued": 0, "pending": 1}  # stalled: retry in 10 s
    clock.set(clock.moment + timedelta(seconds=11))
    assert worker.run_once() == {"queued": 0, "sent": 1}  # the gateway had it: 409
    assert [mode for _, mode in gateway.requests] == ["error", "stall", "ok"]
    assert len(gateway.accepted) == 1
    joined = next(iter(gateway.accepted.values()))
    assert joined["to"] == "+84912345678" and joined["channel"] == "sms"
    assert joined["text"].startswith(f"Số {mine['number']}: đã bật thông báo")
    assert "Hiện có 2 người phía trước" in joined["text"]

    staff = {"Authorization": f"Bearer {staff_token}"}
    assert (
        client.post("/api/v1/counters/1/status", json={"status": "open"}, headers=staff).status_code
        < 300
    )
    called = client.post("/api/v1/counters/1/call-next", json={}, headers=staff)
    assert called.get_json().get("id") == first["id"], called.get_json()
    assert worker.run_once() == {"queued": 1, "sent": 1}
    assert worker.run_once() == {"queued": 0}  # "near" once only
    served = {"resolve": "served", "current_ticket_id": first["id"]}
    assert (
        client.post("/api/v1/counters/1/call-next", json=served, headers=staff).status_code == 200
    )
    served["current_ticket_id"] = second["id"]
    r = client.post("/api/v1/counters/1/call-next", json=served, headers=staff)
    assert r.get_json()["id"] == mine["id"], r.get_json()
    assert worker.run_once() == {"queued": 1, "sent": 1}  # the call, read from the trail
    gateway.fault("fail")  # the gateway refuses the no-show message for good: no retry
    assert client.post(f"/api/v1/tickets/{mine['id']}/no-show", headers=staff).status_code < 300
    assert worker.run_once() == {"queued": 1, "failed": 1}
    assert worker.run_once() == {"queued": 0}  # each move is told once
    texts = [m["text"] for m in gateway.accepted.values()]
    assert texts[1].startswith(f"Số {mine['number']}: sắp đến lượt")
    assert "Còn 1 người phía trước" in texts[1]
    assert texts[2].startswith(f"Mời số {mine['number']} đến Quầy 1 / Number")
    assert f"Xin mời công dân có số thứ tự {mine['number']} đến Quầy 1." in texts[2]
    assert _messages(database) == [
        ("joined", "sent", 3),
        ("near", "sent", 1),
        ("called", "sent", 1),
        ("no_show", "failed", 1),
    ]

    report = admin("GET", f"/notifications/report?centre_id={demo.centre_id}").get_json()
    assert report["totals"] | {} == {
        "pending": 0,
        "sending": 0,
        "sent": 3,
        "failed": 1,
        "expired": 0,
        "cancelled": 0,
    }
    assert report["by_channel"]["sms"]["sent"] == 3 and report["consents"] == {"sms": 1}
    assert report["recent_failures"][0]["kind"] == "no_show"
    assert report["booking_notices"] == {"unsent": 0, "sent": 0}
    assert "422" in report["recent_failures"][0]["error"]
    assert client.get(f"/api/v1/notifications/report?centre_id={demo.centre_id}").status_code == 401

    # The supervisors' page: the day's figures per channel and trigger, no number.
    day = local_day(clock.moment, "Asia/Ho_Chi_Minh").isoformat()
    page = f"/supervisor/notifications?centre={demo.centre_id}&date={day}"
    boss = _logged_in(app.test_client(), "giamsat", "tthcc-giamsat").get(page)
    html = boss.get_data(as_text=True)
    assert boss.status_code == 200 and "Thông báo cho công dân" in html
    rows = re.findall(r'data-kind="(\w+)">(.*?)</tr>', html, re.S)
    figures = {k: [int(n) for n in re.findall(r'class="num">(\d+)<', r)] for k, r in rows}
    assert figures == {
        "joined": [1, 1, 0, 1, 0, 0, 0],  # queued, sent, failed, retried, waiting, …
        "near": [1, 1, 0, 0, 0, 0, 0],
        "called": [1, 1, 0, 0, 0, 0, 0],
        "no_show": [1, 0, 1, 0, 0, 0, 0],
    }
    assert "Mời đến quầy" in html and "Sắp đến lượt" in html
    total = re.search(r'data-channel="all">(.*?)</tr>', html, re.S).group(1)
    assert [int(n) for n in re.findall(r'class="num">(\d+)<', total)] == [4, 3, 1, 1, 0, 0, 0]
    assert not any(d in html for d in (*DIGITS, "5678"))
    canbo = _logged_in(app.test_client(), "canbo1", "tthcc-canbo").get(page)
    assert canbo.status_code == 403
    nobody = app.test_client().get(page)
    assert nobody.status_code == 302 and "/supervisor/login" in nobody.headers["Location"]

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "***5678" in logged
    for digits in DIGITS:
        assert digits not in logged, f"{digits} in the logs"


def test_withdrawing_cancels_what_is_queued_erases_the_number_and_stops_the_triggers(
    app, client, demo, database, clock, gateway, staff_token
):
    with database.transaction() as s:
        sid = s.execute(select(Service.id).where(Service.code == "HT1")).scalar_one()
    mine = _issue(client, sid)
    url = f"/api/v1/tickets/{mine['public_code']}/notifications"
    sub = client.post(url, json={"channel": "sms", "phone": PHONE, "consent": True}).get_json()
    again = client.post(url, json={"channel": "sms", "phone": "+84 912 345 678", "consent": True})
    assert again.get_json()["id"] == sub["id"]  # the same number: the same consent
    assert [s["id"] for s in client.get(url).get_json()["subscriptions"]] == [sub["id"]]
    r = client.delete(f"{url}/{sub['id']}")
    assert r.status_code == 200 and r.get_json()["cancelled"] == 1
    assert client.get(url).get_json()["subscriptions"] == []
    staff = {"Authorization": f"Bearer {staff_token}"}
    client.post("/api/v1/counters/1/status", json={"status": "open"}, headers=staff)
    client.post("/api/v1/counters/1/call-next", json={}, headers=staff)
    assert _worker(app, clock).run_once() == {"queued": 0}
    assert gateway.requests == []
    with database.transaction() as s:
        row = s.get(NotifySubscription, sub["id"])
        assert row.phone_sealed is None and row.withdrawn_reason == "citizen"
        assert row.withdrawn_at == clock.moment
    assert _messages(database) == [("joined", "cancelled", 0)]
    # An other ticket's code cannot withdraw it; a finished ticket takes no new consent.
    other = _issue(client, sid)
    assert (
        client.delete(
            f"/api/v1/tickets/{other['public_code']}/notifications/{sub['id']}"
        ).status_code
        == 404
    )
    r = client.post(url, json={"channel": "zalo", "phone": PHONE, "consent": True})
    assert (r.status_code, r.get_json()["error"]) == (409, "channel_unavailable")
    for phone, status in (("0987654321", 201), ("0912345678", 201), ("0911111111", 409)):
        r = client.post(url, json={"channel": "sms", "phone": phone, "consent": True})
        assert r.status_code == status, r.get_json()
    assert r.get_json()["error"] == "too_many_numbers"
    # A day later the worker erases the numbers kept for the ticket's day.
    clock.set(clock.moment + timedelta(hours=25))
    _worker(app, clock).run_once()
    with database.transaction() as s:
        kept = s.scalars(select(NotifySubscription).where(NotifySubscription.id != sub["id"]))
        assert {(k.withdrawn_reason, k.phone_sealed) for k in kept} == {("expired", None)}


def test_two_workers_never_send_the_same_message_and_a_lapsed_claim_is_taken_over(
    app, client, demo, database, clock, gateway
):
    with database.transaction() as s:
        sid = s.execute(select(Service.id).where(Service.code == "HT1")).scalar_one()
    mine = _issue(client, sid)
    url = f"/api/v1/tickets/{mine['public_code']}/notifications"
    client.post(url, json={"channel": "sms", "phone": PHONE, "consent": True})
    with database.transaction() as s:
        sub = s.execute(select(NotifySubscription)).scalar_one()
        text = store.texts.near("1001", 1)
        for i in range(59):
            store.enqueue(s, sub, "near", f"load:{i}", text, "/t/x", clock.moment)
    # A worker that claimed one message and died: its lease lapses, another sends it.
    dead = _worker(app, clock, name="dead", batch=1)
    from server.notify.delivery import claim

    [lost] = claim(database, "dead", clock.moment, limit=1, lease=dead.lease)
    clock.set(clock.moment + dead.lease + timedelta(seconds=1))

    workers = [_worker(app, clock, name=f"w{i}", batch=4) for i in range(4)]
    barrier = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def drain(worker: NotifyWorker) -> None:
        try:
            barrier.wait()
            while sum(v for k, v in worker.run_once().items() if k != "queued"):
                pass
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=drain, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    references = [ref for ref, _ in gateway.requests]
    assert len(references) == 60 and len(set(references)) == 60  # each sent once
    with database.transaction() as s:
        counts = dict(
            s.execute(
                select(NotifyMessage.status, func.count()).group_by(NotifyMessage.status)
            ).all()
        )
        took_over = s.get(NotifyMessage, lost)
        by = dict(
            s.execute(
                select(NotifyMessage.claimed_by, func.count()).group_by(NotifyMessage.claimed_by)
            ).all()
        )
    assert counts == {"sent": 60}
    assert took_over.claimed_by != "dead" and took_over.attempts == 2
    assert len(by) > 1, by  # the work was shared


def test_web_push_is_vapid_signed_and_encrypted_for_the_browsers_keys_and_gone_stops_it(
    app, client, demo, database, clock, staff_token
):
    config = app.config["TTHCC"]
    config.notify_push_allow_local = True
    public_key = generate_vapid_key(config.vapid_key_path)
    assert client.get("/api/v1/notifications/channels").get_json() == {
        "channels": ["webpush"],
        "vapid_public_key": public_key,
    }
    service = PushService().start()
    try:
        with database.transaction() as s:
            sid = s.execute(select(Service.id).where(Service.code == "HT1")).scalar_one()
        mine = _issue(client, sid)
        url = f"/api/v1/tickets/{mine['public_code']}/notifications"
        browser = service.new_subscription()
        body = {"channel": "webpush", "subscription": browser.to_json(), "consent": True}
        assert client.post(url, json=body).status_code == 201
        config.notify_push_allow_local = False  # in production: https, never our own network
        refused = client.post(
            url, json=body | {"subscription": service.new_subscription().to_json()}
        )
        assert refused.status_code == 422
        worker = _worker(app, clock)
        assert worker.run_once() == {"queued": 1, "sent": 2}  # joined, and 0 ahead ≤ 3
        pushes = service.wait_for(2)
        assert pushes[0].vapid_key == public_key
        assert (
            pushes[0].payload["title"]
            == f"Số {mine['number']}: đã bật thông báo / Notifications on"
        )
        assert pushes[0].payload["url"] == f"/t/{mine['public_code']}"
        assert pushes[1].payload["title"].startswith(f"Số {mine['number']}: sắp đến lượt")
        service.answer[browser.id] = 410  # the browser unsubscribed: the service forgot it
        staff = {"Authorization": f"Bearer {staff_token}"}
        client.post("/api/v1/counters/1/status", json={"status": "open"}, headers=staff)
        client.post("/api/v1/counters/1/call-next", json={}, headers=staff)
        assert worker.run_once() == {"queued": 1, "failed": 1}
        with database.transaction() as s:
            sub = s.execute(select(NotifySubscription)).scalar_one()
            assert (sub.withdrawn_reason, sub.endpoint) == ("gone", None)
            assert s.get(Ticket, mine["id"]).status == "called"
    finally:
        service.close()


def test_a_closure_of_today_tells_the_holders_of_todays_numbers(
    app, client, demo, database, clock, gateway, admin
):
    with database.transaction() as s:
        sid = s.execute(select(Service.id).where(Service.code == "HT1")).scalar_one()
    mine = _issue(client, sid)
    url = f"/api/v1/tickets/{mine['public_code']}/notifications"
    client.post(url, json={"channel": "sms", "phone": PHONE, "consent": True})
    with database.transaction() as s:
        day = s.get(Ticket, mine["id"]).day
    r = admin(
        "POST",
        f"/centres/{demo.centre_id}/closures",
        json={"day": day.isoformat(), "reason": "mất điện"},
    )
    assert r.status_code < 300, r.get_json()
    # joined and closure were queued by their requests, "near" (0 ahead) by the round
    assert _worker(app, clock).run_once() == {"queued": 1, "sent": 3}
    closure = [m for m in gateway.wait_for(3) if "tạm nghỉ" in m["text"]]
    text = closure[0]["text"]
    assert f"tạm nghỉ ngày {day:%d/%m/%Y}" in text and "(mất điện)" in text
    # A ticket holder is told about their number, not about a booking they never made.
    assert f"Số {mine['number']} của quý khách" in text and "lấy số lại" in text
    assert "Lịch hẹn" not in text and "booking" not in text.lower()


def test_the_closure_notice_speaks_to_its_audience():
    """Ticket holders (walk-in or remote: take a number again; a checked-in booking: book
    again) and booking holders (the booking's own notice) each get their own words."""
    walk_in = store.texts.closure("TT Kinh Bắc", "26/11/2026", "1003", "Mất điện")
    booked = store.texts.closure("TT Kinh Bắc", "26/11/2026", "1004", booked=True)
    notice = store.texts.booking_closure(
        "Trung tâm nghỉ ngày 26/11/2026: lịch hẹn 1234567890 lúc 08:00 đã bị hủy.",
        "The centre is closed on 26/11/2026: appointment 1234567890 at 08:00 is cancelled.",
    )
    vi, en = walk_in.body.split("\n")
    assert vi.startswith("Trung tâm tạm nghỉ ngày 26/11/2026 (Mất điện). Số 1003 của quý khách")
    assert "lấy số lại" in vi and "take a new number" in en
    for text in (walk_in, booked):
        assert "hủy" not in text.sms and "cancel" not in text.sms
        assert unicodedata.is_normalized("NFC", text.sms)
    assert "đặt lịch hẹn lại" in booked.body and "book another day" in booked.body
    assert notice.title == "Lịch hẹn bị hủy do trung tâm nghỉ / Booking cancelled"
    assert "đã bị hủy" in notice.body


def test_the_vapid_key_is_made_once_and_kept_unless_rotated(app, database):
    from server.cli import cli

    runner = app.test_cli_runner()
    first = runner.invoke(cli, ["notify", "vapid"])
    assert first.exit_code == 0, first.output
    path = app.config["TTHCC"].vapid_key_path
    assert path.stat().st_mode & 0o777 == 0o600
    again = runner.invoke(cli, ["notify", "vapid"])
    assert again.output.splitlines()[-1] == first.output.splitlines()[-1]
    assert "kept" in again.output
    rotated = runner.invoke(cli, ["notify", "vapid", "--rotate"])
    assert rotated.output.splitlines()[-1] != first.output.splitlines()[-1]
    report = runner.invoke(cli, ["notify", "report"])
    assert report.exit_code == 0 and '"totals"' in report.output


def test_the_notifications_page_answers_any_date_and_only_its_own_centre(app, demo, database):
    """Hostile query strings on the supervisors' page: a date at the calendar's ends (its day
    bounds overflowed: a bare JSON 422 instead of the page) or not a date is today with a
    message; another centre is 403."""
    from tests.server.factories import create_centre

    with database.transaction() as s:
        other = create_centre(s, name="Trung tâm khác").id
    boss = _logged_in(app.test_client(), "giamsat", "tthcc-giamsat")
    for day in ("9999-12-31", "0001-01-01", "2026-02-30", "x" * 5000):
        r = boss.get(f"/supervisor/notifications?centre={demo.centre_id}&date={day}")
        assert r.status_code == 200, (day, r.status_code)
        assert "Ngày không hợp lệ" in r.get_data(as_text=True), day
    # A NUL byte is refused before any page, by the app's input guard, with a message.
    r = boss.get(f"/supervisor/notifications?centre={demo.centre_id}&date=2026-12-05%00")
    assert r.status_code == 422 and "không hợp lệ" in r.get_json()["message"]
    for centre in (other, -1):
        assert boss.get(f"/supervisor/notifications?centre={centre}").status_code == 403
    for centre in (2**63, "x"):  # not an id: the supervisor's own centre, as without one
        r = boss.get(f"/supervisor/notifications?centre={centre}")
        assert r.status_code == 200 and "Trung tâm khác" not in r.get_data(as_text=True)


def test_a_closure_of_today_cancels_phone_numbers_not_yet_in_the_hall(
    app, client, demo, database, clock, gateway, admin
):
    """Declared for today, a closure cancels the waiting phone numbers whose holders have
    not checked in (their SMS says «đã hủy», by consent, through the outbox; the code no
    longer checks in), and leaves the hall's tickets — a walk-in, a checked-in phone
    number, a phone number already called — to the supervisor."""
    from server.models import Counter, TicketEvent
    from server.services import lifecycle as ops

    with database.transaction() as s:
        sid = s.execute(select(Service.id).where(Service.code == "HT1")).scalar_one()
        counter = s.execute(select(Counter.id).where(Counter.number == 1)).scalar_one()
        s.get(Counter, counter).status = "open"

    def remote(phone: str) -> dict:
        r = client.post("/api/v1/remote-tickets", json={"service_id": sid, "phone": phone})
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    called = remote("0912000001")
    with database.transaction() as s:
        assert ops.call_next(s, counter_id=counter, now=clock.moment).id == called["id"]
    away = remote(PHONE)
    url = f"/api/v1/tickets/{away['public_code']}/notifications"
    assert (
        client.post(url, json={"channel": "sms", "phone": PHONE, "consent": True}).status_code
        == 201
    )
    arrived = remote("0912000002")
    checked = client.post(
        "/api/v1/check-in", json={"code": arrived["remote"]["code"], "centre_id": demo.centre_id}
    )
    assert checked.status_code == 200, checked.get_json()
    walk_in = _issue(client, sid)
    with database.transaction() as s:
        day = s.get(Ticket, away["id"]).day
    r = admin(
        "POST",
        f"/centres/{demo.centre_id}/closures",
        json={"day": day.isoformat(), "reason": "mất điện"},
    )
    assert r.status_code == 201, r.get_json()
    with database.transaction() as s:
        status = {
            name: s.get(Ticket, t["id"]).status
            for name, t in {
                "called": called,
                "away": away,
                "arrived": arrived,
                "walk_in": walk_in,
            }.items()
        }
        trail = s.execute(
            select(TicketEvent.kind, TicketEvent.from_status).where(
                TicketEvent.ticket_id == away["id"]
            )
        ).all()
    assert status == {
        "called": "called",
        "away": "cancelled",
        "arrived": "waiting",
        "walk_in": "waiting",
    }
    assert trail[-1] == ("cancel", "waiting")
    refused = client.post(
        "/api/v1/check-in", json={"code": away["remote"]["code"], "centre_id": demo.centre_id}
    )
    body = refused.get_json()
    assert (refused.status_code, body["error"]) == (409, "check_in_expired")
    assert "đã bị hủy do trung tâm tạm nghỉ" in body["message"]
    page = client.get(f"/t/{away['public_code']}").get_data(as_text=True)
    assert "Số này đã bị hủy do trung tâm tạm nghỉ hôm nay" in page
    _worker(app, clock).run_once()
    (cancelled,) = [m for m in gateway.wait_for(2) if "tạm nghỉ" in m["text"]]
    assert cancelled["to"] == "+84912345678"
    assert "đã hủy / Number cancelled" in cancelled["text"]
    assert f"Số {away['number']} của quý khách đã bị hủy" in cancelled["text"]
    assert "không cần đến trung tâm hôm nay" in cancelled["text"]
