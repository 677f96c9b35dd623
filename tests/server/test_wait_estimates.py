"""Wait estimates: the counter-replay method (pure), and the one server module every
place uses (kiosk answer, print job, /t/, supervisor), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from server.domain.wait_estimate import (
    DEFAULT_SERVICE_SECONDS,
    CounterState,
    band,
    remaining_seconds,
    replay_wait,
)
from tests.server.factories import provision_kiosk

S, X = 1, 2  # a service we wait for, and another one


def test_one_counter_is_people_ahead_times_the_service_time():
    counters = [CounterState((S,))]
    assert replay_wait(counters, {S: 9}, {S: 300}, S, ahead=3) == 900
    assert replay_wait(counters, {}, {S: 300}, S, ahead=0) == 0


def test_counters_share_the_line():
    counters = [CounterState((S,)), CounterState((S,))]
    # 4 ahead on 2 counters: two rounds of 300 s, then ours at 600 s.
    assert replay_wait(counters, {S: 5}, {S: 300}, S, ahead=4) == 600


def test_a_counter_serves_its_own_first_service_first():
    # Counter A serves X first: 5 waiting for X keep it busy, so only B takes our line.
    counters = [CounterState((X, S)), CounterState((S,))]
    busy_a = replay_wait(counters, {X: 5, S: 3}, {S: 300, X: 600}, S, ahead=2)
    assert busy_a == 600  # B: two ahead, 300 s each
    # With nobody waiting for X, A helps with our line too.
    free_a = replay_wait(counters, {S: 3}, {S: 300, X: 600}, S, ahead=2)
    assert free_a == 300


def test_a_busy_counter_is_free_after_its_remaining_time():
    assert remaining_seconds(300, 100) == 200
    assert remaining_seconds(300, 1000) == 75  # over time: still a quarter of the median
    counters = [CounterState((S,), free_in=120)]
    assert replay_wait(counters, {S: 1}, {S: 300}, S, ahead=0) == 120


def test_no_open_counter_serving_the_service_means_no_estimate():
    assert replay_wait([CounterState((X,))], {S: 2}, {S: 300}, S, ahead=1) is None
    assert replay_wait([], {}, {}, S, ahead=0) is None


def test_unknown_services_take_the_default_time():
    assert replay_wait([CounterState((S,))], {}, {}, S, ahead=2) == 2 * DEFAULT_SERVICE_SECONDS


def test_band_rounds_up_and_gives_the_typical_error():
    estimate = band(12 * 60 + 5)
    assert estimate.minutes == 13
    assert estimate.low_minutes < 13 < estimate.high_minutes
    assert band(0).minutes == 0 and band(0).low_minutes == 0
    assert band(90 * 60).high_minutes - band(90 * 60).minutes > 10  # grows with the wait


# --- through the database ------------------------------------------------------------------


@pytest.fixture
def hall(app, database, demo, now):
    """Counters 1 and 2 (both serve service 1, "Khai sinh…") open; 10 tickets of service 1
    were served today in 240 s each; counter 1 is busy since 60 s with another."""
    from server.models import Counter, Ticket
    from server.services import issuing, wait_estimates

    start = now - timedelta(hours=2)
    with database.transaction() as session:
        ids = [issuing.issue_ticket(session, service_id=1, now=start).ticket.id for _ in range(11)]
    with database.transaction() as session:
        for i, ticket_id in enumerate(ids[:10]):
            called = start + timedelta(minutes=5 * i)
            session.execute(
                update(Ticket)
                .where(Ticket.id == ticket_id)
                .values(
                    status="done",
                    called_at=called,
                    finished_at=called + timedelta(seconds=240),
                    counter_id=1,
                )
            )
        session.execute(
            update(Ticket)
            .where(Ticket.id == ids[10])
            .values(status="called", called_at=now - timedelta(seconds=60), counter_id=1)
        )
        session.execute(update(Counter).where(Counter.id == 1).values(current_ticket_id=ids[10]))
        session.execute(update(Counter).where(Counter.id.in_([1, 2])).values(status="open"))
    wait_estimates.clear_cache()  # the issues above cached "nobody served yet" for 30 s
    return start


def test_estimate_uses_open_counters_and_recent_service_times(database, hall, now):
    from server.services import issuing

    with database.transaction() as session:
        first = issuing.issue_ticket(session, service_id=1, now=now)
    # Counter 2 is free: the first citizen goes at once.
    assert first.estimate["minutes"] == 0
    assert first.estimate["method"] == "counter_replay"
    with database.transaction() as session:
        for _ in range(2):
            last = issuing.issue_ticket(session, service_id=1, now=now)
    # Ahead: 2. Counter 2 takes #1 now, counter 1 is free in 180 s and takes #2; the
    # third goes to counter 2 at 240 s.
    assert last.waiting_ahead == 2
    assert last.estimate["minutes"] == 4
    assert last.estimate["low_minutes"] < 4 < last.estimate["high_minutes"]
    assert "Khoảng 4 phút" in last.estimate["text"]


def test_no_open_counter_is_said_plainly(database, hall, now):
    from server.services import issuing

    with database.transaction() as session:
        issued = issuing.issue_ticket(session, service_id=5, now=now)  # Đất đai: counter 4/5
    assert issued.estimate["minutes"] is None
    assert issued.estimate["text"] == "Chưa có quầy mở cho dịch vụ này"


def test_kiosk_answer_print_job_public_page_and_supervisor_agree(app, client, database, hall):
    from server.models import PrintJob

    app.config["TTHCC"].public_url = "http://192.168.1.10:8000"
    kiosk = provision_kiosk(client)
    for _ in range(3):
        body = kiosk.post("/api/v1/tickets", json={"service_id": 1, "station_id": 1}).get_json()
    estimate = body["estimate"]
    assert estimate["minutes"] is not None and estimate["minutes"] > 0
    assert body["counters"] == ["Quầy 1", "Quầy 2"]
    assert body["public_url"] == f"http://192.168.1.10:8000/t/{body['public_code']}"
    with database.transaction() as session:
        job = session.execute(
            select(PrintJob).where(PrintJob.job_id == body["print_job_id"])
        ).scalar_one()
        printed = job.payload
    assert printed["estimate"] == (
        f"Dự kiến chờ: khoảng {estimate['minutes']} phút "
        f"({estimate['low_minutes']}-{estimate['high_minutes']})"
    )
    assert printed["qr_url"] == body["public_url"]
    public = client.get(f"/api/v1/tickets/public/{body['public_code']}").get_json()
    assert public["estimate"]["minutes"] == estimate["minutes"]
    token = client.post(
        "/api/v1/auth/token", json={"username": "giamsat", "password": "tthcc-giamsat"}
    ).get_json()["token"]
    overview = client.get(
        "/api/v1/supervisor/overview", headers={"Authorization": f"Bearer {token}"}
    ).get_json()
    line = next(s for s in overview["services"] if s["id"] == 1)
    # The supervisor's figure is for the next person to join: one more ahead than ours.
    assert line["waiting"] == 3
    assert line["estimated_wait_seconds"] >= estimate["minutes"] * 60 - 60


def test_a_loopback_public_url_prints_no_qr_code(app, client, database, demo):
    from server.models import PrintJob

    assert app.config["TTHCC"].public_url.startswith("http://127.0.0.1")
    kiosk = provision_kiosk(client)
    body = kiosk.post("/api/v1/tickets", json={"service_id": 1, "station_id": 1}).get_json()
    assert body["public_url"] is None
    with database.transaction() as session:
        job = session.execute(
            select(PrintJob).where(PrintJob.job_id == body["print_job_id"])
        ).scalar_one()
        assert job.payload["qr_url"] is None


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8000", True),
        ("http://localhost:8000/", True),
        ("http://[::1]:8000", True),
        ("", True),
        ("http://0.0.0.0:8000", True),
        ("http://192.168.1.10:8000", False),
        ("https://tthcc.bacninh.gov.vn", False),
    ],
)
def test_public_url_warning(url, loopback):
    from server.config import Config, is_loopback_url

    assert is_loopback_url(url) is loopback
    config = Config.from_env({"TTHCC_PUBLIC_URL": url})
    assert (config.public_url_warning() is not None) is loopback
    assert config.phone_url == ("" if loopback else url.rstrip("/"))


def test_admin_page_warns_about_a_loopback_public_url(app, client, admin_token):
    client.post("/api/v1/auth/login", json={"username": "admin", "password": "tthcc-admin"})
    page = client.get("/admin").get_data(as_text=True)
    assert 'id="public-url-warning"' in page and "TTHCC_PUBLIC_URL" in page
    app.config["TTHCC"].public_url = "http://192.168.1.10:8000"
    assert 'id="public-url-warning"' not in client.get("/admin").get_data(as_text=True)


def test_arrivals_keep_a_counter_on_its_earlier_service():
    # A serves X first and takes the one X citizen now (600 s). Without arrivals it then
    # helps our line at 600 s; with one X citizen arriving every 200 s it stays on X, and
    # our line (3 ahead) has only B: 0, 300, 600, ours at 900.
    counters = [CounterState((X, S)), CounterState((S,))]
    seconds = {S: 300, X: 600}
    calm = replay_wait(counters, {X: 1, S: 4}, seconds, S, ahead=3)
    busy = replay_wait(counters, {X: 1, S: 4}, seconds, S, ahead=3, arrivals={X: 1 / 200})
    assert (calm, busy) == (600, 900)


def test_priority_arrivals_go_before_a_normal_ticket():
    counters = [CounterState((S,))]
    alone = replay_wait(counters, {S: 1}, {S: 300}, S, ahead=0)
    assert alone == 0
    # One priority ticket every 100 s: by the time the counter is free again there are
    # more in front.
    assert replay_wait(counters, {S: 2}, {S: 300}, S, ahead=1, jumping=1 / 100) > 300
