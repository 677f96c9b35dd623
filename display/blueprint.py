"""The lobby TV page: latest call, every counter's number, recent calls, waiting counts."""

from __future__ import annotations

from flask import Blueprint, render_template, request

bp = Blueprint(
    "display",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


@bp.get("/")
def display_page() -> str:
    """The TV page. ?centre=ID binds it to a centre; ?zone=Z to a subset of counters."""
    return render_template(
        "display/display.html",
        centre_id=request.args.get("centre", type=int),
        zone=request.args.get("zone", default=""),
        muted=request.args.get("muted", default="0") == "1",
    )
