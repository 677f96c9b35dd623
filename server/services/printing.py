"""Print jobs for a station's printer, acknowledged by its agent (at most once).

Two kinds of document go through the same jobs: the queue ticket printed at a kiosk, and a
dossier's receipt and appointment slip printed at the counter that received it (on the
printer of the station the counter is bound to, `Counter.station_id`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from server.db import OutboxMessage, outbox
from server.domain.clock import to_local, utcnow
from server.domain.errors import DomainError
from server.models import (
    Counter,
    CounterService,
    Dossier,
    PrintJob,
    Station,
    Ticket,
    User,
)
from server.models.centre import counter_label
from server.services import events
from server.services.dossier_documents import receipt_slip
from server.services.views import iso

logger = logging.getLogger(__name__)

KIND_TICKET = "ticket"
KIND_DOSSIER_SLIP = "dossier_slip"
KIND_PAPERS = "papers"  # a procedure's papers list (server.services.papers)
#: Where each kind's document travels in the print.job event (docs/station-protocol.md).
_DOCUMENT_KEY = {KIND_TICKET: "ticket", KIND_DOSSIER_SLIP: "slip", KIND_PAPERS: "papers"}

_INSERT_JOB = insert(PrintJob)
_SERVING_COUNTERS = (
    select(Counter.number, Counter.name)
    .join(CounterService, CounterService.counter_id == Counter.id)
    .where(CounterService.service_id == bindparam("service_id"))
    .order_by(Counter.number)
)

THANK_YOU = "Cảm ơn quý khách!"
FOOTER_EN = "Please wait for your number to be called"


def serving_counters(session: Session, service_id: int) -> list[str]:
    """The labels of the counters that serve a service ("Quầy 1", "Quầy Đất đai"…)."""
    rows = session.connection().execute(_SERVING_COUNTERS, {"service_id": service_id})
    return [counter_label(number, name) for number, name in rows]


def ticket_print_payload(
    session: Session,
    ticket: Ticket,
    *,
    waiting_ahead: int,
    qr_base_url: str = "",
    estimate: dict[str, Any] | None = None,
    counters: Sequence[str] | None = None,
    citizen_name: str | None = None,
) -> dict[str, Any]:
    """The `ticket` object of a print job (docs/station-protocol.md); `counters` (the
    labels of the counters serving the service) are read when not given. `citizen_name`:
    printed only when the citizen chose so at the kiosk (docs/privacy.md).

    `qr_base_url` is the public address a phone can open; empty (a loopback address was
    configured): no QR code.
    """
    service = ticket.service
    centre = service.centre
    payload = {
        "centre_name": centre.name,
        "centre_subtitle": centre.subtitle,
        "number": ticket.display_number,
        "service_name": service.name,
        "field_name": service.field.name,
        "counters": list(
            counters if counters is not None else serving_counters(session, ticket.service_id)
        ),
        "waiting_ahead": waiting_ahead,
        "estimate": estimate_line(estimate),
        "issued_at": to_local(ticket.issued_at, centre.timezone).isoformat(),
        "priority_label": ticket.priority_category.name if ticket.priority_category else None,
        "qr_url": f"{qr_base_url.rstrip('/')}/t/{ticket.public_code}" if qr_base_url else None,
        "thank_you": THANK_YOU,
        "footer_en": FOOTER_EN,
    }
    if citizen_name:
        payload["citizen_name"] = citizen_name
    return payload


def estimate_line(estimate: dict[str, Any] | None) -> str | None:
    """The printed wait line, e.g. "Dự kiến chờ: khoảng 12 phút (8-16)"; short, since a
    text-mode ticket stays under 500 bytes."""
    if not estimate or estimate.get("minutes") is None:
        return None
    if not estimate["minutes"]:
        return "Dự kiến: sắp đến lượt"
    low, high = estimate["low_minutes"], estimate["high_minutes"]
    return f"Dự kiến chờ: khoảng {estimate['minutes']} phút ({low}-{high})"


class NoSlipPrinter(DomainError):
    """The counter is bound to no station with a printer: the slip is printed as a PDF."""

    code = "no_slip_printer"
    http_status = 409


def job_event(job: PrintJob) -> dict[str, Any]:
    """The `print.job` payload of a job (docs/station-protocol.md)."""
    return {
        "job_id": job.job_id,
        "printer": None,
        "kind": job.kind,
        _DOCUMENT_KEY[job.kind]: job.payload,
    }


def _job_message(job: PrintJob) -> OutboxMessage:
    return OutboxMessage(
        events.PRINT_JOB,
        job_event(job),
        (events.station_room(job.station_id),),
        namespace=events.STATION_NAMESPACE,
    )


def create_print_job(
    session: Session,
    ticket: Ticket,
    station: Station,
    *,
    waiting_ahead: int,
    now: datetime,
    qr_base_url: str = "",
    estimate: dict[str, Any] | None = None,
    counters: Sequence[str] | None = None,
    citizen_name: str | None = None,
) -> str:
    """Queue the ticket for the station's printer; sent to its agent after commit."""
    values = {
        "job_id": uuid.uuid4().hex,
        "kind": KIND_TICKET,
        "ticket_id": ticket.id,
        "dossier_id": None,
        "station_id": station.id,
        "status": "pending",
        "reason": "",
        "payload": ticket_print_payload(
            session,
            ticket,
            waiting_ahead=waiting_ahead,
            qr_base_url=qr_base_url,
            estimate=estimate,
            counters=counters,
            citizen_name=citizen_name,
        ),
        "created_at": now,
        "acked_at": None,
    }
    # A Core insert: this runs for every kiosk ticket, inside the issuing transaction.
    session.connection().execute(_INSERT_JOB, values)
    outbox(session).append(_job_message(PrintJob(**values)))
    return values["job_id"]


