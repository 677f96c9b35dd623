"""Dossiers to their due date: the state machine, codes (format, per-day sequence,
uniqueness under concurrent receipts), the appointment by the working calendar, the
control slip and lateness, overdue/due-soon lists, the apology, and the public lookup."""

from __future__ import annotations

import re
import threading
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from server.domain.actors import Actor
from server.domain.dossiers import (
    DossierAction,
    DossierStatus,
    allowed_actions,
    format_dossier_code,
    next_status,
)
from server.domain.errors import IllegalTransition
from server.models import Procedure, Service, User
from server.services import dossiers as ops
from server.services.dossiers import Handler
from tests.kiosk.test_kiosk_routes import page_config

CODE = re.compile(r"^000\.00\.27\.H04-(\d{6})-(\d{4})$")
S, A = DossierStatus, DossierAction
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


def local(y, m, d, hh=9, mm=0) -> datetime:
    """A Hà Nội wall-clock time as an aware UTC instant."""
    return datetime(y, m, d, hh, mm, tzinfo=HANOI).astimezone(UTC)


@pytest.fixture
def handler(database, demo) -> Handler:
    with database.transaction() as session:
        user = session.execute(select(User).where(User.username == "canbo1")).scalar_one()
        return Handler(Actor("user:canbo1", user.id), user.full_name)


def procedure_id(database, code: str) -> int:
    with database.transaction() as session:
        return session.execute(select(Procedure.id).where(Procedure.code == code)).scalar_one()


def receive(database, handler, code: str, at: datetime, **kw):
    pid = procedure_id(database, code)
    with database.transaction() as session:
        dossier = ops.receive_dossier(
            session,
            procedure_id=pid,
            applicant_name=kw.pop("applicant_name", "Nguyễn Văn An"),
            now=at,
            handler=handler,
            **kw,
        )
        return dossier.id, dossier.code, dossier.due_date


def move(database, handler, dossier_id: int, action: DossierAction, at: datetime, note: str = ""):
    with database.transaction() as session:
        dossier = ops.transition(
            session, dossier_id=dossier_id, action=action, now=at, handler=handler, note=note
        )
        return dossier.status, dossier.result_timing, dossier.late_working_days, dossier.due_date


# --- domain -------------------------------------------------------------------------------


def test_state_machine_allows_exactly_the_documented_moves():
    legal = {
        (S.RECEIVED, A.FORWARD): S.FORWARDED,
        (S.RECEIVED, A.REQUEST_SUPPLEMENT): S.SUPPLEMENT_REQUESTED,
        (S.RECEIVED, A.REFUSE): S.REFUSED,
        (S.FORWARDED, A.RESULT_READY): S.RESULT_READY,
        (S.FORWARDED, A.REQUEST_SUPPLEMENT): S.SUPPLEMENT_REQUESTED,
        (S.FORWARDED, A.REFUSE): S.REFUSED,
        (S.SUPPLEMENT_REQUESTED, A.SUPPLEMENT): S.RECEIVED,
        (S.RESULT_READY, A.RETURN): S.RETURNED,
    }
    for status in S:
        for action in A:
            if (status, action) in legal:
                assert next_status(status, action) is legal[(status, action)]
            else:
                with pytest.raises(IllegalTransition):
                    next_status(status, action)
    assert allowed_actions(S.RETURNED) == [] and allowed_actions(S.REFUSED) == []


def test_code_format():
    assert format_dossier_code("000.00.53.H48", date(2022, 9, 21), 99) == (
        "000.00.53.H48-220921-0099"
    )
    assert format_dossier_code("X", date(2026, 1, 2), 12345) == "X-260102-12345"
    with pytest.raises(ValueError):
        format_dossier_code("X", date(2026, 1, 2), 0)


# --- receiving ----------------------------------------------------------------------------


def test_codes_count_per_centre_day_and_restart_next_day(database, handler):
    first = receive(database, handler, "1.001193", local(2026, 11, 25, 9))
    second = receive(database, handler, "2.000815", local(2026, 11, 25, 23, 50))
    next_day = receive(database, handler, "1.001193", local(2026, 11, 26, 0, 5))
    assert [d[1] for d in (first, second, next_day)] == [
        "000.00.27.H04-261125-0001",
        "000.00.27.H04-261125-0002",
        "000.00.27.H04-261126-0001",
    ]


