"""Opening hours, cut-offs and daily caps through the real app (SQLite and PostgreSQL):
set by the admin API, refused by the ticket API with 409s that say when to come back,
shown on the kiosk's catalogue; the cap holds under concurrent issuing."""

from __future__ import annotations

import threading
from collections import Counter as Tally
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from server.models import Centre, NumberSequence, Service, Ticket

WEDNESDAY_9 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội
WEDNESDAY_12 = datetime(2026, 11, 25, 5, 15, tzinfo=UTC)  # 12:15, lunch
WEDNESDAY_15 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)  # 15:00
HOLIDAY_9 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # Ngày Văn hóa Việt Nam (Tuesday)
HOURS = "T2-T6 07:30-11:30, 13:30-17:00; T7 07:30-11:30"


def _service_id(database, code: str) -> int:
    with database.transaction() as s:
        return s.execute(select(Service.id).where(Service.code == code)).scalar_one()


def _issue(client, service_id: int):
    return client.post("/api/v1/tickets", json={"service_id": service_id})


def _catalog_services(client, demo) -> dict[int, dict]:
    catalog = client.get(f"/api/v1/catalog?centre_id={demo.centre_id}").get_json()
    return {s["id"]: s for f in catalog["fields"] for s in f["services"]}


def test_the_admin_sets_hours_cut_off_and_cap_and_reads_them_back(admin, demo, database):
    r = admin("PATCH", f"/admin/centres/{demo.centre_id}", json={"opening_hours": HOURS})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["opening_hours"] == HOURS
    ct1 = _service_id(database, "CT1")
    r = admin("PATCH", f"/admin/services/{ct1}", json={"issue_cutoff": "15:00", "daily_cap": 30})
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["issue_cutoff"], r.get_json()["daily_cap"]) == ("15:00", 30)
    with database.transaction() as s:
        centre = s.get(Centre, demo.centre_id)
        assert centre.opening_hours["mon"] == [["07:30", "11:30"], ["13:30", "17:00"]]
    # Cleared again: empty means none.
    r = admin("PATCH", f"/admin/services/{ct1}", json={"issue_cutoff": "", "daily_cap": ""})
    assert (r.get_json()["issue_cutoff"], r.get_json()["daily_cap"]) == (None, None)
    audit = admin("GET", "/admin/audit?entity=centres").get_json()
    assert audit[0]["after"]["opening_hours"] == HOURS


@pytest.mark.parametrize(
    "entity, body, where",
    [
        ("centres", {"opening_hours": "T2-T6 11:30-07:30"}, "Giờ làm việc"),
        ("centres", {"opening_hours": "Thứ hai 7h30"}, "Giờ làm việc"),
        ("services", {"issue_cutoff": "25:00"}, "Giờ chốt cấp số"),
        ("services", {"daily_cap": 0}, "Số phiếu tối đa mỗi ngày"),
    ],
)
def test_malformed_limits_are_refused_with_a_message(admin, demo, entity, body, where):
    row = demo.centre_id if entity == "centres" else 1
    r = admin("PATCH", f"/admin/{entity}/{row}", json=body)
    assert r.status_code == 422
    assert r.get_json()["message"].startswith(where)


def test_outside_hours_the_kiosk_is_refused_with_the_next_opening(
    admin, client, demo, database, clock
):
    admin("PATCH", f"/admin/centres/{demo.centre_id}", json={"opening_hours": HOURS})
    assert _issue(client, 1).status_code == 201  # Wednesday 09:00
    clock.set(WEDNESDAY_12)
    r = _issue(client, 1)
    assert r.status_code == 409
    body = r.get_json()
    assert body["error"] == "outside_opening_hours"
    assert body["reason"] == "closed"
    assert body["next_opening"] == "2026-11-25T13:30:00+07:00"
    assert body["message"] == "Ngoài giờ làm việc. Mời quý khách quay lại lúc 13:30 hôm nay."
    assert body["message_en"] == "Outside working hours. Please come back at 13:30 today."
    clock.set(HOLIDAY_9)
    body = _issue(client, 1).get_json()
    assert body["reason"] == "day_off"
    assert "Ngày Văn hóa Việt Nam" in body["message"]
    with database.transaction() as s:  # nothing was numbered for the refusals
        assert s.execute(select(func.count()).select_from(Ticket)).scalar_one() == 1


def test_after_the_cut_off_the_service_is_refused_and_others_still_issue(
    admin, client, demo, database, clock
):
    ct1 = _service_id(database, "CT1")
    admin("PATCH", f"/admin/services/{ct1}", json={"issue_cutoff": "15:00"})
    clock.set(WEDNESDAY_15)
    r = _issue(client, ct1)
    assert r.status_code == 409
    body = r.get_json()
    assert (body["error"], body["reason"]) == ("outside_opening_hours", "cutoff")
    assert body["message"].startswith(
        "Dịch vụ «Chứng thực bản sao từ bản chính» chỉ cấp số đến 15:00"
    )
    assert body["next_opening"] == "2026-11-26T00:00:00+07:00"  # no hours: the next day
    assert _issue(client, 1).status_code == 201
    services = _catalog_services(client, demo)
    assert services[ct1]["availability"]["state"] == "cutoff"
    assert services[ct1]["availability"]["open"] is False
    assert services[1]["availability"]["state"] == "open"
    assert services[1]["availability"]["next_opening"] is None


