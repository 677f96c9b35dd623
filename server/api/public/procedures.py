"""The public procedure catalogue (niêm yết công khai): search, read, import/export."""

from __future__ import annotations

from flask import Response, request
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import fields, validate

from server.api.public.centres import resolve_centre_id
from server.api.schemas import BaseSchema
from server.api.security import require_user
from server.domain.clock import utcnow
from server.domain.errors import InvalidRequest
from server.models import Role
from server.runtime import db
from server.services import audit
from server.services import procedures as ops

blp = Blueprint("procedures", __name__, description="Procedures (thủ tục hành chính)")


class ProcedureQuery(BaseSchema):
    q = fields.String(
        load_default=None,
        validate=validate.Length(max=200),
        metadata={
            "description": "Words to find in the code or name; diacritics and case "
            'are ignored ("dang ky khai sinh" finds "Đăng ký khai sinh")'
        },
    )
    field_id = fields.Integer(load_default=None)
    centre_id = fields.Integer(load_default=None)


class PaperOut(BaseSchema):
    name = fields.String()
    originals = fields.Integer()
    copies = fields.Integer()
    note = fields.String()


class ProcedureOut(BaseSchema):
    id = fields.Integer()
    centre_id = fields.Integer()
    code = fields.String(metadata={"description": "National code, e.g. 1.001193"})
    name = fields.String()
    field_id = fields.Integer()
    field_name = fields.String(allow_none=True)
    service_id = fields.Integer(
        allow_none=True, metadata={"description": "Queue to take a ticket for"}
    )
    service_name = fields.String(allow_none=True)
    papers = fields.List(fields.Nested(PaperOut))
    fee_text = fields.String()
    fee_amount = fields.Integer(allow_none=True, metadata={"description": "đồng; 0 = free"})
    processing_days = fields.Integer(metadata={"description": "Legal time in working days"})
    same_day = fields.Boolean()
    cutoff_15h = fields.Boolean(
        metadata={"description": "Received after 15:00 counts from the next working day"}
    )
    processing_text = fields.String()
    processing_note = fields.String()
    agency = fields.String()
    result_place = fields.String()
    legal_basis = fields.String()
    active = fields.Boolean()


class ExportQuery(BaseSchema):
    centre_id = fields.Integer(load_default=None)
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


class ImportBody(BaseSchema):
    procedures = fields.List(fields.Dict(), load_default=None)
    csv = fields.String(load_default=None, metadata={"description": "The CSV export format"})


class ImportResult(BaseSchema):
    created = fields.Integer()
    updated = fields.Integer()


@blp.route("/procedures")
class ProceduresView(MethodView):
    @blp.arguments(ProcedureQuery, location="query")
    @blp.response(200, ProcedureOut(many=True))
    def get(self, args: dict) -> list[dict]:
        """Search a centre's procedures (public; diacritic- and case-insensitive)."""
        session = db().session
        rows = ops.search_procedures(
            session, resolve_centre_id(args["centre_id"]), q=args["q"], field_id=args["field_id"]
        )
        return [ops.procedure_view(p) for p in rows]


@blp.route("/procedures/<int:procedure_id>")
class ProcedureView(MethodView):
    @blp.response(200, ProcedureOut)
    @blp.alt_response(404, description="No such procedure")
    def get(self, procedure_id: int) -> dict:
        """One procedure with its papers, fee, processing time and where to collect."""
        return ops.procedure_view(ops.get_procedure(db().session, procedure_id))


class PapersPrintRequest(BaseSchema):
    station_id = fields.Integer(
        required=True, metadata={"description": "The kiosk whose ticket printer prints it"}
    )


class PapersPrintOut(BaseSchema):
    print_job_id = fields.String()
    print_status = fields.String(metadata={"description": "pending until the station answers"})
    public_url = fields.String(
        allow_none=True, metadata={"description": "The procedure's /thu-tuc page for phones"}
    )


@blp.route("/procedures/<int:procedure_id>/print")
class ProcedurePrintView(MethodView):
    @blp.arguments(PapersPrintRequest)
    @blp.response(202, PapersPrintOut)
    @blp.alt_response(404, description="No such procedure")
    @blp.alt_response(409, description="The kiosk has no printer (no_kiosk_printer)")
    @blp.alt_response(422, description="Not a kiosk of the procedure's centre")
    def post(self, body: dict, procedure_id: int) -> dict:
        """Print the procedure's papers list ("what to bring") on a kiosk's ticket printer;
        the kiosk hears `print.status` with the job id when it came out (or did not)."""
        from flask import current_app

        from server.api.security import kiosk_printer
        from server.services import papers

        kiosk_printer(body["station_id"])  # a provisioned kiosk, on its own printer only
        session = db().session
        phone_url = current_app.config["TTHCC"].phone_url
        job = papers.print_papers(
            session,
            procedure_id=procedure_id,
            station_id=body["station_id"],
            now=utcnow(),
            phone_url=phone_url,
        )
        session.commit()
        return {
            "print_job_id": job.job_id,
            "print_status": "pending",
            "public_url": papers.public_procedure_url(phone_url, procedure_id),
        }


@blp.route("/procedures/export")
class ExportView(MethodView):
    @blp.arguments(ExportQuery, location="query")
    @blp.response(200)
    def get(self, args: dict):
        """The whole catalogue in the import format (JSON list, or CSV for spreadsheets)."""
        items = ops.export_procedures(db().session, resolve_centre_id(args["centre_id"]))
        if args["format"] == "csv":
            return Response(
                ops.export_csv(items),
                mimetype="text/csv",
                headers={"Content-Disposition": "attachment; filename=thu-tuc.csv"},
            )
        return items


@blp.route("/procedures/import")
class ImportView(MethodView):
    @blp.arguments(ImportBody)
    @blp.response(200, ImportResult)
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    @require_user(Role.ADMIN)
    def post(self, body: dict) -> dict:
        """Create or update procedures by code (admin): `procedures` (JSON objects as in
        the export) or `csv`. ?centre_id= picks the centre."""
        if body["procedures"] is None and body["csv"] is None:
            raise InvalidRequest(
                "Cần danh sách thủ tục (procedures) hoặc nội dung CSV (csv).",
                "send `procedures` or `csv`",
            )
        items = body["procedures"] if body["procedures"] is not None else ops.parse_csv(body["csv"])
        session = db().session
        centre_id = resolve_centre_id(request.args.get("centre_id", type=int))
        now = utcnow()
        created, updated = ops.upsert_procedures(session, centre_id, items, now=now)
        audit.record(
            session,
            user=current_user,
            entity="procedures",
            action="import",
            now=now,
            centre_id=centre_id,
            after={
                "created": created,
                "updated": updated,
                "codes": [str(item.get("code", "")).strip() for item in items],
            },
        )
        session.commit()
        return {"created": created, "updated": updated}
