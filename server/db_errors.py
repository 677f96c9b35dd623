"""What a database integrity error is about, in the same words on PostgreSQL and SQLite."""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError


def integrity_columns(error: IntegrityError) -> str:
    """The columns (or, failing that, the constraint) a violation names; "" when unknown."""
    orig = error.orig
    diag = getattr(orig, "diag", None)  # psycopg: "Key (centre_id, code)=(1, X) already exists."
    if diag is not None:
        found = re.search(r"Key \(([^)]*)\)", getattr(diag, "message_detail", None) or "")
        if found:
            return found.group(1)
        return getattr(diag, "column_name", None) or getattr(diag, "constraint_name", None) or ""
    # sqlite3: "UNIQUE constraint failed: fields.centre_id, fields.code"
    found = re.search(r"constraint failed: (.+)$", str(orig))
    if found:
        return ", ".join(c.split(".")[-1] for c in found.group(1).split(", "))
    return ""
