"""Feedback and petitions: citizens submit (kiosk, web); supervisors handle them."""

from __future__ import annotations

from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint, abort
from marshmallow import fields, validate
from sqlalchemy import select

from server.api.public.centres import resolve_centre_id
from server.api.schemas import BaseSchema
from server.api.security import require_user
from server.domain.clock import utcnow
from server.domain.feedback import FeedbackAbout, FeedbackStatus
from server.models import Centre, Feedback, Role, User
from server.runtime import db
from server.services import feedback as ops
from server.services.feedback import Contact

blp = Blueprint("feedback", __name__, description="Feedback and petitions (phản ánh, kiến nghị)")

SUPERVISORS = (Role.SUPERVISOR, Role.ADMIN)
_SECURITY = [{"bearer": []}, {"cookie": []}]


class ContactIn(BaseSchema):
    name = fields.String(load_default=None, validate=validate.Length(max=200))
    phone = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^[0-9 +().-]{0,30}$", error="Not a phone number."),
    )
    email = fields.Email(load_default=None)


class FeedbackCreate(BaseSchema):
    centre_id = fields.Integer(load_default=None)
    about = fields.String(
        required=True,
        validate=validate.OneOf([a.value for a in FeedbackAbout]),
        metadata={"description": "procedure (a rule) | staff (a civil servant) | other"},
    )
    content = fields.String(required=True, validate=validate.Length(min=5, max=5000))
    source = fields.String(load_default="web", validate=validate.OneOf(["kiosk", "web"]))
    procedure_id = fields.Integer(load_default=None, allow_none=True)
    counter_id = fields.Integer(load_default=None, allow_none=True)
    staff_description = fields.String(load_default="", validate=validate.Length(max=300))
    consent = fields.Boolean(
        load_default=False,
        metadata={
            "description": "Explicit consent to keep the contact details; without it "
            "they are discarded"
        },
    )
    contact = fields.Nested(ContactIn, load_default=None, allow_none=True)


class FeedbackReceipt(BaseSchema):
    reference = fields.String()
    status = fields.String()
    due_date = fields.String()
    contact_stored = fields.Boolean()


class FeedbackQuery(BaseSchema):
    centre_id = fields.Integer(load_default=None)
    status = fields.String(
        load_default=None, validate=validate.OneOf([s.value for s in FeedbackStatus])
    )
    overdue = fields.Boolean(load_default=False)


class AssignBody(BaseSchema):
    assignee_id = fields.Integer(required=True, strict=True)
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class AnswerBody(BaseSchema):
    answer = fields.String(required=True, validate=validate.Length(min=1, max=5000))


class CloseBody(BaseSchema):
    note = fields.String(load_default="", validate=validate.Length(max=2000))


def _today(centre_id: int):
    centre = db().session.get(Centre, centre_id)
    return ops.today_for(centre, utcnow()), centre.timezone


def _view(case: Feedback) -> dict:
    today, tz = _today(case.centre_id)
    return ops.feedback_view(case, today=today, timezone=tz)


def _scoped_centre(centre_id: int | None) -> int:
    """Supervisors see their own centre; admins (no centre) the one asked for."""
    user: User = current_user  # type: ignore[assignment]
    if user.centre_id is not None:
        if centre_id not in (None, user.centre_id):
            abort(403, message="Bạn chỉ xem được phản ánh của trung tâm mình. / Other centre.")
        return user.centre_id
    return resolve_centre_id(centre_id)


def _case_for(feedback_id: int, *, assignee_may: bool = False) -> Feedback:
    case = ops.get_feedback(db().session, feedback_id)
    user: User = current_user  # type: ignore[assignment]
    if user.centre_id not in (None, case.centre_id):
        abort(403, message="Phản ánh của trung tâm khác. / Feedback of another centre.")
    if user.has_role(*SUPERVISORS) or (assignee_may and case.assignee_id == user.id):
        return case
    abort(403, message="Bạn không có quyền thực hiện thao tác này. / Not allowed for your role.")


def _actor() -> str:
    return f"user:{current_user.username}"


