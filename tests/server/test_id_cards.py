"""ID-card check-in through the real app (SQLite and PostgreSQL): a kiosk's scan, the
ticket linked to it with the name printed only when chosen, the counter's pre-filled
dossier receipt, and the purge; the raw ID number is never stored nor logged."""

from __future__ import annotations

import logging
from datetime import timedelta

from escpos.printer import Dummy
from sqlalchemy import select, update

from devices.printing.layout import draw_ticket
from devices.printing.ticket import TicketPrint
from devices.printing.vietnamese import to_cp1258
from devices.scanner.sim import id_card_text
from server.domain.lifecycle import Resolution
from server.models import Base, CitizenScan, Counter, PrintJob
from server.services import id_cards
from server.services import lifecycle as ops
from tests.server.factories import provision_kiosk

NUMBER = "001089012345"
CARD = id_card_text(number=NUMBER, name="Nguyễn Thị Minh Khai")
OTHER = id_card_text(number="036195004321", name="Trần Văn Bình", birth="12031995")


def _kiosk(app):
    return provision_kiosk(app.test_client())


def _printed(job_payload: dict) -> bytes:
    printer = Dummy()
    draw_ticket(printer, TicketPrint.from_payload(job_payload), "text")
    return printer.output


def _every_stored_value(database) -> str:
    """Every value of every row of every table, as one text (what a leaked copy holds)."""
    with database.transaction() as session:
        return "\n".join(
            repr(tuple(row))
            for table in Base.metadata.sorted_tables
            for row in session.execute(table.select())
        )


def test_a_scanned_card_links_the_ticket_prints_the_name_only_when_chosen_and_keeps_no_id_number(
    app, client, demo, database, clock, caplog, backend
):
    caplog.set_level(logging.DEBUG)
    if backend == "sqlite":  # a hall box linked to a hub captures what it will send
        from server.sync.capture import enable

        with database.transaction() as s:
            enable(s, "box-1", "BN-KINHBAC")
    kiosk = _kiosk(app)
    station = demo.kiosk_station_id
    assert client.post("/api/v1/scans", json={"text": CARD}).status_code == 403  # no kiosk

    scanned = kiosk.post("/api/v1/scans", json={"text": CARD}).get_json()
    assert scanned["kind"] == "id_card"
    assert (scanned["full_name"], scanned["masked_number"]) == (
        "Nguyễn Thị Minh Khai",
        "•••••••••345",
    )
    body = {"service_id": 1, "station_id": station, "id_scan": scanned["token"]}
    named = kiosk.post("/api/v1/tickets", json={**body, "print_name": True})
    assert named.status_code == 201, named.get_json()
    assert named.get_json()["citizen_linked"] and named.get_json()["citizen_name_printed"]
    # The same token again: already used, the ticket is issued without a link.
    again = kiosk.post("/api/v1/tickets", json={**body, "print_name": True}).get_json()
    assert again["citizen_linked"] is False

    other = kiosk.post("/api/v1/scans", json={"text": OTHER}).get_json()
    unnamed = kiosk.post(
        "/api/v1/tickets", json={**body, "id_scan": other["token"], "print_name": False}
    ).get_json()
    assert unnamed["citizen_linked"] and not unnamed["citizen_name_printed"]

    with database.transaction() as s:
        jobs = {j.ticket_id: j.payload for j in s.execute(select(PrintJob)).scalars()}
    with_name = _printed(jobs[named.get_json()["id"]])
    without = _printed(jobs[unnamed["id"]])
    assert to_cp1258("Công dân: Nguyễn Thị Minh Khai") in with_name
    assert to_cp1258("Công dân") not in without and to_cp1258("Trần Văn Bình") not in without
    assert "citizen_name" not in jobs[unnamed["id"]] and "citizen_name" not in jobs[again["id"]]

    from server.sync.push import read_batch

    with database.transaction() as s:  # what the hall box sends to the province hub
        batch = repr(read_batch(s, 0, 1000))
    assert "Minh Khai" not in batch and NUMBER not in batch
    assert "print_jobs" in batch or backend != "sqlite"

    stored = _every_stored_value(database)
    assert NUMBER not in stored and "036195004321" not in stored
    assert id_cards.id_number_digest(NUMBER, app.config["SECRET_KEY"]) in stored
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert NUMBER not in logged and "Minh Khai" not in logged