def test_codes_are_unique_under_concurrent_receipts(database, handler):
    pid = procedure_id(database, "1.012783")
    at = local(2026, 11, 25, 10)
    codes: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(12)

    def worker() -> None:
        try:
            barrier.wait()
            for _ in range(3):
                with database.transaction() as session:
                    d = ops.receive_dossier(
                        session, procedure_id=pid, applicant_name="Lê C", now=at, handler=handler
                    )
                    codes.append(d.code)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert len(codes) == 36 and len(set(codes)) == 36
    numbers = sorted(int(CODE.match(c).group(2)) for c in codes)
    assert numbers == list(range(1, 37))  # no gaps, no duplicates


@pytest.mark.parametrize(
    ("code", "received", "due", "appointment_local"),
    [
        # land certificate, 5 working days, no cut-off
        ("1.012783", local(2026, 11, 25, 9, 15), date(2026, 12, 2), "08:00"),
        # Fri before Tết: 5 working days jump the holiday week
        ("1.012783", local(2026, 2, 13, 10), date(2026, 2, 27), "08:00"),
        # same-day copy certification, before and after the 15:00 cut-off
        ("2.000815", local(2026, 11, 25, 9, 0), date(2026, 11, 25), "16:30"),
        ("2.000815", local(2026, 11, 25, 16, 10), date(2026, 11, 26), "16:30"),
        ("2.000815", local(2026, 11, 25, 14, 50), date(2026, 11, 25), "16:30"),
        # 2 working days from Mon 23/11: Tue 24/11 is off
        ("BN.CT.03", local(2026, 11, 23, 9), date(2026, 11, 26), "08:00"),
    ],
)
def test_appointment_follows_the_working_calendar(
    database, handler, code, received, due, appointment_local
):
    dossier_id, _, got_due = receive(database, handler, code, received)
    assert got_due == due
    with database.transaction() as session:
        dossier = ops.get_dossier(session, dossier_id)
        local_at = dossier.appointment_at.astimezone(HANOI)
        assert local_at.date() == due
        assert local_at.strftime("%H:%M") == appointment_local


def test_api_receives_and_requires_staff(client, demo, staff_token):
    pid = client.get("/api/v1/procedures?q=1.001193").get_json()[0]["id"]
    body = {
        "procedure_id": pid,
        "applicant_name": "Phạm Thị Dung",
        "papers_received": [{"name": "Tờ khai"}],
    }
    assert client.post("/api/v1/dossiers", json=body).status_code == 401
    headers = {"Authorization": f"Bearer {staff_token}"}
    r = client.post("/api/v1/dossiers", json=body, headers=headers)
    assert r.status_code == 201, r.get_json()
    out = r.get_json()
    assert CODE.match(out["code"])
    assert out["status"] == "received" and out["allowed_actions"] == [
        "forward",
        "request_supplement",
        "refuse",
    ]
    assert out["handoffs"][0]["action"] == "receive"
    assert out["slip_lines"][2] == "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ"
    bad = client.post("/api/v1/dossiers", json={**body, "procedure_id": 99999}, headers=headers)
    assert bad.status_code == 404
    blank = client.post("/api/v1/dossiers", json={**body, "applicant_name": " "}, headers=headers)
    assert blank.status_code == 422


def test_a_dossier_names_only_a_ticket_of_its_own_centre(client, database, demo, staff_token):
    """Found in review: POST /dossiers took any ticket id, so staff of one centre could link
    (and clear the ID-card pre-fill of) another centre's citizen."""
    from server.services.issuing import issue_ticket
    from tests.server.factories import create_centre, create_service

    with database.transaction() as session:
        other = create_centre(session, name="Trung tâm khác")
        theirs = issue_ticket(
            session, service_id=create_service(session, other).id, now=datetime.now(UTC)
        ).ticket.id
        centre_id = session.execute(
            select(User.centre_id).where(User.username == "canbo1")
        ).scalar_one()
        service_id = (
            session.execute(select(Service.id).where(Service.centre_id == centre_id))
            .scalars()
            .first()
        )
        ours = issue_ticket(session, service_id=service_id, now=datetime.now(UTC)).ticket.id
    pid = client.get("/api/v1/procedures?q=1.001193").get_json()[0]["id"]
    body = {"procedure_id": pid, "applicant_name": "Phạm Thị Dung"}
    headers = {"Authorization": f"Bearer {staff_token}"}
    refused = client.post("/api/v1/dossiers", json={**body, "ticket_id": theirs}, headers=headers)
    assert refused.status_code == 422, refused.get_json()
    assert "không thuộc trung tâm này" in refused.get_json()["message"]
    missing = client.post("/api/v1/dossiers", json={**body, "ticket_id": 10**6}, headers=headers)
    assert missing.status_code == 422
    accepted = client.post("/api/v1/dossiers", json={**body, "ticket_id": ours}, headers=headers)
    assert accepted.status_code == 201, accepted.get_json()


