"""Dossiers (hồ sơ) to their due date: receive at the counter with an appointment in
working days, number them `<unit code>-YYMMDD-NNNN`, move them through their hand-offs
(the control slip), classify early / on time / late, list the overdue and due-soon ones,
and record the apology for a late one.

Like the ticket operations: each function takes a session and `now`, never commits, and
logs no personal data (dossier codes and ids only).
"""

from __future__ import annotations

import hmac
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from server.domain.actors import Actor
from server.domain.calendar import WorkingCalendar
from server.domain.clock import local_day, to_local
from server.domain.dossiers import (
    FINAL,
    IN_PROGRESS,
    STATUS_LABELS,
    TIMING_LABELS,
    DossierAction,
    DossierStatus,
    allowed_actions,
    format_dossier_code,
    next_status,
)
from server.domain.errors import InvalidRequest, NotFound
from server.models import (
    Centre,
    Counter,
    Dossier,
    DossierHandoff,
    DossierSequence,
    Procedure,
    Ticket,
)
from server.services import printing
from server.services.calendar import centre_cutoff, parse_cutoff, working_calendar
from server.services.views import iso

logger = logging.getLogger(__name__)

RECEPTION = "Bộ phận tiếp nhận và trả kết quả"
DEFAULT_RETURN_TIME = time(8, 0)
DEFAULT_SAME_DAY_RETURN_TIME = time(16, 30)
#: What a scanner or a person may type: the code, or a URL ending in it.
_CODE_CHARS = re.compile(r"[^A-Za-z0-9.\-]")


@dataclass(frozen=True)
class Handler:
    """The person acting (for the control slip): display name and audit actor."""

    actor: Actor
    display_name: str


def unit_code(centre: Centre) -> str:
    """The centre's identification code in dossier codes (settings["dossier_unit_code"])."""
    return str((centre.settings or {}).get("dossier_unit_code") or centre.code)


