"""Know what to bring: a procedure's papers list printed on a kiosk's ticket printer.

The list goes through the same print jobs as tickets and dossier slips (kind ``papers``,
docs/station-protocol.md); the station lays it out like a slip (devices.printing.slip).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from server.db import OutboxMessage, outbox
from server.domain.clock import to_local
from server.domain.errors import DomainError, InvalidRequest, NotFound
from server.models import Centre, PrintJob, Procedure, Station
from server.services import events
from server.services.printing import KIND_PAPERS, job_event
from server.services.procedures import fee_display, get_procedure, processing_text

logger = logging.getLogger(__name__)


class NoKioskPrinter(DomainError):
    """The kiosk has no ticket printer: the list is read on screen or on a phone."""

    code = "no_kiosk_printer"
    http_status = 409


def paper_line(number: int, paper: dict[str, Any]) -> str:
    """ "1. Tờ khai đăng ký khai sinh (1 bản chính, 1 bản sao) – ghi chú"."""
    counts = []
    if paper.get("originals"):
        counts.append(f"{paper['originals']} bản chính")
    if paper.get("copies"):
        counts.append(f"{paper['copies']} bản sao")
    text = f"{number}. {paper.get('name', '').strip()}"
    if counts:
        text += f" ({', '.join(counts)})"
    if paper.get("note"):
        text += f" – {paper['note']}"
    return text


def public_procedure_url(phone_url: str | None, procedure_id: int) -> str | None:
    """The /thu-tuc page of a procedure at the address phones reach (None: loopback only)."""
    return f"{phone_url.rstrip('/')}/thu-tuc/{procedure_id}" if phone_url else None


def papers_payload(
    procedure: Procedure, centre: Centre, *, now: datetime, phone_url: str | None
) -> dict[str, Any]:
    """The ``papers`` document of the print job (a slip: devices.printing.slip.SlipPrint)."""
    papers = list(procedure.papers or [])
    lines = [procedure.name, f"Mã thủ tục: {procedure.code}", ""]
    if papers:
        lines += [paper_line(i, p) for i, p in enumerate(papers, 1)]
    else:
        lines.append("Không yêu cầu giấy tờ (xem hướng dẫn tại quầy).")
    lines += [
        "",
        f"Thời hạn giải quyết: {processing_text(procedure)}",
        f"Phí, lệ phí: {fee_display(procedure) or 'Không thu'}",
    ]
    if procedure.service is not None:
        lines.append(f"Lấy số: {procedure.service.name}")
    qr = public_procedure_url(phone_url, procedure.id)
    printed = to_local(now, centre.timezone)
    footer = [f"In lúc {printed:%d/%m/%Y %H:%M}"]
    if qr:
        footer.insert(0, "Quét mã QR để xem trên điện thoại")
    footer.append("Cảm ơn quý khách!")
    return {
        "centre_name": centre.name,
        "centre_subtitle": centre.subtitle or None,
        "title": "GIẤY TỜ CẦN MANG THEO",
        "code": procedure.code,
        "lines": lines,
        "qr_data": qr,
        "footer": footer,
    }


def print_papers(
    session: Session,
    *,
    procedure_id: int,
    station_id: int,
    now: datetime,
    phone_url: str | None = None,
) -> PrintJob:
    """Queue the procedure's papers list for the kiosk's printer; sent after commit.

    The station must be a kiosk of the procedure's centre with a printer (422 / 409)."""
    procedure = get_procedure(session, procedure_id)
    if not procedure.active:
        raise NotFound(
            f"Không tìm thấy thủ tục số {procedure_id}.", f"procedure {procedure_id} is inactive"
        )
    station = session.get(Station, station_id)
    if station is None or station.centre_id != procedure.centre_id:
        raise InvalidRequest(
            "Điểm thiết bị không hợp lệ.", f"station {station_id} is not in the procedure's centre"
        )
    if station.kind != "kiosk":
        raise InvalidRequest(
            "Điểm thiết bị này không phải kiosk.", f"station {station_id} is not a kiosk"
        )
    if not station.has_printer:
        raise NoKioskPrinter(
            "Kiosk này không có máy in: quý khách vui lòng quét mã QR để xem trên điện thoại.",
            f"station {station_id} has no printer",
        )
    centre = session.get(Centre, procedure.centre_id)
    job = PrintJob(
        job_id=uuid.uuid4().hex,
        kind=KIND_PAPERS,
        procedure_id=procedure.id,
        station_id=station.id,
        status="pending",
        reason="",
        payload=papers_payload(procedure, centre, now=now, phone_url=phone_url),
        created_at=now,
    )
    session.add(job)
    session.flush()
    outbox(session).append(
        OutboxMessage(
            events.PRINT_JOB,
            job_event(job),
            (events.station_room(station.id),),
            namespace=events.STATION_NAMESPACE,
        )
    )
    logger.info(
        "procedure %s: papers job %s for station %s", procedure.code, job.job_id, station.code
    )
    return job