# --- hand-offs, lateness ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ready_at", "timing", "late_days"),
    [
        (local(2026, 11, 25, 14), "early", 0),  # due Thu 26/11
        (local(2026, 11, 26, 16), "on_time", 0),
        (local(2026, 11, 27, 9), "late", 1),
        (local(2026, 11, 28, 9), "late", 1),  # a Saturday: late, 1 working day (Fri)
        (local(2026, 11, 30, 9), "late", 2),
    ],
)
def test_lateness_is_classified_when_the_result_is_ready(
    database, handler, ready_at, timing, late_days
):
    # BN.CT.03: 2 working days; received Mon 23/11 → Wed 25, Thu 26 (Tue 24 is off).
    dossier_id, _, due = receive(database, handler, "BN.CT.03", local(2026, 11, 23, 9))
    assert due == date(2026, 11, 26)
    move(database, handler, dossier_id, A.FORWARD, local(2026, 11, 23, 10))
    status, got_timing, got_late, _ = move(database, handler, dossier_id, A.RESULT_READY, ready_at)
    assert (status, got_timing, got_late) == ("result_ready", timing, late_days)


def test_control_slip_records_every_hand_off(client, database, handler, demo, staff_token):
    dossier_id, _, _ = receive(database, handler, "BN.CT.03", local(2026, 11, 23, 9))
    move(database, handler, dossier_id, A.FORWARD, local(2026, 11, 23, 10))
    move(database, handler, dossier_id, A.RESULT_READY, local(2026, 11, 27, 9))
    move(database, handler, dossier_id, A.RETURN, local(2026, 11, 27, 14))
    headers = {"Authorization": f"Bearer {staff_token}"}
    view = client.get(f"/api/v1/dossiers/{dossier_id}", headers=headers).get_json()
    rows = [(h["action"], h["giver"], h["receiver"], h["timing"]) for h in view["handoffs"]]
    reception = "Nguyễn Thị Hương (Bộ phận tiếp nhận và trả kết quả)"
    assert rows == [
        ("receive", "Nguyễn Văn An", reception, "early"),
        ("forward", reception, "UBND phường Kinh Bắc", "early"),
        ("result_ready", "UBND phường Kinh Bắc", reception, "late"),
        ("return", reception, "Nguyễn Văn An", "late"),
    ]
    assert view["status"] == "returned" and view["result_timing"] == "late"
    assert view["result_timing_label"] == "Quá hạn" and view["late_working_days"] == 1


def test_supplement_restarts_the_time_and_needs_a_reason(
    client, database, handler, demo, staff_token
):
    dossier_id, _, due = receive(database, handler, "1.012783", local(2026, 11, 25, 9))
    headers = {"Authorization": f"Bearer {staff_token}"}
    url = f"/api/v1/dossiers/{dossier_id}/transition"
    r = client.post(url, json={"action": "request_supplement"}, headers=headers)
    assert r.status_code == 422
    r = client.post(
        url, json={"action": "request_supplement", "note": "Thiếu bản vẽ"}, headers=headers
    )
    assert r.status_code == 200 and r.get_json()["status"] == "supplement_requested"
    looked = client.get("/api/v1/dossiers/lookup", query_string={"code": r.get_json()["code"]})
    assert looked.get_json()["status_reason"] == "Thiếu bản vẽ"
    assert client.post(url, json={"action": "return"}, headers=headers).status_code == 409
    status, _, _, new_due = move(database, handler, dossier_id, A.SUPPLEMENT, local(2026, 12, 7, 9))
    assert status == "received" and new_due == date(2026, 12, 14) and new_due != due


# --- lists, apology ----------------------------------------------------------------------


def test_overdue_and_due_soon(database, handler, client, staff_token):
    late_id, _, _ = receive(database, handler, "1.012783", local(2026, 10, 1, 9))
    done_id, _, _ = receive(database, handler, "1.012783", local(2026, 10, 1, 9))
    move(database, handler, done_id, A.FORWARD, local(2026, 10, 1, 10))
    move(database, handler, done_id, A.RESULT_READY, local(2026, 10, 2, 10))
    soon_id, _, _soon_due = receive(database, handler, "BN.CT.03", local(2026, 11, 23, 9))
    with database.transaction() as session:
        overdue = ops.overdue_dossiers(session, 1, date(2026, 11, 24))
        assert [d.id for d in overdue] == [late_id]
        due_soon = ops.due_soon_dossiers(session, 1, date(2026, 11, 25), 1)
        assert [d.id for d in due_soon] == [soon_id]  # due Thu 26/11, the next working day
        assert ops.due_soon_dossiers(session, 1, date(2026, 11, 25), 0) == []
    headers = {"Authorization": f"Bearer {staff_token}"}
    api_overdue = client.get("/api/v1/dossiers/overdue", headers=headers).get_json()
    assert late_id in [d["id"] for d in api_overdue] and done_id not in [
        d["id"] for d in api_overdue
    ]
    assert all(d["overdue"] for d in api_overdue)


