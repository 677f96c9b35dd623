"""The receipt and appointment slip: exact wording, the A5 PDF (opened with pypdf, the
Vietnamese text extractable), the thermal print payload drawn by devices.printing.slip,
and its PNG preview."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from server.domain.actors import Actor
from server.models import Procedure, User
from server.services import dossier_documents as documents
from server.services import dossiers as ops
from server.services.dossiers import Handler

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
LAND = "Cấp đổi Giấy chứng nhận quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất"

EXPECTED_SLIP = [
    "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG",
    "PHƯỜNG KINH BẮC",
    "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
    "Mã hồ sơ: 000.00.27.H04-261125-0001",
    "Tiếp nhận hồ sơ của: Nguyễn Văn An",
    "Số điện thoại: 0912 345 678",
    f"Nội dung yêu cầu giải quyết: {LAND}",
    f"Thủ tục: 1.012783 – {LAND}",
    "Thành phần hồ sơ đã nhận:",
    "1. Đơn đăng ký biến động đất đai, tài sản gắn liền với đất (Mẫu 11/ĐK): 01 bản chính",
    "2. Bản gốc Giấy chứng nhận đã cấp: 01 bản chính, 01 bản sao",
    "Thời gian giải quyết theo quy định: 05 ngày làm việc",
    "Thời gian nhận hồ sơ: 09 giờ 15 phút, ngày 25 tháng 11 năm 2026",
    "Thời gian hẹn trả kết quả: 08 giờ 00 phút, ngày 02 tháng 12 năm 2026",
    "Nơi nhận kết quả: Quầy 7 – Trả kết quả, Trung tâm Phục vụ hành chính công phường Kinh Bắc",
    "Người tiếp nhận: Nguyễn Thị Hương",
    "Tra cứu tình trạng hồ sơ: quét mã QR tại kiosk hoặc nhập mã hồ sơ.",
    "Quý khách vui lòng mang theo giấy hẹn khi đến nhận kết quả.",
]


@pytest.fixture
def dossier_id(database, demo) -> int:
    with database.transaction() as session:
        user = session.execute(select(User).where(User.username == "canbo1")).scalar_one()
        pid = session.execute(select(Procedure.id).where(Procedure.code == "1.012783")).scalar_one()
        dossier = ops.receive_dossier(
            session,
            procedure_id=pid,
            applicant_name="Nguyễn Văn An",
            applicant_phone="0912 345 678",
            papers_received=[
                {
                    "name": "Đơn đăng ký biến động đất đai, tài sản gắn liền với đất (Mẫu 11/ĐK)",
                    "originals": 1,
                },
                {"name": "Bản gốc Giấy chứng nhận đã cấp", "originals": 1, "copies": 1},
            ],
            now=datetime(2026, 11, 25, 9, 15, tzinfo=HANOI).astimezone(UTC),
            handler=Handler(Actor("user:canbo1", user.id), user.full_name),
        )
        return dossier.id


@pytest.fixture
def headers(staff_token) -> dict:
    return {"Authorization": f"Bearer {staff_token}"}


def test_viet_datetime_is_the_forms_wording():
    moment = datetime(2026, 1, 5, 7, 3, tzinfo=HANOI)
    assert documents.viet_datetime(moment) == "07 giờ 03 phút, ngày 05 tháng 01 năm 2026"


def test_slip_text_lines_are_exact(client, dossier_id, headers):
    r = client.get(f"/api/v1/dossiers/{dossier_id}/slip.txt", headers=headers)
    assert r.status_code == 200 and r.mimetype == "text/plain"
    assert r.get_data(as_text=True).splitlines() == EXPECTED_SLIP
    assert client.get(f"/api/v1/dossiers/{dossier_id}/slip", headers=headers).get_json()[
        "lines"
    ] == (EXPECTED_SLIP)


def test_slip_without_phone_or_papers(database, demo):
    with database.transaction() as session:
        pid = session.execute(select(Procedure.id).where(Procedure.code == "2.000884")).scalar_one()
        dossier = ops.receive_dossier(
            session,
            procedure_id=pid,
            applicant_name="Lê Thị C",
            now=datetime(2026, 11, 25, 10, 0, tzinfo=HANOI).astimezone(UTC),
            handler=Handler(Actor("system"), "Cán bộ A"),
        )
        lines = documents.receipt_slip(dossier).text_lines()
    assert not any(line.startswith("Số điện thoại") for line in lines)
    assert "(không có)" in lines
    assert "Thời gian giải quyết theo quy định: Trong ngày làm việc" in lines
    assert "Thời gian hẹn trả kết quả: 16 giờ 30 phút, ngày 25 tháng 11 năm 2026" in lines


def test_slip_pdf_is_an_a5_pdf_with_extractable_vietnamese(client, dossier_id, headers):
    from pypdf import PdfReader

    r = client.get(f"/api/v1/dossiers/{dossier_id}/slip.pdf", headers=headers)
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(r.data))
    page = reader.pages[0]
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    assert (round(width), round(height)) == (420, 595)  # A5 in points
    text = " ".join(p.extract_text() for p in reader.pages)
    for fragment in (
        "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
        "000.00.27.H04-261125-0001",
        "Nguyễn Văn An",
        "08 giờ 00 phút, ngày 02 tháng 12 năm 2026",
        "Quầy 7",
    ):
        assert fragment in text


def test_slip_needs_staff(client, dossier_id):
    assert client.get(f"/api/v1/dossiers/{dossier_id}/slip.pdf").status_code == 401


def test_thermal_payload_draws_with_the_ticket_layouts(client, dossier_id, headers):
    from escpos.printer import Dummy

    from devices.printing.layout import QrCode, TextLine
    from devices.printing.slip import SlipPayloadError, SlipPrint, draw_slip, slip_blocks
    from devices.printing.vietnamese import to_cp1258

    payload = client.get(f"/api/v1/dossiers/{dossier_id}/slip", headers=headers).get_json()["print"]
    slip = SlipPrint.from_payload(payload)
    blocks = slip_blocks(slip)
    assert [b.data for b in blocks if isinstance(b, QrCode)] == ["000.00.27.H04-261125-0001"]
    texts = [b.text for b in blocks if isinstance(b, TextLine)]
    assert texts[:3] == EXPECTED_SLIP[:3] and EXPECTED_SLIP[12] in texts
    printer = Dummy()
    draw_slip(printer, slip, "text")
    raw = printer.output
    assert to_cp1258("GIẤY TIẾP NHẬN HỒ SƠ") in raw
    assert to_cp1258("Mã hồ sơ: 000.00.27.H04-261125-0001") in raw
    assert b"\x1dV" in raw  # cut
    raster = Dummy()
    draw_slip(raster, slip, "raster")
    assert len(raster.output) > len(raw)
    with pytest.raises(SlipPayloadError):
        SlipPrint.from_payload({"title": "x", "lines": [1]})


def test_thermal_preview_png(client, dossier_id, headers):
    from PIL import Image

    r = client.get(f"/api/v1/dossiers/{dossier_id}/slip.png", headers=headers)
    assert r.status_code == 200 and r.mimetype == "image/png"
    image = Image.open(io.BytesIO(r.data))
    assert image.width == 576 and image.height > 600