def test_the_daily_cap_refuses_the_next_ticket_until_tomorrow(admin, client, demo, database, clock):
    admin("PATCH", f"/admin/centres/{demo.centre_id}", json={"opening_hours": HOURS})
    dd = _service_id(database, "DD")
    admin("PATCH", f"/admin/services/{dd}", json={"daily_cap": 2})
    assert _catalog_services(client, demo)[dd]["availability"]["remaining"] == 2
    first = client.post(
        "/api/v1/tickets", json={"service_id": dd, "request_id": "k-retry-0000000001"}
    )
    assert [first.status_code, _issue(client, dd).status_code] == [201, 201]
    r = _issue(client, dd)
    assert r.status_code == 409
    body = r.get_json()
    assert body["error"] == "daily_cap_reached"
    assert "đã hết số hôm nay" in body["message"]
    assert body["next_opening"] == "2026-11-26T07:30:00+07:00"
    availability = _catalog_services(client, demo)[dd]["availability"]
    assert (availability["state"], availability["remaining"]) == ("full", 0)
    # A repeated request (the kiosk's retry after a lost answer) still gets its ticket.
    again = client.post(
        "/api/v1/tickets", json={"service_id": dd, "request_id": "k-retry-0000000001"}
    )
    assert again.status_code == 200 and again.get_json()["id"] == first.get_json()["id"]
    clock.set(datetime(2026, 11, 26, 2, 0, tzinfo=UTC))  # tomorrow: a new day, a new cap
    assert _issue(client, dd).status_code == 201


def test_the_daily_cap_holds_under_concurrent_issuing(app, admin, demo, database, clock):
    """Threads issue through the real app at once: exactly `cap` tickets, the rest 409."""
    cap, threads = 25, 40
    dd = _service_id(database, "DD")
    admin("PATCH", f"/admin/services/{dd}", json={"daily_cap": cap})
    statuses: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def kiosk() -> None:
        client = app.test_client()
        start.wait()
        r = _issue(client, dd)
        with lock:
            statuses.append(r.status_code)
            if r.status_code == 409:
                errors.append(r.get_json()["error"])

    workers = [threading.Thread(target=kiosk) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert Tally(statuses) == {201: cap, 409: threads - cap}
    assert set(errors) == {"daily_cap_reached"}
    with database.transaction() as s:
        numbers = s.execute(select(Ticket.number).where(Ticket.service_id == dd)).scalars().all()
        issued = s.execute(select(NumberSequence.issued).where(NumberSequence.service_id == dd))
        assert issued.scalar_one() == cap
    assert sorted(numbers) == list(range(5001, 5001 + cap))


def test_the_demo_seeds_hours_cut_offs_and_caps_once(database, monkeypatch):
    from server.demo import load_demo

    monkeypatch.setenv("TTHCC_DEMO_HOURS", "1")
    with database.transaction() as s:
        centre_id = load_demo(s).centre_id
    with database.transaction() as s:
        centre = s.get(Centre, centre_id)
        assert centre.opening_hours["sat"] == [["07:30", "11:30"]]
        limits = {
            code: (cutoff, cap)
            for code, cutoff, cap in s.execute(
                select(Service.code, Service.issue_cutoff, Service.daily_cap)
            )
        }
        assert limits["CT1"] == ("15:00", None)
        assert limits["DD"] == (None, 40)
        assert limits["HT1"] == (None, None)
        centre.opening_hours = None  # an administrator's change survives the next load
    with database.transaction() as s:
        load_demo(s)
    with database.transaction() as s:
        assert s.get(Centre, centre_id).opening_hours is None


def test_migration_down_and_up_counts_the_days_issued(app, client, demo, database):
    from alembic import command

    from server.migrate import alembic_config, upgrade

    assert [_issue(client, 1).status_code for _ in range(3)] == [201] * 3
    database.session.remove()
    command.downgrade(alembic_config(database.engine), "4c1d2e3f5a6b")
    upgrade(database.engine)
    with database.transaction() as s:
        assert s.execute(select(NumberSequence.issued)).scalars().all() == [3]
        assert s.get(Service, 1).daily_cap is None


def test_the_admin_page_edits_a_services_cut_off_and_cap(client, demo, admin, database):
    import re

    html = client.get("/supervisor/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    client.post(
        "/supervisor/login",
        data={"username": "admin", "password": "tthcc-admin", "csrf_token": token},
    )
    ct1 = _service_id(database, "CT1")
    form = client.get(f"/admin/services/{ct1}").get_data(as_text=True)
    assert "Giờ chốt cấp số" in form and "Số phiếu tối đa mỗi ngày" in form
    current = admin("GET", f"/admin/services/{ct1}").get_json()
    data = {k: "" if v is None else str(v) for k, v in current.items() if k != "id"}
    data.update(csrf_token=token, issue_cutoff="14:30", daily_cap="60", active="1")
    data["opening_hours"] = "T2-T6 08:00-11:00"
    r = client.post(f"/admin/services/{ct1}", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    after = admin("GET", f"/admin/services/{ct1}").get_json()
    assert (after["issue_cutoff"], after["daily_cap"]) == ("14:30", 60)
    assert after["opening_hours"] == "T2-T6 08:00-11:00"