def reprint(
    session: Session, *, ticket_id: int, now: datetime, qr_base_url: str = ""
) -> str | None:
    """A new job for a ticket's station (e.g. after paper was refilled), with today's
    people ahead and wait estimate."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.station_id is None:
        return None
    station = session.get(Station, ticket.station_id)
    if station is None or not station.has_printer:
        return None
    from server.services import wait_estimates
    from server.services.queue import waiting_ahead_of

    ahead = waiting_ahead_of(session, ticket)
    estimate = None
    if ticket.status == "waiting":
        timezone = ticket.service.centre.timezone
        estimate = wait_estimates.for_ticket(session, ticket, ahead, timezone, now)
    return create_print_job(
        session,
        ticket,
        station,
        waiting_ahead=ahead,
        now=now,
        qr_base_url=qr_base_url,
        estimate=estimate,
    )


# --- dossier slips ---------------------------------------------------------------------


def slip_station(session: Session, counter_id: int | None) -> Station | None:
    """The station whose printer prints this counter's slips, if it has a printer."""
    counter = session.get(Counter, counter_id) if counter_id is not None else None
    if counter is None or counter.station_id is None:
        return None
    station = session.get(Station, counter.station_id)
    if station is None or not station.has_printer or station.centre_id != counter.centre_id:
        return None
    return station


def create_slip_job(
    session: Session, dossier: Dossier, station: Station, *, now: datetime
) -> PrintJob:
    """Queue the dossier's receipt slip for the station's printer; sent after commit.

    A job of the same dossier still pending is superseded (never re-sent), so a reprint
    while the printer was off gives one slip, not two, when it comes back.
    """
    for older in session.execute(
        select(PrintJob).where(PrintJob.dossier_id == dossier.id, PrintJob.status == "pending")
    ).scalars():
        older.status, older.reason, older.acked_at = "failed", "superseded", now
    staff = session.get(User, dossier.received_by_id) if dossier.received_by_id else None
    job = PrintJob(
        job_id=uuid.uuid4().hex,
        kind=KIND_DOSSIER_SLIP,
        dossier_id=dossier.id,
        station_id=station.id,
        status="pending",
        payload=receipt_slip(dossier, staff=staff).print_payload(),
        created_at=now,
    )
    session.add(job)
    session.flush()
    outbox(session).append(_job_message(job))
    logger.info("dossier %s: slip job %s for station %s", dossier.code, job.job_id, station.code)
    return job


def print_slip(
    session: Session, dossier: Dossier, *, now: datetime, counter_id: int | None = None
) -> PrintJob:
    """(Re)print the slip at `counter_id`'s printer (default: the receiving counter).

    Raises :class:`NoSlipPrinter` when that counter has no printing station.
    """
    counter_id = counter_id if counter_id is not None else dossier.counter_id
    counter = session.get(Counter, counter_id) if counter_id is not None else None
    if counter is not None and counter.centre_id != dossier.centre_id:
        counter = None
    station = slip_station(session, counter.id) if counter is not None else None
    if station is None:
        where = counter.label if counter is not None else "Hồ sơ không gắn với quầy nào"
        raise NoSlipPrinter(
            f"{where}: chưa có máy in giấy hẹn (gắn quầy với một điểm thiết bị có máy in "
            "trong trang quản trị). Vui lòng in giấy hẹn bằng PDF.",
            f"counter {counter_id} has no station with a printer",
        )
    return create_slip_job(session, dossier, station, now=now)


