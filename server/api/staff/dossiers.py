"""Dossiers (hồ sơ): receive at the counter, hand off, look up, print the slip (PDF, or
on the counter's thermal printer through a print job)."""

from __future__ import annotations

from datetime import date

from flask import Response
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint, abort
from marshmallow import fields, validate
from sqlalchemy import select

from server.api.public.centres import resolve_centre_id
from server.api.schemas import BaseSchema
from server.api.security import require_user
from server.domain.actors import Actor
from server.domain.clock import utcnow
from server.domain.dossiers import DossierAction, DossierStatus
from server.models import Centre, Dossier, Procedure, Role, Service, User
from server.runtime import db
from server.services import dossier_documents as documents
from server.services import dossiers as ops
from server.services import id_cards, printing
from server.services.dossiers import Handler

blp = Blueprint("dossiers", __name__, description="Dossiers (hồ sơ) to their due date")

STAFF_ROLES = (Role.STAFF, Role.SUPERVISOR, Role.ADMIN)
_SECURITY = [{"bearer": []}, {"cookie": []}]


class PaperIn(BaseSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=300))
    originals = fields.Integer(load_default=1, validate=validate.Range(min=0, max=99))
    copies = fields.Integer(load_default=0, validate=validate.Range(min=0, max=99))


class DossierCreate(BaseSchema):
    procedure_id = fields.Integer(required=True, strict=True)
    applicant_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    applicant_phone = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(r"^[0-9 +().-]{0,30}$", error="Not a phone number."),
    )
    papers_received = fields.List(fields.Nested(PaperIn), load_default=list)
    request = fields.String(load_default="", validate=validate.Length(max=500))
    notes = fields.String(load_default="", validate=validate.Length(max=5000))
    counter_id = fields.Integer(load_default=None, allow_none=True, strict=True)
    ticket_id = fields.Integer(load_default=None, allow_none=True, strict=True)
    applicant_birth_date = fields.Date(load_default=None, allow_none=True)
    applicant_address = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=300)
    )


class TransitionBody(BaseSchema):
    action = fields.String(
        required=True,
        validate=validate.OneOf([a.value for a in DossierAction]),
        metadata={
            "description": "forward (received → forwarded), request_supplement, supplement "
            "(papers completed: received again, time restarts), result_ready, return, refuse"
        },
    )
    giver = fields.String(load_default=None, validate=validate.Length(max=300))
    receiver = fields.String(load_default=None, validate=validate.Length(max=300))
    note = fields.String(
        load_default="",
        validate=validate.Length(max=2000),
        metadata={"description": "Required for request_supplement and refuse: the reason"},
    )


class ApologyBody(BaseSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    new_due_date = fields.Date(required=True)


class SlipPrintBody(BaseSchema):
    counter_id = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        metadata={"description": "Print at this counter's printer (default: the receiving one)"},
    )


class ListQuery(BaseSchema):
    centre_id = fields.Integer(load_default=None)
    status = fields.String(
        load_default=None, validate=validate.OneOf([s.value for s in DossierStatus])
    )
    within = fields.Integer(
        load_default=1,
        validate=validate.Range(min=0, max=30),
        metadata={"description": "due-soon: working days ahead (0 = due today only)"},
    )


class LookupQuery(BaseSchema):
    code = fields.String(
        required=True,
        validate=validate.Length(min=3, max=300),
        metadata={
            "description": "The dossier code as typed or scanned from the slip's QR; "
            "or its short form YYMMDD-NNNN"
        },
    )
    centre_id = fields.Integer(load_default=None, metadata={"description": "For the short form"})
    phone_last4 = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^[0-9]{4}$"),
        metadata={
            "description": "The last 4 digits of the applicant's phone: with them the answer "
            "adds the shortened name, the procedure and the request"
        },
    )


def _user() -> User:
    return current_user  # type: ignore[return-value]


def _handler() -> Handler:
    user = _user()
    return Handler(Actor(f"user:{user.username}", user.id), user.full_name or user.username)


