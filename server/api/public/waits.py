"""Live waits in public (issue 13, item 4): no login, no personal data, rate-limited per
address (TTHCC_PUBLIC_RATE_LIMIT) and cache-friendly (Cache-Control: public, ETag)."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from server.api.schemas import BaseSchema
from server.domain.errors import InvalidRequest, NotFound
from server.input_guard import db_int
from server.models import Centre
from server.runtime import db, now
from server.services.public_waits import CACHE_SECONDS, centre_waits, near

blp = Blueprint("public_waits", __name__, description="Live waits in public, centres near you")


class NearQuery(BaseSchema):
    lat = fields.Float(
        load_default=None,
        validate=validate.Range(-90, 90),
        allow_nan=False,
        metadata={"description": "The citizen's latitude (used to 2 decimals, about 1 km)"},
    )
    lon = fields.Float(
        load_default=None,
        validate=validate.Range(-180, 180),
        allow_nan=False,
        metadata={"description": "The citizen's longitude (used to 2 decimals)"},
    )
    centre = fields.Integer(
        load_default=None,
        validate=validate.Range(1, 2**31 - 1),
        metadata={"description": "Or: from this centre (its position), marking shorter waits"},
    )
    field = fields.String(
        load_default=None,
        validate=validate.Length(1, 40),
        metadata={"description": "A field's code (e.g. HT): that field's wait at each centre"},
    )
    limit = fields.Integer(load_default=5, validate=validate.Range(1, 20))


def _centre(centre_id: int) -> Centre:
    centre = db().session.get(Centre, db_int(centre_id))
    if centre is None:
        raise NotFound("Không tìm thấy trung tâm.", "no such centre")
    return centre


@blp.route("/public/centres/<int:centre_id>/waits")
class CentreWaitsView(MethodView):
    @blp.response(200)
    def get(self, centre_id: int) -> dict:
        """Waiting per field and service of a centre, with the estimate for someone taking a
        ticket now (the kiosk's estimate). Counts only: no ticket, no name."""
        session = db().session
        result = centre_waits(session, _centre(centre_id), now())
        session.rollback()
        return result


def near_answer(args: dict[str, Any]) -> dict[str, Any]:
    """The near list from `args` (lat/lon, or centre), shared by the API and the page."""
    session = db().session
    origin = None
    lat, lon = args.get("lat"), args.get("lon")
    exact = False
    if args.get("centre") is not None:
        origin = _centre(args["centre"])
        if lat is None or lon is None:
            lat, lon, exact = origin.latitude, origin.longitude, True
    if lat is None or lon is None:
        raise InvalidRequest(
            "Cần vị trí (lat, lon) hoặc một trung tâm có tọa độ (centre).",
            "give a position (lat and lon) or a centre with a position (centre)",
        )
    result = near(
        session,
        now(),
        latitude=lat,
        longitude=lon,
        field_code=args.get("field"),
        origin_centre_id=origin.id if origin is not None else None,
        limit=args.get("limit") or 5,
        exact=exact,
    )
    session.rollback()
    return result


@blp.route("/public/waits/near")
class NearView(MethodView):
    @blp.arguments(NearQuery, location="query")
    @blp.response(200)
    def get(self, args: dict) -> dict:
        """Centres near a position (or near a centre), best visit first: minutes to get
        there (3 per km) plus the estimated wait there; ``shorter_wait`` against the centre
        given as `centre`."""
        return near_answer(args)


@blp.after_request
def _cacheable(response: Response) -> Response:
    """Public, short-lived, conditional: a phone or a proxy asks again at most every
    CACHE_SECONDS, and an unchanged answer costs a 304."""
    if request.method == "GET" and response.status_code == 200:
        response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
        response.add_etag()
        response.make_conditional(request)
    return response
