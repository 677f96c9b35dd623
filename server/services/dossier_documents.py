"""The papers a dossier produces: the receipt and appointment slip (Giấy tiếp nhận hồ sơ
và hẹn trả kết quả) and the apology letter (Phiếu xin lỗi và hẹn lại ngày trả kết quả).

One wording, three outputs: plain text lines (tests, the API), the thermal-printer
payload (devices.printing.slip) and an A5 PDF (fpdf2 with DejaVu Sans, which has every
Vietnamese glyph).
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from server.domain.clock import to_local
from server.models import Centre, Dossier, User

#: Folder of the DejaVu fonts (Debian fonts-dejavu-core), as for raster printing.
FONT_DIR = Path(os.environ.get("TTHCC_FONT_DIR", "/usr/share/fonts/truetype/dejavu"))
SLIP_TITLE = "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ"
APOLOGY_TITLE = "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ"
LOOKUP_HINT = "Tra cứu tình trạng hồ sơ: quét mã QR tại kiosk hoặc nhập mã hồ sơ."


def viet_datetime(moment: datetime) -> str:
    """ "09 giờ 15 phút, ngày 25 tháng 11 năm 2026" (the form's own wording)."""
    return (
        f"{moment.hour:02d} giờ {moment.minute:02d} phút, "
        f"ngày {moment.day:02d} tháng {moment.month:02d} năm {moment.year}"
    )


def viet_date(day: date) -> str:
    return f"ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"


def paper_line(index: int, paper: dict[str, Any]) -> str:
    counts = []
    if paper.get("originals"):
        counts.append(f"{int(paper['originals']):02d} bản chính")
    if paper.get("copies"):
        counts.append(f"{int(paper['copies']):02d} bản sao")
    suffix = f": {', '.join(counts)}" if counts else ""
    return f"{index}. {paper['name']}{suffix}"


@dataclass(frozen=True)
class Document:
    """A worded document: header, title, body lines, QR data and footer."""

    centre_name: str
    centre_subtitle: str
    title: str
    lines: list[str]
    code: str | None = None
    qr_data: str | None = None
    footer: list[str] = field(default_factory=list)

    def text_lines(self) -> list[str]:
        head = [self.centre_name]
        if self.centre_subtitle:
            head.append(self.centre_subtitle)
        return [*head, self.title, *self.lines, *self.footer]

    def text(self) -> str:
        return "\n".join(self.text_lines()) + "\n"

    def print_payload(self) -> dict[str, Any]:
        """The ``slip`` object for the station (devices.printing.slip.SlipPrint)."""
        return {
            "centre_name": self.centre_name,
            "centre_subtitle": self.centre_subtitle or None,
            "title": self.title,
            "code": self.code,
            "lines": self.lines,
            "qr_data": self.qr_data,
            "footer": self.footer,
        }


def receipt_slip(dossier: Dossier, *, staff: User | None = None) -> Document:
    """The receipt and appointment slip (content per DOMAIN.md, "Dossiers")."""
    centre: Centre = dossier.centre
    procedure = dossier.procedure
    received = to_local(dossier.received_at, centre.timezone)
    appointment = to_local(dossier.appointment_at, centre.timezone)
    lines = [
        f"Mã hồ sơ: {dossier.code}",
        f"Tiếp nhận hồ sơ của: {dossier.applicant_name}",
    ]
    if dossier.applicant_birth_date:
        lines.append(f"Ngày sinh: {dossier.applicant_birth_date:%d/%m/%Y}")
    if dossier.applicant_address:
        lines.append(f"Địa chỉ: {dossier.applicant_address}")
    if dossier.applicant_phone:
        lines.append(f"Số điện thoại: {dossier.applicant_phone}")
    lines += [
        f"Nội dung yêu cầu giải quyết: {dossier.request}",
        f"Thủ tục: {procedure.code} – {procedure.name}",
        "Thành phần hồ sơ đã nhận:",
    ]
    papers = list(dossier.papers_received or [])
    lines += [paper_line(i, p) for i, p in enumerate(papers, 1)] or ["(không có)"]
    legal = (
        "Trong ngày làm việc"
        if dossier.working_days == 0
        else f"{dossier.working_days:02d} ngày làm việc"
    )
    lines += [
        f"Thời gian giải quyết theo quy định: {legal}",
        f"Thời gian nhận hồ sơ: {viet_datetime(received)}",
        f"Thời gian hẹn trả kết quả: {viet_datetime(appointment)}",
        f"Nơi nhận kết quả: {procedure.result_place or 'Bộ phận tiếp nhận và trả kết quả'}",
    ]
    if staff is not None:
        lines.append(f"Người tiếp nhận: {staff.full_name or staff.username}")
    return Document(
        centre_name=centre.name,
        centre_subtitle=centre.subtitle,
        title=SLIP_TITLE,
        lines=lines,
        code=dossier.code,
        qr_data=dossier.code,
        footer=[LOOKUP_HINT, "Quý khách vui lòng mang theo giấy hẹn khi đến nhận kết quả."],
    )


def apology_letter(dossier: Dossier, *, today: date) -> Document:
    """The apology with the reason and the new date (Circular 01/2018, form 04)."""
    centre: Centre = dossier.centre
    if dossier.new_due_date is None:
        raise ValueError("no apology recorded for this dossier")
    received = to_local(dossier.received_at, centre.timezone)
    appointment = to_local(dossier.appointment_at, centre.timezone)
    new_at = appointment.replace(
        year=dossier.new_due_date.year,
        month=dossier.new_due_date.month,
        day=dossier.new_due_date.day,
    )
    place = str((centre.settings or {}).get("place_name", "")).strip()
    lines = [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập – Tự do – Hạnh phúc",
        f"{place}, {viet_date(today)}" if place else viet_date(today).capitalize(),
        f"Kính gửi: Ông/Bà {dossier.applicant_name}",
        f"Ngày {received:%d/%m/%Y}, Bộ phận tiếp nhận và trả kết quả đã tiếp nhận hồ sơ "
        "của Ông/Bà.",
        f"Mã hồ sơ: {dossier.code}",
        f"Nội dung yêu cầu giải quyết: {dossier.request}",
        f"Thời gian hẹn trả kết quả: {viet_datetime(appointment)}",
        f"Tuy nhiên đến nay, hồ sơ của Ông/Bà chưa giải quyết xong. Lý do: {dossier.apology_reason}",
        "Sự chậm trễ này đã gây phiền hà cho Ông/Bà. Chúng tôi thành thật xin lỗi Ông/Bà "
        "và hẹn lại thời gian trả kết quả:",
        viet_datetime(new_at),
        f"Nơi nhận kết quả: {dossier.procedure.result_place or 'Bộ phận tiếp nhận và trả kết quả'}",
        "Rất mong nhận được sự thông cảm của Ông/Bà.",
    ]
    return Document(
        centre_name=centre.name,
        centre_subtitle=centre.subtitle,
        title=APOLOGY_TITLE,
        lines=lines,
        code=dossier.code,
        qr_data=dossier.code,
        footer=[],
    )


# --- PDF ------------------------------------------------------------------------------------


def document_pdf(document: Document) -> bytes:
    """An A5 portrait PDF (148 × 210 mm) of the document, with the QR code of its code."""
    import qrcode
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format=(148, 210))  # A5
    pdf.set_margins(12, 10, 12)
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_title(f"{document.title} {document.code or ''}".strip())
    pdf.set_creator("TTHCC")
    pdf.add_page()
    width = pdf.epw
    pdf.set_font("DejaVu", "B", 10)
    pdf.multi_cell(width, 5, document.centre_name, align="C", new_x="LMARGIN", new_y="NEXT")
    if document.centre_subtitle:
        pdf.multi_cell(width, 5, document.centre_subtitle, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("DejaVu", "B", 12)
    pdf.multi_cell(width, 6, document.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    if document.qr_data:
        image = qrcode.make(document.qr_data, box_size=8, border=2)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        buffer.seek(0)
        size = 28
        pdf.image(buffer, x=pdf.w - pdf.r_margin - size, y=pdf.get_y(), w=size, h=size)
        top = pdf.get_y()
    pdf.set_font("DejaVu", "", 9.5)
    for index, line in enumerate(document.lines):
        bold = index == 0 and line.startswith("Mã hồ sơ")
        pdf.set_font("DejaVu", "B" if bold else "", 9.5)
        # Keep the first lines clear of the QR code in the top right corner.
        line_width = width - 32 if document.qr_data and pdf.get_y() < top + 30 else width
        pdf.multi_cell(line_width, 5, line, new_x="LMARGIN", new_y="NEXT")
    if document.footer:
        pdf.ln(3)
        pdf.set_font("DejaVu", "", 8.5)
        for line in document.footer:
            pdf.multi_cell(width, 4.5, line, align="C", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def document_png(document: Document) -> bytes:
    """The document as the 80 mm thermal printer draws it (raster preview, PNG)."""
    from devices.printing.preview import png_bytes, render_blocks_image
    from devices.printing.slip import SlipPrint, slip_blocks

    slip = SlipPrint.from_payload(document.print_payload())
    return png_bytes(render_blocks_image(slip_blocks(slip)))
