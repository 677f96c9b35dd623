"""Numbers from the phone through the real app (SQLite and PostgreSQL): today's number
taken remotely where the service allows it, quotas per phone number, check-in at the
kiosk by code until the call plus the grace, the centre's remote-only switch; the phone
number is never stored in clear nor logged."""

from __future__ import annotations

import logging
import threading
from collections import Counter as Tally
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from server.domain.lifecycle import Resolution
from server.models import Counter, PrintJob, RemoteNumber, Service, Ticket
from server.services import lifecycle as ops
from tests.server.factories import provision_kiosk

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # Wednesday 09:00 in Hà Nội
PHONE = "+84 912 345 678"


def _sid(database, code: str) -> int:
    with database.transaction() as s:
        return s.execute(select(Service.id).where(Service.code == code)).scalar_one()


def _take(client, service_id: int, phone: str = PHONE):
    return client.post("/api/v1/remote-tickets", json={"service_id": service_id, "phone": phone})


def test_a_number_from_the_phone_is_in_the_line_with_a_code_and_the_number_kept_hashed(
    client, demo, database, clock, caplog
):
    caplog.set_level(logging.DEBUG)
    ht1 = _sid(database, "HT1")
    r = _take(client, ht1)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["status"] == "waiting" and body["number"] == "1001"
    assert (body["origin"], body["booked"]) == ("remote", False)
    remote = body["remote"]
    assert len(remote["code"]) == 6 and remote["code"].isdigit()
    assert remote["phone"] == "091****678"
    assert (remote["checked_in"], remote["check_in_until"]) == (False, None)
    with database.transaction() as s:
        row = s.execute(select(RemoteNumber)).scalar_one()
        assert row.phone_masked == "091****678"
        assert len(row.phone_hash) == 64 and "912345678" not in row.phone_hash
        assert s.get(Ticket, row.ticket_id).status == "waiting"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "912345678" not in logged and "912 345 678" not in logged
    assert "091****678" in logged  # the mask is what a log may say


@pytest.mark.parametrize(
    "phone", ["12345", "0212345678", "+1 202 555 0100", "09123456789", "không có"]
)
def test_a_number_that_is_not_a_vietnamese_mobile_is_refused(client, demo, database, phone):
    r = _take(client, _sid(database, "HT1"), phone)
    assert r.status_code == 422
    assert r.get_json()["message"].startswith("Số điện thoại không hợp lệ")


def test_only_services_that_allow_it_and_within_the_phones_quotas(
    admin, client, demo, database, clock
):
    ht1, ht2, ct1, dd = (_sid(database, c) for c in ("HT1", "HT2", "CT1", "DD"))
    r = _take(client, dd)
    assert (r.status_code, r.get_json()["error"]) == (409, "remote_not_allowed")
    assert "không cấp số qua điện thoại" in r.get_json()["message"]

    admin("PATCH", f"/admin/centres/{demo.centre_id}", json={"remote_per_phone_day": 2})
    assert _take(client, ht1).status_code == 201
    again = _take(client, ht1, "0912345678")  # the same number, written differently
    assert again.status_code == 429
    assert (again.get_json()["error"], again.get_json()["quota"]) == (
        "phone_quota_reached",
        "per_service",
    )
    assert _take(client, ht2).status_code == 201
    third = _take(client, ct1)
    assert (third.status_code, third.get_json()["quota"]) == (429, "per_day")
    assert "tối đa 2 số mỗi ngày" in third.get_json()["message"]
    assert _take(client, ct1, "0987654321").status_code == 201  # another phone
    clock.moment = NOW + timedelta(days=1)  # a new day
    assert _take(client, ct1).status_code == 201


def test_check_in_at_the_kiosk_prints_once_and_admits_until_the_call_plus_the_grace(
    admin, client, demo, database, clock
):
    admin("PATCH", f"/admin/centres/{demo.centre_id}", json={"check_in_grace_minutes": 10})
    provision_kiosk(client)  # check-in prints only at a provisioned kiosk
    code = _take(client, _sid(database, "HT1")).get_json()["remote"]["code"]
    assert client.post(
        "/api/v1/check-in", json={"code": "000000", "station_id": demo.kiosk_station_id}
    ).status_code in (404, 200)  # a miss (or, one in a million, this very code)
    r = client.post("/api/v1/check-in", json={"code": code, "station_id": demo.kiosk_station_id})
    assert r.status_code == 200, r.get_json()
    first = r.get_json()
    assert first["checked_in_now"] is True and first["print_job_id"]
    assert first["remote"]["checked_in"] is True
    second = client.post(
        "/api/v1/check-in", json={"code": code, "station_id": demo.kiosk_station_id}
    ).get_json()
    assert (second["checked_in_now"], second["print_job_id"]) == (False, None)
    with database.transaction() as s:
        assert len(s.execute(select(PrintJob)).scalars().all()) == 1

    # Called at 09:05: the code still admits at 09:15, no longer at 09:16.
    with database.transaction() as s:
        counter_id = s.execute(select(Counter.id).where(Counter.number == 1)).scalar_one()
        s.execute(update(Counter).where(Counter.id == counter_id).values(status="open"))
    with database.transaction() as s:
        ops.call_next(
            s, counter_id=counter_id, now=NOW + timedelta(minutes=5), resolve=Resolution.SERVED
        )
    body = {"code": code, "centre_id": demo.centre_id}
    clock.moment = NOW + timedelta(minutes=15)
    ok = client.post("/api/v1/check-in", json=body)
    assert ok.status_code == 200
    assert ok.get_json()["remote"]["check_in_until"] == "2026-11-25T09:15:00+07:00"
    clock.moment = NOW + timedelta(minutes=16)
    late = client.post("/api/v1/check-in", json=body)
    assert (late.status_code, late.get_json()["error"]) == (409, "check_in_expired")
    assert "quá 10 phút" in late.get_json()["message"]


