"""Public and supervisor pages of the centre's duties beyond the queue.

- /thu-tuc, /thu-tuc/<id>: the procedure catalogue as publicly posted (niêm yết công khai),
  searchable without diacritics, readable on a phone.
- /phan-anh: feedback and petitions (phản ánh, kiến nghị) from the web.
- /supervisor/feedback, /supervisor/dossiers: the supervisor's lists (log in on the page).
- /ho-so/quay: counter staff record received dossiers and print the receipt slip.

Pages render from the services on the first paint; staff pages then talk to the JSON API.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from sqlalchemy import select

from server.domain.clock import utcnow
from server.models import Centre, Counter, Field, Procedure
from server.runtime import db
from server.services import procedures as catalogue

bp = Blueprint("public", __name__, template_folder="templates")


def _centre() -> Centre | None:
    session = db().session
    centre_id = request.args.get("centre", type=int)
    if centre_id is not None:
        return session.get(Centre, centre_id)
    code = current_app.config["TTHCC"].default_centre_code
    centre = session.execute(select(Centre).where(Centre.code == code)).scalar_one_or_none()
    return (
        centre or session.execute(select(Centre).order_by(Centre.id).limit(1)).scalar_one_or_none()
    )


def _fields(centre: Centre) -> list[Field]:
    return list(
        db()
        .session.execute(
            select(Field)
            .where(
                Field.centre_id == centre.id,
                Field.active.is_(True),
                Field.id.in_(
                    select(Procedure.field_id).where(
                        Procedure.centre_id == centre.id, Procedure.active.is_(True)
                    )
                ),
            )
            .order_by(Field.position, Field.id)
        )
        .scalars()
    )


@bp.get("/thu-tuc")
def procedures_page() -> str:
    """The catalogue: ?q= words (diacritics optional), ?field= a field id."""
    centre = _centre()
    if centre is None:
        abort(404)
    q = (request.args.get("q") or "").strip()[:200]
    field_id = request.args.get("field", type=int)
    rows = catalogue.search_procedures(db().session, centre.id, q=q, field_id=field_id)
    return render_template(
        "public/procedures.html",
        centre=centre,
        fields=_fields(centre),
        procedures=[catalogue.procedure_view(p) for p in rows],
        q=q,
        field_id=field_id,
    )


@bp.get("/thu-tuc/<int:procedure_id>")
def procedure_page(procedure_id: int) -> tuple[str, int] | str:
    procedure = db().session.get(Procedure, procedure_id)
    if procedure is None or not procedure.active:
        return render_template("public/procedure.html", procedure=None, centre=_centre()), 404
    centre = db().session.get(Centre, procedure.centre_id)
    return render_template(
        "public/procedure.html", procedure=catalogue.procedure_view(procedure), centre=centre
    )


def feedback_form_context(centre: Centre, *, source: str) -> dict:
    """What the feedback form needs (also used by the kiosk's feedback page)."""
    session = db().session
    counters = session.execute(
        select(Counter).where(Counter.centre_id == centre.id).order_by(Counter.number)
    ).scalars()
    procedures = catalogue.search_procedures(session, centre.id)
    return {
        "centre": centre,
        "source": source,
        "counters": list(counters),
        "procedures": procedures,
        "procedure_id": request.args.get("procedure", type=int),
    }


@bp.get("/phan-anh")
def feedback_page() -> str:
    centre = _centre()
    if centre is None:
        abort(404)
    return render_template("public/feedback.html", **feedback_form_context(centre, source="web"))


@bp.get("/supervisor/feedback")
def supervisor_feedback_page() -> str:
    """Supervisor: cases, overdue first; assign, answer, close (roles supervisor, admin)."""
    centre = _centre()
    return render_template("public/supervisor_feedback.html", centre=centre)


@bp.get("/supervisor/dossiers")
def supervisor_dossiers_page() -> str:
    """Supervisor: overdue and due-soon dossiers; apology letters."""
    return render_template("public/supervisor_dossiers.html", centre=_centre())


@bp.get("/ho-so/quay")
def counter_dossiers_page() -> str:
    """Counter staff: record a received dossier, print its slip, hand dossiers on."""
    centre = _centre()
    counter = request.args.get("counter", type=int)
    return render_template(
        "public/counter_dossiers.html",
        centre=centre,
        counter_id=counter,
        today=utcnow().date().isoformat(),
    )
