"""Pages of counter and dossier-desk staff.

- /counter: log in, pick a counter, call and serve.
- /ho-so/quay: record a received dossier, print its receipt slip, hand dossiers on.

Both are shells: the page logs in with the session cookie and talks to the JSON API, whose
policy decides what the user may do (server/access_policy.py).
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from server.domain.clock import utcnow
from server.input_guard import db_int
from server.web.common import requested_centre

bp = Blueprint("web_staff", __name__)


@bp.get("/counter")
def counter_page() -> str:
    """Counter staff: log in, pick a counter, call and serve."""
    return render_template("counter.html", centre_id=request.args.get("centre", type=db_int))


@bp.get("/ho-so/quay")
def counter_dossiers_page() -> str:
    """Counter staff: record a received dossier, print its slip, hand dossiers on."""
    return render_template(
        "public/counter_dossiers.html",
        centre=requested_centre(),
        counter_id=request.args.get("counter", type=db_int),
        today=utcnow().date().isoformat(),
    )
