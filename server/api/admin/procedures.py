"""Administration of the procedure catalogue (role admin): create, edit, deactivate.

Under /api/v1/admin/procedures, next to the other admin entities; every change goes
through server.services.procedures and is written to the audit log (before → after).
"""

from __future__ import annotations

from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from server.api.public.centres import resolve_centre_id
from server.api.schemas import BaseSchema
from server.api.security import require_user
from server.domain.clock import utcnow
from server.models import Role
from server.runtime import db
from server.services import procedures as ops

blp = Blueprint(
    "admin_procedures", __name__, description="Administration of procedures (role admin), audited"
)

_REQUIRED = {"required": "Bắt buộc phải nhập. / Required."}


@blp.before_request
@require_user(Role.ADMIN)
def _admins_only() -> None:
    """Every route of this blueprint is for administrators."""


def admin_scope() -> list[int] | None:
    return None if current_user.centre_id is None else [current_user.centre_id]


def _text(limit: int, **kw) -> fields.String:
    return fields.String(
        validate=validate.Length(
            max=limit, error=f"Tối đa {limit} ký tự. / At most {limit} characters."
        ),
        **kw,
    )


class ProcedurePaperIn(BaseSchema):
    name = fields.String(
        required=True,
        validate=validate.Length(min=1, max=300, error="Cần tên giấy tờ. / Name required."),
        error_messages=_REQUIRED,
    )
    originals = fields.Integer(
        load_default=1,
        validate=validate.Range(min=0, max=20, error="Số bản chính từ 0 đến 20."),
    )
    copies = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0, max=20, error="Số bản sao từ 0 đến 20."),
    )
    note = _text(300, load_default="")


class ProcedureIn(BaseSchema):
    centre_id = fields.Integer(
        load_default=None, metadata={"description": "Default: the admin's centre"}
    )
    code = fields.String(
        required=True,
        validate=validate.Length(min=1, max=40, error="Mã thủ tục: 1 đến 40 ký tự."),
        error_messages=_REQUIRED,
        metadata={"description": "National code, e.g. 1.001193"},
    )
    name = fields.String(
        required=True,
        validate=validate.Length(min=1, max=400, error="Tên thủ tục: 1 đến 400 ký tự."),
        error_messages=_REQUIRED,
    )
    field_id = fields.Integer(required=True, error_messages=_REQUIRED)
    service_id = fields.Integer(
        load_default=None, allow_none=True, metadata={"description": "Queue for the kiosk ticket"}
    )
    papers = fields.List(fields.Nested(ProcedurePaperIn), load_default=list)
    fee_text = _text(500, load_default="")
    fee_amount = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=0, error="Lệ phí không được âm. / Fee must be >= 0."),
        metadata={"description": "đồng; 0 = free; null = see fee_text"},
    )
    processing_days = fields.Integer(
        load_default=0,
        validate=validate.Range(
            min=0, max=365, error="Thời hạn giải quyết: 0 đến 365 ngày làm việc."
        ),
    )
    same_day = fields.Boolean(load_default=False)
    cutoff_15h = fields.Boolean(load_default=False)
    processing_note = _text(500, load_default="")
    agency = _text(300, load_default="")
    result_place = _text(300, load_default="")
    legal_basis = _text(5000, load_default="")
    position = fields.Integer(
        load_default=0, validate=validate.Range(min=0, max=99999, error="Thứ tự: 0 đến 99999.")
    )
    active = fields.Boolean(load_default=True)

    @validates_schema
    def _same_day_has_no_days(self, data: dict, **kwargs) -> None:
        if data.get("same_day") and data.get("processing_days"):
            raise ValidationError(
                "Thủ tục giải quyết trong ngày thì thời hạn phải là 0 ngày.", "processing_days"
            )

    @post_load
    def _strip(self, data: dict, **kwargs) -> dict:
        for key in ("code", "name"):
            if key in data:
                data[key] = data[key].strip()
                if not data[key]:
                    raise ValidationError({key: ["Bắt buộc phải nhập. / Required."]})
        return data


