"""Print jobs for a station's ticket printer, acknowledged by its agent (at most once)."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db import OutboxMessage, outbox
from server.domain.clock import to_local, utcnow
from server.models import Centre, Counter, CounterService, PrintJob, Station, Ticket
from server.services import events

logger = logging.getLogger(__name__)

THANK_YOU = "Cảm ơn quý khách!"
FOOTER_EN = "Please wait for your number to be called"


def ticket_print_payload(
    session: Session, ticket: Ticket, *, waiting_ahead: int, qr_base_url: str = ""
) -> dict[str, Any]:
    """The `ticket` object of a print job (docs/station-protocol.md)."""
    centre = session.get(Centre, ticket.centre_id)
    counters = session.execute(
        select(Counter)
        .join(CounterService, CounterService.counter_id == Counter.id)
        .where(CounterService.service_id == ticket.service_id)
        .order_by(Counter.number)
    ).scalars()
    service = ticket.service
    return {
        "centre_name": centre.name,
        "centre_subtitle": centre.subtitle,
        "number": ticket.display_number,
        "service_name": service.name,
        "field_name": service.field.name,
        "counters": [c.label for c in counters],
        "waiting_ahead": waiting_ahead,
        "issued_at": to_local(ticket.issued_at, centre.timezone).isoformat(),
        "priority_label": ticket.priority_category.name if ticket.priority_category else None,
        "qr_url": f"{qr_base_url.rstrip('/')}/t/{ticket.public_code}",
        "thank_you": THANK_YOU,
        "footer_en": FOOTER_EN,
    }


def _job_message(job: PrintJob) -> OutboxMessage:
    return OutboxMessage(
        events.PRINT_JOB,
        {"job_id": job.job_id, "printer": None, "ticket": job.payload},
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
) -> str:
    """Queue the ticket for the station's printer; sent to its agent after commit."""
    job = PrintJob(
        job_id=uuid.uuid4().hex,
        ticket_id=ticket.id,
        station_id=station.id,
        status="pending",
        payload=ticket_print_payload(
            session, ticket, waiting_ahead=waiting_ahead, qr_base_url=qr_base_url
        ),
        created_at=now,
    )
    session.add(job)
    session.flush()
    outbox(session).append(_job_message(job))
    return job.job_id


def reprint(session: Session, *, ticket_id: int, now: datetime) -> str | None:
    """A new job for a ticket's station (e.g. after paper was refilled)."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.station_id is None:
        return None
    station = session.get(Station, ticket.station_id)
    if station is None or not station.has_printer:
        return None
    from server.services.tickets import waiting_ahead_of

    return create_print_job(
        session, ticket, station, waiting_ahead=waiting_ahead_of(session, ticket), now=now
    )


#: A job not printed within this time is given up: by then the kiosk has shown the number
#: on screen, and a ticket printed minutes later would only confuse the next citizen.
PRINT_JOB_TTL = timedelta(seconds=60)


def pending_jobs(
    session: Session, station_id: int, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Jobs not yet acknowledged by the station, oldest first (re-sent on reconnect).

    Jobs older than PRINT_JOB_TTL are marked failed ("expired") instead of being re-sent.
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
        if now - job.created_at > PRINT_JOB_TTL:
            job.status, job.reason, job.acked_at = "failed", "expired", now
        else:
            fresh.append({"job_id": job.job_id, "printer": None, "ticket": job.payload})
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
    """Record the agent's ack and tell the kiosk whether to say "take your ticket"."""
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
                "ticket_id": job.ticket_id,
                "job_id": job.job_id,
                "status": job.status,
                "reason": job.reason,
            },
            (events.station_room(station_id),),
        )
    )
    return job
