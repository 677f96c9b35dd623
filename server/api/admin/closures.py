"""A centre's closed days (beyond the calendar's days off): no appointment slots, and the
day's bookings cancelled with a notice for each citizen (docs/appointments.md)."""

from __future__ import annotations

from datetime import date

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from server.api.schemas import BaseSchema
from server.api.security import require_centre_access, require_user
from server.domain.errors import InvalidRequest
from server.models import CentreClosure, Role
from server.runtime import db, now
from server.services import appointment_closures as closures

blp = Blueprint("closures", __name__, description="A centre's closed days (ngày nghỉ riêng)")


class ClosureRequest(BaseSchema):
    day = fields.Date(required=True)
    reason = fields.String(load_default="", validate=validate.Length(max=200))


@blp.route("/centres/<int:centre_id>/closures")
class ClosuresView(MethodView):
    @require_user(Role.SUPERVISOR, Role.ADMIN)
    @blp.response(200)
    def get(self, centre_id: int) -> dict:
        """The centre's closed days (beyond the calendar's days off)."""
        require_centre_access(centre_id)
        rows = (
            db()
            .session.query(CentreClosure)
            .filter(CentreClosure.centre_id == centre_id)
            .order_by(CentreClosure.day)
        )
        return {"closures": [{"day": r.day.isoformat(), "reason": r.reason} for r in rows]}

    @require_user(Role.ADMIN)
    @blp.arguments(ClosureRequest)
    @blp.response(201)
    def post(self, body: dict, centre_id: int) -> dict:
        """Close the centre on `day`: no slots that day, its bookings cancelled, each with a
        notice for the citizen (appointment_notices, sent by the notifications work)."""
        day: date = body["day"]
        session = db().session
        if day < now().date():
            raise InvalidRequest("Ngày nghỉ đã qua.", "the day has passed")
        cancelled = closures.close_day(
            session, centre_id=centre_id, day=day, reason=body["reason"], now=now()
        )
        session.commit()
        return {"day": day.isoformat(), "cancelled": len(cancelled)}
