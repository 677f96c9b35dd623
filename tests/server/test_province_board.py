"""The province board and the reports across centres (issue 13, item 3), through the real
app: who may read them, what they say, and a fixed number of SQL statements whatever the
number of centres."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, select

from server.models import Centre, Dossier, Procedure, Rating, Station, Ticket
from server.services.auth import create_user
from tests.server.factories import create_centre, create_counter, create_service
from tests.server.test_reports_scenario import DAY, build_day

WEEK_LATER = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # the scenario's day is settled


def _login(client, username: str, password: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert r.status_code == 200, r.get_json()
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


@pytest.fixture
def viewer(client, database, demo) -> dict[str, str]:
    with database.transaction() as session:
        create_user(session, username="tinh", password="tinh-12345", role="viewer")
    return _login(client, "tinh", "tinh-12345")


def _add_centres(database, n: int, *, kind: str = "commune") -> list[tuple[int, int, int]]:
    """n small centres, each with one service and an open counter: (centre, service, counter)."""
    out = []
    with database.transaction() as session:
        for _ in range(n):
            centre = create_centre(session, name=f"Trung tâm {uuid.uuid4().hex[:4]}")
            centre.kind = kind
            service = create_service(session, centre)
            counter = create_counter(session, centre, [service])
            out.append((centre.id, service.id, counter.id))
    return out


class Statements:
    """Counts what the engine sends to the database (BEGIN/COMMIT included)."""

    def __init__(self, engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)
        self.engine = engine

    def _seen(self, *_: object) -> None:
        self.count += 1

    def during(self, send):
        self.count = 0
        response = send()
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        return self.count

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


def test_the_board_lists_every_centre_most_in_need_first(client, database, demo, viewer, backend):
    (quiet_id, _, _), (busy_id, busy_service, busy_counter) = _add_centres(database, 2)
    # The demo centre: one ticket served (and rated 5), one waiting.
    admin = _login(client, "admin", "tthcc-admin")
    for _ in range(2):
        assert client.post("/api/v1/tickets", json={"service_id": 1}).status_code == 201
    counter_1 = demo.counters[0][0]
    client.post(f"/api/v1/counters/{counter_1}/status", json={"status": "open"}, headers=admin)
    called = client.post(f"/api/v1/counters/{counter_1}/call-next", headers=admin).get_json()
    ticket_id = called["current_ticket"]["id"] if "current_ticket" in called else called["id"]
    r = client.post(f"/api/v1/tickets/{ticket_id}/finish", json={}, headers=admin)
    assert r.status_code == 200, r.get_json()
    # The busy centre: three people waiting since an hour ago (over its 30-minute threshold)
    # and its counter closed.
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    for _ in range(3):
        assert client.post("/api/v1/tickets", json={"service_id": busy_service}).status_code == 201
    with database.transaction() as session:
        for t in session.execute(select(Ticket).where(Ticket.centre_id == busy_id)).scalars():
            t.queued_at = an_hour_ago
        ticket = session.get(Ticket, ticket_id)
        session.add(
            Rating(
                centre_id=demo.centre_id,
                counter_id=counter_1,
                ticket_id=ticket_id,
                staff_id=ticket.staff_id,
                service_id=ticket.service_id,
                raw_key="5",
                level=5,
                criterion="overall",
                source="pad",
                pressed_at=datetime.now(UTC),
                received_at=datetime.now(UTC),
                idempotency_key=uuid.uuid4().hex,
            )
        )
        kiosk = session.get(Station, demo.kiosk_station_id)
        kiosk.last_seen_at = datetime.now(UTC)
        kiosk.device_states = {"printer": {"state": "paper_out", "reason": "paper out"}}
        from server.models import Counter

        session.get(Counter, busy_counter).status = "closed"

    r = client.get("/api/v1/province/board", headers=viewer)
    assert r.status_code == 200, r.get_json()
    board = r.get_json()
    ids = [c["id"] for c in board["centres"]]
    assert ids[0] == busy_id and set(ids) == {demo.centre_id, quiet_id, busy_id}
    busy = board["centres"][0]
    assert busy["waiting"] == 3 and busy["longest_wait_seconds"] >= 3590
    kinds = {a["kind"] for a in busy["alerts"]}
    assert {"wait_over_threshold", "no_open_counter"} <= kinds
    assert busy["live_board"] == f"/supervisor?centre={busy_id}"
    hall = next(c for c in board["centres"] if c["id"] == demo.centre_id)
    assert (hall["waiting"], hall["served_today"]) == (1, 1)
    assert (hall["ratings_today"], hall["satisfaction_today"]) == (1, 100.0)
    assert any(a["kind"] == "device_fault" and "paper" in a["message"] for a in hall["alerts"])
    # Link state, as the hub sees it: events today → online; nothing ever → offline.
    assert hall["link"]["state"] == "online" and hall["link"]["source"] == "hub"
    quiet = next(c for c in board["centres"] if c["id"] == quiet_id)
    assert quiet["link"] == {
        "state": "offline",
        "last_seen_at": None,
        "last_event_at": None,
        "source": "hub",
    }
    assert board["totals"]["waiting"] == 4 and board["totals"]["centres"] == 3

    page = client.get("/province", headers=viewer)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'href="/supervisor?centre={busy_id}"' in html
    assert html.index(f'data-centre-id="{busy_id}"') < html.index(
        f'data-centre-id="{demo.centre_id}"'
    )
    assert "Mất kết nối" in html and "Đang kết nối" in html


def test_only_administrators_and_province_viewers_read_the_province(
    client, database, demo, viewer, backend
):
    assert client.get("/api/v1/province/board").status_code == 401
    supervisor = _login(client, "giamsat", "tthcc-giamsat")
    for path in ("/api/v1/province/board", "/api/v1/province/reports"):
        assert client.get(path, headers=supervisor).status_code == 403
        assert client.get(path, headers=viewer).status_code == 200
    staff = _login(client, "canbo1", "tthcc-canbo")
    assert client.get("/api/v1/province/board", headers=staff).status_code == 403
    # a viewer attached to one centre reads that centre only, not the province
    with database.transaction() as session:
        create_user(
            session,
            username="xem-xa",
            password="xem-12345",
            role="viewer",
            centre_id=demo.centre_id,
        )
    local_viewer = _login(client, "xem-xa", "xem-12345")
    assert client.get("/api/v1/province/board", headers=local_viewer).status_code == 403
    admin = _login(client, "admin", "tthcc-admin")
    assert client.get("/api/v1/province/board", headers=admin).status_code == 200
    # the page: log in first
    r = client.get("/province")
    assert r.status_code == 302 and "/supervisor/login" in r.headers["Location"]


def test_the_board_costs_the_same_statements_for_3_or_9_centres(
    client, database, demo, viewer, backend
):
    def busy_centres(n: int) -> None:
        for _, service_id, _ in _add_centres(database, n):
            assert (
                client.post("/api/v1/tickets", json={"service_id": service_id}).status_code == 201
            )

    busy_centres(2)
    client.get("/api/v1/province/board", headers=viewer)  # once per process: has ratings?
    counter = Statements(database.engine)
    try:
        few = counter.during(lambda: client.get("/api/v1/province/board", headers=viewer))
        busy_centres(6)
        many = counter.during(lambda: client.get("/api/v1/province/board", headers=viewer))
    finally:
        counter.close()
    assert len(client.get("/api/v1/province/board", headers=viewer).get_json()["centres"]) == 9
    assert few == many, (few, many)
    assert many <= 16, many  # auth + the board's own statements


def _dossier(session, centre_id: int, procedure_id: int, timing: str | None, ready: datetime):
    code = uuid.uuid4().hex[:12]
    session.add(
        Dossier(
            centre_id=centre_id,
            code=f"HS-{code}",
            procedure_id=procedure_id,
            applicant_name="Công dân",
            received_at=ready - timedelta(days=3),
            working_days=3,
            due_date=(ready - timedelta(days=1)).date(),
            appointment_at=ready - timedelta(days=1),
            status="result_ready" if timing else "received",
            result_ready_at=ready if timing else None,
            result_timing=timing,
        )
    )


@pytest.fixture
def month_of_centres(database, demo):
    """Three copies of the hand-worked day (test_reports_scenario), one a provincial unit,
    one with a worse rating; dossiers: the first commune 2 on time of 2, the other 1 of 2."""
    with database.transaction() as session:
        days = [build_day(session) for _ in range(3)]
        session.get(Centre, days[2].centre_id).kind = "provincial"
        worse = session.execute(
            select(Rating).where(Rating.centre_id == days[1].centre_id, Rating.level == 5)
        ).scalar_one()
        worse.level = 1
        procedure_id = session.execute(select(Procedure.id).limit(1)).scalar_one()
        ready = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
        for centre, timings in (
            (days[0], ("on_time", "early")),
            (days[1], ("late", "on_time")),
            (days[2], ("on_time", None)),
        ):
            for timing in timings:
                _dossier(session, centre.centre_id, procedure_id, timing, ready)
    return days


def test_province_report_ranks_commune_centres_apart_from_provincial_units(
    database, month_of_centres, backend
):
    from server.services.province_reports import build_province_report
    from server.services.reports import period_for

    days = month_of_centres
    with database.transaction() as session:
        report = build_province_report(session, period_for("month", DAY), now=WEEK_LATER)
    assert report["period"]["label"] == "Tháng 11/2026"
    groups = {g["kind"]: g["rows"] for g in report["groups"]}
    assert [r["id"] for r in groups["provincial"]] == [days[2].centre_id]
    communes = [r for r in groups["commune"] if r["id"] in (days[0].centre_id, days[1].centre_id)]
    best, worse = communes
    assert best["id"] == days[0].centre_id and best["rank"] < worse["rank"]
    # the hand-worked day: 4 issued, 3 served, waits 60, 120, 120, 540 s; ratings 5, 2, 4
    assert (best["issued"], best["served"]) == (4, 3)
    # the median from the 1-minute histogram (docs/reports.md, "Roll-ups"): buckets 1, 2, 2,
    # 9 minutes, each wait taken in the middle of its minute → (135 + 165) / 2
    assert best["wait_mean"] == pytest.approx(210) and best["wait_median"] == pytest.approx(150)
    assert best["satisfaction_index"] == pytest.approx(66.7)
    assert worse["satisfaction_index"] == pytest.approx(33.3)
    assert (best["dossiers_resolved"], best["dossiers_on_time"]) == (2, 2)
    assert best["dossiers_on_time_percent"] == 100.0
    assert (worse["dossiers_on_time"], worse["dossiers_late"]) == (1, 1)
    provincial = groups["provincial"][0]
    assert (provincial["dossiers_received"], provincial["dossiers_resolved"]) == (2, 1)
    assert provincial["rank"] == 1
    # the demo centre had no tickets: in its group, after every centre with figures
    demo_row = groups["commune"][-1]
    assert demo_row["issued"] == 0 and demo_row["satisfaction_index"] is None


def test_province_report_exports_csv_and_xlsx(client, month_of_centres, viewer, backend):
    r = client.get(
        "/api/v1/province/reports/export?format=csv&period=month&date=2026-11-01", headers=viewer
    )
    assert r.status_code == 200 and r.mimetype == "text/csv"
    text = r.get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0].startswith("Báo cáo các trung tâm toàn tỉnh – Tháng 11/2026")
    titles = [row[0] for row in rows if row and row[0].startswith(("Trung tâm cấp xã", "Đơn vị"))]
    assert titles == [
        "Trung tâm cấp xã, phường – Tháng 11/2026",
        "Đơn vị cấp tỉnh – Tháng 11/2026",
    ]
    header = rows[2]
    assert header[:2] == ["Hạng", "Trung tâm"] and "Tỷ lệ đúng hạn (%)" in header
    r = client.get("/api/v1/province/reports/export?format=xlsx&date=2026-11-01", headers=viewer)
    assert r.status_code == 200
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(r.get_data()))
    assert wb.sheetnames == ["Trung tâm cấp xã, phường", "Đơn vị cấp tỉnh"]
    assert wb["Đơn vị cấp tỉnh"]["A3"].value == 1
    page = client.get("/province/reports?date=2026-11-01", headers=viewer)
    assert page.status_code == 200 and 'id="rank-provincial"' in page.get_data(as_text=True)
    assert "Số liệu hôm nay" not in page.get_data(as_text=True)  # a closed month
    # The current month holds today: its figures are as of a time the page states.
    month = client.get("/api/v1/province/reports", headers=viewer).get_json()
    page = client.get("/province/reports", headers=viewer).get_data(as_text=True)
    assert f"Số liệu hôm nay cập nhật lúc {month['today_as_of']}" in page


def test_a_year_of_the_province_per_centre_and_month(client, month_of_centres, viewer, backend):
    days = month_of_centres
    r = client.get("/api/v1/province/reports?period=year&date=2026-11-01", headers=viewer)
    assert r.status_code == 200, r.get_json()
    report = r.get_json()
    assert report["period"]["label"] == "Năm 2026"
    assert [m["month"] for m in report["months"]] == [f"2026-{m:02d}" for m in range(1, 13)]
    november = {row["id"]: row for g in report["months"][10]["groups"] for row in g["rows"]}
    october = {row["id"]: row for g in report["months"][9]["groups"] for row in g["rows"]}
    assert november[days[0].centre_id]["issued"] == 4 and october[days[0].centre_id]["issued"] == 0
    assert november[days[0].centre_id]["dossiers_on_time"] == 2
    year = {row["id"]: row for g in report["groups"] for row in g["rows"]}
    assert year[days[0].centre_id]["satisfaction_index"] == pytest.approx(66.7)
    # a month's report has no month breakdown
    month = client.get("/api/v1/province/reports?date=2026-11-01", headers=viewer).get_json()
    assert month["months"] == []

    r = client.get(
        "/api/v1/province/reports/export?format=csv&period=year&date=2026-11-01", headers=viewer
    )
    rows = list(csv.reader(io.StringIO(r.get_data().decode("utf-8-sig"))))
    start = next(i for i, row in enumerate(rows) if row and row[0] == "Theo tháng – Năm 2026")
    assert rows[start + 1][:4] == ["Tháng", "Loại", "Hạng", "Trung tâm"]
    assert len(rows) - start - 2 == 12 * 4  # 12 months × 4 centres (the demo's too)
    r = client.get("/api/v1/province/reports/export?period=year&date=2026-11-01", headers=viewer)
    from openpyxl import load_workbook

    assert load_workbook(io.BytesIO(r.get_data())).sheetnames[-1] == "Theo tháng"
    page = client.get("/province/reports?period=year&date=2026-11-01", headers=viewer)
    html = page.get_data(as_text=True)
    assert f'data-month="2026-11" data-centre-id="{days[0].centre_id}"' in html
    assert 'data-month="2026-10"' not in html  # months without figures are left off the page


def test_province_report_costs_the_same_statements_for_3_or_9_centres(
    client, database, demo, viewer, backend
):
    """First report of a cold month (folds every settled day) and a warm one, for few and
    many centres: the same count."""
    # once per process: has ratings? (another month, so November stays cold)
    client.get("/api/v1/province/reports?period=month&date=2026-10-01", headers=viewer)
    counter = Statements(database.engine)
    url = "/api/v1/province/reports?period=month&date=2026-11-01"
    year = "/api/v1/province/reports?period=year&date=2026-11-01"  # and its 12 months
    try:
        with database.transaction() as session:
            for _ in range(2):
                build_day(session)
        cold_few = counter.during(lambda: client.get(url, headers=viewer))
        warm_few = counter.during(lambda: client.get(url, headers=viewer))
        client.get(year, headers=viewer)
        year_few = counter.during(lambda: client.get(year, headers=viewer))
        with database.transaction() as session:
            for _ in range(6):
                build_day(session)
        cold_many = counter.during(lambda: client.get(url, headers=viewer))
        warm_many = counter.during(lambda: client.get(url, headers=viewer))
        client.get(year, headers=viewer)
        year_many = counter.during(lambda: client.get(year, headers=viewer))
    finally:
        counter.close()
    groups = client.get(url, headers=viewer).get_json()["groups"]
    assert sum(len(g["rows"]) for g in groups) == 9
    assert year_few == year_many, (year_few, year_many)
    assert (cold_few, warm_few) == (cold_many, warm_many), (
        cold_few,
        warm_few,
        cold_many,
        warm_many,
    )
    assert date.today() > DAY  # the scenario's month is over: its days are folded


def test_the_centre_kind_migration_goes_down_and_up(database, demo, backend):
    from alembic import command

    from server.migrate import alembic_config, upgrade

    with database.transaction() as session:
        session.get(Centre, demo.centre_id).kind = "provincial"
    database.session.remove()
    command.downgrade(alembic_config(database.engine), "7a8b9c0d1e2f")
    with database.engine.connect() as conn:
        row = conn.exec_driver_sql("SELECT * FROM centres").mappings().first()
    assert "kind" not in row
    upgrade(database.engine)
    with database.transaction() as session:
        assert session.get(Centre, demo.centre_id).kind == "commune"  # the default again


def test_a_centre_box_link_is_its_last_delivery(client, database, demo, viewer, backend):
    from server.models import SyncBox

    (late_id, _, _), (fresh_id, _, _) = _add_centres(database, 2)
    now = datetime.now(UTC)
    with database.transaction() as session:
        for box_id, centre_id, pushed, error in (
            ("box-late", late_id, now - timedelta(hours=2), ""),
            ("box-fresh", fresh_id, now - timedelta(minutes=1), "services 'X' not at the hub"),
        ):
            session.add(
                SyncBox(
                    id=box_id,
                    centre_id=centre_id,
                    token_hash=uuid.uuid4().hex,
                    last_push_at=pushed,
                    created_at=now - timedelta(days=1),
                    project_error=error,
                )
            )
    board = client.get("/api/v1/province/board", headers=viewer).get_json()
    rows = {c["id"]: c for c in board["centres"]}
    assert rows[late_id]["link"]["state"] == "offline"
    assert rows[late_id]["link"]["source"] == "box"
    assert rows[late_id]["link"]["last_seen_at"] is not None
    assert rows[fresh_id]["link"]["state"] == "online"
    assert rows[fresh_id]["link"]["source"] == "box"
    assert rows[demo.centre_id]["link"]["source"] == "hub"  # no box: the hub's own view
    # The hub stopped projecting what a box delivers: its figures are stale, and it says so.
    assert rows[fresh_id]["alerts"][0]["kind"] == "sync_projection_stopped"
    assert "'X' not at the hub" in rows[fresh_id]["alerts"][0]["message"]
    assert not any(a["kind"] == "sync_projection_stopped" for a in rows[late_id]["alerts"])
