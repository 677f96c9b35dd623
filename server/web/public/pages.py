"""Public pages of the centre's duties beyond the queue (for anyone, readable on a phone).

- /thu-tuc, /thu-tuc/<id>: the procedure catalogue as publicly posted (niêm yết công khai),
  searchable without diacritics, readable on a phone.
- /phan-anh: feedback and petitions (phản ánh, kiến nghị) from the web.
- /thoi-gian-cho: live waits of a centre per field, and centres nearby with shorter waits
  (issue 13, item 4; JSON at /api/v1/public/...).

Pages render from the services on the first paint.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from sqlalchemy import select

from server.input_guard import db_int
from server.models import Centre, Counter, Field, Procedure
from server.runtime import db
from server.services import procedures as catalogue
from server.web.common import requested_centre

bp = Blueprint("public", __name__)


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
    centre = requested_centre()
    if centre is None:
        abort(404)
    q = (request.args.get("q") or "").strip()[:200]
    field_id = request.args.get("field", type=db_int)
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
        return render_template(
            "public/procedure.html", procedure=None, centre=requested_centre()
        ), 404
    centre = db().session.get(Centre, procedure.centre_id)
    return render_template(
        "public/procedure.html", procedure=catalogue.procedure_view(procedure), centre=centre
    )


@bp.get("/lay-so")
def remote_page() -> str:
    """Lấy số từ xa: today's number from a phone for the services that allow it (their
    hours, cut-offs and caps shown), then its check-in code for the kiosk (docs/remote.md)."""
    from server.models import Service
    from server.runtime import now
    from server.services import phone_check
    from server.services.hours import service_availability
    from server.services.remote import grace_minutes

    centre = requested_centre()
    if centre is None:
        abort(404)
    services = list(
        db()
        .session.execute(
            select(Service)
            .where(
                Service.centre_id == centre.id,
                Service.active.is_(True),
                Service.remote_issuing.is_(True),
            )
            .order_by(Service.position, Service.id)
        )
        .scalars()
    )
    available = service_availability(db().session, centre, services, now())
    return render_template(
        "public/remote.html",
        centre=centre,
        services=[(s, available[s.id]) for s in services],
        grace=grace_minutes(centre),
        # A closed day (/admin/closures) closes every service: said once, at the top.
        closed_today=next((a for a in available.values() if a["state"] == "closure"), None),
        remote_only=bool((centre.settings or {}).get("remote_only")),
        # With an SMS gateway, the number needs the code texted to it (docs/remote.md).
        **phone_check.page_context(current_app.config["TTHCC"]),
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
        "procedure_id": request.args.get("procedure", type=db_int),
    }


@bp.get("/phan-anh")
def feedback_page() -> str:
    centre = requested_centre()
    if centre is None:
        abort(404)
    return render_template("public/feedback.html", **feedback_form_context(centre, source="web"))


@bp.get("/thoi-gian-cho")
def waits_page() -> tuple[str, int, dict] | tuple[str, dict]:
    """Live waits of a centre (?centre=, default the configured one) per field, and the
    centres near it ranked by travel + wait; ?field= a field's code. "Use my position"
    (the browser's geolocation) asks /api/v1/public/waits/near from the page's module."""
    from server.api.public.waits import near_answer
    from server.runtime import now
    from server.services.public_waits import CACHE_SECONDS, centre_card, centre_waits

    centre = requested_centre()
    if centre is None:
        abort(404)
    session = db().session
    waits = centre_waits(session, centre, now())
    field = (request.args.get("field") or "").strip()[:40] or None
    nearby = None
    if centre.latitude is not None and centre.longitude is not None:
        nearby = near_answer({"centre": centre.id, "field": field, "limit": 5})
    centres = [
        centre_card(c) for c in session.execute(select(Centre).order_by(Centre.id)).scalars()
    ]
    session.rollback()
    html = render_template(
        "public/waits.html",
        centre=centre,
        waits=waits,
        nearby=nearby,
        field=field,
        centres=centres,
    )
    from server.security_headers import GEOLOCATION_SELF_POLICY

    return html, {
        "Cache-Control": f"public, max-age={CACHE_SECONDS}",
        "Permissions-Policy": GEOLOCATION_SELF_POLICY,  # "use my position"
    }
