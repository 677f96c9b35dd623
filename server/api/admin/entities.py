"""Administration API (role admin): configuration CRUD, passwords, station tokens, the audit
log, and the set-up as a JSON file. Every change is recorded in the audit log."""

from __future__ import annotations

from typing import Any

from flask import Response, json, url_for
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import fields, validate

from server.api.schemas import BaseSchema
from server.api.security import require_user
from server.domain.clock import utcnow
from server.models import Centre, Role
from server.runtime import db
from server.services import admin, audit
from server.services.admin_config import export_config, import_config

blp = Blueprint("admin", __name__, description="Administration (role admin), audited")


@blp.before_request
@require_user(Role.ADMIN)
def _admins_only() -> None:
    """Every route of this blueprint is for administrators."""


def admin_scope() -> list[int] | None:
    """None (every centre) for a province administrator, else the admin's own centre."""
    return None if current_user.centre_id is None else [current_user.centre_id]


class PasswordRequest(BaseSchema):
    password = fields.String(required=True, validate=validate.Length(min=8, max=200))


class AuditQuery(BaseSchema):
    entity = fields.String(load_default=None)
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=2000))


class ExportQuery(BaseSchema):
    centre_id = fields.Integer(required=True)


class ImportRequest(BaseSchema):
    config = fields.Dict(required=True, metadata={"description": "An exported tthcc-config file"})
    code = fields.String(required=True, validate=validate.Length(min=1, max=40))
    name = fields.String(load_default=None)
    subtitle = fields.String(load_default=None)


def _row(entity: str, row_id: int) -> tuple[admin.Entity, Any]:
    ent = admin.entity(entity)
    return ent, admin.get_row(db().session, ent, row_id, admin_scope())


@blp.route("/admin/<string:entity>")
class EntityListView(MethodView):
    @blp.response(200)
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def get(self, entity: str) -> list[dict]:
        """Rows of centres, fields, services, counters, agencies, users, stations or
        priority_categories within the administrator's scope."""
        return admin.list_rows(db().session, admin.entity(entity), admin_scope())

    @blp.response(201)
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def post(self, entity: str) -> dict:
        """Create one (users: give `password`; counters: `services` as ordered ids)."""
        from flask import request

        ent = admin.entity(entity)
        session = db().session
        row = admin.create(
            session, ent, request.get_json(silent=True) or {}, actor=current_user, now=utcnow()
        )
        session.commit()
        return admin.snapshot(ent, row)


@blp.route("/admin/<string:entity>/<int:row_id>")
class EntityView(MethodView):
    @blp.response(200)
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def get(self, entity: str, row_id: int) -> dict:
        ent, row = _row(entity, row_id)
        return admin.snapshot(ent, row)

    @blp.response(200)
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def patch(self, entity: str, row_id: int) -> dict:
        """Change the attributes given; the audit log keeps before → after."""
        from flask import request

        ent, row = _row(entity, row_id)
        session = db().session
        admin.update(
            session, ent, row, request.get_json(silent=True) or {}, actor=current_user, now=utcnow()
        )
        session.commit()
        return admin.snapshot(ent, row)

    @blp.response(204)
    @blp.alt_response(409, description="Referenced by history: deactivate instead")
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def delete(self, entity: str, row_id: int) -> None:
        ent, row = _row(entity, row_id)
        session = db().session
        admin.delete(session, ent, row, actor=current_user, now=utcnow())
        session.commit()


@blp.route("/admin/users/<int:row_id>/password")
class PasswordView(MethodView):
    @blp.arguments(PasswordRequest)
    @blp.response(204)
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def post(self, body: dict, row_id: int) -> None:
        """Set a new password; the user's bearer tokens stop working."""
        _, user = _row("users", row_id)
        session = db().session
        admin.reset_password(session, user, body["password"], actor=current_user, now=utcnow())
        session.commit()


@blp.route("/admin/stations/<int:row_id>/token")
class StationTokenView(MethodView):
    @blp.response(200)
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def post(self, row_id: int) -> dict:
        """A new token for the station's agent, shown once; the previous one stops working."""
        _, station = _row("stations", row_id)
        session = db().session
        token = admin.station_token(session, station, issue=True, actor=current_user, now=utcnow())
        session.commit()
        return {"station_id": station.id, "token": token}

    @blp.response(204)
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def delete(self, row_id: int) -> None:
        """Revoke the station's token: its agent is refused from now on."""
        _, station = _row("stations", row_id)
        session = db().session
        admin.station_token(session, station, issue=False, actor=current_user, now=utcnow())
        session.commit()


@blp.route("/admin/stations/<int:row_id>/kiosk-code")
class KioskCodeView(MethodView):
    @blp.response(200)
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def post(self, row_id: int) -> dict:
        """A one-time code that provisions a kiosk PC's page (open
        /kiosk/provision?code=… there within 24 h); shown once."""
        from server.services.kiosks import CODE_LIFETIME

        _, station = _row("stations", row_id)
        session = db().session
        now = utcnow()
        code = admin.kiosk_code(session, station, actor=current_user, now=now)
        session.commit()
        return {
            "station_id": station.id,
            "code": code,
            "url": url_for("kiosk.provision", code=code),
            "expires_at": (now + CODE_LIFETIME).isoformat(),
        }


@blp.route("/admin/audit")
class AuditView(MethodView):
    @blp.arguments(AuditQuery, location="query")
    @blp.response(200)
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def get(self, args: dict) -> list[dict]:
        """The audit log, newest first: who, when, what, before → after."""
        return audit.entries(
            db().session, admin_scope(), limit=args["limit"], entity=args["entity"]
        )


@blp.route("/admin/config/export")
class ConfigExportView(MethodView):
    @blp.arguments(ExportQuery, location="query")
    @blp.response(200, content_type="application/json")
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def get(self, args: dict) -> Response:
        """The centre's set-up as a downloadable JSON file (no accounts, no history)."""
        _, centre = _row("centres", args["centre_id"])
        data = export_config(db().session, centre)
        return Response(
            json.dumps(data, ensure_ascii=False, indent=2),
            mimetype="application/json",
            headers={
                "Content-Disposition": f'attachment; filename="tthcc-config-{centre.code}.json"'
            },
        )


@blp.route("/admin/config/import")
class ConfigImportView(MethodView):
    @blp.arguments(ImportRequest)
    @blp.response(201)
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def post(self, body: dict) -> dict:
        """Create a new centre from an exported set-up."""
        session = db().session
        centre: Centre = import_config(
            session,
            body["config"],
            code=body["code"],
            name=body["name"],
            subtitle=body["subtitle"],
            actor=current_user,
            now=utcnow(),
        )
        session.commit()
        return admin.snapshot(admin.entity("centres"), centre)
