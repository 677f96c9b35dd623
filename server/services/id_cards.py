"""ID-card check-in: a scan at the kiosk, its link to a ticket, the pre-filled dossier
receipt at the counter, and the purge of what was read (docs/privacy.md).

- :func:`receive_scan`: what a kiosk's scanner read (from its agent or its page). An ID
  card becomes a *pending* :class:`CitizenScan` (ID number kept only as a keyed hash) and
  the page gets a token, the name to show and the masked number; a check-in code is handed
  back for the page to check in with (``/api/v1/check-in``); anything else is refused.
- :func:`take_pending` / :func:`link`: the citizen agreed and took a number: the scan is
  linked to the ticket (the name printed on it only if the citizen chose so).
- :func:`prefill_for_counter`: the dossier desk fills the receipt from the ticket being
  served; :func:`dossier_received` clears it once used.
- :func:`purge`: pending scans after :data:`PENDING_MINUTES`, linked ones at the end of the
  centre's day: personal fields cleared (the hash and the link stay), the name removed from
  the ticket's print job.

Services never commit; the caller does.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.db import OutboxMessage, outbox
from server.domain.clock import start_of_local_day
from server.domain.id_card import CheckInCode, IdCard, id_number_digest, read_scan
from server.models import Centre, CitizenScan, Counter, PrintJob, Ticket
from server.services import events

logger = logging.getLogger(__name__)

#: How long a scan waits for the citizen to agree and take a number before it is dropped.
PENDING_MINUTES = 10

#: Socket.IO event to the kiosk page (its station's room on /hall): what the scanner read.
SCANNER_SCANNED = events.SCANNER_SCANNED

_UNRECOGNISED = {
    "kind": "unrecognised",
    "message": "Không đọc được mã này. Quý khách vui lòng quét mã QR trên thẻ căn cước, "
    "hoặc mã xác nhận nhận được khi lấy số qua điện thoại.",
    "message_en": "This code cannot be used here. Please scan the QR code on your ID card, "
    "or the check-in code of a number taken from your phone.",
}


def end_of_local_day(now: datetime, timezone: str) -> datetime:
    """The instant the centre's local day of ``now`` ends, in UTC."""
    # 36 h after the day began is always inside the next day, whatever the offsets.
    return start_of_local_day(start_of_local_day(now, timezone) + timedelta(hours=36), timezone)


def receive_scan(
    session: Session,
    *,
    text: str,
    centre_id: int,
    station_id: int | None,
    now: datetime,
    key: str,
) -> dict[str, Any]:
    """Read a scan; an ID card is kept pending (hashed number) for the kiosk's citizen.

    Returns what the kiosk page needs (docs/privacy.md, "The kiosk"): ``kind`` is
    ``id_card`` (``token``, ``full_name``, ``masked_number``, ``birth_year``),
    ``check_in`` (``code``) or ``unrecognised`` (``message``, ``message_en``).
    """
    purge(session, now)
    scan = read_scan(text)
    if isinstance(scan, CheckInCode):
        return {"kind": "check_in", "code": scan.code}
    if not isinstance(scan, IdCard):
        logger.info("kiosk station %s: unrecognised scan (%s)", station_id, scan.reason)
        return dict(_UNRECOGNISED)
    if station_id is not None:
        # A new card at this kiosk: the previous citizen's pending scan is not theirs.
        session.execute(
            delete(CitizenScan).where(
                CitizenScan.station_id == station_id, CitizenScan.ticket_id.is_(None)
            )
        )
    row = CitizenScan(
        token=secrets.token_urlsafe(16),
        centre_id=centre_id,
        station_id=station_id,
        id_hash=id_number_digest(scan.number, key),
        full_name=scan.full_name,
        birth_date=scan.birth_date,
        birth_year=scan.birth_year,
        address=scan.address or None,
        print_name=False,
        scanned_at=now,
        purge_after=now + timedelta(minutes=PENDING_MINUTES),
    )
    session.add(row)
    session.flush()
    return {
        "kind": "id_card",
        "token": row.token,
        "full_name": scan.full_name,
        "masked_number": scan.masked_number,
        "birth_year": scan.birth_year,
        "expires_in": PENDING_MINUTES * 60,
    }


def announce_scan(session: Session, station_id: int, payload: dict[str, Any]) -> None:
    """Send the scan's outcome to the kiosk page of the station (after commit)."""
    outbox(session).append(
        OutboxMessage(SCANNER_SCANNED, payload, (events.station_room(station_id),))
    )


