"""What a centre box captures, and the link row that switches capture on.

Capture itself is done by SQLite triggers (migration 20261205_5d0c7a1e9b24): every insert
or update of a delivered table appends (table, op, row id) to `sync_outbox` in the same
transaction as the change, numbered by the outbox's AUTOINCREMENT `seq`. SQLite has one
writer at a time (every write transaction begins IMMEDIATE, server/db.py), so `seq` order is
commit order: a reader never sees seq n+1 committed before seq n.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.models import SyncLink, SyncOutbox

#: Table → operations captured (the migration's trigger list, checked by a test).
CAPTURED: dict[str, tuple[str, ...]] = {
    "tickets": ("insert", "update"),
    "ticket_events": ("insert",),
    "counter_events": ("insert",),
    "ratings": ("insert", "update"),
    "print_jobs": ("insert", "update"),
    "dossiers": ("insert", "update"),
    "dossier_handoffs": ("insert",),
    "feedback": ("insert", "update"),
    "feedback_events": ("insert",),
    "stations": ("update",),  # device_states only
}


#: Configuration tables (owned by the hub) → the natural key a change refers to them by: a
#: box's and the hub's ids of the same service differ, its code does not.
CONFIG_KEYS: dict[str, str] = {
    "services": "code",
    "counters": "number",
    "users": "username",
    "stations": "code",
    "priority_categories": "code",
    "procedures": "code",
}


@functools.cache
def config_refs(table_name: str) -> dict[str, str]:
    """A delivered table's columns that refer to configuration: column → config table."""
    from server.models import Base

    table = Base.metadata.tables[table_name]
    refs = {}
    for column in table.c:
        for fk in column.foreign_keys:
            if fk.column.table.name in CONFIG_KEYS:
                refs[column.name] = fk.column.table.name
    return refs


class SyncConfigError(Exception):
    """This database already belongs to another box, or the configuration is incomplete."""


def box_id_of(token: str) -> str:
    """A box token is "<box id>.<secret>": the box id is public, the secret is not."""
    box_id, dot, secret = token.partition(".")
    if not dot or not box_id or not secret:
        raise SyncConfigError("TTHCC_SYNC_TOKEN must be '<box id>.<secret>' (tthcc sync box add)")
    return box_id


def enable(session: Session, box_id: str, centre_code: str) -> SyncLink:
    """Make this database centre box `box_id`: from now on every change is captured."""
    link = session.scalars(select(SyncLink)).first()
    if link is None:
        link = SyncLink(box_id=box_id, centre_code=centre_code, acked_seq=0, last_error="")
        session.add(link)
        session.flush()
    elif link.box_id != box_id:
        raise SyncConfigError(
            f"this database is centre box {link.box_id}, not {box_id}: "
            "one database delivers under one box id (its sequence is that box's)"
        )
    link.centre_code = centre_code
    return link


def link_state(session: Session) -> dict[str, Any]:
    """The link as the centre sees it: last successful push, events pending, last error."""
    link = session.scalars(select(SyncLink)).first()
    if link is None:
        return {"configured": False}
    last_seq = session.scalar(select(func.max(SyncOutbox.seq))) or 0
    pending = session.scalar(
        select(func.count()).select_from(SyncOutbox).where(SyncOutbox.seq > link.acked_seq)
    )
    return {
        "configured": True,
        "box_id": link.box_id,
        "centre_code": link.centre_code,
        "acked_seq": link.acked_seq,
        "last_seq": last_seq,
        "pending": pending or 0,
        "last_push_at": link.last_push_at.isoformat() if link.last_push_at else None,
        "last_attempt_at": link.last_attempt_at.isoformat() if link.last_attempt_at else None,
        "last_error": link.last_error or "",
        "ok": not link.last_error,
        "config_version": link.config_version,
        "config_pulled_at": link.config_pulled_at.isoformat() if link.config_pulled_at else None,
        "config_error": link.config_error or "",
    }
