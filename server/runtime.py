"""Access to the app's Database from request code (set in create_app)."""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from server.db import Database
from server.domain.clock import utcnow


def db() -> Database:
    return current_app.extensions["tthcc_db"]


def now() -> datetime:
    """The request's "now": the real clock, or the one a test set on the app
    (``app.extensions["tthcc_clock"]``, a callable returning an aware UTC datetime), so
    hours and cut-offs are tested at any wall-clock time without waiting."""
    clock = current_app.extensions.get("tthcc_clock")
    return clock() if clock is not None else utcnow()
