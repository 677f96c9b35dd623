"""Numbers from the phone (rules: server.domain.remote): take today's number remotely,
within the phone's quotas, and check in at the kiosk on arrival with a six-digit code.

The number goes into the line at once, like a kiosk ticket (hours, cut-offs and caps
apply); the check-in tells the hall the citizen has come and prints the ticket on the
kiosk's printer. The phone number is kept only as a keyed hash and a mask, and never
logged. Like every service: no commit, events through the outbox.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.domain.actors import Actor
from server.domain.clock import local_day
from server.domain.errors import InvalidRequest, NotFound
from server.domain.remote import (
    Quotas,
    check_admits,
    check_in_deadline,
    check_quotas,
    mask_phone,
    normalize_phone,
    phone_hash,
)
from server.models import Centre, RemoteNumber, Service, Station, Ticket
from server.services import issue_keys
from server.services.issue_keys import IssueKey
from server.services.issuing import IssuedTicket, issue_ticket

logger = logging.getLogger(__name__)

DEFAULT_GRACE_MINUTES = 15
_CODE_TRIES = 20


def quotas(centre: Centre, service: Service) -> Quotas:
    settings = centre.settings or {}
    return Quotas(
        per_day=int(settings.get("remote_per_phone_day") or Quotas.per_day),
        per_service=service.remote_per_phone or 1,
    )


def grace_minutes(centre: Centre) -> int:
    """Minutes after the call during which a remote number may still check in."""
    return int((centre.settings or {}).get("check_in_grace_minutes") or DEFAULT_GRACE_MINUTES)


@dataclass(frozen=True)
class RemoteIssued:
    issued: IssuedTicket
    remote: RemoteNumber


def issue_remote(
    session: Session,
    *,
    service_id: int,
    phone: str,
    now: datetime,
    phone_key: str,
    qr_base_url: str = "",
    key: IssueKey | None = None,
) -> RemoteIssued:
    """Today's number for `service_id`, taken from a phone, with its check-in code.

    `key`: the phone's Idempotency-Key (`phone_key_of`), stored with the ticket; the caller
    looked for its number first (`issued_with_key`).
    Raises InvalidRequest (a malformed number), RemoteNotAllowed, PhoneQuotaReached (429),
    and whatever issuing raises (hours, cut-off, cap, range).
    """
    normalized = normalize_phone(phone)
    digest = phone_hash(normalized, phone_key)
    service = session.get(Service, service_id)
    if service is None:
        raise NotFound(
            f"Không tìm thấy dịch vụ số {service_id}.", f"service {service_id} not found"
        )
    centre = session.get(Centre, service.centre_id)
    day = local_day(now, centre.timezone)
    _lock_phone(session, digest)
    if service.remote_issuing:  # else issuing says the service does not allow it
        _check_phone_quotas(session, centre, service, digest, day)
    issued = issue_ticket(
        session,
        service_id=service_id,
        now=now,
        actor=Actor("phone"),
        qr_base_url=qr_base_url,
        remote=True,
        key=key,
    )
    row = _insert_with_code(
        session,
        ticket_id=issued.ticket.id,
        centre_id=centre.id,
        service_id=service.id,
        day=day,
        phone_hash=digest,
        phone_masked=mask_phone(normalized),
        created_at=now,
    )
    logger.info(
        "remote number %s issued for service %s (%s)",
        issued.ticket.display_number,
        service.id,
        mask_phone(normalized),
    )
    return RemoteIssued(issued, row)


def phone_key_of(header: str, *, service_id: int, phone: str, phone_key: str) -> IssueKey:
    """The Idempotency-Key of a remote number's request (docs/remote.md, "Retries"): the
    phone's own (scope "phone:<the number's keyed hash>"), so it never answers another
    number's ticket; what it asked is the service and the number. InvalidKey (422) when
    malformed, InvalidRequest when the number is not a mobile."""
    digest = phone_hash(normalize_phone(phone), phone_key)
    return issue_keys.keyed(
        header, scope=f"phone:{digest}", asked={"service_id": service_id, "phone": digest}
    )


def issued_with_key(session: Session, key: IssueKey, now: datetime) -> RemoteNumber | None:
    """Today's remote number this phone's key issued, if any (KeyReused when it was asked
    for another service). Takes the phone's lock first (PostgreSQL), so a retry racing
    the first request waits for its commit and then finds its number; SQLite's writers
    are serial from BEGIN already."""
    _lock_phone(session, key.scope.removeprefix("phone:"))
    ticket = issue_keys.issued_with(session, key, now)
    if ticket is None:
        return None
    return session.execute(
        select(RemoteNumber).where(RemoteNumber.ticket_id == ticket.id)
    ).scalar_one()


def _check_phone_quotas(
    session: Session, centre: Centre, service: Service, digest: str, day: Any
) -> None:
    """PhoneQuotaReached when the phone took its numbers of the day (in all, or for this
    service)."""
    taken = dict(
        session.execute(
            select(RemoteNumber.service_id, func.count())
            .where(
                RemoteNumber.centre_id == centre.id,
                RemoteNumber.day == day,
                RemoteNumber.phone_hash == digest,
            )
            .group_by(RemoteNumber.service_id)
        ).all()
    )
    check_quotas(
        quotas(centre, service),
        taken_today=sum(taken.values()),
        taken_for_service=taken.get(service.id, 0),
    )


def check_can_take(
    session: Session, *, service_id: int, phone: str, now: datetime, phone_key: str
) -> None:
    """Refuse now, with the message taking the number would give, a phone that could not
    take a number for `service_id` (the centre closed today, no remote numbers, the
    phone's quotas, the hours, the cut-off, the day's cap). Asked before a one-time code
    is texted to the phone (docs/remote.md): a citizen who cannot get a number anyway is
    not sent a code. Reads only; taking the number checks everything again."""
    from server.services.issuing import check_issuable

    digest = phone_hash(normalize_phone(phone), phone_key)
    service = session.get(Service, service_id)
    if service is None:
        raise NotFound(
            f"Không tìm thấy dịch vụ số {service_id}.", f"service {service_id} not found"
        )
    centre = session.get(Centre, service.centre_id)
    if service.remote_issuing:  # the order of issue_remote: quotas, then issuing's
        _check_phone_quotas(session, centre, service, digest, local_day(now, centre.timezone))
    check_issuable(session, service, centre, now)


def _lock_phone(session: Session, digest: str) -> None:
    """Serialise one phone's requests, so two at once never both pass a quota (PostgreSQL;
    SQLite's write transactions are serial already)."""
    if session.get_bind().dialect.name == "postgresql":
        key = int(digest[:15], 16)  # 60 bits: inside bigint
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _insert_with_code(session: Session, **values: Any) -> RemoteNumber:
    """Store the remote number with a check-in code free today. Two numbers issued at the
    same moment may draw the same code, each unseen by the other's check: the unique key
    refuses the second, which draws again (in a savepoint, so its ticket stays)."""
    for _ in range(_CODE_TRIES):
        code = _new_code(session, values["centre_id"], values["day"])
        row = RemoteNumber(code=code, **values)
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:
            continue
        return row
    raise RuntimeError(f"no free check-in code after {_CODE_TRIES} tries")


