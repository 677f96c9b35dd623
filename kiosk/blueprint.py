"""The lobby kiosk page: choose a field, a service, optionally priority; get a ticket."""

from __future__ import annotations

from flask import Blueprint, render_template, request

bp = Blueprint(
    "kiosk",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


@bp.get("/")
def kiosk_page() -> str:
    """The touchscreen page. ?centre=ID&station=ID bind it to a centre and a kiosk station."""
    return render_template(
        "kiosk/kiosk.html",
        centre_id=request.args.get("centre", type=int),
        station_id=request.args.get("station", type=int),
    )