def _scoped_centre(centre_id: int | None) -> int:
    user = _user()
    if user.centre_id is not None:
        if centre_id not in (None, user.centre_id):
            abort(403, message="Bạn chỉ xem được hồ sơ của trung tâm mình. / Other centre.")
        return user.centre_id
    return resolve_centre_id(centre_id)


def _dossier(dossier_id: int) -> Dossier:
    dossier = ops.get_dossier(db().session, dossier_id)
    if _user().centre_id not in (None, dossier.centre_id):
        abort(403, message="Hồ sơ của trung tâm khác. / Dossier of another centre.")
    return dossier


def _today(centre_id: int) -> date:
    return ops.today_at(db().session.get(Centre, centre_id), utcnow())


def _view(dossier: Dossier, **extra) -> dict:
    view = ops.dossier_view(dossier, today=_today(dossier.centre_id))
    view["slip_print"] = printing.slip_prints(db().session, [dossier]).get(dossier.id)
    view.update(extra)
    return view


def _views(dossiers: list[Dossier], today: date) -> list[dict]:
    """Staff lists: each dossier with its latest slip print job (`slip_print`, or null)."""
    prints = printing.slip_prints(db().session, dossiers)
    return [{**ops.dossier_view(d, today=today), "slip_print": prints.get(d.id)} for d in dossiers]


def _staff_of(dossier: Dossier) -> User | None:
    return db().session.get(User, dossier.received_by_id) if dossier.received_by_id else None


@blp.route("/dossiers")
class DossiersView(MethodView):
    @blp.arguments(DossierCreate)
    @blp.response(201)
    @blp.alt_response(404, description="Unknown procedure")
    @blp.alt_response(422, description="Invalid input or inactive procedure")
    @blp.doc(security=_SECURITY)
    @require_user(*STAFF_ROLES)
    def post(self, body: dict) -> dict:
        """Record a dossier received at the counter. Returns it with its code, appointment
        date (working calendar, cut-off) and the worded receipt slip (`slip_lines`).

        At a counter bound to a station with a printer, the slip is also sent there as a
        print job: `slip_print` gives its status (pending → printed | failed), else null."""
        session = db().session
        procedure = session.get(Procedure, body["procedure_id"])
        if procedure is not None and _user().centre_id not in (None, procedure.centre_id):
            abort(403, message="Thủ tục của trung tâm khác. / Procedure of another centre.")
        dossier = ops.receive_dossier(
            session,
            procedure_id=body["procedure_id"],
            applicant_name=body["applicant_name"],
            applicant_phone=body["applicant_phone"],
            papers_received=body["papers_received"],
            request=body["request"],
            notes=body["notes"],
            counter_id=body["counter_id"],
            ticket_id=body["ticket_id"],
            applicant_birth_date=body["applicant_birth_date"],
            applicant_address=body["applicant_address"],
            now=utcnow(),
            handler=_handler(),
        )
        id_cards.dossier_received(session, dossier.ticket_id, utcnow())
        session.commit()
        slip = documents.receipt_slip(dossier, staff=_staff_of(dossier))
        return _view(dossier, slip_lines=slip.text_lines())

    @blp.arguments(ListQuery, location="query")
    @blp.response(200)
    @blp.doc(security=_SECURITY)
    @require_user(*STAFF_ROLES)
    def get(self, args: dict) -> list[dict]:
        """The latest dossiers of the centre (?status= to filter)."""
        centre_id = _scoped_centre(args["centre_id"])
        today = _today(centre_id)
        rows = ops.list_dossiers(db().session, centre_id, status=args["status"])
        return _views(rows, today)


@blp.route("/dossiers/overdue")
class OverdueView(MethodView):
    @blp.arguments(ListQuery, location="query")
    @blp.response(200)
    @blp.doc(security=_SECURITY)
    @require_user(*STAFF_ROLES)
    def get(self, args: dict) -> list[dict]:
        """Being processed and past the appointment day (oldest due first)."""
        centre_id = _scoped_centre(args["centre_id"])
        today = _today(centre_id)
        return _views(ops.overdue_dossiers(db().session, centre_id, today), today)


