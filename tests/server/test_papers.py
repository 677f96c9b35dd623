"""Know what to bring: the kiosk's catalogue says which services have procedures; a
procedure's papers list prints on the kiosk's ticket printer as a print job of kind
`papers` (python-escpos on the station, laid out like a slip), acknowledged like a ticket."""

from __future__ import annotations

import pytest
from escpos.printer import Dummy
from flask_socketio import SocketIOTestClient
from sqlalchemy import select

from devices.agent.printer import job_document
from devices.printing.decode import decode_blocks
from devices.printing.layout import TextLine
from server.models import PrintJob, Procedure, Station
from tests.server.factories import provision_kiosk


def sio(app, namespace, **kw) -> SocketIOTestClient:
    return app.extensions["socketio"].test_client(app, namespace=namespace, **kw)


def _procedure(database, code: str) -> Procedure:
    with database.transaction() as s:
        procedure = s.execute(select(Procedure).where(Procedure.code == code)).scalar_one()
        s.expunge(procedure)
        return procedure


def test_the_catalogue_counts_the_procedures_of_each_service(client, demo):
    catalog = client.get(f"/api/v1/catalog?centre_id={demo.centre_id}").get_json()
    services = {s["name"]: s for f in catalog["fields"] for s in f["services"]}
    assert services["Khai sinh, kết hôn, khai tử"]["procedures"] == 3
    assert all(isinstance(s["procedures"], int) for s in services.values())


def test_a_papers_list_prints_on_the_kiosk_printer_and_its_answer_reaches_the_kiosk(
    app, client, demo, database
):
    procedure = _procedure(database, "1.001193")  # Đăng ký khai sinh
    agent = sio(app, "/station", auth={"token": demo.kiosk_token})
    agent.get_received("/station")
    kiosk_page = sio(app, "/hall", flask_test_client=provision_kiosk(client))
    kiosk_page.emit(
        "subscribe",
        {"centre_id": demo.centre_id, "station_id": demo.kiosk_station_id},
        namespace="/hall",
    )
    kiosk_page.get_received("/hall")

    r = provision_kiosk(client).post(
        f"/api/v1/procedures/{procedure.id}/print", json={"station_id": demo.kiosk_station_id}
    )
    assert r.status_code == 202, r.get_json()
    out = r.get_json()
    assert out["print_status"] == "pending" and out["public_url"] is None  # loopback only

    [job] = [m["args"][0] for m in agent.get_received("/station") if m["name"] == "print.job"]
    assert (job["kind"], job["job_id"]) == ("papers", out["print_job_id"])
    papers = job["papers"]
    assert papers["title"] == "GIẤY TỜ CẦN MANG THEO"
    assert papers["lines"][:2] == [procedure.name, "Mã thủ tục: 1.001193"]
    first = procedure.papers[0]
    assert any(line.startswith(f"1. {first['name']}") for line in papers["lines"])
    assert "Lấy số: Khai sinh, kết hôn, khai tử" in papers["lines"]
    assert papers["qr_data"] is None

    # What the station's agent does with it: python-escpos bytes, CP1258 text.
    document = job_document(job)
    printer = Dummy()
    document.draw(printer, "text")
    printed = " ".join(b.text for b in decode_blocks(printer.output) if isinstance(b, TextLine))
    assert "GIẤY TỜ CẦN MANG THEO" in printed and first["name"] in printed

    ack = agent.emit(
        "print.ack",
        {"job_id": job["job_id"], "status": "printed", "reason": None},
        namespace="/station",
        callback=True,
    )
    assert ack == {"ok": True}
    [status] = [
        m["args"][0] for m in kiosk_page.get_received("/hall") if m["name"] == "print.status"
    ]
    assert status == {
        "kind": "papers",
        "ticket_id": None,
        "dossier_id": None,
        "procedure_id": procedure.id,
        "job_id": job["job_id"],
        "status": "printed",
        "reason": "",
    }
    with database.transaction() as s:
        stored = s.execute(select(PrintJob)).scalar_one()
        assert (stored.kind, stored.procedure_id, stored.status) == (
            "papers",
            procedure.id,
            "printed",
        )
    agent.disconnect(namespace="/station")
    kiosk_page.disconnect(namespace="/hall")