def slip_prints(
    session: Session, dossiers: list[Dossier], now: datetime | None = None
) -> dict[int, dict[str, Any]]:
    """The latest slip job of each dossier, as the counter page shows it (absent: none).

    A job still pending after SLIP_JOB_TTL is shown as failed ("expired"), which is what
    the station's next connection records: it will not print any more.
    """
    if not dossiers:
        return {}
    zones = {d.id: d.centre.timezone for d in dossiers}
    rows = session.execute(
        select(PrintJob, Station)
        .join(Station, Station.id == PrintJob.station_id)
        .where(PrintJob.dossier_id.in_(list(zones)), PrintJob.kind == KIND_DOSSIER_SLIP)
        .order_by(PrintJob.id)
    ).all()
    now = now or utcnow()
    views: dict[int, dict[str, Any]] = {}
    for job, station in rows:
        status, reason = job.status, job.reason
        if status == "pending" and now - job.created_at > SLIP_JOB_TTL:
            status, reason = "failed", "expired"
        zone = zones[job.dossier_id]
        views[job.dossier_id] = {
            "job_id": job.job_id,
            "status": status,
            "reason": reason,
            "station_id": station.id,
            "station_code": station.code,
            "station_name": station.name,
            "created_at": iso(to_local(job.created_at, zone)),
            "acked_at": iso(job.acked_at and to_local(job.acked_at, zone)),
        }
    return views


# --- delivery and acknowledgement ------------------------------------------------------

#: A job not printed within this time is given up: by then the kiosk has shown the number
#: on screen, and a ticket printed minutes later would only confuse the next citizen.
PRINT_JOB_TTL = timedelta(seconds=60)
#: A slip may come out later: the citizen is still at the counter while the papers are
#: checked. Past this the counter has printed the PDF; a late slip would be a duplicate.
SLIP_JOB_TTL = timedelta(minutes=2)
_TTL = {KIND_TICKET: PRINT_JOB_TTL, KIND_DOSSIER_SLIP: SLIP_JOB_TTL}


def pending_jobs(
    session: Session, station_id: int, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Jobs not yet acknowledged by the station, oldest first (re-sent on reconnect).

    Jobs older than their kind's time to live (PRINT_JOB_TTL, SLIP_JOB_TTL) are marked
    failed ("expired") instead of being re-sent.
    """
    jobs = (
        session.execute(
            select(PrintJob)
            .where(PrintJob.station_id == station_id, PrintJob.status == "pending")
            .order_by(PrintJob.id)
        )
        .scalars()
        .all()
    )
    now = now or utcnow()
    fresh = []
    for job in jobs:
        if now - job.created_at > _TTL.get(job.kind, PRINT_JOB_TTL):
            job.status, job.reason, job.acked_at = "failed", "expired", now
        else:
            fresh.append(job_event(job))
    return fresh


def acknowledge(
    session: Session,
    *,
    station_id: int,
    job_id: str,
    status: str,
    reason: str | None,
    now: datetime,
) -> PrintJob | None:
    """Record the agent's ack; tell the station's pages (the kiosk says "take your
    ticket"; `print.status` carries `kind` and the ticket or dossier id)."""
    job = session.execute(
        select(PrintJob).where(PrintJob.job_id == job_id, PrintJob.station_id == station_id)
    ).scalar_one_or_none()
    if job is None:
        logger.warning("station %s acknowledged unknown print job %s", station_id, job_id)
        return None
    if job.status == "printed":
        return job  # duplicates after a reconnect are harmless
    job.status = "printed" if status == "printed" else "failed"
    job.reason = (reason or "")[:200]
    job.acked_at = now
    outbox(session).append(
        OutboxMessage(
            events.PRINT_STATUS,
            {
                "kind": job.kind,
                "ticket_id": job.ticket_id,
                "dossier_id": job.dossier_id,
                "procedure_id": job.procedure_id,
                "job_id": job.job_id,
                "status": job.status,
                "reason": job.reason,
            },
            (events.station_room(station_id),),
        )
    )
    return job