def _new_code(session: Session, centre_id: int, day: Any) -> str:
    for _ in range(_CODE_TRIES):
        code = f"{secrets.randbelow(1_000_000):06d}"
        clash = session.execute(
            select(RemoteNumber.id).where(
                RemoteNumber.centre_id == centre_id,
                RemoteNumber.day == day,
                RemoteNumber.code == code,
            )
        ).first()
        if clash is None:
            return code
    raise RuntimeError(f"no free check-in code after {_CODE_TRIES} tries")  # a million a day


@dataclass(frozen=True)
class CheckedIn:
    ticket: Ticket
    remote: RemoteNumber
    first_time: bool
    print_job_id: str | None


def check_in(
    session: Session,
    *,
    code: str,
    now: datetime,
    station_id: int | None = None,
    centre_id: int | None = None,
    qr_base_url: str = "",
) -> CheckedIn:
    """The citizen has come: the code of today's remote number admits while the number
    waits, or was called less than the grace ago. A kiosk with a printer prints the ticket.
    A second check-in with the same code answers the same, without printing again."""
    code = (code or "").strip()
    if not code.isdigit() or len(code) != 6:
        raise InvalidRequest(
            "Mã xác nhận gồm 6 chữ số.", "the check-in code is six digits", details={}
        )
    station = session.get(Station, station_id) if station_id is not None else None
    if station_id is not None and (station is None or station.kind != "kiosk"):
        raise InvalidRequest("Điểm thiết bị không hợp lệ.", f"station {station_id} is not a kiosk")
    centre_id = station.centre_id if station is not None else centre_id
    centre = session.get(Centre, centre_id) if centre_id is not None else None
    if centre is None:
        raise InvalidRequest("Thiếu trung tâm.", "centre_id or station_id is required")
    remote = session.execute(
        select(RemoteNumber)
        .where(
            RemoteNumber.centre_id == centre.id,
            RemoteNumber.day == local_day(now, centre.timezone),
            RemoteNumber.code == code,
        )
        # Locked: a second check-in at once (a kiosk's retry racing its first try) waits,
        # then sees the first one's and prints nothing.
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if remote is None:
        raise NotFound(
            "Không tìm thấy số thứ tự hôm nay với mã này: quý khách vui lòng kiểm tra lại mã.",
            "no remote number of today has this code",
        )
    ticket = remote.ticket
    check_admits(ticket.status, ticket.called_at, now, grace_minutes(centre))
    first_time = remote.checked_in_at is None
    job_id = None
    if first_time:
        remote.checked_in_at = now
        remote.checked_in_station_id = station.id if station is not None else None
        if station is not None and station.has_printer:
            from server.services import wait_estimates
            from server.services.printing import create_print_job, serving_counters
            from server.services.queue import waiting_ahead_of

            ahead = waiting_ahead_of(session, ticket)
            estimate = None
            if ticket.status == "waiting":
                estimate = wait_estimates.for_ticket(session, ticket, ahead, centre.timezone, now)
            job_id = create_print_job(
                session,
                ticket,
                station,
                waiting_ahead=ahead,
                now=now,
                qr_base_url=qr_base_url,
                estimate=estimate,
                counters=serving_counters(session, ticket.service_id),
            )
        session.flush()
        logger.info("remote number %s checked in", ticket.display_number)
    return CheckedIn(ticket, remote, first_time, job_id)


def remote_view(remote: RemoteNumber, grace: int, timezone: str) -> dict[str, Any]:
    """What the phone and the kiosk show about a remote number (never the phone number)."""
    from server.domain.clock import to_local

    deadline = check_in_deadline(remote.ticket.called_at, grace)
    return {
        "code": remote.code,
        "phone": remote.phone_masked,
        "checked_in": remote.checked_in_at is not None,
        "check_in_until": to_local(deadline, timezone).isoformat() if deadline else None,
        "check_in_grace_minutes": grace,
    }