def take_pending(
    session: Session, *, token: str, station_id: int | None, now: datetime
) -> CitizenScan | None:
    """The pending scan ``token`` read at this kiosk, if it is still pending; else None
    (expired, already linked, another kiosk's: the ticket is issued without it)."""
    if not token or station_id is None:
        return None
    row = session.execute(
        select(CitizenScan).where(
            CitizenScan.token == token,
            CitizenScan.ticket_id.is_(None),
            CitizenScan.purged_at.is_(None),
        )
    ).scalar_one_or_none()
    if row is None or row.station_id != station_id or _aware(row.purge_after) <= now:
        return None
    return row


def link(
    session: Session,
    scan: CitizenScan,
    *,
    ticket_id: int,
    print_name: bool,
    now: datetime,
    timezone: str,
) -> None:
    """Link a pending scan to the ticket it was read for; kept until the day ends."""
    scan.ticket_id = ticket_id
    scan.print_name = print_name
    scan.linked_at = now
    scan.purge_after = end_of_local_day(now, timezone)
    session.flush()


def decline(session: Session, *, token: str, station_id: int | None) -> bool:
    """The citizen said no: the pending scan is deleted at once. False if there was none."""
    if station_id is None:
        return False
    result = session.execute(
        delete(CitizenScan).where(
            CitizenScan.token == token,
            CitizenScan.station_id == station_id,
            CitizenScan.ticket_id.is_(None),
        )
    )
    return bool(result.rowcount)


def prefill_for_ticket(session: Session, ticket_id: int, now: datetime) -> dict[str, Any] | None:
    """The receipt fields read from the ID card linked to a ticket (None: none, or gone)."""
    row = session.execute(
        select(CitizenScan).where(
            CitizenScan.ticket_id == ticket_id, CitizenScan.purged_at.is_(None)
        )
    ).scalar_one_or_none()
    if row is None or row.full_name is None or _aware(row.purge_after) <= now:
        return None
    return {
        "ticket_id": ticket_id,
        "full_name": row.full_name,
        "birth_date": row.birth_date.isoformat() if row.birth_date else None,
        "birth_year": row.birth_year,
        "address": row.address,
    }


def prefill_for_counter(session: Session, counter: Counter, now: datetime) -> dict[str, Any]:
    """What the dossier desk of a counter may pre-fill: the ID card of its current ticket."""
    ticket = session.get(Ticket, counter.current_ticket_id) if counter.current_ticket_id else None
    prefill = prefill_for_ticket(session, ticket.id, now) if ticket is not None else None
    return {
        "counter_id": counter.id,
        "ticket_id": ticket.id if ticket is not None else None,
        "ticket_number": ticket.display_number if ticket is not None else None,
        "citizen": prefill,
    }


def dossier_received(session: Session, ticket_id: int | None, now: datetime) -> None:
    """The dossier of a ticket was received: what the ID card pre-filled is not needed."""
    if ticket_id is None:
        return
    row = session.execute(
        select(CitizenScan).where(
            CitizenScan.ticket_id == ticket_id, CitizenScan.purged_at.is_(None)
        )
    ).scalar_one_or_none()
    if row is not None:
        _clear(session, row, now)


def purge(session: Session, now: datetime) -> dict[str, int]:
    """Drop what is past its time: pending scans (deleted) and linked ones (personal fields
    cleared, the name taken out of the ticket's print job). Returns the counts."""
    due = list(
        session.execute(
            select(CitizenScan).where(
                CitizenScan.purge_after <= now, CitizenScan.purged_at.is_(None)
            )
        ).scalars()
    )
    counts = {"deleted": 0, "cleared": 0}
    for row in due:
        if row.ticket_id is None:
            session.delete(row)
            counts["deleted"] += 1
        else:
            _clear(session, row, now)
            counts["cleared"] += 1
    if due:
        session.flush()
        logger.info(
            "ID-card data purged: %d pending scan(s) deleted, %d cleared",
            counts["deleted"],
            counts["cleared"],
        )
    return counts


def _clear(session: Session, row: CitizenScan, now: datetime) -> None:
    row.full_name = row.birth_date = row.birth_year = row.address = None
    row.purged_at = now
    row.purge_after = None
    if row.print_name and row.ticket_id is not None:
        for job in session.execute(
            select(PrintJob).where(PrintJob.ticket_id == row.ticket_id)
        ).scalars():
            if isinstance(job.payload, dict) and "citizen_name" in job.payload:
                job.payload = {k: v for k, v in job.payload.items() if k != "citizen_name"}


def centre_timezone(session: Session, centre_id: int) -> str:
    centre = session.get(Centre, centre_id)
    return centre.timezone if centre is not None else "Asia/Ho_Chi_Minh"


def _aware(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.max.replace(tzinfo=UTC)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
