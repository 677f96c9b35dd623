"""The working calendar: dossier due dates, and the administrator's yearly schedules."""

from __future__ import annotations

from datetime import datetime

from flask import request
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import fields, validate

from server.api.schemas import BaseSchema
from server.api.security import require_user
from server.domain.calendar import to_local
from server.domain.clock import utcnow
from server.domain.errors import InvalidRequest, NotFound
from server.models import Role
from server.runtime import db, now
from server.services import calendar as ops

blp = Blueprint("calendar", __name__, description="Working calendar (lịch làm việc)")


class DueDateQuery(BaseSchema):
    received_at = fields.String(
        required=True,
        metadata={
            "description": "ISO local date-time in Asia/Ho_Chi_Minh, e.g. "
            "2026-11-25T09:30 (an offset, if given, is converted)"
        },
    )
    working_days = fields.Integer(
        required=True,
        validate=validate.Range(min=0, max=365),
        metadata={"description": "Legal processing time in working days (0 = same day)"},
    )
    cutoff = fields.String(
        load_default=None,
        metadata={"description": "HH:MM; received at/after it counts from the next working day"},
    )


class DueDateOut(BaseSchema):
    due_date = fields.String(metadata={"description": "YYYY-MM-DD, the appointment day"})
    received_at = fields.String()
    deemed_receipt_day = fields.String(metadata={"description": "The day counted as receipt"})
    working_days = fields.Integer()
    cutoff = fields.String(allow_none=True)
    weekday = fields.Integer(metadata={"description": "ISO weekday of due_date (1 = Monday)"})


def parse_local_datetime(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidRequest(
            f"Thời điểm nhận «{value}» không hợp lệ: dùng dạng 2026-11-25T09:30.",
            f"received_at {value!r} is not an ISO date-time such as 2026-11-25T09:30",
        ) from None
    if not 1900 < moment.year < 2100:
        raise InvalidRequest("Năm ngoài phạm vi lịch (1901–2099).", "year out of range")
    return to_local(moment)


@blp.route("/calendar/due-date")
class DueDateView(MethodView):
    @blp.arguments(DueDateQuery, location="query")
    @blp.response(200, DueDateOut)
    @blp.alt_response(422, description="Bad date-time, working_days or cutoff")
    def get(self, args: dict) -> dict:
        """The appointment day of a dossier received at `received_at` with a legal time of
        `working_days` working days: the day of receipt is not counted (Civil Code Art.
        147), weekends, holidays and official days off are skipped, make-up Saturdays are
        counted; with `cutoff`, a dossier received at/after it counts from the next working
        day. See docs/calendar.md."""
        received = parse_local_datetime(args["received_at"])
        cutoff = ops.parse_cutoff(args["cutoff"])
        calendar = ops.working_calendar(db().session)
        due = calendar.add_working_days(received, args["working_days"], cutoff)
        return {
            "due_date": due.isoformat(),
            "received_at": received.replace(tzinfo=None).isoformat(timespec="minutes"),
            "deemed_receipt_day": calendar.deemed_receipt_day(received, cutoff).isoformat(),
            "working_days": args["working_days"],
            "cutoff": cutoff.strftime("%H:%M") if cutoff else None,
            "weekday": due.isoweekday(),
        }


def _check_year(year: int) -> None:
    if not 1900 <= year <= 2100:
        raise InvalidRequest("Năm phải trong khoảng 1900–2100.", "year must be 1900–2100")


@blp.route("/calendar/years/<int:year>")
class YearView(MethodView):
    @blp.response(200)
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    @require_user(Role.ADMIN)
    def get(self, year: int) -> dict:
        """The schedule in force for `year` in the format of calendar_data/vn_YYYY.toml
        (as JSON), plus `source`: database | shipped | generated. PUT accepts it back."""
        _check_year(year)
        schedule, source = ops.year_schedule(db().session, year)
        return {**schedule.to_dict(), "source": source}

    @blp.response(200)
    @blp.alt_response(422, description="Invalid schedule (CalendarDataError message)")
    @blp.doc(
        security=[{"bearer": []}, {"cookie": []}],
        requestBody={
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
            "description": "year, status, notes, sources, days_off[], make_up_working_days[] "
            "(docs/calendar.md); replaces the whole year",
        },
    )
    @require_user(Role.ADMIN)
    def put(self, year: int) -> dict:
        """Replace the schedule of `year` (admin). Validated like the TOML files."""
        _check_year(year)
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise ops.InvalidCalendarData(
                "Cần một đối tượng JSON theo định dạng lịch năm.", "send a JSON object"
            )
        data.pop("source", None)
        session = db().session
        schedule = ops.save_year_schedule(
            session, year, data, now=now(), actor=f"user:{current_user.username}"
        )
        session.commit()
        return {**schedule.to_dict(), "source": "database"}

    @blp.response(204)
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    @require_user(Role.ADMIN)
    def delete(self, year: int) -> None:
        """Drop the stored schedule: the shipped file (or the Labour Code rules) applies."""
        session = db().session
        if not ops.delete_year_schedule(session, year):
            raise NotFound(f"Không có lịch năm {year} đã lưu.", f"no stored schedule for {year}")
        session.commit()


@blp.route("/calendar/working-days")
class WorkingDaysView(MethodView):
    @blp.response(200)
    def get(self) -> dict:
        """Today's date and whether it is a working day (for pages that show it)."""
        today = to_local(utcnow()).date()
        calendar = ops.working_calendar(db().session)
        return {
            "today": today.isoformat(),
            "is_working_day": calendar.is_working_day(today),
            "next_working_day": calendar.next_working_day(today).isoformat(),
        }