@pytest.mark.parametrize(
    "station, status, error",
    [
        # The kiosk's credential names only its own printer (not a counter's slip printer).
        ("counters", 403, "forbidden"),
        ("no_printer", 409, "no_kiosk_printer"),
        ("missing", 403, "forbidden"),
    ],
)
def test_papers_print_only_on_a_kiosk_with_a_printer(
    client, demo, database, station, status, error
):
    procedure = _procedure(database, "1.001193")
    station_id = {"counters": demo.counters_station_id, "missing": 9999}.get(station)
    if station == "no_printer":
        with database.transaction() as s:
            kiosk = s.get(Station, demo.kiosk_station_id)
            kiosk.has_printer = False
        station_id = demo.kiosk_station_id
    r = client.post(
        f"/api/v1/procedures/{procedure.id}/print",
        json={"station_id": station_id},
        headers={"Authorization": f"Bearer {demo.kiosk_token}"},
    )
    assert r.status_code == status
    assert r.get_json()["error"] == error
    assert r.get_json()["message"]
    with database.transaction() as s:
        assert s.execute(select(PrintJob)).first() is None


def test_an_unknown_procedure_is_404_and_a_station_prints_only_on_its_own(client, demo, database):
    kiosk = {"Authorization": f"Bearer {demo.kiosk_token}"}
    r = client.post(
        "/api/v1/procedures/99999/print", json={"station_id": demo.kiosk_station_id}, headers=kiosk
    )
    assert r.status_code == 404
    # Without a kiosk's credential nothing prints anywhere (test_station_least_privilege.py).
    r = client.post("/api/v1/procedures/99999/print", json={"station_id": demo.kiosk_station_id})
    assert r.status_code == 403 and "not provisioned" in r.get_json()["message_en"]
    procedure = _procedure(database, "1.001193")
    r = client.post(
        f"/api/v1/procedures/{procedure.id}/print",
        json={"station_id": demo.counters_station_id},
        headers={"Authorization": f"Bearer {demo.kiosk_token}"},
    )
    assert r.status_code == 403


def test_migration_down_and_up_drops_papers_jobs_and_keeps_tickets(app, client, demo, database):
    from alembic import command

    from server.migrate import alembic_config, upgrade

    procedure = _procedure(database, "1.001193")
    body = {"station_id": demo.kiosk_station_id}
    kiosk = provision_kiosk(client)
    assert kiosk.post(f"/api/v1/procedures/{procedure.id}/print", json=body).status_code == 202
    ticket = kiosk.post("/api/v1/tickets", json={"service_id": 1, **body}).get_json()
    database.session.remove()
    command.downgrade(alembic_config(database.engine), "7a2c9e41d0b3")
    upgrade(database.engine)
    with database.transaction() as s:
        [job] = s.execute(select(PrintJob)).scalars().all()
        assert (job.kind, job.ticket_id) == ("ticket", ticket["id"])


def test_with_an_address_phones_reach_the_list_carries_a_qr_of_the_procedure_page(
    app, client, demo, database, monkeypatch
):
    import json
    import re

    procedure = _procedure(database, "1.001193")
    assert client.get(f"/kiosk/qr/thu-tuc/{procedure.id}.png").status_code == 404
    monkeypatch.setattr(app.config["TTHCC"], "public_url", "http://192.0.2.10:8000")
    page = client.get(f"/kiosk/thu-tuc?centre={demo.centre_id}&station=1&service=1")
    config = json.loads(
        re.search(r'id="kiosk-config" type="application/json">(.*?)</script>', page.text).group(1)
    )
    assert config["service_id"] == 1
    assert config["procedure_qr_url"] == "/kiosk/qr/thu-tuc/ID.png"
    png = client.get(f"/kiosk/qr/thu-tuc/{procedure.id}.png")
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
    r = provision_kiosk(client).post(
        f"/api/v1/procedures/{procedure.id}/print", json={"station_id": demo.kiosk_station_id}
    )
    url = f"http://192.0.2.10:8000/thu-tuc/{procedure.id}"
    assert r.get_json()["public_url"] == url
    with database.transaction() as s:
        payload = s.execute(select(PrintJob.payload)).scalar_one()
    assert payload["qr_data"] == url
    assert payload["footer"][0] == "Quét mã QR để xem trên điện thoại"
