"""Access to the app's Database from request code (set in create_app)."""

from __future__ import annotations

from flask import current_app

from server.db import Database


def db() -> Database:
    return current_app.extensions["tthcc_db"]