@blp.route("/feedback")
class FeedbackListView(MethodView):
    @blp.arguments(FeedbackCreate)
    @blp.response(201, FeedbackReceipt)
    @blp.alt_response(422, description="Missing content, unknown subject, …")
    def post(self, body: dict) -> dict:
        """Submit feedback (public: kiosk and web). Contact details are kept only when
        `consent` is true; the reference lets the citizen ask about the case."""
        session = db().session
        contact = body["contact"] or {}
        case = ops.submit_feedback(
            session,
            centre_id=resolve_centre_id(body["centre_id"]),
            about=body["about"],
            content=body["content"],
            source=body["source"],
            now=utcnow(),
            consent=body["consent"],
            contact=Contact(contact.get("name"), contact.get("phone"), contact.get("email")),
            procedure_id=body["procedure_id"],
            counter_id=body["counter_id"],
            staff_description=body["staff_description"],
        )
        session.commit()
        return {
            "reference": case.reference,
            "status": case.status,
            "due_date": case.due_date.isoformat(),
            "contact_stored": case.contact_consent
            and any((case.contact_name, case.contact_phone, case.contact_email)),
        }

    @blp.arguments(FeedbackQuery, location="query")
    @blp.response(200)
    @blp.doc(security=_SECURITY)
    @require_user(*SUPERVISORS)
    def get(self, args: dict) -> list[dict]:
        """Cases of the centre, oldest due first (supervisor, admin). ?overdue=true keeps
        the unanswered ones past their due date."""
        session = db().session
        centre_id = _scoped_centre(args["centre_id"])
        today, tz = _today(centre_id)
        rows = ops.list_feedback(
            session, centre_id, status=args["status"], overdue_on=today if args["overdue"] else None
        )
        return [ops.feedback_view(c, today=today, timezone=tz) for c in rows]


@blp.route("/feedback/overdue")
class OverdueView(MethodView):
    @blp.arguments(FeedbackQuery, location="query")
    @blp.response(200)
    @blp.doc(security=_SECURITY)
    @require_user(*SUPERVISORS)
    def get(self, args: dict) -> list[dict]:
        """Unanswered cases past their due date (supervisor, admin)."""
        centre_id = _scoped_centre(args["centre_id"])
        today, tz = _today(centre_id)
        rows = ops.list_feedback(db().session, centre_id, overdue_on=today)
        return [ops.feedback_view(c, today=today, timezone=tz) for c in rows]


@blp.route("/feedback/assignees")
class AssigneesView(MethodView):
    @blp.arguments(FeedbackQuery, location="query")
    @blp.response(200)
    @blp.doc(security=_SECURITY)
    @require_user(*SUPERVISORS)
    def get(self, args: dict) -> list[dict]:
        """People a case can be given to: active staff and supervisors of the centre."""
        centre_id = _scoped_centre(args["centre_id"])
        users = (
            db()
            .session.execute(
                select(User)
                .where(User.active.is_(True), User.centre_id == centre_id)
                .order_by(User.full_name, User.id)
            )
            .scalars()
        )
        return [
            {"id": u.id, "username": u.username, "full_name": u.full_name, "role": u.role}
            for u in users
        ]


@blp.route("/feedback/<int:feedback_id>")
class FeedbackView(MethodView):
    @blp.response(200)
    @blp.doc(security=_SECURITY)
    @require_user()
    def get(self, feedback_id: int) -> dict:
        """One case with its contact details (if consented) and its trail."""
        return _view(_case_for(feedback_id, assignee_may=True))


@blp.route("/feedback/<int:feedback_id>/assign")
class AssignView(MethodView):
    @blp.arguments(AssignBody)
    @blp.response(200)
    @blp.doc(security=_SECURITY)
    @require_user(*SUPERVISORS)
    def post(self, body: dict, feedback_id: int) -> dict:
        """Give the case to a civil servant (received/assigned → assigned)."""
        case = _case_for(feedback_id)
        session = db().session
        ops.assign(
            session,
            feedback_id=case.id,
            assignee_id=body["assignee_id"],
            now=utcnow(),
            actor=_actor(),
            note=body["note"],
        )
        session.commit()
        return _view(case)


@blp.route("/feedback/<int:feedback_id>/answer")
class AnswerView(MethodView):
    @blp.arguments(AnswerBody)
    @blp.response(200)
    @blp.doc(security=_SECURITY)
    @require_user()
    def post(self, body: dict, feedback_id: int) -> dict:
        """Record the answer (assigned → answered); the assignee or a supervisor."""
        case = _case_for(feedback_id, assignee_may=True)
        session = db().session
        ops.answer(session, feedback_id=case.id, text=body["answer"], now=utcnow(), actor=_actor())
        session.commit()
        return _view(case)


@blp.route("/feedback/<int:feedback_id>/close")
class CloseView(MethodView):
    @blp.arguments(CloseBody)
    @blp.response(200)
    @blp.doc(security=_SECURITY)
    @require_user(*SUPERVISORS)
    def post(self, body: dict, feedback_id: int) -> dict:
        """Close an answered case (answered → closed)."""
        case = _case_for(feedback_id)
        session = db().session
        ops.close(session, feedback_id=case.id, now=utcnow(), actor=_actor(), note=body["note"])
        session.commit()
        return _view(case)
