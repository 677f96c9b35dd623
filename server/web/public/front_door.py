"""The front door (links to every page of every centre), a ticket's public page (where its
QR code leads), and what every page uses: the static files under /assets and the template
globals (labels, the staff pages' config block)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, render_template
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup
from sqlalchemy import select

from server.domain.clock import DEFAULT_TIMEZONE, to_local, utcnow
from server.labels import label, labels_script
from server.models import Centre, Station, Ticket
from server.runtime import db

#: server/: the pages' templates are the app's (server/templates); the static files are here.
_SERVER = Path(__file__).resolve().parents[2]
bp = Blueprint("web", __name__, static_folder=_SERVER / "static", static_url_path="/assets")
# Every page's labels (server/labels): label("group.name") in templates, and the JSON block
# the ES modules read (server/static/js/lib/labels.js).
bp.add_app_template_global(label, "label")
bp.add_app_template_global(labels_script, "labels_script")


@bp.app_template_global("staff_config")
def staff_config(centre: Centre | None, **extra: object) -> Markup:
    """The staff pages' JSON block (static/js/staff/page.js): the centre, and the server's
    time in the centre's zone, so the page shows times on the centre's clock."""
    zone = centre.timezone if centre is not None and centre.timezone else DEFAULT_TIMEZONE
    data = {
        "centre_id": centre.id if centre is not None else None,
        "server_time": to_local(utcnow(), zone).isoformat(),
        **extra,
    }
    body = htmlsafe_json_dumps(data)
    return Markup(f'<script id="staff-config" type="application/json">{body}</script>')


@bp.get("/")
def home() -> str:
    """Links to every page of every centre (the single-box front door)."""
    session = db().session
    centres = session.execute(select(Centre).order_by(Centre.id)).scalars().all()
    stations = session.execute(select(Station).order_by(Station.id)).scalars().all()
    from server.demo import DEMO_CENTRE_CODE, DEMO_KIOSK_CODE

    return render_template(
        "home.html",
        centres=centres,
        stations=stations,
        demo_centre_code=DEMO_CENTRE_CODE,
        demo_kiosk_code=DEMO_KIOSK_CODE,
    )


@bp.get("/t/<code>")
def ticket_status(code: str) -> tuple[str, int] | str:
    """Where a ticket's QR code leads: the citizen follows their place in line."""
    ticket = (
        db().session.execute(select(Ticket).where(Ticket.public_code == code)).scalar_one_or_none()
    )
    if ticket is None:
        return render_template("ticket_status.html", ticket=None), 404
    return render_template("ticket_status.html", ticket=ticket)
