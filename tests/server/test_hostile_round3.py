"""This round's surfaces tried from outside as a hostile caller would, on SQLite and
PostgreSQL: dossiers naming tickets, appointments, notifications, kiosk scans, the hub's
configuration, closures. Every answer a 4xx with a message, never a 500."""

from __future__ import annotations

import threading
from collections import Counter as Tally
from datetime import UTC, datetime

from sqlalchemy import select

from server.models import NotifySubscription, Service, User
from server.services.auth import create_user
from server.services.issuing import issue_ticket
from tests.server.factories import create_centre

HUGE_NESTING = "[" * 5000 + "]" * 5000
HOSTILE_BODIES = (HUGE_NESTING, "[1, 2]", '"x"', '{"a": "1\\u0000"}')


def _json_error(response, *statuses: int) -> dict:
    assert response.status_code in statuses, (response.status_code, response.get_data()[:300])
    body = response.get_json()
    assert body and body.get("message"), body
    return body


def _ticket(database) -> tuple[int, str]:
    with database.transaction() as s:
        service_id = s.execute(select(Service.id).where(Service.code == "HT1")).scalar_one()
        ticket = issue_ticket(s, service_id=service_id, now=datetime.now(UTC)).ticket
        return ticket.id, ticket.public_code


def test_hostile_bodies_on_this_rounds_endpoints_are_4xx_with_a_message(
    app, client, demo, database, staff_token
):
    _sms_on(app)
    _, code = _ticket(database)
    staff = {"Authorization": f"Bearer {staff_token}"}
    kiosk = {"Authorization": f"Bearer {demo.kiosk_token}"}
    posts = [
        ("/api/v1/dossiers", staff),
        ("/api/v1/appointment-holds", {}),
        ("/api/v1/appointments", {}),
        ("/api/v1/phone-verifications", {}),
        (f"/api/v1/tickets/{code}/notifications", {}),
        ("/api/v1/scans", kiosk),
    ]
    for path, headers in posts:
        for body in HOSTILE_BODIES:
            r = client.post(path, data=body, content_type="application/json", headers=headers)
            _json_error(r, 400, 403, 413, 422)
        big = b"x" * (2 * 1024 * 1024)
        _json_error(
            client.post(path, data=big, content_type="application/json", headers=headers),
            403,
            413,
        )
    for ticket_id in (2**63, -1, "1", [1]):
        body = {"procedure_id": 1, "applicant_name": "A", "ticket_id": ticket_id}
        _json_error(client.post("/api/v1/dossiers", json=body, headers=staff), 404, 422)
    for sub in (2**63, 0):
        r = client.delete(f"/api/v1/tickets/{code}/notifications/{sub}")
        _json_error(r, 404, 422)
    r = client.post(
        f"/api/v1/tickets/{code}/notifications",
        json={"channel": "sms", "phone": "0912\u0000345678", "consent": True},
    )
    _json_error(r, 422)
    # The one-time code's own route and check: on with a gateway (_sms_on turns it off for
    # the notification bodies above; off, the route answers 409 phone_verification_off).
    app.config["TTHCC"].phone_verification = True
    for phone in ("0912\u0000345678", "1" * 20, ""):
        _json_error(client.post("/api/v1/phone-verifications", json={"phone": phone}), 422)
    r = client.post(
        "/api/v1/remote-tickets",
        json={"service_id": 1, "phone": "0912345678", "verification": "x" * 64, "code": "1" * 12},
    )
    _json_error(r, 422)  # an unknown verification, said in Vietnamese
    r = client.get("/api/v1/appointments/slots?service_id=9223372036854775808")
    _json_error(r, 404, 422)
    r = client.patch("/api/v1/appointments/0000000000", data="[1]", content_type="application/json")
    _json_error(r, 404, 422)


