"""Satisfaction ratings over HTTP: a station's pad or a web form submits; supervisors read."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint, abort
from marshmallow import fields, validate
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server.api.public.centres import resolve_centre_id
from server.api.schemas import BaseSchema
from server.api.security import can_operate_counter, current_station, require_user
from server.domain.clock import utcnow
from server.domain.errors import NotFound
from server.domain.ratings import DEFAULT_CRITERION, SOURCES
from server.models import Counter, Rating, Role
from server.runtime import db
from server.services.ratings import find_by_key, rating_view_of, record_rating
from server.services.stations import refuse_unbound_counter

blp = Blueprint("ratings", __name__, description="Satisfaction ratings (đánh giá mức độ hài lòng)")

_SECURITY = [{"bearer": []}, {"cookie": []}]


class RatingCreate(BaseSchema):
    key = fields.String(
        required=True,
        validate=validate.Length(min=8, max=64),
        metadata={"description": "Idempotency key (e.g. a uuid4): a repeat returns the first"},
    )
    counter_id = fields.Integer(required=True, strict=True)
    level = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(1, 5),
        metadata={"description": "5 Rất hài lòng … 1 Rất không hài lòng"},
    )
    raw_key = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=16),
        metadata={"description": "The key as pressed (default: the level)"},
    )
    pressed_at = fields.AwareDateTime(
        load_default=None, metadata={"description": "When it was pressed (default: now)"}
    )
    scale = fields.Integer(
        load_default=None,
        strict=True,
        validate=validate.OneOf([3, 4, 5]),
        metadata={"description": "Keys of the pad (default: the centre's rating_scale)"},
    )
    criterion = fields.String(
        load_default=DEFAULT_CRITERION,
        validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,39}$"),
        metadata={"description": "What is rated: overall, on_time, attitude, …"},
    )
    ticket_id = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        metadata={
            "description": "Rate this ticket (served at the counter) instead of the "
            "one the counter finished last"
        },
    )
    source = fields.String(
        load_default=None,
        validate=validate.OneOf(SOURCES),
        metadata={"description": "Default: pad for a station token, web for a user"},
    )


class RatingOut(BaseSchema):
    id = fields.Integer()
    centre_id = fields.Integer()
    counter_id = fields.Integer()
    counter_number = fields.Integer(allow_none=True)
    counter_name = fields.String(allow_none=True)
    ticket_id = fields.Integer(allow_none=True)
    ticket_number = fields.String(allow_none=True)
    staff_id = fields.Integer(allow_none=True)
    service_id = fields.Integer(allow_none=True)
    service_name = fields.String(allow_none=True)
    level = fields.Integer()
    label = fields.String()
    raw_key = fields.String()
    scale = fields.Integer()
    criterion = fields.String()
    source = fields.String()
    attached = fields.Boolean(metadata={"description": "False: an unattached counter rating"})
    counted = fields.Boolean(metadata={"description": "False: replaced by a later press"})
    replaced_by_id = fields.Integer(allow_none=True)
    pressed_at = fields.String()
    received_at = fields.String()
    duplicate = fields.Boolean(metadata={"description": "The key was seen before"})


class RatingQuery(BaseSchema):
    centre_id = fields.Integer(load_default=None)
    counter_id = fields.Integer(load_default=None)
    max_level = fields.Integer(
        load_default=5, validate=validate.Range(1, 5), metadata={"description": "e.g. 2: lows"}
    )
    hours = fields.Integer(
        load_default=24, validate=validate.Range(1, 24 * 31), metadata={"description": "Look back"}
    )
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000))


def _authorise(counter: Counter) -> tuple[str, int | None]:
    """The default source and the submitting station; 401/403 for anyone else."""
    station = current_station()
    if station is not None and not current_user.is_authenticated:
        if station.centre_id != counter.centre_id:
            abort(
                403,
                message="Quầy không thuộc trung tâm của điểm thiết bị này. / "
                "The counter belongs to another centre.",
            )
        refuse_unbound_counter(station, counter)  # 403 naming the counter and the station
        return "pad", station.id
    if not current_user.is_authenticated:
        abort(401, message="Vui lòng đăng nhập. / Please log in (session or bearer token).")
    if (
        current_user.role == Role.VIEWER
        or (current_user.centre_id is not None and current_user.centre_id != counter.centre_id)
        or (current_user.role == Role.STAFF and not can_operate_counter(counter))
    ):
        abort(
            403, message="Bạn không có quyền thực hiện thao tác này. / Not allowed for your role."
        )
    return "web", None


@blp.route("/ratings")
class RatingsView(MethodView):
    @blp.arguments(RatingCreate)
    @blp.response(201, RatingOut)
    @blp.alt_response(200, schema=RatingOut, description="Duplicate key: the stored rating")
    @blp.alt_response(404, description="Unknown counter")
    @blp.alt_response(422, description="Invalid rating")
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def post(self, body: dict) -> tuple[dict, int]:
        """Record a rating exactly once per key (station bearer token or a logged-in user).

        Same rules as a pad press delivered by a station agent: it rates the ticket the
        counter finished last (or is serving); a second press within the centre's replace
        window replaces the first; later presses are kept as unattached counter ratings.
        """
        session = db().session
        counter = session.get(Counter, body["counter_id"])
        if counter is None:
            raise NotFound(
                f"Không tìm thấy quầy số {body['counter_id']}.",
                f"counter {body['counter_id']} not found",
            )
        default_source, station_id = _authorise(counter)
        if station_id is None and body["source"] == "pad":
            abort(
                403,
                message="Chỉ bàn phím đánh giá của điểm thiết bị mới ghi đánh giá «pad». / "
                "Only a station's rating pad records pad ratings.",
            )
        now = utcnow()
        try:
            result = record_rating(
                session,
                counter_id=counter.id,
                raw_key=body["raw_key"] or str(body["level"]),
                level=body["level"],
                pressed_at=body["pressed_at"] or now,
                idempotency_key=body["key"],
                now=now,
                scale=body["scale"],
                criterion=body["criterion"],
                source=body["source"] or default_source,
                station_id=station_id,
                ticket_id=body["ticket_id"],
            )
            session.commit()
        except IntegrityError:
            session.rollback()  # the same key stored by a concurrent request
            existing = find_by_key(session, body["key"])
            if existing is None:
                raise
            return {**rating_view_of(session, existing), "duplicate": True}, 200
        view = rating_view_of(session, result.rating)
        return {**view, "duplicate": result.duplicate}, 200 if result.duplicate else 201

    @blp.arguments(RatingQuery, location="query")
    @blp.response(200, RatingOut(many=True))
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    @require_user(Role.SUPERVISOR, Role.ADMIN)
    def get(self, args: dict) -> list[dict]:
        """Recent ratings of a centre, newest first (``max_level=2`` lists the low ones)."""
        session = db().session
        centre_id = resolve_centre_id(args["centre_id"])
        if current_user.centre_id is not None and current_user.centre_id != centre_id:
            abort(403, message="Bạn không có quyền xem trung tâm này. / Not your centre.")
        since: datetime = utcnow() - timedelta(hours=args["hours"])
        query = (
            select(Rating)
            .where(
                Rating.centre_id == centre_id,
                Rating.pressed_at >= since,
                Rating.level <= args["max_level"],
            )
            .order_by(Rating.pressed_at.desc(), Rating.id.desc())
            .limit(args["limit"])
        )
        if args["counter_id"] is not None:
            query = query.where(Rating.counter_id == args["counter_id"])
        return [
            {**rating_view_of(session, r), "duplicate": False}
            for r in session.execute(query).scalars()
        ]