def test_a_remote_only_centre_refuses_kiosk_numbers_and_still_checks_in(
    admin, client, demo, database, clock
):
    r = admin("PATCH", f"/admin/centres/{demo.centre_id}", json={"remote_only": True})
    assert r.status_code == 200 and r.get_json()["remote_only"] is True
    provision_kiosk(client)
    kiosk = client.post(
        "/api/v1/tickets", json={"service_id": 1, "station_id": demo.kiosk_station_id}
    )
    assert (kiosk.status_code, kiosk.get_json()["error"]) == (409, "remote_only")
    assert kiosk.get_json()["message"].startswith("Trung tâm chỉ cấp số thứ tự qua điện thoại")
    code = _take(client, _sid(database, "HT1")).get_json()["remote"]["code"]
    r = client.post("/api/v1/check-in", json={"code": code, "station_id": demo.kiosk_station_id})
    assert r.status_code == 200
    catalog = client.get(f"/api/v1/catalog?centre_id={demo.centre_id}").get_json()
    assert catalog["centre"]["remote_only"] is True
    states = {s["availability"]["state"] for f in catalog["fields"] for s in f["services"]}
    assert states == {"remote_only"}


def test_one_phone_racing_itself_gets_its_quota_once(app, demo, database, clock):
    """Threads send the same phone for the same service at once: one number, the rest 429."""
    ht1, threads = _sid(database, "HT1"), 12
    statuses: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def phone() -> None:
        client = app.test_client()
        start.wait()
        r = _take(client, ht1)
        with lock:
            statuses.append(r.status_code)

    workers = [threading.Thread(target=phone) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert Tally(statuses) == {201: 1, 429: threads - 1}
    with database.transaction() as s:
        assert len(s.execute(select(RemoteNumber)).scalars().all()) == 1


def test_a_code_drawn_twice_at_once_is_drawn_again(client, demo, database, clock, monkeypatch):
    """Two numbers issued at the same moment may draw the same check-in code, neither
    seeing the other's: the unique key refuses the second, which draws again instead of
    refusing the citizen."""
    from server.services import remote

    ht1 = _sid(database, "HT1")
    first = _take(client, ht1).get_json()["remote"]["code"]
    real, draws = remote._new_code, iter([first])
    # The check found `first` free (the other transaction had not committed): drawn again.
    monkeypatch.setattr(remote, "_new_code", lambda *a: next(draws, None) or real(*a))
    r = _take(client, ht1, phone="+84 987 654 321")
    assert r.status_code == 201, r.get_json()
    second = r.get_json()["remote"]["code"]
    assert second != first and len(second) == 6
    with database.transaction() as s:
        rows = s.execute(select(RemoteNumber.code, RemoteNumber.ticket_id)).all()
    assert sorted(code for code, _ in rows) == sorted([first, second])
    assert len({ticket for _, ticket in rows}) == 2


def test_migration_down_and_up(app, client, demo, database, clock):
    from alembic import command

    from server.migrate import alembic_config, upgrade

    assert _take(client, _sid(database, "HT1")).status_code == 201
    database.session.remove()
    command.downgrade(alembic_config(database.engine), "5d0c7a1e9b24")
    upgrade(database.engine)
    with database.transaction() as s:
        assert s.execute(select(RemoteNumber)).first() is None
        assert s.execute(select(Service.remote_issuing)).scalars().all() == [False] * 10


def test_the_phone_page_offers_the_remote_services_and_says_when_a_closed_one_opens(
    admin, client, demo, database, clock
):
    ct1 = _sid(database, "CT1")
    admin("PATCH", f"/admin/services/{ct1}", json={"issue_cutoff": "08:00"})
    html = client.get(f"/lay-so?centre={demo.centre_id}").get_data(as_text=True)
    assert "Lấy số thứ tự từ xa" in html
    assert html.count('name="service"') == 4  # HT1, HT2, CT1, the bulk lane DN; not DD
    assert "Đăng ký, cấp giấy chứng nhận quyền sử dụng đất" not in html
    assert f'value="{ct1}" disabled' in html
    assert "chỉ cấp số đến 08:00" in html
    assert "<script>" not in html


def test_six_check_ins_of_one_number_at_once_print_it_once(app, client, demo, database, clock):
    """A kiosk's retry racing its first check-in (docs/numbering.md, "Retries"): the number's
    row is locked, so one check-in prints and the others answer the same, printing nothing."""
    code = _take(client, _sid(database, "HT1")).get_json()["remote"]["code"]
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
            answers.append((r.status_code, r.get_json().get("checked_in_now")))

    workers = [threading.Thread(target=check_in) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=30)
    assert sorted(answers) == [(200, False)] * 5 + [(200, True)], answers
    with database.transaction() as s:
        assert len(s.execute(select(PrintJob)).scalars().all()) == 1