@blp.route("/dossiers/due-soon")
class DueSoonView(MethodView):
    @blp.arguments(ListQuery, location="query")
    @blp.response(200)
    @blp.doc(security=_SECURITY)
    @require_user(*STAFF_ROLES)
    def get(self, args: dict) -> list[dict]:
        """Being processed and due today or within `within` working days."""
        centre_id = _scoped_centre(args["centre_id"])
        today = _today(centre_id)
        rows = ops.due_soon_dossiers(db().session, centre_id, today, args["within"])
        return _views(rows, today)


@blp.route("/dossiers/lookup")
class LookupView(MethodView):
    @blp.arguments(LookupQuery, location="query")
    @blp.response(200)
    @blp.alt_response(404, description="No dossier with this code")
    def get(self, args: dict) -> dict:
        """Public status of a dossier by its code (the kiosk, a scanned QR): status, dates,
        where to collect, and — when the result is ready — the service to take a ticket
        for. With `phone_last4` matching the applicant's phone (or for a dossier with no
        phone) also the shortened name, the procedure and the request. Rate-limited per
        address (TTHCC_LOOKUP_RATE_LIMIT)."""
        session = db().session
        dossier = ops.find_by_code(session, args["code"], centre_id=args["centre_id"])
        view = ops.dossier_view(dossier, today=_today(dossier.centre_id), public=True)
        if not ops.phone_matches(dossier, args["phone_last4"]):
            # Codes are sequential: whoever walks them learns a status and dates, never who
            # applied or for what (issue 11: no enumeration).
            # The keys stay (empty), so a page written for the full answer shows blanks.
            for key in ops.PUBLIC_PERSONAL_FIELDS:
                view[key] = None if key == "procedure_id" else ""
            view["verified"] = False
        else:
            view["verified"] = True
        view["result_service_id"] = None
        if dossier.status == DossierStatus.RESULT_READY.value:
            code = (dossier.centre.settings or {}).get("result_return_service_code", "TK")
            service = session.execute(
                select(Service).where(
                    Service.centre_id == dossier.centre_id,
                    Service.code == code,
                    Service.active.is_(True),
                )
            ).scalar_one_or_none()
            view["result_service_id"] = service.id if service else None
            view["result_service_name"] = service.name if service else None
        return view


@blp.route("/dossiers/<int:dossier_id>")
class DossierView(MethodView):
    @blp.response(200)
    @blp.doc(security=_SECURITY)
    @require_user(*STAFF_ROLES)
    def get(self, dossier_id: int) -> dict:
        """A dossier with its control slip (hand-offs)."""
        return _view(_dossier(dossier_id))


@blp.route("/dossiers/<int:dossier_id>/transition")
class TransitionView(MethodView):
    @blp.arguments(TransitionBody)
    @blp.response(200)
    @blp.alt_response(409, description="Illegal transition")
    @blp.doc(security=_SECURITY)
    @require_user(*STAFF_ROLES)
    def post(self, body: dict, dossier_id: int) -> dict:
        """One hand-off, recorded on the control slip with its timing (early / on time /
        late against the appointment day)."""
        dossier = _dossier(dossier_id)
        session = db().session
        ops.transition(
            session,
            dossier_id=dossier.id,
            action=DossierAction(body["action"]),
            now=utcnow(),
            handler=_handler(),
            giver=body["giver"],
            receiver=body["receiver"],
            note=body["note"],
        )
        session.commit()
        return _view(dossier)


