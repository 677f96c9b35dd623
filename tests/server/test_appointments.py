"""Appointments through the real app (SQLite and PostgreSQL): slots from the hours, the
calendar and the counters; hold, book, change, cancel by code; a closure cancels the day
with a notice; check-in at the kiosk by the arrival rule; the reports' figures; and the
race: 1,000 booking attempts at once never book a seat twice."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import Counter as Tally
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from server.domain.lifecycle import Resolution
from server.models import (
    Appointment,
    AppointmentNotice,
    Counter,
    NotifyMessage,
    NotifySubscription,
    Service,
    Ticket,
)
from server.notify.delivery import NotifyWorker, channels_from_config
from server.notify.gateway_sim import GatewaySimulator
from server.services import lifecycle as ops
from server.services.views import broadcast_ticket_view
from tests.server.factories import provision_kiosk

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # Wednesday 09:00 in Hà Nội
HOURS = "T2-T6 07:30-11:30, 13:30-17:00; T7 07:30-11:30"
PHONE = "0912 345 678"


def _sid(database, code: str) -> int:
    with database.transaction() as s:
        return s.execute(select(Service.id).where(Service.code == code)).scalar_one()


def _open_hours(admin, demo) -> None:
    r = admin("PATCH", f"/admin/centres/{demo.centre_id}", json={"opening_hours": HOURS})
    assert r.status_code == 200, r.get_json()


def _slots(client, service_id: int) -> dict:
    r = client.get(f"/api/v1/appointments/slots?service_id={service_id}&days=3")
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def _logged_in(page, username: str, password: str):
    """A test client logged in on the pages (session cookie)."""
    html = page.get("/supervisor/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    page.post(
        "/supervisor/login", data={"username": username, "password": password, "csrf_token": token}
    )
    return page


def _book(client, service_id: int, start: str, phone: str = PHONE):
    return client.post(
        "/api/v1/appointments", json={"service_id": service_id, "start": start, "phone": phone}
    )


def test_book_through_a_hold_change_and_cancel_by_code(
    client, admin, demo, database, clock, caplog
):
    caplog.set_level(logging.DEBUG)
    _open_hours(admin, demo)
    ht1 = _sid(database, "HT1")
    listed = _slots(client, ht1)
    assert listed["minutes"] == 15 and listed["hold_minutes"] == 5
    today = listed["days"][0]
    assert today["day"] == "2026-11-25"
    first = today["slots"][0]  # the first after 09:00
    assert first["start"] == "2026-11-25T09:15:00+07:00" and first["capacity"] == 2
    assert first["free"] == 2

    held = client.post(
        "/api/v1/appointment-holds", json={"service_id": ht1, "start": first["start"]}
    )
    assert held.status_code == 201, held.get_json()
    assert held.get_json()["hold_until"] == "2026-11-25T09:05:00+07:00"
    assert _slots(client, ht1)["days"][0]["slots"][0]["free"] == 1
    bad_phone = client.post(
        "/api/v1/appointments", json={"hold": held.get_json()["hold"], "phone": "123"}
    )
    assert bad_phone.status_code == 422
    r = client.post("/api/v1/appointments", json={"hold": held.get_json()["hold"], "phone": PHONE})
    assert r.status_code == 201, r.get_json()
    booking = r.get_json()
    code = booking["code"]
    assert len(code) == 10 and code.isdigit() and booking["status"] == "booked"
    assert booking["phone"] == "091****678" and booking["start"] == first["start"]
    qr = client.get(booking["qr_url"])
    assert qr.status_code == 200 and qr.mimetype == "image/png"
    assert client.get(f"/api/v1/appointments/{code}").get_json()["status"] == "booked"
    logged = "\n".join(rec.getMessage() for rec in caplog.records)
    assert "912345678" not in logged and "912 345 678" not in logged

    # Change: the new seat taken, the old one given back; the code stays.
    later = today["slots"][3]["start"]
    moved = client.patch(f"/api/v1/appointments/{code}", json={"start": later})
    assert moved.status_code == 200 and moved.get_json()["start"] == later
    after = {s["start"]: s["free"] for s in _slots(client, ht1)["days"][0]["slots"]}
    assert (after[first["start"]], after[later]) == (2, 1)
    off_grid = client.patch(
        f"/api/v1/appointments/{code}", json={"start": "2026-11-25T09:20:00+07:00"}
    )
    assert (off_grid.status_code, off_grid.get_json()["error"]) == (422, "slot_not_bookable")
    for start, why in (
        ("2026-11-25T08:00:00+07:00", "đã qua"),
        ("2026-12-09T08:00:00+07:00", "tối đa 14 ngày"),
        ("9999-12-31T23:45:00-12:00", "không hợp lệ"),
        ("0001-01-01T00:00:00+14:00", "không hợp lệ"),
        ("ngày mai", "không hợp lệ"),
    ):
        refused = _book(client, ht1, start, phone="0912000001")
        assert refused.status_code == 422 and why in refused.get_json()["message"], start
    lunch = _book(client, ht1, "2026-11-25T12:00:00+07:00", phone="0912000001")
    assert lunch.status_code == 422 and "chọn một khung giờ" in lunch.get_json()["message"]

    # One phone holds at most two upcoming bookings (the centre's setting).
    assert _book(client, ht1, today["slots"][5]["start"]).status_code == 201
    third = _book(client, ht1, today["slots"][6]["start"])
    assert (third.status_code, third.get_json()["error"]) == (429, "booking_quota_reached")

    gone = client.delete(f"/api/v1/appointments/{code}")
    assert gone.status_code == 200 and gone.get_json()["status"] == "cancelled"
    assert {s["start"]: s["free"] for s in _slots(client, ht1)["days"][0]["slots"]}[later] == 2
    again = client.delete(f"/api/v1/appointments/{code}")
    assert (again.status_code, again.get_json()["error"]) == (409, "booking_closed")
    assert client.get("/api/v1/appointments/0000000000").status_code == 404
    assert client.get("/api/v1/appointments/12ab").status_code == 422
    not_bookable = client.get(f"/api/v1/appointments/slots?service_id={_sid(database, 'CT1')}")
    assert (not_bookable.status_code, not_bookable.get_json()["error"]) == (
        422,
        "slot_not_bookable",
    )
    assert "không nhận đặt lịch" in not_bookable.get_json()["message"]


def test_a_full_slot_refuses_with_409_and_an_unconfirmed_hold_is_released_after_five_minutes(
    client, admin, demo, database, clock
):
    _open_hours(admin, demo)
    ht1 = _sid(database, "HT1")
    start = "2026-11-25T10:00:00+07:00"
    assert _book(client, ht1, start, "0912000001").status_code == 201
    held = client.post("/api/v1/appointment-holds", json={"service_id": ht1, "start": start})
    assert held.status_code == 201
    full = _book(client, ht1, start, "0912000002")
    assert (full.status_code, full.get_json()["error"]) == (409, "slot_full")
    assert (
        "đã kín chỗ" in full.get_json()["message"]
        and "fully booked" in full.get_json()["message_en"]
    )
    clock.set(NOW + timedelta(minutes=6))
    assert _book(client, ht1, start, "0912000002").status_code == 201  # the hold's seat
    late = client.post(
        "/api/v1/appointments", json={"hold": held.get_json()["hold"], "phone": PHONE}
    )
    assert (late.status_code, late.get_json()["error"]) == (409, "hold_expired")
    with database.transaction() as s:
        seated = s.execute(
            select(func.count()).where(Appointment.seat.is_not(None), Appointment.service_id == ht1)
        ).scalar_one()
    assert seated == 2


def test_check_in_on_time_goes_ahead_of_walk_ins_late_is_a_walk_in_early_is_refused(
    client, admin, demo, database, clock
):
    _open_hours(admin, demo)
    ht1 = _sid(database, "HT1")
    on_time = _book(client, ht1, "2026-11-25T09:30:00+07:00", "0912000001").get_json()["code"]
    late = _book(client, ht1, "2026-11-25T09:45:00+07:00", "0912000002").get_json()["code"]
    tomorrow = _book(client, ht1, "2026-11-26T08:00:00+07:00", "0912000003").get_json()["code"]
    for _ in range(2):  # two walk-ins already waiting
        walk_in = client.post("/api/v1/tickets", json={"service_id": ht1})
        assert walk_in.status_code == 201
        assert (walk_in.get_json()["origin"], walk_in.get_json()["booked"]) == (None, False)

    early = client.post("/api/v1/check-in", json={"code": on_time, "centre_id": demo.centre_id})
    assert (early.status_code, early.get_json()["error"]) == (409, "check_in_too_early")
    assert "từ 09:20" in early.get_json()["message"]
    assert early.get_json()["check_in_from"] == "2026-11-25T09:20:00+07:00"
    next_day = client.post("/api/v1/check-in", json={"code": tomorrow, "centre_id": demo.centre_id})
    assert next_day.status_code == 409 and "26/11/2026" in next_day.get_json()["message"]

    clock.set(NOW + timedelta(minutes=25))  # 09:25: on time for 09:30
    body = {"code": on_time[:3] + " " + on_time[3:], "station_id": demo.kiosk_station_id}
    kiosk = provision_kiosk(client.application.test_client())
    r = kiosk.post("/api/v1/check-in", json=body)
    assert r.status_code == 200, r.get_json()
    ticket = r.get_json()
    assert ticket["appointment"]["arrival"] == "on_time" and ticket["checked_in_now"] is True
    assert ticket["is_priority"] is True and ticket["print_job_id"]
    assert (ticket["origin"], ticket["booked"]) == ("appointment", True)
    again = kiosk.post("/api/v1/check-in", json=body).get_json()
    assert (again["id"], again["checked_in_now"], again["print_job_id"]) == (
        ticket["id"],
        False,
        None,
    )

    clock.set(NOW + timedelta(minutes=56))  # 09:56: late for 09:45
    r = client.post("/api/v1/check-in", json={"code": late, "centre_id": demo.centre_id})
    assert r.status_code == 200 and r.get_json()["appointment"]["arrival"] == "late"
    assert r.get_json()["is_priority"] is False and r.get_json()["booked"] is True

    # The counter calls the on-time booking before the walk-ins who came first.
    with database.transaction() as s:
        counter_id = s.execute(select(Counter.id).where(Counter.number == 1)).scalar_one()
        s.execute(update(Counter).where(Counter.id == counter_id).values(status="open"))
    with database.transaction() as s:
        called = ops.call_next(s, counter_id=counter_id, now=NOW + timedelta(minutes=57))
        assert called.id == ticket["id"]
        # The counter's ticket (and the hall's event) says it was booked: «Đặt lịch».
        assert broadcast_ticket_view(called)["booked"] is True
        ops.call_next(
            s, counter_id=counter_id, now=NOW + timedelta(minutes=58), resolve=Resolution.SERVED
        )

    # Reports: three bookings (today and tomorrow), two check-ins (one on time, one late);
    # tomorrow's never came (reports read the wall clock, long after 26/11/2026).
    report = admin("GET", f"/reports?centre_id={demo.centre_id}&period=week&date=2026-11-25")
    assert report.status_code == 200, report.get_json()
    figures = report.get_json()["appointments"]
    assert figures["total"] == {
        "bookings": 3, "cancelled": 0, "checked_in": 2, "on_time": 1, "late": 1, "no_show": 1,
    }  # fmt: skip
    csv = admin(
        "GET", f"/reports/export?centre_id={demo.centre_id}&period=week&date=2026-11-25&format=csv"
    )
    assert csv.status_code == 200 and "Lịch hẹn theo ngày" in csv.get_data(as_text=True)
    page = _logged_in(client.application.test_client(), "admin", "tthcc-admin")
    html = page.get("/supervisor/reports?centre=1&period=week&date=2026-11-25").get_data(
        as_text=True
    )
    assert 'id="appointments"' in html and "Không đến" in html


def test_a_centre_closure_cancels_the_days_bookings_with_a_notice(
    client, admin, demo, database, clock
):
    _open_hours(admin, demo)
    ht1 = _sid(database, "HT1")
    codes = [
        _book(client, ht1, f"2026-11-26T08:{m:02d}:00+07:00", f"091200000{m // 15}").get_json()[
            "code"
        ]
        for m in (0, 15)
    ]
    keep = _book(client, ht1, "2026-11-27T08:00:00+07:00", "0912000009").get_json()["code"]
    r = admin(
        "POST",
        f"/centres/{demo.centre_id}/closures",
        json={"day": "2026-11-26", "reason": "Mất điện"},
    )
    assert r.status_code == 201 and r.get_json()["cancelled"] == 2
    assert (
        client.post(
            f"/api/v1/centres/{demo.centre_id}/closures", json={"day": "2026-11-27"}
        ).status_code
        == 401
    )
    assert "2026-11-26" not in [d["day"] for d in _slots(client, ht1)["days"]]
    for code in codes:
        view = client.get(f"/api/v1/appointments/{code}").get_json()
        assert (view["status"], view["cancel_reason"]) == ("cancelled", "closure")
    assert client.get(f"/api/v1/appointments/{keep}").get_json()["status"] == "booked"
    with database.transaction() as s:
        notices = s.execute(select(AppointmentNotice)).scalars().all()
        assert len(notices) == 2 and {n.sent_at for n in notices} == {None}
        assert "Mất điện" in notices[0].message_vi and "26/11/2026" in notices[0].message_vi
    # The admin page closes the 27th too: the booking kept above is cancelled, audited.
    page = _logged_in(client.application.test_client(), "admin", "tthcc-admin")
    token = re.search(
        r'name="csrf_token" value="([^"]+)"', page.get("/admin/closures").get_data(as_text=True)
    ).group(1)
    r = page.post(
        "/admin/closures",
        data={
            "csrf_token": token,
            "centre_id": demo.centre_id,
            "day": "2026-11-27",
            "reason": "Sửa trụ sở",
        },
    )
    assert r.status_code == 302
    html = page.get("/admin/closures").get_data(as_text=True)
    assert "hủy 1 lịch hẹn" in html and "27/11/2026" in html and "Mất điện" in html
    assert client.get(f"/api/v1/appointments/{keep}").get_json()["status"] == "cancelled"
    bad = page.post(
        "/admin/closures", data={"csrf_token": token, "centre_id": demo.centre_id, "day": ""}
    )
    assert bad.status_code == 422 and "Chọn trung tâm và ngày nghỉ" in bad.get_data(as_text=True)
    clock.set(datetime(2026, 11, 26, 1, 0, tzinfo=UTC))
    closed = client.post("/api/v1/check-in", json={"code": codes[0], "centre_id": demo.centre_id})
    assert (closed.status_code, closed.get_json()["error"]) == (409, "booking_closed")


def test_a_closed_day_refuses_walk_ins_and_phone_numbers_and_says_when_to_come_back(
    client, admin, demo, database, clock
):
    _open_hours(admin, demo)
    ht1 = _sid(database, "HT1")
    assert client.post("/api/v1/tickets", json={"service_id": ht1}).status_code == 201
    for day in ("2026-11-25", "2026-11-26"):  # today and tomorrow
        r = admin(
            "POST", f"/centres/{demo.centre_id}/closures", json={"day": day, "reason": "Mất điện"}
        )
        assert r.status_code == 201, r.get_json()
    kiosk = client.post("/api/v1/tickets", json={"service_id": ht1})
    phone = client.post("/api/v1/remote-tickets", json={"service_id": ht1, "phone": PHONE})
    for r in (kiosk, phone):
        body = r.get_json()
        assert (r.status_code, body["error"], body["reason"]) == (409, "centre_closed", "closure")
        assert body["message"] == (
            "Hôm nay trung tâm nghỉ: Mất điện. Mời quý khách quay lại lúc 07:30 thứ Sáu, "
            "27/11/2026."
        )
        assert body["message_en"].startswith("The centre is closed today (Mất điện).")
        assert (body["closure_reason"], body["next_opening"]) == (
            "Mất điện",
            "2026-11-27T07:30:00+07:00",
        )
    with database.transaction() as s:
        assert s.execute(select(func.count()).select_from(Ticket)).scalar_one() == 1
    # The kiosk's catalogue greys every service with why; the phone page says it at the top.
    catalogue = client.get(f"/api/v1/centres/{demo.centre_id}/catalog").get_json()
    states = {s["availability"]["state"] for f in catalogue["fields"] for s in f["services"]}
    assert states == {"closure"}
    html = client.get(f"/lay-so?centre={demo.centre_id}").get_data(as_text=True)
    assert "Hôm nay trung tâm nghỉ: Mất điện." in html and "The centre is closed today" in html
    # Once, at the top: not again under each (disabled) service.
    assert html.count("Hôm nay trung tâm nghỉ") == 1 and 'class="p-closed"' not in html
    radios = re.findall(r'<input type="radio" name="service"[^>]*>', html)
    assert len(radios) > 1 and all("disabled" in radio for radio in radios)
    clock.set(datetime(2026, 11, 27, 1, 0, tzinfo=UTC))  # Friday 08:00: open again
    assert client.post("/api/v1/tickets", json={"service_id": ht1}).status_code == 201


def test_a_booking_with_consent_is_told_by_sms_of_its_booking_change_cancel_and_closure(
    app, client, admin, demo, database, clock, caplog
):
    caplog.set_level(logging.DEBUG)
    _open_hours(admin, demo)
    ht1 = _sid(database, "HT1")
    refused = client.post(
        "/api/v1/appointments",
        json={
            "service_id": ht1,
            "start": "2026-11-26T08:00:00+07:00",
            "phone": PHONE,
            "notify": True,
        },
    )
    assert (refused.status_code, refused.get_json()["error"]) == (409, "channel_unavailable")
    assert "bỏ chọn «Nhận tin nhắn»" in refused.get_json()["message"]
    page = f"/dat-lich?centre={demo.centre_id}"
    assert 'id="notify"' not in client.get(page).get_data(as_text=True)  # no SMS here yet
    sim = GatewaySimulator().start()
    config = app.config["TTHCC"]
    config.sms_gateway_url, config.sms_gateway_token = sim.url, sim.token
    try:
        html = client.get(page).get_data(as_text=True)
        assert 'id="notify"' in html and "Tôi đồng ý nhận tin nhắn SMS về lịch hẹn này" in html
        bad = client.post(
            "/api/v1/appointments",
            json={
                "service_id": ht1,
                "start": "2026-11-26T08:00:00+07:00",
                "phone": PHONE,
                "notify": True,
                "notify_channel": "fax",
            },
        )
        assert bad.status_code == 422
        with database.transaction() as s:
            assert s.execute(select(func.count()).select_from(Appointment)).scalar_one() == 0

        def book(start: str, phone: str, notify: bool) -> dict:
            # With a gateway, the number is proved first by the code texted to it.
            asked = client.post("/api/v1/phone-verifications", json={"phone": phone})
            assert asked.status_code == 201, asked.get_json()
            code = list(sim.accepted.values())[-1]["text"][:6]
            r = client.post(
                "/api/v1/appointments",
                json={
                    "service_id": ht1,
                    "start": start,
                    "phone": phone,
                    "notify": notify,
                    "verification": asked.get_json()["verification"],
                    "code": code,
                },
            )
            assert r.status_code == 201, r.get_json()
            return r.get_json()

        mine = book("2026-11-26T08:00:00+07:00", PHONE, True)
        assert mine["notify"] == [{"channel": "sms", "phone": "***5678"}]
        quiet = book("2026-11-26T08:15:00+07:00", "0912000001", False)
        assert quiet["notify"] == []
        other = book("2026-11-27T08:00:00+07:00", "0987654321", True)
        moved = client.patch(
            f"/api/v1/appointments/{mine['code']}", json={"start": "2026-11-26T08:30:00+07:00"}
        )
        assert moved.status_code == 200, moved.get_json()
        assert client.delete(f"/api/v1/appointments/{other['code']}").status_code == 200
        r = admin(
            "POST",
            f"/centres/{demo.centre_id}/closures",
            json={"day": "2026-11-26", "reason": "Mất điện"},
        )
        assert r.status_code == 201 and r.get_json()["cancelled"] == 2

        worker = NotifyWorker(
            app.extensions["tthcc_db"],
            channels_from_config(config),
            app.config["SECRET_KEY"],
            clock=lambda: clock.moment,
        )
        assert worker.run_once() == {"queued": 0, "sent": 5}
        sent = [
            (m["to"], m["text"])
            for m in sim.accepted.values()
            if not m["reference"].startswith("tthcc-code-")  # the one-time codes
        ]
    finally:
        sim.close()
    to_me = [text for to, text in sent if to == "+84912345678"]
    to_other = [text for to, text in sent if to == "+84987654321"]
    assert len(to_me) == 3 and len(to_other) == 2
    booked, changed, closed = to_me
    assert booked.startswith(f"Đặt lịch thành công: mã {mine['code']}")
    assert "lúc 08:00 ngày 26/11/2026" in booked and "Booking confirmed" in booked
    assert (
        changed.startswith(f"Đã đổi lịch hẹn {mine['code']}") and "08:30 ngày 26/11/2026" in changed
    )
    assert "Trung tâm nghỉ ngày 26/11/2026 (Mất điện)" in closed and mine["code"] in closed
    assert to_other[1].startswith(f"Đã hủy lịch hẹn {other['code']}")
    with database.transaction() as s:
        notices = dict(
            s.execute(
                select(Appointment.code, AppointmentNotice.sent_at).join(
                    Appointment, Appointment.id == AppointmentNotice.appointment_id
                )
            ).all()
        )
        assert notices == {mine["code"]: clock.moment, quiet["code"]: None}
        assert (
            s.execute(
                select(func.count())
                .select_from(NotifySubscription)
                .where(NotifySubscription.ticket_id.is_(None))
            ).scalar_one()
            == 2
        )
    report = admin("GET", f"/notifications/report?centre_id={demo.centre_id}").get_json()
    assert report["booking_notices"] == {"unsent": 1, "sent": 1}
    assert report["by_kind"]["booked"]["sent"] == 2
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for digits in ("912345678", "987654321", "0912 345 678"):
        assert digits not in logged
    # A day after the slot the contact is erased.
    with database.transaction() as s:
        from server.notify import store

        assert store.expire_contacts(s, clock.moment + timedelta(days=3)) == 2
        assert {sub.phone_sealed for sub in s.scalars(select(NotifySubscription))} == {None}


def test_migration_down_and_up_keeps_the_tickets_messages(app, client, demo, database, clock):
    from alembic import command

    from server.migrate import alembic_config, upgrade
    from server.notify import store, texts

    ticket = client.post("/api/v1/tickets", json={"service_id": _sid(database, "HT1")}).get_json()
    with database.transaction() as s:
        sub = NotifySubscription(
            centre_id=demo.centre_id,
            ticket_id=ticket["id"],
            channel="sms",
            phone_masked="***5678",
            ahead_threshold=3,
            consented_at=NOW,
        )
        s.add(sub)
        s.flush()
        store.enqueue(s, sub, "joined", "joined", texts.no_show("1001"), "/t/x", NOW)
    database.session.remove()
    command.downgrade(alembic_config(database.engine), "6f3a8b9c0d1e")
    upgrade(database.engine)
    with database.transaction() as s:
        kept = s.execute(select(NotifyMessage.kind, NotifyMessage.ticket_id)).all()
        assert [tuple(k) for k in kept] == [("joined", ticket["id"])]


def test_a_thousand_booking_attempts_never_book_a_seat_twice(client, admin, demo, database, clock):
    """40 threads send 1,000 bookings through the app at once for one centre's day: each
    slot gets exactly its capacity, every other attempt a 409 slot_full."""
    _open_hours(admin, demo)
    ht1 = _sid(database, "HT1")
    admin("PATCH", f"/admin/services/{ht1}", json={"appointment_minutes": 30})
    slots = _slots(client, ht1)["days"][1]["slots"]  # tomorrow: 15 slots of 30 min × 2 seats
    capacity = sum(s["capacity"] for s in slots)
    attempts, threads = 1000, 40
    statuses: list[int] = []
    errors: Tally = Tally()
    lock = threading.Lock()
    start = threading.Barrier(threads)
    app = client.application

    def phone_page(worker: int) -> None:
        c = app.test_client()
        start.wait()
        for i in range(worker, attempts, threads):
            r = _book(c, ht1, slots[i % len(slots)]["start"], f"09{i:08d}")
            with lock:
                statuses.append(r.status_code)
                if r.status_code != 201:
                    errors[(r.status_code, r.get_json().get("error"))] += 1

    began = time.monotonic()
    workers = [threading.Thread(target=phone_page, args=(w,)) for w in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    took = time.monotonic() - began
    booked = statuses.count(201)
    backend = database.engine.dialect.name
    print(
        f"\nbooking race ({backend}): {len(statuses)} attempts, {booked} booked, "
        f"{len(statuses) - booked} refused {dict(errors)}, capacity {capacity}, {took:.1f} s"
    )
    assert len(statuses) == attempts and took < 60
    assert booked == capacity and set(errors) == {(409, "slot_full")}
    with database.transaction() as s:
        per_slot = Tally(
            s.execute(
                select(Appointment.slot_start).where(
                    Appointment.service_id == ht1, Appointment.status == "booked"
                )
            ).scalars()
        )
        seats = s.execute(
            select(Appointment.slot_start, Appointment.seat).where(Appointment.seat.is_not(None))
        ).all()
    assert len(per_slot) == len(slots) and set(per_slot.values()) == {2}
    assert len(seats) == len(set(seats)) == capacity
    assert s is not None and Ticket is not None


def test_a_day_off_added_to_the_calendar_cancels_its_bookings(client, admin, demo, database, clock):
    _open_hours(admin, demo)
    ht1 = _sid(database, "HT1")
    code = _book(client, ht1, "2026-11-27T08:00:00+07:00").get_json()["code"]
    year = admin("GET", "/calendar/years/2026").get_json()
    year["days_off"].append({"date": "2026-11-27", "name": "Nghỉ bù bão", "kind": "other"})
    r = admin("PUT", "/calendar/years/2026", json=year)
    assert r.status_code == 200, r.get_json()
    view = client.get(f"/api/v1/appointments/{code}").get_json()
    assert (view["status"], view["cancel_reason"]) == ("cancelled", "closure")
    with database.transaction() as s:
        notice = s.execute(select(AppointmentNotice)).scalar_one()
    assert "Nghỉ bù bão" in notice.message_vi


def test_holds_and_bookings_are_limited_per_address_and_code_misses_too(
    monkeypatch, request, backend
):
    """Like remote numbers: every hold and booking from an address counts; look-ups by
    code count their misses only."""
    monkeypatch.setenv("TTHCC_BOOKING_RATE_LIMIT", "3 per minute")
    monkeypatch.setenv("TTHCC_LOOKUP_RATE_LIMIT", "2 per minute")
    client = request.getfixturevalue("client")  # the app is made with the limits above
    admin, demo = request.getfixturevalue("admin"), request.getfixturevalue("demo")
    database, _clock = request.getfixturevalue("database"), request.getfixturevalue("clock")
    _open_hours(admin, demo)
    ht1 = _sid(database, "HT1")
    start = "2026-11-26T08:00:00+07:00"
    statuses = [
        client.post(
            "/api/v1/appointment-holds", json={"service_id": ht1, "start": start}
        ).status_code,
        _book(client, ht1, start, "0912000001").status_code,
        _book(client, ht1, start, "0912000002").status_code,  # full: still counted
        _book(client, ht1, "2026-11-26T08:15:00+07:00", "0912000003").status_code,
    ]
    assert statuses == [201, 201, 409, 429]
    refused = _book(client, ht1, start, "0912000003").get_json()
    assert refused["error"] == "too_many_requests" and "Đặt lịch quá nhiều" in refused["message"]
    other = {"environ_base": {"REMOTE_ADDR": "10.0.0.9"}}
    assert (
        client.post(
            "/api/v1/appointment-holds",
            json={"service_id": ht1, "start": "2026-11-26T08:30:00+07:00"},
            **other,
        ).status_code
        == 201
    )
    misses = [client.get(f"/api/v1/appointments/{n:010d}").status_code for n in range(3)]
    assert misses == [404, 404, 429]


def test_a_booking_with_consent_is_reminded_once_before_its_slot(
    app, client, admin, demo, database, clock
):
    """TTHCC_BOOKING_REMINDER_MINUTES (30) before the slot, one reminder with the code and
    the time, through the outbox: only with consent, not for a cancelled or checked-in
    booking, nor one booked inside the window; two workers at once queue and send it once."""
    _open_hours(admin, demo)
    ht1 = _sid(database, "HT1")
    sim = GatewaySimulator().start()
    config = app.config["TTHCC"]
    config.sms_gateway_url, config.sms_gateway_token = sim.url, sim.token
    config.phone_verification = False  # the codes are test_phone_check.py's

    def book(start: str, phone: str, notify: bool = True) -> dict:
        r = client.post(
            "/api/v1/appointments",
            json={"service_id": ht1, "start": start, "phone": phone, "notify": notify},
        )
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    def workers(count: int) -> None:
        ready = threading.Barrier(count)

        def run() -> None:
            worker = NotifyWorker(
                app.extensions["tthcc_db"],
                channels_from_config(config),
                app.config["SECRET_KEY"],
                clock=lambda: clock.moment,
                reminder_minutes=config.booking_reminder_minutes,
            )
            ready.wait()
            worker.run_once()

        threads = [threading.Thread(target=run) for _ in range(count)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)

    def reminders() -> list[str]:
        return [m["text"] for m in sim.accepted.values() if m["text"].startswith("Nhắc lịch")]

    try:
        mine = book("2026-11-25T10:00:00+07:00", PHONE)
        arrived = book("2026-11-25T10:00:00+07:00", "0912000001")
        dropped = book("2026-11-25T10:15:00+07:00", "0912000002")
        book("2026-11-25T10:15:00+07:00", "0912000003", notify=False)
        clock.set(NOW + timedelta(minutes=29))  # 09:29: not yet
        workers(1)
        assert reminders() == [] and len(sim.accepted) == 3  # the confirmations
        clock.set(NOW + timedelta(minutes=50))  # 09:50
        checked = client.post(
            "/api/v1/check-in", json={"code": arrived["code"], "centre_id": demo.centre_id}
        )
        assert checked.status_code == 200, checked.get_json()
        assert client.delete(f"/api/v1/appointments/{dropped['code']}").status_code == 200
        book("2026-11-25T10:15:00+07:00", "0912000004")  # inside the window: confirmed only
        workers(2)
        workers(2)
        (reminder,) = reminders()
        assert reminder.startswith(f"Nhắc lịch hẹn: mã {mine['code']} / Booking reminder")
        assert "lúc 10:00 ngày 25/11/2026 (còn khoảng 10 phút)" in reminder
        assert f"nhập mã {mine['code']} tại kiosk" in reminder and "in about 10 minutes" in reminder
        clock.set(NOW + timedelta(minutes=59))
        workers(1)
        assert len(reminders()) == 1
        with database.transaction() as s:
            kinds = Tally(s.execute(select(NotifyMessage.kind)).scalars())
        assert kinds["booking_reminder"] == 1 and kinds["booked"] == 4
    finally:
        sim.close()


def test_a_counter_shared_by_two_bookable_services_is_not_booked_twice(
    client, admin, demo, database, clock
):
    """The demo's counter 1 serves HT1 and HT2, counter 2 HT1, counter 6 HT2: with both
    services bookable a slot takes three citizens in all (three counters), not HT1's two
    plus HT2's two; the lists say so, and six bookings of both services at once for one
    slot book three (SQLite and PostgreSQL)."""
    _open_hours(admin, demo)
    ht1, ht2 = _sid(database, "HT1"), _sid(database, "HT2")
    r = admin("PATCH", f"/admin/services/{ht2}", json={"appointments": True})
    assert r.status_code == 200, r.get_json()
    ten, quarter = "2026-11-26T10:00:00+07:00", "2026-11-26T10:15:00+07:00"

    def free(service_id: int, start: str) -> int:
        day = _slots(client, service_id)["days"][1]
        return next(s["free"] for s in day["slots"] if s["start"] == start)

    assert (free(ht1, ten), free(ht2, ten)) == (2, 2)
    for phone in ("0912000001", "0912000002"):
        assert _book(client, ht2, ten, phone).status_code == 201
    assert (free(ht1, ten), free(ht2, ten)) == (1, 0)
    assert _book(client, ht1, ten, "0912000003").status_code == 201
    full = _book(client, ht1, ten, "0912000004")  # before: HT1's second seat, a 4th citizen
    assert (full.status_code, full.get_json()["error"]) == (409, "slot_full")
    assert (free(ht1, ten), free(ht2, ten)) == (0, 0)

    statuses: list[tuple[int, int]] = []
    lock, start = threading.Lock(), threading.Barrier(6)
    app = client.application

    def book(i: int) -> None:
        c = app.test_client()
        service = (ht1, ht2)[i % 2]
        start.wait()
        r = _book(c, service, quarter, f"09130000{i:02d}")
        with lock:
            statuses.append((service, r.status_code))

    threads = [threading.Thread(target=book, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(code == 201 for _, code in statuses) == 3, statuses
    assert {code for _, code in statuses} == {201, 409}
    with database.transaction() as s:
        booked = s.execute(
            select(func.count()).where(
                Appointment.slot_start == datetime(2026, 11, 26, 3, 15, tzinfo=UTC),
                Appointment.status == "booked",
            )
        ).scalar_one()
    assert booked == 3


def test_six_check_ins_of_one_booking_at_once_issue_one_ticket_and_print_once(
    app, client, admin, demo, database, clock
):
    """The kiosk retries a check-in whose answer was lost (docs/numbering.md, "Retries"):
    a retry racing the first one must not issue a second ticket or print a second slip."""
    from server.models import PrintJob, Ticket

    _open_hours(admin, demo)
    ht1 = _sid(database, "HT1")
    code = _book(client, ht1, "2026-11-25T09:30:00+07:00", "0912000001").get_json()["code"]
    clock.set(NOW + timedelta(minutes=25))
    threads, answers, lock = 6, [], threading.Lock()
    start = threading.Barrier(threads)
    kiosk = {"Authorization": f"Bearer {demo.kiosk_token}"}

    def check_in() -> None:
        caller = app.test_client()
        start.wait()
        r = caller.post(
            "/api/v1/check-in",
            json={"code": code, "station_id": demo.kiosk_station_id},
            headers=kiosk,
        )
        with lock:
            answers.append((r.status_code, r.get_json().get("id"), r.get_json().get("error")))

    workers = [threading.Thread(target=check_in) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=30)
    assert [a[0] for a in answers] == [200] * threads, answers
    assert len({a[1] for a in answers}) == 1
    with database.transaction() as s:
        assert (
            s.scalar(select(func.count()).select_from(Ticket).where(Ticket.origin.is_not(None)))
            == 1
        )
        assert s.scalar(select(func.count()).select_from(PrintJob)) == 1