def test_other_callers_are_refused_this_rounds_operations(client, demo, database, staff_token):
    with database.transaction() as s:
        other = create_centre(s, name="Trung tâm khác")
        create_user(s, username="khac", password="mat-khau-khac", role="staff")
        s.execute(select(User).where(User.username == "khac")).scalar_one().centre_id = other.id
    r = client.post("/api/v1/auth/token", json={"username": "khac", "password": "mat-khau-khac"})
    outsider = {"Authorization": f"Bearer {r.get_json()['token']}"}
    ticket_id, _ = _ticket(database)
    pid = client.get("/api/v1/procedures?q=1.001193").get_json()[0]["id"]
    body = {"procedure_id": pid, "applicant_name": "A", "ticket_id": ticket_id}
    # Another centre's staff: neither its procedure nor its ticket.
    _json_error(client.post("/api/v1/dossiers", json=body, headers=outsider), 403, 422)
    kiosk = {"Authorization": f"Bearer {demo.kiosk_token}"}
    staff = {"Authorization": f"Bearer {staff_token}"}
    for headers in (kiosk, {}, outsider):
        _json_error(client.post("/api/v1/dossiers", json=body, headers=headers), 401, 403, 422)
        _json_error(client.get("/api/v1/counters/1/citizen", headers=headers), 401, 403, 404)
    for headers in (staff, kiosk, {}, outsider):
        _json_error(client.get("/api/v1/sync/config", headers=headers), 401, 403)
        r = client.post("/api/v1/centres/1/closures", json={"day": "2026-12-24"}, headers=headers)
        _json_error(r, 401, 403)
    for headers in (staff, {}, outsider):
        _json_error(client.post("/api/v1/scans", json={"text": "x"}, headers=headers), 401, 403)


def _sms_on(app) -> None:
    app.config["TTHCC"].sms_gateway_url = "http://127.0.0.1:9/"  # offered; nothing is sent
    app.config["TTHCC"].phone_verification = False  # no code to text (test_phone_check.py)


def test_phones_at_once_on_one_ticket_get_exactly_its_two_numbers(app, demo, database):
    """Six phones turn SMS on for one ticket at the same moment: two numbers are kept
    (MAX_NUMBERS_PER_TICKET), the other four refused with a clear 409."""
    _sms_on(app)
    _, code = _ticket(database)
    threads, statuses, lock = 6, [], threading.Lock()
    start = threading.Barrier(threads)

    def phone(i: int) -> None:
        client = app.test_client()
        start.wait()
        r = client.post(
            f"/api/v1/tickets/{code}/notifications",
            json={"channel": "sms", "phone": f"09120000{i:02d}", "consent": True},
        )
        with lock:
            statuses.append(r.status_code)

    workers = [threading.Thread(target=phone, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    with database.transaction() as s:
        kept = s.execute(
            select(NotifySubscription.id).where(NotifySubscription.withdrawn_at.is_(None))
        ).all()
    assert len(kept) == 2, (len(kept), Tally(statuses))
    assert Tally(statuses) == {201: 2, 409: 4}


def test_two_changes_of_one_booking_at_once_keep_one_seat(
    app, client, admin, demo, database, clock
):
    """The same booking moved to two slots at the same moment (two phones with its code):
    it ends in one of them, and only one seat of the day is taken."""
    from tests.server.test_appointments import _book, _open_hours, _sid, _slots

    _open_hours(admin, demo)
    ht1 = _sid(database, "HT1")
    slots = _slots(client, ht1)["days"][0]["slots"]
    booked = _book(client, ht1, slots[0]["start"])
    assert booked.status_code == 201, booked.get_json()
    code = booked.get_json()["code"]
    targets = [slots[2]["start"], slots[4]["start"]]
    statuses: list[int] = []
    start = threading.Barrier(2)

    def move(to: str) -> None:
        c = app.test_client()
        start.wait()
        statuses.append(c.patch(f"/api/v1/appointments/{code}", json={"start": to}).status_code)

    workers = [threading.Thread(target=move, args=(t,)) for t in targets]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert set(statuses) <= {200, 409}, statuses
    now_at = client.get(f"/api/v1/appointments/{code}").get_json()["start"]
    assert now_at in targets
    taken = {s["start"]: s["capacity"] - s["free"] for s in _slots(client, ht1)["days"][0]["slots"]}
    assert sum(taken.values()) == 1 and taken[now_at] == 1, taken
