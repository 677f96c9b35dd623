"""Server-rendered pages: the front door, the counter page, the public ticket page, admin,
and the supervisor's device page."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from sqlalchemy import select

from server.models import Centre, Station, Ticket
from server.runtime import db

bp = Blueprint(
    "web", __name__, template_folder="templates", static_folder="static", static_url_path="/assets"
)


@bp.get("/")
def home() -> str:
    """Links to every page of every centre (the single-box front door)."""
    session = db().session
    centres = session.execute(select(Centre).order_by(Centre.id)).scalars().all()
    stations = session.execute(select(Station).order_by(Station.id)).scalars().all()
    return render_template("home.html", centres=centres, stations=stations)


@bp.get("/counter")
def counter_page() -> str:
    """Counter staff: log in, pick a counter, call and serve."""
    return render_template("counter.html", centre_id=request.args.get("centre", type=int))


@bp.get("/t/<code>")
def ticket_status(code: str) -> tuple[str, int] | str:
    """Where a ticket's QR code leads: the citizen follows their place in line."""
    ticket = (
        db().session.execute(select(Ticket).where(Ticket.public_code == code)).scalar_one_or_none()
    )
    if ticket is None:
        return render_template("ticket_status.html", ticket=None), 404
    return render_template("ticket_status.html", ticket=ticket)


@bp.get("/supervisor/devices")
def supervisor_devices_page() -> str:
    """Supervisor: every station's agent and device (printer faults live), reprints.

    The page logs in with the session cookie (roles supervisor, admin) and reads
    ``GET /api/v1/stations``; ``device.status`` on /hall keeps it live.
    """
    session = db().session
    centre_id = request.args.get("centre", type=int)
    if centre_id is not None:
        centre = session.get(Centre, centre_id)
    else:
        code = current_app.config["TTHCC"].default_centre_code
        centre = (
            session.execute(select(Centre).where(Centre.code == code)).scalar_one_or_none()
            or session.execute(select(Centre).order_by(Centre.id).limit(1)).scalar_one_or_none()
        )
    if centre is None:
        abort(404)
    return render_template("supervisor_devices.html", centre=centre)