def test_apology_letter_with_reason_and_new_date(client, database, handler, demo, staff_token):
    dossier_id, code, _due = receive(database, handler, "1.012783", local(2026, 11, 25, 9, 15))
    headers = {"Authorization": f"Bearer {staff_token}"}
    url = f"/api/v1/dossiers/{dossier_id}/apology"
    assert (
        client.post(
            url, json={"reason": "x", "new_due_date": "2026-12-01"}, headers=headers
        ).status_code
        == 422
    )
    sunday = client.post(url, json={"reason": "x", "new_due_date": "2026-12-06"}, headers=headers)
    assert sunday.status_code == 422 and "working day" in sunday.get_json()["message_en"]
    assert (
        client.get(f"/api/v1/dossiers/{dossier_id}/apology.txt", headers=headers).status_code == 404
    )
    r = client.post(
        url,
        json={
            "reason": "Cần xác minh thêm với Văn phòng đăng ký đất đai",
            "new_due_date": "2026-12-09",
        },
        headers=headers,
    )
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["new_due_date"] == "2026-12-09"
    lines = (
        client.get(f"/api/v1/dossiers/{dossier_id}/apology.txt", headers=headers)
        .get_data(as_text=True)
        .splitlines()
    )
    assert lines[2] == "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ"
    assert "Kính gửi: Ông/Bà Nguyễn Văn An" in lines
    assert f"Mã hồ sơ: {code}" in lines
    assert "Thời gian hẹn trả kết quả: 08 giờ 00 phút, ngày 02 tháng 12 năm 2026" in lines
    assert any("Lý do: Cần xác minh thêm với Văn phòng đăng ký đất đai" in line for line in lines)
    assert "08 giờ 00 phút, ngày 09 tháng 12 năm 2026" in lines
    pdf = client.get(f"/api/v1/dossiers/{dossier_id}/apology.pdf", headers=headers)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    looked = client.get("/api/v1/dossiers/lookup", query_string={"code": code}).get_json()
    assert looked["new_due_date"] == "2026-12-09"


# --- lookup -------------------------------------------------------------------------------


def test_public_lookup_hides_personal_data_and_offers_the_result_ticket(
    client, database, handler, demo
):
    dossier_id, code, _ = receive(
        database, handler, "1.001193", local(2026, 11, 25, 9), applicant_phone="0912345678"
    )
    for typed in (code, code.lower(), f"  {code} ", f"http://tthcc.local/ho-so/{code}", code[-11:]):
        r = client.get(
            "/api/v1/dossiers/lookup", query_string={"code": typed, "phone_last4": "5678"}
        )
        assert r.status_code == 200, typed
    body = r.get_json()
    assert body["applicant"] == "Nguyễn V. A."
    assert "applicant_phone" not in body and "applicant_name" not in body and "handoffs" not in body
    assert body["status"] == "received" and body["result_service_id"] is None
    move(database, handler, dossier_id, A.FORWARD, local(2026, 11, 25, 10))
    move(database, handler, dossier_id, A.RESULT_READY, local(2026, 11, 25, 14))
    ready = client.get("/api/v1/dossiers/lookup", query_string={"code": code}).get_json()
    assert (
        ready["status"] == "result_ready" and ready["result_service_name"] == "Nhận kết quả hồ sơ"
    )
    ticket = client.post("/api/v1/tickets", json={"service_id": ready["result_service_id"]})
    assert ticket.status_code == 201 and ticket.get_json()["service_name"] == "Nhận kết quả hồ sơ"
    missing = client.get(
        "/api/v1/dossiers/lookup", query_string={"code": "000.00.27.H04-261125-9999"}
    )
    assert missing.status_code == 404 and "Không tìm thấy hồ sơ" in missing.get_json()["message"]


def test_kiosk_lookup_page_renders(client, demo):
    from tests.server.factories import provision_kiosk

    html = client.get("/kiosk/ho-so?centre=1&station=2").get_data(as_text=True)
    assert "Tra cứu hồ sơ" in html and 'id="code"' in html
    assert page_config(html)["station_id"] is None  # not from the URL
    html = provision_kiosk(client).get("/kiosk/ho-so?station=2").get_data(as_text=True)
    assert page_config(html)["station_id"] == demo.kiosk_station_id  # its credential's
