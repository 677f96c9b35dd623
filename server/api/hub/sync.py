"""Centre box ↔ hub (docs/sync.md): the hub's ingest endpoint and the centre's link state."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import fields, validate

from server.api.schemas import BaseSchema
from server.api.security import bearer_token, require_user
from server.models import Role
from server.runtime import db, now
from server.sync.capture import link_state
from server.sync.ingest import BatchRefused, box_for_token, ingest

blp = Blueprint("sync", __name__, description="Centre boxes delivering their hall to the hub")


class SyncEvent(BaseSchema):
    seq = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    table = fields.String(required=True, validate=validate.Length(min=1, max=40))
    op = fields.String(required=True, validate=validate.OneOf(["insert", "update"]))
    row_id = fields.Integer(required=True, strict=True)
    captured_at = fields.String(required=True, validate=validate.Length(max=32))
    payload = fields.Dict(required=True, allow_none=True)
    keys = fields.Dict(
        load_default=None,
        allow_none=True,
        metadata={"description": "Natural keys of the configuration the row refers to"},
    )


class SyncBatch(BaseSchema):
    box = fields.String(required=True, validate=validate.Length(min=1, max=40))
    centre = fields.String(required=True, validate=validate.Length(min=1, max=40))
    after = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=0),
        metadata={"description": "The box's acknowledged mark the batch follows"},
    )
    events = fields.List(
        fields.Nested(SyncEvent), required=True, validate=validate.Length(max=5000)
    )


class SyncAck(BaseSchema):
    acked = fields.Integer(metadata={"description": "The hub's mark for the box"})
    received = fields.Integer(metadata={"description": "Events stored by this request"})
    duplicates = fields.Integer(metadata={"description": "Events the hub already had"})


@blp.route("/sync/batch")
class SyncBatchView(MethodView):
    @blp.arguments(SyncBatch)
    @blp.response(200, SyncAck)
    @blp.alt_response(409, schema=SyncAck, description="Resend after the hub's mark `acked`")
    @blp.doc(security=[{"bearer": []}])
    def post(self, batch: dict[str, Any]) -> Any:
        """Store a centre box's batch exactly once (the box's token; its own centre only)."""
        session = db().session
        token = bearer_token()
        box = box_for_token(session, token) if token else None
        if box is None:
            abort(401, message="Mã hộp trung tâm không hợp lệ. / Invalid centre box token.")
        try:
            answer = ingest(session, box, batch, now())
        except BatchRefused as refused:
            session.rollback()
            if refused.details:  # 409: the body carries the hub's mark to resend from
                vi, _, en = refused.message.partition(" / ")
                body = {"error": "conflict", "message": vi, "message_en": en, **refused.details}
                return jsonify(body), refused.status
            abort(refused.status, message=refused.message)
        session.commit()
        return answer


@blp.route("/sync/config")
class SyncConfigView(MethodView):
    @blp.response(200)
    @blp.alt_response(304, description="Unchanged since the version in `If-None-Match`")
    @blp.doc(security=[{"bearer": []}])
    def get(self) -> Any:
        """The configuration the hub owns for the box's centre (services, counters,
        procedures, calendar, users, notices), versioned: `ETag` / `If-None-Match`."""
        from server.sync.config import config_document, version_of

        session = db().session
        token = bearer_token()
        box = box_for_token(session, token) if token else None
        if box is None:
            abort(401, message="Mã hộp trung tâm không hợp lệ. / Invalid centre box token.")
        document = config_document(session, box.centre_id)
        session.rollback()
        version = version_of(document)
        if version in request.if_none_match:
            response = Response(status=304)
        else:
            response = jsonify({"version": version, "config": document})
        response.set_etag(version)
        response.headers["Cache-Control"] = "no-cache"
        return response


@blp.route("/sync/link")
class SyncLinkView(MethodView):
    @require_user(Role.SUPERVISOR, Role.ADMIN)
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def get(self) -> dict[str, Any]:
        """This centre box's link to the hub: last successful push, events pending."""
        session = db().session
        state = link_state(session)
        session.rollback()
        return state
