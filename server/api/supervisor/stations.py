"""Stations and their devices, for supervisors: who is online, which device is at fault."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint, abort
from marshmallow import fields

from server.api.schemas import BaseSchema
from server.api.security import require_user
from server.domain.clock import utcnow
from server.models import Role
from server.realtime import online_station_ids
from server.runtime import db
from server.services.stations import station_views

blp = Blueprint("stations", __name__, description="Stations (điểm thiết bị) and device states")


class StationQuery(BaseSchema):
    centre_id = fields.Integer(
        load_default=None, metadata={"description": "Default: every centre you may see"}
    )


class DeviceOut(BaseSchema):
    name = fields.String()
    kind = fields.String(metadata={"description": "printer, ratingpad, keypad or ledboard"})
    state = fields.String(metadata={"description": "ready, error or disconnected"})
    reason = fields.String(allow_none=True, metadata={"description": "e.g. paper out"})
    at = fields.String(metadata={"description": "When the agent reported it"})


class FailedPrintOut(BaseSchema):
    job_id = fields.String()
    ticket_id = fields.Integer()
    number = fields.String()
    reason = fields.String()
    at = fields.String(allow_none=True)


class StationOut(BaseSchema):
    id = fields.Integer()
    centre_id = fields.Integer()
    code = fields.String()
    kind = fields.String()
    name = fields.String()
    zone = fields.String()
    has_printer = fields.Boolean()
    token_active = fields.Boolean()
    online = fields.Boolean(metadata={"description": "Its agent is connected right now"})
    last_seen_at = fields.String(allow_none=True)
    devices = fields.List(fields.Nested(DeviceOut))
    faults = fields.Integer(metadata={"description": "Devices in error or disconnected"})
    failed_prints = fields.List(
        fields.Nested(FailedPrintOut),
        metadata={"description": "Tickets of the last 24 h whose latest print failed"},
    )


@blp.route("/stations")
class StationsView(MethodView):
    @blp.arguments(StationQuery, location="query")
    @blp.response(200, StationOut(many=True))
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    @require_user(Role.SUPERVISOR, Role.ADMIN)
    def get(self, args: dict) -> list[dict]:
        """Stations with their agent's presence, each device's state and failed prints."""
        centre_id = args["centre_id"]
        own = current_user.centre_id
        if own is not None and centre_id is not None and centre_id != own:
            abort(403, message="Bạn không có quyền xem trung tâm này. / Not your centre.")
        centre_ids = [centre_id] if centre_id is not None else ([own] if own is not None else None)
        return station_views(
            db().session,
            centre_ids=centre_ids,
            online=online_station_ids(current_app.extensions["socketio"]),
            now=utcnow(),
        )
