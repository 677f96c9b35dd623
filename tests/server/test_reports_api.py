"""The report API and its exports, read back with csv and openpyxl."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from server.services.auth import create_user
from tests.server.test_reports_scenario import build_day


@pytest.fixture
def day(database):
    with database.transaction() as session:
        scenario = build_day(session)
        create_user(
            session,
            username="giamdoc",
            password="giam-doc-1",
            role="supervisor",
            centre_id=scenario.centre_id,
        )
        return scenario


@pytest.fixture
def auth(client, day):
    r = client.post("/api/v1/auth/token", json={"username": "giamdoc", "password": "giam-doc-1"})
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


def test_report_json(client, day, auth):
    r = client.get("/api/v1/reports?period=day&date=2026-11-25&by=service", headers=auth)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["period"]["label"] == "Ngày 25/11/2026"
    assert body["total"]["issued"] == 4
    assert {row["label"]: row["served"] for row in body["rows"]} == {"Dịch vụ A": 3, "Dịch vụ B": 0}


def test_a_supervisor_reads_only_their_centre(client, day, auth, demo):
    r = client.get(f"/api/v1/reports?centre_id={demo.centre_id}", headers=auth)
    assert r.status_code == 403


def test_invalid_period_arguments_are_422(client, day, auth):
    assert client.get("/api/v1/reports?period=fortnight", headers=auth).status_code == 422
    r = client.get("/api/v1/reports?period=range&date=2026-02-01&to=2026-01-01", headers=auth)
    assert r.status_code == 422


def test_csv_export_reads_back_with_vietnamese_headers(client, day, auth):
    r = client.get(
        "/api/v1/reports/export?format=csv&period=day&date=2026-11-25&by=service", headers=auth
    )
    assert r.status_code == 200
    assert r.mimetype == "text/csv"
    assert "bao-cao-service-2026-11-25_2026-11-25.csv" in r.headers["Content-Disposition"]
    text = r.data.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][0].startswith("Báo cáo – Ngày 25/11/2026")
    header = rows[1]
    assert header[:8] == [
        "Dịch vụ",
        "Số phiếu cấp",
        "Đã phục vụ",
        "Hẹn bổ sung hồ sơ",
        "Hướng dẫn sang nơi khác",
        "Công dân đã về",
        "Vắng mặt",
        "Chuyển dịch vụ",
    ]
    by_name = {row[0]: dict(zip(header, row, strict=True)) for row in rows[2:]}
    assert by_name["Dịch vụ A"]["Đã phục vụ"] == "3"
    assert by_name["Dịch vụ A"]["Thời gian chờ trung vị (phút)"] == "5.5"  # 330 s
    assert by_name["Tổng cộng"]["Thời gian chờ P90 (phút)"] == "6.9"  # 414 s
    assert by_name["Tổng cộng"]["Chỉ số hài lòng (%)"] == "66.7"


def test_xlsx_export_reads_back(client, day, auth):
    r = client.get(
        "/api/v1/reports/export?format=xlsx&period=day&date=2026-11-25&by=staff", headers=auth
    )
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.data))
    assert wb.sheetnames == ["Báo cáo", "Giờ cao điểm"]
    ws = wb["Báo cáo"]
    header = [c.value for c in ws[2]]
    assert header[0] == "Cán bộ"
    rows = {
        r[0]: dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=3, values_only=True)
    }
    huong = rows["Nguyễn Thị Hương"]
    assert huong["Đã phục vụ"] == 3
    assert huong["Số phiếu cấp"] is None  # issue is not attributed to staff
    assert huong["Thời gian phục vụ trung vị (phút)"] == 4.0
    assert huong["Rất hài lòng"] == 1 and huong["Không hài lòng"] == 1
    assert rows["Tổng cộng"]["Số phiếu cấp"] == 4
    heat = wb["Giờ cao điểm"]
    assert heat["A4"].value == "Thứ Tư"
    assert heat.cell(row=4, column=2 + 9).value == 4  # Wednesday 09h


def test_scorecards_json_and_xlsx(client, day, auth):
    r = client.get("/api/v1/scorecards?period=day&date=2026-11-25", headers=auth)
    assert r.status_code == 200
    cards = {c["label"]: c for c in r.get_json()["cards"]}
    assert cards["Nguyễn Thị Hương"]["pauses"][0]["reason"] == "Họp giao ban"
    assert len(r.get_json()["low_ratings"]) == 1
    r = client.get(
        "/api/v1/reports/export?format=xlsx&kind=scorecards&period=day&date=2026-11-25",
        headers=auth,
    )
    wb = load_workbook(io.BytesIO(r.data))
    assert "Đánh giá thấp" in wb.sheetnames
    ws = wb["Báo cáo"]
    header = [c.value for c in ws[2]]
    assert "Thời gian làm việc tại quầy (giờ)" in header
    rows = {
        r[0]: dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=3, values_only=True)
    }
    assert rows["Nguyễn Thị Hương"]["Thời gian làm việc tại quầy (giờ)"] == pytest.approx(1.08)
    assert "Họp giao ban: 1 lần, 15.0 phút" in rows["Nguyễn Thị Hương"]["Tạm dừng theo lý do"]
