"""Admin helpers that read files, not the database: the simulated printer's output."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, abort, current_app, render_template, send_from_directory
from werkzeug.wrappers import Response

from server.models import Role
from server.web.common import page_roles

bp = Blueprint("web_admin", __name__)

_JOB_FILE = re.compile(r"^[A-Za-z0-9_.-]{1,80}\.(png|bin)$")


def _printed_dir() -> Path:
    return Path(current_app.config["TTHCC"].instance_path) / "printed"


@bp.get("/admin/printed")
@page_roles(Role.ADMIN)
def printed_tickets() -> str:
    """The latest tickets the demo's simulated printer "printed" (PNG previews)."""
    folder = _printed_dir()
    pictures = sorted(folder.glob("*.png"), key=lambda p: p.stat().st_mtime, reverse=True)[:24]
    return render_template(
        "printed.html",
        pictures=[
            {
                "name": p.name,
                "bytes": p.with_suffix(".bin").stat().st_size
                if p.with_suffix(".bin").exists()
                else None,
            }
            for p in pictures
        ],
        folder=folder,
    )


@bp.get("/admin/printed/<name>")
@page_roles(Role.ADMIN)
def printed_file(name: str) -> Response:
    if not _JOB_FILE.match(name):
        abort(404)
    return send_from_directory(_printed_dir(), name, max_age=0)