@blp.route("/dossiers/<int:dossier_id>/apology")
class ApologyView(MethodView):
    @blp.arguments(ApologyBody)
    @blp.response(200)
    @blp.doc(security=_SECURITY)
    @require_user(*STAFF_ROLES)
    def post(self, body: dict, dossier_id: int) -> dict:
        """Record the apology for a late dossier: reason and new date (a working day after
        the original). The letter: GET …/apology.pdf or …/apology.txt."""
        dossier = _dossier(dossier_id)
        session = db().session
        ops.record_apology(
            session,
            dossier_id=dossier.id,
            reason=body["reason"],
            new_due_date=body["new_due_date"],
            now=utcnow(),
            handler=_handler(),
        )
        session.commit()
        letter = documents.apology_letter(dossier, today=_today(dossier.centre_id))
        return _view(dossier, apology_lines=letter.text_lines())


def _document(dossier_id: int, kind: str) -> documents.Document:
    dossier = _dossier(dossier_id)
    if kind == "slip":
        return documents.receipt_slip(dossier, staff=_staff_of(dossier))
    if dossier.new_due_date is None:
        abort(404, message="Hồ sơ này chưa có phiếu xin lỗi. / No apology recorded.")
    return documents.apology_letter(dossier, today=_today(dossier.centre_id))


def _file(dossier_id: int, kind: str, extension: str) -> Response:
    document = _document(dossier_id, kind)
    name = f"{'giay-hen' if kind == 'slip' else 'phieu-xin-loi'}-{document.code}.{extension}"
    if extension == "pdf":
        body, mimetype = documents.document_pdf(document), "application/pdf"
    elif extension == "png":
        body, mimetype = documents.document_png(document), "image/png"
    else:
        body, mimetype = document.text(), "text/plain; charset=utf-8"
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f'inline; filename="{name}"'}
    )


def _file_route(kind: str, extension: str, doc: str) -> None:
    class View(MethodView):
        @blp.doc(security=_SECURITY, summary=doc, description=doc)
        @blp.response(200)
        @require_user(*STAFF_ROLES)
        def get(self, dossier_id: int) -> Response:
            return _file(dossier_id, kind, extension)

    View.__name__ = View.__qualname__ = f"{kind.title()}{extension.title()}View"
    blp.route(f"/dossiers/<int:dossier_id>/{kind}.{extension}")(View)


for _kind, _ext, _doc in (
    ("slip", "pdf", "The receipt and appointment slip as an A5 PDF."),
    ("slip", "txt", "The receipt and appointment slip as plain text."),
    ("slip", "png", "The slip as the thermal printer draws it (80 mm preview)."),
    ("apology", "pdf", "The apology letter (reason, new date) as an A5 PDF."),
    ("apology", "txt", "The apology letter as plain text."),
):
    _file_route(_kind, _ext, _doc)


@blp.route("/dossiers/<int:dossier_id>/slip")
class SlipView(MethodView):
    @blp.response(200)
    @blp.doc(security=_SECURITY)
    @require_user(*STAFF_ROLES)
    def get(self, dossier_id: int) -> dict:
        """The slip's text lines and the print payload for a station's thermal printer
        (the `slip` object of devices.printing.slip, see docs/dossiers.md)."""
        document = _document(dossier_id, "slip")
        return {"lines": document.text_lines(), "print": document.print_payload()}


@blp.route("/dossiers/<int:dossier_id>/slip/print")
class SlipPrintView(MethodView):
    @blp.arguments(SlipPrintBody)
    @blp.response(200)
    @blp.alt_response(409, description="The counter has no station with a printer")
    @blp.doc(security=_SECURITY)
    @require_user(*STAFF_ROLES)
    def post(self, body: dict, dossier_id: int) -> dict:
        """Print the receipt slip (again) on the thermal printer of the counter's station,
        e.g. after a failed print (`slip_print.status` = failed) or for a lost slip. A job
        of this dossier still pending is superseded. Returns the dossier with the new
        job in `slip_print`; without a printer: 409, print the PDF instead."""
        dossier = _dossier(dossier_id)
        session = db().session
        printing.print_slip(session, dossier, now=utcnow(), counter_id=body["counter_id"])
        session.commit()
        return _view(dossier)
