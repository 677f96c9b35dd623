"""Feedback and petitions (phản ánh, kiến nghị): receive from the kiosk or the web, and
the supervisor's workflow received → assigned → answered → closed, with a due date in
working days and an overdue list. Also the follow-up case a lowest rating opens.

Contact details are kept only with the citizen's explicit consent. Nothing personal (name,
phone, e-mail, the text of the complaint) is ever logged: log lines name the reference.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.domain.clock import local_day, to_local
from server.domain.errors import InvalidRequest, NotFound
from server.domain.feedback import (
    OPEN,
    STATUS_LABELS,
    FeedbackAbout,
    FeedbackAction,
    FeedbackStatus,
    allowed_actions,
    next_status,
)
from server.models import Centre, Counter, Feedback, FeedbackEvent, Procedure, Ticket, User
from server.services.calendar import working_calendar
from server.services.views import iso

logger = logging.getLogger(__name__)

DEFAULT_WORKING_DAYS = 10
SOURCES = ("kiosk", "web", "rating", "staff")
_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


@dataclass(frozen=True)
class Contact:
    name: str | None = None
    phone: str | None = None
    email: str | None = None

    def any(self) -> bool:
        return any((self.name, self.phone, self.email))


def _reference() -> str:
    return "PA-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))


def feedback_working_days(centre: Centre) -> int:
    """Working days to answer (settings["feedback_working_days"], default 10)."""
    value = (centre.settings or {}).get("feedback_working_days", DEFAULT_WORKING_DAYS)
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return DEFAULT_WORKING_DAYS


def _clean(value: str | None, limit: int) -> str | None:
    value = (value or "").strip()
    return value[:limit] or None


def submit_feedback(
    session: Session,
    *,
    centre_id: int,
    about: str,
    content: str,
    source: str,
    now: datetime,
    consent: bool = False,
    contact: Contact | None = None,
    procedure_id: int | None = None,
    staff_id: int | None = None,
    counter_id: int | None = None,
    ticket_id: int | None = None,
    staff_description: str = "",
    rating_id: int | None = None,
) -> Feedback:
    """Record a case; its due date is `feedback_working_days` after receipt.

    Without `consent`, contact details are discarded here, whatever the caller sent.
    """
    centre = session.get(Centre, centre_id)
    if centre is None:
        raise NotFound(f"Không tìm thấy trung tâm số {centre_id}.", f"centre {centre_id} not found")
    if about not in {a.value for a in FeedbackAbout}:
        raise InvalidRequest("Loại phản ánh không hợp lệ.", f"unknown subject {about!r}")
    if source not in SOURCES:
        raise InvalidRequest("Nguồn phản ánh không hợp lệ.", f"unknown source {source!r}")
    content = (content or "").strip()
    if len(content) < 5:
        raise InvalidRequest(
            "Vui lòng ghi nội dung phản ánh, kiến nghị (ít nhất 5 ký tự).",
            "content is required (at least 5 characters)",
        )
    _check_belongs(session, centre_id, Procedure, procedure_id, "thủ tục", "procedure")
    _check_belongs(session, centre_id, Counter, counter_id, "quầy", "counter")
    _check_belongs(session, centre_id, Ticket, ticket_id, "phiếu", "ticket")
    if staff_id is not None:
        staff = session.get(User, staff_id)
        if staff is None or staff.centre_id not in (None, centre_id):
            raise InvalidRequest("Cán bộ không hợp lệ.", f"staff {staff_id} not in this centre")
    contact = contact or Contact()
    if not consent and contact.any():
        logger.info("feedback contact details discarded: no consent given")
        contact = Contact()
    calendar = working_calendar(session)
    received_local = to_local(now, centre.timezone)
    case = Feedback(
        centre_id=centre_id,
        reference=_reference(),
        about=about,
        source=source,
        content=content[:5000],
        procedure_id=procedure_id,
        staff_id=staff_id,
        counter_id=counter_id,
        ticket_id=ticket_id,
        rating_id=rating_id,
        staff_description=(staff_description or "").strip()[:300],
        contact_consent=bool(consent),
        contact_name=_clean(contact.name, 200) if consent else None,
        contact_phone=_clean(contact.phone, 30) if consent else None,
        contact_email=_clean(contact.email, 200) if consent else None,
        status=FeedbackStatus.RECEIVED.value,
        received_at=now,
        due_date=calendar.add_working_days(received_local, feedback_working_days(centre)),
    )
    session.add(case)
    session.flush()
    _record(session, case, "receive", None, now, f"{source}", "")
    logger.info("feedback %s received (about=%s, source=%s)", case.reference, about, source)
    return case


def _check_belongs(
    session: Session, centre_id: int, model: type, ident: int | None, vi: str, en: str
) -> None:
    if ident is None:
        return
    row = session.get(model, ident)
    if row is None or row.centre_id != centre_id:
        raise InvalidRequest(f"{vi.capitalize()} không hợp lệ.", f"{en} {ident} not in this centre")


def _record(
    session: Session,
    case: Feedback,
    action: str,
    before: str | None,
    now: datetime,
    actor: str,
    note: str,
) -> None:
    session.add(
        FeedbackEvent(
            feedback_id=case.id,
            at=now,
            action=action,
            from_status=before,
            to_status=case.status,
            actor=actor[:80],
            note=note,
        )
    )


def get_feedback(session: Session, feedback_id: int) -> Feedback:
    case = session.get(Feedback, feedback_id)
    if case is None:
        raise NotFound(
            f"Không tìm thấy phản ánh số {feedback_id}.", f"feedback {feedback_id} not found"
        )
    return case


def _transition(
    session: Session, case: Feedback, action: FeedbackAction, now: datetime, actor: str, note: str
) -> str:
    before = case.status
    case.status = next_status(FeedbackStatus(before), action).value
    _record(session, case, action.value, before, now, actor, note)
    logger.info("feedback %s: %s -> %s by %s", case.reference, before, case.status, actor)
    return before


def assign(
    session: Session,
    *,
    feedback_id: int,
    assignee_id: int,
    now: datetime,
    actor: str,
    note: str = "",
) -> Feedback:
    """Give the case to a civil servant of the centre (again, to re-assign)."""
    case = get_feedback(session, feedback_id)
    assignee = session.get(User, assignee_id)
    if assignee is None or not assignee.active or assignee.centre_id not in (None, case.centre_id):
        raise InvalidRequest(
            "Người được giao xử lý không hợp lệ.", f"user {assignee_id} cannot handle this case"
        )
    _transition(session, case, FeedbackAction.ASSIGN, now, actor, note or assignee.username)
    case.assignee_id = assignee.id
    case.assigned_at = now
    return case


def answer(session: Session, *, feedback_id: int, text: str, now: datetime, actor: str) -> Feedback:
    """The answer given to the citizen (by phone/e-mail if they left contact details)."""
    case = get_feedback(session, feedback_id)
    text = (text or "").strip()
    if not text:
        raise InvalidRequest("Vui lòng nhập nội dung trả lời.", "the answer is empty")
    _transition(session, case, FeedbackAction.ANSWER, now, actor, "")
    case.answer = text[:5000]
    case.answered_at = now
    return case


def close(
    session: Session, *, feedback_id: int, now: datetime, actor: str, note: str = ""
) -> Feedback:
    case = get_feedback(session, feedback_id)
    _transition(session, case, FeedbackAction.CLOSE, now, actor, note)
    case.closed_at = now
    return case


def list_feedback(
    session: Session,
    centre_id: int,
    *,
    status: str | None = None,
    overdue_on: date | None = None,
    limit: int = 500,
) -> list[Feedback]:
    """Cases of a centre, oldest due first; `overdue_on` keeps the unanswered ones whose
    due date is before that day."""
    stmt = select(Feedback).where(Feedback.centre_id == centre_id)
    if status:
        stmt = stmt.where(Feedback.status == status)
    if overdue_on is not None:
        stmt = stmt.where(
            Feedback.status.in_([s.value for s in OPEN]), Feedback.due_date < overdue_on
        )
    stmt = stmt.order_by(Feedback.due_date, Feedback.id).limit(limit)
    return list(session.execute(stmt).scalars())


def is_overdue(case: Feedback, today: date) -> bool:
    return FeedbackStatus(case.status) in OPEN and case.due_date < today


def feedback_view(
    case: Feedback, *, today: date, timezone: str, with_contact: bool = True
) -> dict[str, Any]:
    """The case for the supervisor; `with_contact=False` for anything public."""

    def local(moment: datetime | None) -> str | None:
        return iso(moment and to_local(moment, timezone))

    view = {
        "id": case.id,
        "reference": case.reference,
        "centre_id": case.centre_id,
        "about": case.about,
        "source": case.source,
        "content": case.content,
        "procedure_id": case.procedure_id,
        "procedure_name": case.procedure.name if case.procedure else None,
        "staff_id": case.staff_id,
        "counter_id": case.counter_id,
        "ticket_id": case.ticket_id,
        "rating_id": case.rating_id,
        "staff_description": case.staff_description,
        "contact_consent": case.contact_consent,
        "status": case.status,
        "status_label": STATUS_LABELS[FeedbackStatus(case.status)],
        "assignee_id": case.assignee_id,
        "answer": case.answer,
        "received_at": local(case.received_at),
        "due_date": case.due_date.isoformat(),
        "overdue": is_overdue(case, today),
        "assigned_at": local(case.assigned_at),
        "answered_at": local(case.answered_at),
        "closed_at": local(case.closed_at),
        "allowed_actions": [a.value for a in allowed_actions(FeedbackStatus(case.status))],
    }
    if with_contact:
        view["contact"] = {
            "name": case.contact_name,
            "phone": case.contact_phone,
            "email": case.contact_email,
        }
        view["events"] = [
            {
                "at": local(e.at),
                "action": e.action,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "actor": e.actor,
                "note": e.note,
            }
            for e in case.events
        ]
    return view


def today_for(centre: Centre, now: datetime) -> date:
    return local_day(now, centre.timezone)


# --- ratings --------------------------------------------------------------------------


def open_case_for_low_rating(
    session: Session, rating: Any, *, now: datetime | None = None
) -> Feedback | None:
    """Open a follow-up case for a rating at the lowest level of its scale.

    Call it from the ratings service, in the same transaction, when the rating it just
    recorded is at the lowest level (e.g. on `rating.recorded`). It reads these attributes
    of `rating` (missing ones are taken from the ticket when possible): `id`, `centre_id`,
    `ticket_id`, `counter_id`, `staff_id`, and the time `now` (else `pressed_at`,
    `received_at`, `recorded_at`, `created_at` or `at`). Idempotent: a second call for the same rating returns the existing case.
    """
    rating_id = getattr(rating, "id", None)
    if rating_id is not None:
        existing = session.execute(
            select(Feedback).where(Feedback.rating_id == rating_id)
        ).scalar_one_or_none()
        if existing is not None:
            return existing
    ticket_id = getattr(rating, "ticket_id", None)
    ticket = session.get(Ticket, ticket_id) if ticket_id is not None else None
    centre_id = getattr(rating, "centre_id", None) or (ticket.centre_id if ticket else None)
    if centre_id is None:
        logger.warning("low rating %s: no centre known, no follow-up case opened", rating_id)
        return None
    counter_id = getattr(rating, "counter_id", None) or (ticket.counter_id if ticket else None)
    staff_id = getattr(rating, "staff_id", None) or (ticket.staff_id if ticket else None)
    moment = now or next(
        (
            value
            for name in ("pressed_at", "received_at", "recorded_at", "created_at", "at")
            if (value := getattr(rating, name, None)) is not None
        ),
        None,
    )
    if moment is None:
        from server.domain.clock import utcnow

        moment = utcnow()
    counter = session.get(Counter, counter_id) if counter_id else None
    parts = ["Công dân đánh giá ở mức thấp nhất (Rất không hài lòng)"]
    if ticket is not None:
        parts.append(f"phiếu số {ticket.display_number}")
    if counter is not None:
        parts.append(counter.label)
    content = ", ".join(parts) + ". Cần liên hệ, làm rõ nguyên nhân."
    case = submit_feedback(
        session,
        centre_id=centre_id,
        about=FeedbackAbout.STAFF.value,
        content=content,
        source="rating",
        now=moment,
        staff_id=staff_id,
        counter_id=counter_id,
        ticket_id=ticket.id if ticket else None,
        rating_id=rating_id,
    )
    return case