class ProcedurePatchIn(ProcedureIn):
    """The same attributes, each optional (PATCH)."""


class ProcedureAdminOut(BaseSchema):
    id = fields.Integer()
    centre_id = fields.Integer()
    code = fields.String()
    name = fields.String()
    field_id = fields.Integer()
    service_id = fields.Integer(allow_none=True)
    papers = fields.List(fields.Dict())
    fee_text = fields.String()
    fee_amount = fields.Integer(allow_none=True)
    processing_days = fields.Integer()
    same_day = fields.Boolean()
    cutoff_15h = fields.Boolean()
    processing_note = fields.String()
    agency = fields.String()
    result_place = fields.String()
    legal_basis = fields.String()
    position = fields.Integer()
    active = fields.Boolean()


class ListQuery(BaseSchema):
    centre_id = fields.Integer(load_default=None)
    q = fields.String(load_default=None, validate=validate.Length(max=200))
    include_inactive = fields.Boolean(load_default=True)


def _centre_for_create(requested: int | None) -> int:
    if current_user.centre_id is not None:
        return requested if requested is not None else current_user.centre_id
    return resolve_centre_id(requested)


@blp.route("/admin/procedures")
class AdminProceduresView(MethodView):
    @blp.arguments(ListQuery, location="query")
    @blp.response(200, ProcedureAdminOut(many=True))
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def get(self, args: dict) -> list[dict]:
        """The centre's procedures, deactivated ones included unless asked otherwise."""
        centre_id = _centre_for_create(args["centre_id"])
        scope = admin_scope()
        if scope is not None and centre_id not in scope:
            return []
        rows = ops.search_procedures(
            db().session,
            centre_id,
            q=args["q"],
            include_inactive=args["include_inactive"],
            limit=100_000,
        )
        return [ops.admin_snapshot(p) for p in rows]

    @blp.arguments(ProcedureIn)
    @blp.response(201, ProcedureAdminOut)
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def post(self, body: dict) -> dict:
        """Create a procedure; the field and the kiosk service must be of the same centre."""
        body["centre_id"] = _centre_for_create(body["centre_id"])
        session = db().session
        procedure = ops.create_procedure(session, body, actor=current_user, now=utcnow())
        session.commit()
        return ops.admin_snapshot(procedure)


@blp.route("/admin/procedures/<int:procedure_id>")
class AdminProcedureView(MethodView):
    @blp.response(200, ProcedureAdminOut)
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def get(self, procedure_id: int) -> dict:
        return ops.admin_snapshot(ops.admin_procedure(db().session, procedure_id, admin_scope()))

    @blp.arguments(ProcedureIn)
    @blp.response(200, ProcedureAdminOut)
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def put(self, body: dict, procedure_id: int) -> dict:
        """Replace every attribute (omitted ones take their defaults); audited."""
        return self._update(body, procedure_id)

    @blp.arguments(ProcedurePatchIn(partial=True))
    @blp.response(200, ProcedureAdminOut)
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def patch(self, body: dict, procedure_id: int) -> dict:
        """Change the attributes given; the audit log keeps before → after."""
        return self._update(body, procedure_id)

    @blp.response(204)
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def delete(self, procedure_id: int) -> None:
        """Deactivate (soft delete): gone from the public catalogue, kept for dossiers."""
        session = db().session
        procedure = ops.admin_procedure(session, procedure_id, admin_scope())
        ops.deactivate_procedure(session, procedure, actor=current_user, now=utcnow())
        session.commit()

    @staticmethod
    def _update(body: dict, procedure_id: int) -> dict:
        session = db().session
        procedure = ops.admin_procedure(session, procedure_id, admin_scope())
        ops.update_procedure(session, procedure, body, actor=current_user, now=utcnow())
        session.commit()
        return ops.admin_snapshot(procedure)