def test_codes_garbage_and_declining(app, demo, database, clock):
    kiosk = _kiosk(app)
    assert kiosk.post("/api/v1/scans", json={"text": "123456"}).get_json() == {
        "kind": "check_in",
        "code": "123456",
    }
    garbage = kiosk.post("/api/v1/scans", json={"text": "8935049500012"}).get_json()
    assert garbage["kind"] == "unrecognised" and garbage["message"].startswith("Không đọc được")
    token = kiosk.post("/api/v1/scans", json={"text": CARD}).get_json()["token"]
    assert kiosk.post(f"/api/v1/scans/{token}/decline").get_json()["deleted"] is True
    with database.transaction() as s:
        assert s.execute(select(CitizenScan)).first() is None  # nothing kept at all


def test_the_counter_prefills_the_receipt_until_the_dossier_is_received_or_the_day_ends(
    app, client, demo, database, clock, staff_token, backend
):
    kiosk = _kiosk(app)
    staff = {"Authorization": f"Bearer {staff_token}"}
    for card in (CARD, OTHER):
        token = kiosk.post("/api/v1/scans", json={"text": card}).get_json()["token"]
        ticket = kiosk.post(
            "/api/v1/tickets",
            json={
                "service_id": 1,
                "station_id": demo.kiosk_station_id,
                "id_scan": token,
                "print_name": True,
            },
        ).get_json()
        assert ticket.get("status") == "waiting", ticket
    pending = kiosk.post("/api/v1/scans", json={"text": CARD}).get_json()["token"]  # not used

    assert client.get("/api/v1/counters/1/citizen").status_code == 401
    with database.transaction() as s:  # counter 1 calls the first of them
        s.execute(update(Counter).where(Counter.id == 1).values(status="open"))
    with database.transaction() as s:
        ops.call_next(s, counter_id=1, now=clock.moment, resolve=Resolution.SERVED)
    served = client.get("/api/v1/counters/1/citizen", headers=staff).get_json()
    assert served["citizen"] == {
        "ticket_id": served["ticket_id"],
        "full_name": "Nguyễn Thị Minh Khai",
        "birth_date": "1989-07-05",
        "birth_year": 1989,
        "address": "Số 12 ngõ 34 phố Kim Mã, Phường Ngọc Hà, Thành phố Hà Nội",
    }
    pid = client.get("/api/v1/procedures?q=1.001193").get_json()[0]["id"]
    dossier = client.post(
        "/api/v1/dossiers",
        headers=staff,
        json={
            "procedure_id": pid,
            "applicant_name": served["citizen"]["full_name"],
            "applicant_birth_date": served["citizen"]["birth_date"],
            "applicant_address": served["citizen"]["address"],
            "ticket_id": served["ticket_id"],
            "counter_id": 1,
        },
    )
    assert dossier.status_code == 201, dossier.get_json()
    assert "Ngày sinh: 05/07/1989" in dossier.get_json()["slip_lines"]
    assert client.get("/api/v1/counters/1/citizen", headers=staff).get_json()["citizen"] is None

    # The day ends: the second citizen's data goes, the pending scan is deleted, and the
    # name leaves the print job; the hash and the link stay.
    with database.transaction() as s:
        assert id_cards.purge(s, clock.moment + timedelta(minutes=11)) == {
            "deleted": 1,
            "cleared": 0,
        }
        assert id_cards.purge(s, clock.moment + timedelta(hours=15, minutes=1)) == {
            "deleted": 0,
            "cleared": 1,
        }
        rows = s.execute(select(CitizenScan).order_by(CitizenScan.id)).scalars().all()
        assert [r.full_name for r in rows] == [None, None]
        assert all(len(r.id_hash) == 64 and r.ticket_id for r in rows)
        job = s.execute(select(PrintJob).where(PrintJob.ticket_id == ticket["id"])).scalar_one()
        assert "citizen_name" not in job.payload
    assert "Trần Văn Bình" not in _every_stored_value(database)
    assert pending