def _next_number(session: Session, centre_id: int, day: date) -> int:
    """Bump the (centre, day) row inside this transaction: concurrent receipts wait for
    each other's commit (row lock on PostgreSQL, the write lock on SQLite)."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(DossierSequence)
        .values(centre_id=centre_id, day=day, last_number=0)
        .on_conflict_do_nothing()
    )
    return session.execute(
        update(DossierSequence)
        .where(DossierSequence.centre_id == centre_id, DossierSequence.day == day)
        .values(last_number=DossierSequence.last_number + 1)
        .returning(DossierSequence.last_number)
        .execution_options(synchronize_session=False)
    ).scalar_one()


def _setting_time(centre: Centre, key: str, default: time) -> time:
    value = (centre.settings or {}).get(key)
    try:
        return parse_cutoff(value) or default
    except Exception:  # a broken setting must not stop the counter
        return default


def appointment(
    calendar: WorkingCalendar,
    centre: Centre,
    received_local: datetime,
    working_days: int,
    cutoff: time | None,
) -> tuple[date, datetime]:
    """The appointment day by the working calendar, and the time written on the slip.

    Same-day procedures are promised at `same_day_return_time` (16:30) of the due day, or
    30 minutes after receipt when that is later; others at `dossier_return_time` (08:00).
    """
    due = calendar.add_working_days(received_local, working_days, cutoff)
    tz = ZoneInfo(centre.timezone)
    if working_days == 0:
        same_day = _setting_time(centre, "same_day_return_time", DEFAULT_SAME_DAY_RETURN_TIME)
        at = datetime.combine(due, same_day, tz)
        if due == received_local.date():
            soonest = received_local + timedelta(minutes=30)
            soonest = soonest.replace(
                minute=soonest.minute - soonest.minute % 5, second=0, microsecond=0
            )
            at = max(at, soonest.astimezone(tz))
    else:
        usual = _setting_time(centre, "dossier_return_time", DEFAULT_RETURN_TIME)
        at = datetime.combine(due, usual, tz)
    return due, at


def _papers(papers: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    cleaned = []
    for paper in papers or []:
        name = str(paper.get("name", "")).strip()
        if not name:
            continue
        cleaned.append(
            {
                "name": name[:300],
                "originals": max(0, int(paper.get("originals", 0) or 0)),
                "copies": max(0, int(paper.get("copies", 0) or 0)),
            }
        )
    return cleaned


def receive_dossier(
    session: Session,
    *,
    procedure_id: int,
    applicant_name: str,
    now: datetime,
    handler: Handler,
    applicant_phone: str | None = None,
    papers_received: list[dict[str, Any]] | None = None,
    request: str = "",
    notes: str = "",
    counter_id: int | None = None,
    ticket_id: int | None = None,
    applicant_birth_date: date | None = None,
    applicant_address: str | None = None,
) -> Dossier:
    """Record a dossier received at the counter; compute its code and appointment.

    The applicant's date of birth and address are optional (the desk pre-fills them from
    the ID card read at the kiosk for `ticket_id`, which is then cleared: docs/privacy.md).

    When the counter is bound to a station with a printer, the receipt slip is queued
    for it (a print job, sent to the station's agent after commit).
    """
    procedure = session.get(Procedure, procedure_id)
    if procedure is None:
        raise NotFound(
            f"Không tìm thấy thủ tục số {procedure_id}.", f"procedure {procedure_id} not found"
        )
    if not procedure.active:
        raise InvalidRequest(
            f"Thủ tục «{procedure.name}» hiện không tiếp nhận.", "procedure is inactive"
        )
    applicant_name = (applicant_name or "").strip()
    if not applicant_name:
        raise InvalidRequest("Vui lòng nhập tên người nộp hồ sơ.", "applicant_name is required")
    centre = session.get(Centre, procedure.centre_id)
    if counter_id is not None:
        counter = session.get(Counter, counter_id)
        if counter is None or counter.centre_id != centre.id:
            raise InvalidRequest("Quầy không hợp lệ.", f"counter {counter_id} not in this centre")
    if ticket_id is not None:
        # The ticket links the dossier to the citizen served (and clears the ID card read
        # for that ticket): it must be this centre's.
        ticket_centre = session.execute(
            select(Ticket.centre_id).where(Ticket.id == ticket_id)
        ).scalar_one_or_none()
        if ticket_centre != centre.id:
            raise InvalidRequest(
                "Số thứ tự không thuộc trung tâm này.", f"ticket {ticket_id} not in this centre"
            )
    calendar = working_calendar(session)
    received_local = to_local(now, centre.timezone)
    days = 0 if procedure.same_day else procedure.processing_days
    cutoff = centre_cutoff(centre.settings) if procedure.cutoff_15h else None
    due, appointment_at = appointment(calendar, centre, received_local, days, cutoff)
    day = received_local.date()
    number = _next_number(session, centre.id, day)
    dossier = Dossier(
        centre_id=centre.id,
        code=format_dossier_code(unit_code(centre), day, number),
        procedure_id=procedure.id,
        applicant_name=applicant_name[:200],
        applicant_phone=(applicant_phone or "").strip()[:30] or None,
        applicant_birth_date=applicant_birth_date,
        applicant_address=(applicant_address or "").strip()[:300] or None,
        request=(request or procedure.name).strip()[:500],
        papers_received=_papers(papers_received),
        notes=(notes or "").strip(),
        counter_id=counter_id,
        ticket_id=ticket_id,
        received_by_id=handler.actor.staff_id,
        received_at=now,
        working_days=days,
        cutoff_applied=cutoff is not None,
        due_date=due,
        appointment_at=appointment_at,
        status=DossierStatus.RECEIVED.value,
    )
    session.add(dossier)
    session.flush()
    _handoff(
        session,
        dossier,
        "receive",
        None,
        now,
        handler,
        giver=dossier.applicant_name,
        receiver=f"{handler.display_name} ({RECEPTION})",
        note="",
        calendar=calendar,
    )
    logger.info("dossier %s received, due %s", dossier.code, due.isoformat())
    station = printing.slip_station(session, counter_id)
    if station is not None:  # the slip comes out of the counter's printer after commit
        printing.create_slip_job(session, dossier, station, now=now)
    return dossier


def _handoff(
    session: Session,
    dossier: Dossier,
    action: str,
    before: str | None,
    now: datetime,
    handler: Handler,
    *,
    giver: str,
    receiver: str,
    note: str,
    calendar: WorkingCalendar,
) -> DossierHandoff:
    row = DossierHandoff(
        dossier_id=dossier.id,
        at=now,
        action=action,
        from_status=before,
        to_status=dossier.status,
        giver=giver[:300],
        receiver=receiver[:300],
        actor=handler.actor.name[:80],
        note=note,
        timing=calendar.classify_return(dossier.due_date, to_local(now, dossier.centre.timezone)),
    )
    session.add(row)
    dossier.handoffs.append(row)
    return row


def get_dossier(session: Session, dossier_id: int) -> Dossier:
    dossier = session.get(Dossier, dossier_id)
    if dossier is None:
        raise NotFound(f"Không tìm thấy hồ sơ số {dossier_id}.", f"dossier {dossier_id} not found")
    return dossier


def normalise_code(raw: str) -> str:
    """What a barcode scanner or a person typed → a dossier code: the last path segment
    of a URL, spaces and stray characters dropped, letters upper-cased."""
    text = (raw or "").strip().rstrip("/")
    if "/" in text:
        text = text.rsplit("/", 1)[1]
    return _CODE_CHARS.sub("", text).upper()


_SHORT_CODE = re.compile(r"^\d{6}-\d{4,}$")


def find_by_code(session: Session, raw: str, *, centre_id: int | None = None) -> Dossier:
    """The dossier with this code. The short form `YYMMDD-NNNN` (what is quick to type on
    a touchscreen) is accepted when it names exactly one dossier (of `centre_id`, if given)."""
    code = normalise_code(raw)
    dossier = None
    if code:
        dossier = session.execute(select(Dossier).where(Dossier.code == code)).scalar_one_or_none()
    if dossier is None and _SHORT_CODE.match(code):
        stmt = select(Dossier).where(Dossier.code.like(f"%-{code}"))
        if centre_id is not None:
            stmt = stmt.where(Dossier.centre_id == centre_id)
        matches = session.execute(stmt.limit(2)).scalars().all()
        dossier = matches[0] if len(matches) == 1 else None
    if dossier is None:
        raise NotFound(
            "Không tìm thấy hồ sơ với mã này. Quý khách vui lòng kiểm tra lại mã trên giấy hẹn.",
            "no dossier with this code",
        )
    return dossier


def transition(
    session: Session,
    *,
    dossier_id: int,
    action: DossierAction,
    now: datetime,
    handler: Handler,
    giver: str | None = None,
    receiver: str | None = None,
    note: str = "",
) -> Dossier:
    """One hand-off. `giver`/`receiver` default to who usually hands over at that step;
    a supplement request and a refusal need a reason (`note`)."""
    dossier = get_dossier(session, dossier_id)
    session.refresh(dossier, with_for_update=True)
    before = DossierStatus(dossier.status)
    after = next_status(before, action)
    note = (note or "").strip()
    if action in (DossierAction.REQUEST_SUPPLEMENT, DossierAction.REFUSE) and not note:
        raise InvalidRequest(
            "Vui lòng ghi rõ lý do (giấy tờ cần bổ sung / lý do không giải quyết).",
            "a reason (note) is required",
        )
    calendar = working_calendar(session)
    procedure = dossier.procedure
    staff = f"{handler.display_name} ({RECEPTION})"
    agency = dossier.forwarded_to or procedure.agency or "Cơ quan giải quyết"
    local_now = to_local(now, dossier.centre.timezone)
    if action is DossierAction.FORWARD:
        default_giver, default_receiver = staff, procedure.agency or "Cơ quan giải quyết"
        dossier.forwarded_to = (receiver or default_receiver)[:300]
    elif action is DossierAction.REQUEST_SUPPLEMENT:
        default_giver = agency if before is DossierStatus.FORWARDED else staff
        default_receiver = dossier.applicant_name
        dossier.status_reason = note
    elif action is DossierAction.SUPPLEMENT:
        default_giver, default_receiver = dossier.applicant_name, staff
        # The time restarts from the day the complete dossier is received.
        cutoff = centre_cutoff(dossier.centre.settings) if dossier.cutoff_applied else None
        dossier.due_date, dossier.appointment_at = appointment(
            calendar, dossier.centre, local_now, dossier.working_days, cutoff
        )
        dossier.status_reason = ""
        dossier.new_due_date = None
    elif action is DossierAction.RESULT_READY:
        default_giver, default_receiver = agency, staff
        dossier.result_ready_at = now
        _classify_result(dossier, calendar, local_now)
    elif action is DossierAction.REFUSE:
        default_giver = agency if before is DossierStatus.FORWARDED else staff
        default_receiver = staff if before is DossierStatus.FORWARDED else dossier.applicant_name
        dossier.status_reason = note
        dossier.result_ready_at = now
        _classify_result(dossier, calendar, local_now)
    else:  # RETURN
        default_giver, default_receiver = staff, dossier.applicant_name
        dossier.returned_at = now
    dossier.status = after.value
    _handoff(
        session,
        dossier,
        action.value,
        before.value,
        now,
        handler,
        giver=giver or default_giver,
        receiver=receiver or default_receiver,
        note=note,
        calendar=calendar,
    )
    session.flush()
    logger.info("dossier %s: %s -> %s", dossier.code, before.value, after.value)
    return dossier


def _classify_result(dossier: Dossier, calendar: WorkingCalendar, local_now: datetime) -> None:
    dossier.result_timing = calendar.classify_return(dossier.due_date, local_now)
    dossier.late_working_days = (
        max(0, calendar.working_days_between(dossier.due_date, local_now.date()))
        if dossier.result_timing == "late"
        else 0
    )


def record_apology(
    session: Session,
    *,
    dossier_id: int,
    reason: str,
    new_due_date: date,
    now: datetime,
    handler: Handler,
) -> Dossier:
    """The apology for a dossier that is (or will be) late: reason and the new date
    (a working day after the original one). Printed as a letter to the citizen."""
    dossier = get_dossier(session, dossier_id)
    if DossierStatus(dossier.status) in FINAL:
        raise InvalidRequest(
            "Hồ sơ đã kết thúc, không thể gửi thư xin lỗi hẹn lại.", "the dossier is closed"
        )
    reason = (reason or "").strip()
    if not reason:
        raise InvalidRequest("Vui lòng ghi lý do chậm trễ.", "a reason is required")
    calendar = working_calendar(session)
    if new_due_date <= dossier.due_date:
        raise InvalidRequest(
            "Ngày hẹn mới phải sau ngày hẹn trả kết quả ban đầu.",
            "new_due_date must be after the original due date",
        )
    if not calendar.is_working_day(new_due_date):
        raise InvalidRequest(
            "Ngày hẹn mới phải là ngày làm việc.", "new_due_date must be a working day"
        )
    dossier.apology_reason = reason[:2000]
    dossier.new_due_date = new_due_date
    dossier.apology_at = now
    _handoff(
        session,
        dossier,
        "apology",
        dossier.status,
        now,
        handler,
        giver=f"{handler.display_name} ({RECEPTION})",
        receiver=dossier.applicant_name,
        note=f"Hẹn lại ngày {new_due_date:%d/%m/%Y}",
        calendar=calendar,
    )
    session.flush()
    logger.info("dossier %s: apology, new date %s", dossier.code, new_due_date.isoformat())
    return dossier


def overdue_dossiers(session: Session, centre_id: int, today: date) -> list[Dossier]:
    """Being processed and past the appointment day, oldest due first."""
    return list(
        session.execute(
            select(Dossier)
            .where(
                Dossier.centre_id == centre_id,
                Dossier.status.in_([s.value for s in IN_PROGRESS]),
                Dossier.due_date < today,
            )
            .order_by(Dossier.due_date, Dossier.id)
        ).scalars()
    )


def due_soon_dossiers(
    session: Session, centre_id: int, today: date, within_working_days: int = 1
) -> list[Dossier]:
    """Being processed and due today or within the next `within_working_days` working days."""
    calendar = working_calendar(session)
    horizon = (
        calendar.add_working_days(today, within_working_days) if within_working_days else today
    )
    return list(
        session.execute(
            select(Dossier)
            .where(
                Dossier.centre_id == centre_id,
                Dossier.status.in_([s.value for s in IN_PROGRESS]),
                Dossier.due_date >= today,
                Dossier.due_date <= horizon,
            )
            .order_by(Dossier.due_date, Dossier.id)
        ).scalars()
    )


def list_dossiers(
    session: Session, centre_id: int, *, status: str | None = None, limit: int = 200
) -> list[Dossier]:
    stmt = select(Dossier).where(Dossier.centre_id == centre_id)
    if status:
        stmt = stmt.where(Dossier.status == status)
    return list(session.execute(stmt.order_by(Dossier.id.desc()).limit(limit)).scalars())


def is_overdue(dossier: Dossier, today: date) -> bool:
    return DossierStatus(dossier.status) in IN_PROGRESS and dossier.due_date < today


#: What the public lookup shows only to whoever gives the phone's last digits.
PUBLIC_PERSONAL_FIELDS = frozenset(
    {"applicant", "procedure_id", "procedure_code", "procedure_name", "request", "status_reason"}
)


def phone_matches(dossier: Dossier, last4: str | None) -> bool:
    """The second factor of the public lookup: the last 4 digits of the applicant's phone.
    A dossier recorded without a phone has no factor to ask for."""
    digits = "".join(c for c in dossier.applicant_phone or "" if c.isdigit())
    if len(digits) < 4:
        return True
    return last4 is not None and hmac.compare_digest(digits[-4:], last4)


def dossier_view(dossier: Dossier, *, today: date, public: bool = False) -> dict[str, Any]:
    """The dossier as JSON. `public=True` is what the kiosk may show to whoever holds the
    code: status and dates, no phone number, the applicant's name shortened."""
    tz = dossier.centre.timezone
    status = DossierStatus(dossier.status)

    def local(moment: datetime | None) -> str | None:
        return iso(moment and to_local(moment, tz))

    view: dict[str, Any] = {
        "id": dossier.id,
        "code": dossier.code,
        "centre_id": dossier.centre_id,
        "procedure_id": dossier.procedure_id,
        "procedure_code": dossier.procedure.code,
        "procedure_name": dossier.procedure.name,
        "request": dossier.request,
        "status": status.value,
        "status_label": STATUS_LABELS[status][0],
        "status_label_en": STATUS_LABELS[status][1],
        "received_at": local(dossier.received_at),
        "due_date": dossier.due_date.isoformat(),
        "appointment_at": local(dossier.appointment_at),
        "new_due_date": dossier.new_due_date.isoformat() if dossier.new_due_date else None,
        "result_place": dossier.procedure.result_place,
        "overdue": is_overdue(dossier, today),
        "result_ready": status is DossierStatus.RESULT_READY,
        "result_timing": dossier.result_timing,
    }
    if public:
        view["applicant"] = mask_name(dossier.applicant_name)
        view["status_reason"] = (
            dossier.status_reason if status is DossierStatus.SUPPLEMENT_REQUESTED else ""
        )
        return view
    view.update(
        applicant_name=dossier.applicant_name,
        applicant_phone=dossier.applicant_phone,
        applicant_birth_date=(
            dossier.applicant_birth_date.isoformat() if dossier.applicant_birth_date else None
        ),
        applicant_address=dossier.applicant_address,
        papers_received=list(dossier.papers_received or []),
        notes=dossier.notes,
        counter_id=dossier.counter_id,
        ticket_id=dossier.ticket_id,
        received_by_id=dossier.received_by_id,
        working_days=dossier.working_days,
        cutoff_applied=dossier.cutoff_applied,
        status_reason=dossier.status_reason,
        forwarded_to=dossier.forwarded_to,
        result_ready_at=local(dossier.result_ready_at),
        returned_at=local(dossier.returned_at),
        result_timing_label=TIMING_LABELS.get(dossier.result_timing or ""),
        late_working_days=dossier.late_working_days,
        apology_reason=dossier.apology_reason,
        apology_at=local(dossier.apology_at),
        allowed_actions=[a.value for a in allowed_actions(status)],
        handoffs=[
            {
                "at": local(h.at),
                "action": h.action,
                "from_status": h.from_status,
                "to_status": h.to_status,
                "giver": h.giver,
                "receiver": h.receiver,
                "actor": h.actor,
                "note": h.note,
                "timing": h.timing,
                "timing_label": TIMING_LABELS[h.timing],
            }
            for h in dossier.handoffs
        ],
    )
    return view


def mask_name(name: str) -> str:
    """ "Nguyễn Văn An" → "Nguyễn V. A.": enough to recognise one's own dossier."""
    parts = name.split()
    if len(parts) <= 1:
        return (name[:1] + "***") if name else ""
    return " ".join([parts[0], *(p[0] + "." for p in parts[1:])])


def today_at(centre: Centre, now: datetime) -> date:
    return local_day(now, centre.timezone)
