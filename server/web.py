"""Server-rendered pages: the front door, the counter page, the public ticket page, admin."""

from __future__ import annotations

from flask import Blueprint, render_template, request
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


@bp.get("/admin")
def admin_page() -> str:
    """Configuration overview (read-only here; editing comes with the admin pages)."""
    session = db().session
    centres = session.execute(select(Centre).order_by(Centre.id)).scalars().all()
    stations = session.execute(select(Station).order_by(Station.id)).scalars().all()
    return render_template("admin.html", centres=centres, stations=stations)
