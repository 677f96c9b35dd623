"""The dossier receipt slip on the counter's thermal printer: a print job of kind
`dossier_slip` for the station the counter is bound to, delivered (and re-delivered on
connect) to its agent, acknowledged like a ticket, shown on the dossier, reprinted on
request. The agent side is tests/devices/test_agent_slip.py and tests/e2e/."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask_socketio import SocketIOTestClient
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from devices.printing.slip import SlipPrint
from server.models import Counter, PrintJob, Station
from tests.server.factories import create_centre

APPOINTMENT = re.compile(
    r"^Thời gian hẹn trả kết quả: \d\d giờ \d\d phút, ngày \d\d tháng \d\d năm \d{4}$"
)


def sio(app, namespace, **kw) -> SocketIOTestClient:
    return app.extensions["socketio"].test_client(app, namespace=namespace, **kw)


def jobs_of(agent: SocketIOTestClient) -> list[dict]:
    return [r["args"][0] for r in agent.get_received("/station") if r["name"] == "print.job"]


@pytest.fixture
def counters_token(database, demo) -> str:
    """A fresh token of COUNTERS-1, the station the demo counters print their slips at."""
    from server.demo import load_demo

    with database.transaction() as session:
        return load_demo(session, issue_counters_token=True).counters_token


@pytest.fixture
def staff(staff_token) -> dict:
    return {"Authorization": f"Bearer {staff_token}"}


@pytest.fixture
def admin(admin_token) -> dict:
    return {"Authorization": f"Bearer {admin_token}"}


@pytest.fixture
def receive(client, demo, staff):
    """``receive(counter_number=1)``: a dossier received over the API at that counter."""
    counter_ids = {number: counter_id for counter_id, number in demo.counters}
    pid = client.get("/api/v1/procedures?q=1.012783").get_json()[0]["id"]

    def post(counter_number: int | None = 1, **extra) -> dict:
        body = {
            "procedure_id": pid,
            "applicant_name": "Nguyễn Văn An",
            "papers_received": [{"name": "Đơn đề nghị", "originals": 1}],
            **extra,
        }
        if counter_number is not None:
            body["counter_id"] = counter_ids[counter_number]
        r = client.post("/api/v1/dossiers", json=body, headers=staff)
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    return post


def ack(agent: SocketIOTestClient, job_id: str, status: str, reason: str | None = None) -> dict:
    return agent.emit(
        "print.ack",
        {"job_id": job_id, "status": status, "reason": reason},
        namespace="/station",
        callback=True,
    )


def test_a_dossier_received_at_a_bound_counter_prints_its_slip_there(
    app, client, demo, counters_token, receive, staff
):
    agent = sio(app, "/station", auth={"token": counters_token})
    assert agent.is_connected("/station") and jobs_of(agent) == []
    # The counters station's room (its print.status) is no page's: the dossier desk reads
    # the slip's status from the API (a station's room is its provisioned kiosk's only).
    page = sio(app, "/hall")
    refused = page.emit(
        "subscribe",
        {"centre_id": demo.centre_id, "station_id": demo.counters_station_id},
        namespace="/hall",
        callback=True,
    )
    assert refused["ok"] is False

    dossier = receive(counter_number=1)
    assert dossier["slip_print"]["status"] == "pending"
    assert dossier["slip_print"]["station_code"] == "COUNTERS-1"

    [job] = jobs_of(agent)
    assert job["kind"] == "dossier_slip" and job["job_id"] == dossier["slip_print"]["job_id"]
    assert "ticket" not in job and job["printer"] is None
    slip = job["slip"]
    assert slip["code"] == slip["qr_data"] == dossier["code"]
    assert slip["title"] == "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ"
    assert f"Mã hồ sơ: {dossier['code']}" in slip["lines"]
    assert any(APPOINTMENT.match(line) for line in slip["lines"]), slip["lines"]
    assert slip["lines"] == dossier["slip_lines"][3:-2]  # the same wording as the PDF
    SlipPrint.from_payload(slip)  # what the agent will check

    assert ack(agent, job["job_id"], "printed") == {"ok": True}
    shown = client.get(f"/api/v1/dossiers/{dossier['id']}", headers=staff).get_json()
    assert shown["slip_print"]["status"] == "printed" and shown["slip_print"]["acked_at"]
    listed = client.get("/api/v1/dossiers", headers=staff).get_json()
    assert listed[0]["id"] == dossier["id"] and listed[0]["slip_print"]["status"] == "printed"

    # A printed slip is not sent again to a reconnecting agent.
    assert jobs_of(sio(app, "/station", auth={"token": counters_token})) == []


def test_waiting_jobs_of_both_kinds_are_sent_when_each_agent_connects(
    app, client, demo, counters_token, receive
):
    dossier = receive(counter_number=3)
    ticket = client.post(
        "/api/v1/tickets",
        json={"service_id": 1, "station_id": demo.kiosk_station_id},
        headers={"Authorization": f"Bearer {demo.kiosk_token}"},
    ).get_json()

    [slip_job] = jobs_of(sio(app, "/station", auth={"token": counters_token}))
    assert slip_job["kind"] == "dossier_slip" and slip_job["slip"]["code"] == dossier["code"]
    [ticket_job] = jobs_of(sio(app, "/station", auth={"token": demo.kiosk_token}))
    assert ticket_job["kind"] == "ticket" and "slip" not in ticket_job
    assert ticket_job["job_id"] == ticket["print_job_id"]
    assert ticket_job["ticket"]["number"] == ticket["number"]


def test_a_failed_slip_is_reprinted_on_request(app, client, counters_token, receive, staff):
    agent = sio(app, "/station", auth={"token": counters_token})
    dossier = receive()
    [first] = jobs_of(agent)
    ack(agent, first["job_id"], "failed", "paper out")
    shown = client.get(f"/api/v1/dossiers/{dossier['id']}", headers=staff).get_json()
    assert (shown["slip_print"]["status"], shown["slip_print"]["reason"]) == (
        "failed",
        "paper out",
    )

    r = client.post(f"/api/v1/dossiers/{dossier['id']}/slip/print", json={}, headers=staff)
    assert r.status_code == 200, r.get_json()
    again = r.get_json()["slip_print"]
    assert again["status"] == "pending" and again["job_id"] != first["job_id"]
    [second] = jobs_of(agent)
    assert second["job_id"] == again["job_id"] and second["slip"] == first["slip"]
    ack(agent, second["job_id"], "printed")
    shown = client.get(f"/api/v1/dossiers/{dossier['id']}", headers=staff).get_json()
    assert shown["slip_print"]["status"] == "printed"


def test_a_reprint_supersedes_a_job_still_waiting_for_its_station(
    app, client, database, counters_token, receive, staff
):
    dossier = receive()  # the agent is away: the job waits
    client.post(f"/api/v1/dossiers/{dossier['id']}/slip/print", json={}, headers=staff)
    with database.transaction() as s:
        jobs = s.execute(select(PrintJob).order_by(PrintJob.id)).scalars().all()
        assert [(j.kind, j.status, j.reason) for j in jobs] == [
            ("dossier_slip", "failed", "superseded"),
            ("dossier_slip", "pending", ""),
        ]
        latest = jobs[1].job_id
    # One slip comes out when the printer is back, not two.
    assert [j["job_id"] for j in jobs_of(sio(app, "/station", auth={"token": counters_token}))] == [
        latest
    ]


def test_a_slip_job_waiting_too_long_expires_instead_of_printing_late(
    app, client, database, counters_token, receive, staff
):
    late, recent = receive(counter_number=1), receive(counter_number=2)
    with database.transaction() as s:
        for job in s.execute(select(PrintJob)).scalars():
            # Older than a ticket's 60 s, and past the slip's 2 minutes.
            back = timedelta(seconds=90 if job.dossier_id == recent["id"] else 150)
            job.created_at -= back
    shown = client.get(f"/api/v1/dossiers/{late['id']}", headers=staff).get_json()
    assert (shown["slip_print"]["status"], shown["slip_print"]["reason"]) == ("failed", "expired")

    jobs = jobs_of(sio(app, "/station", auth={"token": counters_token}))
    assert [j["slip"]["code"] for j in jobs] == [recent["code"]]
    with database.transaction() as s:
        stale = s.execute(select(PrintJob).where(PrintJob.dossier_id == late["id"])).scalar_one()
        assert (stale.status, stale.reason) == ("failed", "expired")


def test_no_printing_station_means_no_job_and_a_reprint_says_to_print_the_pdf(
    client, database, demo, receive, staff, admin
):
    counter_2 = dict((n, c) for c, n in demo.counters)[2]
    r = client.patch(
        f"/api/v1/admin/counters/{counter_2}", json={"station_id": None}, headers=admin
    )
    assert r.status_code == 200 and r.get_json()["station_id"] is None

    dossier = receive(counter_number=2)
    assert dossier["slip_print"] is None
    without_counter = receive(counter_number=None)
    assert without_counter["slip_print"] is None
    with database.transaction() as s:
        assert s.execute(select(PrintJob)).first() is None

    for d in (dossier, without_counter):
        r = client.post(f"/api/v1/dossiers/{d['id']}/slip/print", json={}, headers=staff)
        assert r.status_code == 409, r.get_json()
        assert "PDF" in r.get_json()["message"]

    # Printed elsewhere on request: at counter 1, bound to COUNTERS-1.
    counter_1 = dict((n, c) for c, n in demo.counters)[1]
    r = client.post(
        f"/api/v1/dossiers/{dossier['id']}/slip/print",
        json={"counter_id": counter_1},
        headers=staff,
    )
    assert r.status_code == 200 and r.get_json()["slip_print"]["station_code"] == "COUNTERS-1"


def test_a_station_without_a_printer_prints_no_slip(client, database, demo, receive):
    with database.transaction() as s:
        s.get(Station, demo.counters_station_id).has_printer = False
    assert receive()["slip_print"] is None


def test_admin_binds_a_counter_to_a_station_of_its_own_centre(
    client, database, demo, receive, admin
):
    counter_1 = dict((n, c) for c, n in demo.counters)[1]
    r = client.patch(
        f"/api/v1/admin/counters/{counter_1}",
        json={"station_id": demo.kiosk_station_id},
        headers=admin,
    )
    assert r.status_code == 200 and r.get_json()["station_id"] == demo.kiosk_station_id
    assert receive(counter_number=1)["slip_print"]["station_code"] == "KIOSK-1"
    audit = client.get("/api/v1/admin/audit?entity=counters", headers=admin).get_json()
    assert audit[0]["after"]["station_id"] == demo.kiosk_station_id

    with database.transaction() as s:
        other = create_centre(s, code="OTHER")
        station = Station(centre_id=other.id, code="K", kind="kiosk", has_printer=True)
        s.add(station)
        s.flush()
        foreign = station.id
    r = client.patch(
        f"/api/v1/admin/counters/{counter_1}", json={"station_id": foreign}, headers=admin
    )
    assert r.status_code == 422
    with database.transaction() as s:
        assert s.get(Counter, counter_1).station_id == demo.kiosk_station_id


def test_the_database_refuses_a_job_without_its_document(database, demo, now):
    with pytest.raises(IntegrityError), database.transaction() as s:
        s.add(
            PrintJob(
                job_id="x" * 32,
                kind="dossier_slip",
                station_id=demo.counters_station_id,
                created_at=now,
            )
        )
        s.flush()


def test_migration_down_and_up_keeps_ticket_jobs(app, client, database, demo, receive):
    from alembic import command

    from server.migrate import alembic_config, upgrade

    ticket = client.post(
        "/api/v1/tickets",
        json={"service_id": 1, "station_id": demo.kiosk_station_id},
        headers={"Authorization": f"Bearer {demo.kiosk_token}"},
    ).get_json()
    receive()
    database.session.remove()
    config = alembic_config(database.engine)
    command.downgrade(config, "e5bab8754d93")  # before dossier slips: their jobs go
    with database.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT job_id, ticket_id FROM print_jobs").all()
    assert [tuple(r) for r in rows] == [(ticket["print_job_id"], ticket["id"])]
    upgrade(database.engine)
    with database.transaction() as s:
        [job] = s.execute(select(PrintJob)).scalars().all()
        assert (job.kind, job.ticket_id, job.dossier_id) == ("ticket", ticket["id"], None)
        assert s.execute(select(Counter.station_id)).scalars().all() == [None] * 7


def test_an_older_demo_gets_the_slip_printer_once_and_later_edits_survive(database, demo):
    from server.demo import load_demo

    def state(s) -> tuple[bool, list]:
        station = s.get(Station, demo.counters_station_id)
        return station.has_printer, s.execute(
            select(Counter.station_id).order_by(Counter.number)
        ).scalars().all()

    with database.transaction() as s:  # as a demo loaded before slips were printed
        s.get(Station, demo.counters_station_id).has_printer = False
        for counter in s.execute(select(Counter)).scalars():
            counter.station_id = None
            counter.centre.settings = {
                k: v for k, v in counter.centre.settings.items() if "slip_printer" not in k
            }
    with database.transaction() as s:
        load_demo(s)
        assert state(s) == (True, [demo.counters_station_id] * 7)
        s.execute(select(Counter).where(Counter.number == 7)).scalar_one().station_id = None
    with database.transaction() as s:
        load_demo(s)  # `tthcc run` loads the demo every time: the admin's change stays
        assert state(s) == (True, [demo.counters_station_id] * 6 + [None])
