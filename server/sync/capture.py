"""What a centre box captures, and the link row that switches capture on.

Capture itself is done by triggers: every insert or update of a delivered table appends
(table, op, row id) to `sync_outbox` in the same transaction as the change, numbered by the
outbox's `seq`. A reader must never see seq n+1 committed before seq n:

- SQLite (migration 20261205_5d0c7a1e9b24) has one writer at a time (every transaction
  begins IMMEDIATE, server/db.py), so `seq` order is commit order.
- PostgreSQL (migration 20261205_a9c4e2f7b318) hands out sequence values to concurrent
  transactions: its capture function takes the advisory lock `BOX_WRITE_LOCK` until
  commit first, so capturing transactions run one at a time. A box's server process takes
  the same lock before the first write of every transaction (`serialise_box_writers`):
  taken only at the first captured change, a transaction could hold a row lock (a line's
  numbering row) that the lock's holder needs next, and the two would deadlock.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.orm import Session

from server.domain.errors import DomainError
from server.models import Centre, SyncLink, SyncOutbox

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


#: PostgreSQL box: the advisory lock every capturing transaction holds until it commits
#: (frozen in migration 20261205_a9c4e2f7b318; a test checks they agree).
BOX_WRITE_LOCK = 7_421_380_301

_WRITES = ("INSERT", "UPDATE", "DELETE")
_LOCKED = "serialised"


def serialise_box_writers(engine: Engine) -> None:
    """PostgreSQL centre box: one writing transaction at a time, as on SQLite.

    Before the first statement of a transaction that writes or locks rows (INSERT, UPDATE,
    DELETE, SELECT … FOR UPDATE), take `BOX_WRITE_LOCK` (held until commit or rollback).
    Reads never wait. A hall's load (5–10 counters) is far below one writer's capacity.
    """

    @event.listens_for(engine, "before_cursor_execute")
    def _lock_first(conn, cursor, statement, parameters, context, executemany) -> None:
        if conn.info.get(_LOCKED):
            return
        head = statement.lstrip()[:6].upper()
        if head in _WRITES or " FOR UPDATE" in statement or " FOR NO KEY UPDATE" in statement:
            cursor.execute(f"SELECT pg_advisory_xact_lock({BOX_WRITE_LOCK})")
            conn.info[_LOCKED] = True

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _released(conn) -> None:
        conn.info.pop(_LOCKED, None)

    @event.listens_for(engine, "checkin")
    def _returned(dbapi_connection, connection_record) -> None:
        connection_record.info.pop(_LOCKED, None)  # the pool rolled back whatever was left


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


#: Administration entities the hub owns on a centre box (its configuration document): an
#: edit on the box is refused, not applied and then silently overwritten at the next pull.
HUB_OWNED = frozenset(
    {"centres", "fields", "services", "counters", "users", "priority_categories", "procedures"}
)


class OwnedByHub(DomainError):
    code = "owned_by_hub"
    http_status = 409


def refuse_hub_owned_edit(session: Session, entity: str) -> None:
    """On a centre box, refuse to change configuration the province hub owns (409)."""
    if entity not in HUB_OWNED:
        return
    if session.scalar(select(SyncLink.id).limit(1)) is None:
        return  # a hub, or a hall without one: its own administrator owns everything
    raise OwnedByHub(
        "Cấu hình này (dịch vụ, quầy, thủ tục, tài khoản…) do máy chủ tỉnh quản lý: hãy sửa "
        "trên trang quản trị của máy chủ tỉnh, máy của trung tâm sẽ nhận thay đổi ở lần đồng "
        "bộ tiếp theo.",
        "This configuration (services, counters, procedures, users…) is owned by the "
        "province hub: change it in the hub's administration; the centre box receives it at "
        "the next sync.",
        details={"entity": entity},
    )


class SyncConfigError(Exception):
    """This database already belongs to another box, or the configuration is incomplete."""


def box_id_of(token: str) -> str:
    """A box token is "<box id>.<secret>": the box id is public, the secret is not."""
    box_id, dot, secret = token.partition(".")
    if not dot or not box_id or not secret:
        raise SyncConfigError("TTHCC_SYNC_TOKEN must be '<box id>.<secret>' (tthcc sync box add)")
    return box_id


#: Back-fill: each projected table's rows of the centre, referenced tables first (the hub
#: projects in this order), as the SELECT that picks them. Print jobs (not projected) and
#: stations' device states (sent again on their next change) are left out.
BACKFILL: tuple[tuple[str, str], ...] = (
    ("tickets", "SELECT id FROM tickets WHERE centre_id = :centre"),
    ("ticket_events", "SELECT id FROM ticket_events WHERE centre_id = :centre"),
    ("counter_events", "SELECT id FROM counter_events WHERE centre_id = :centre"),
    ("ratings", "SELECT id FROM ratings WHERE centre_id = :centre"),
    ("dossiers", "SELECT id FROM dossiers WHERE centre_id = :centre"),
    (
        "dossier_handoffs",
        "SELECT h.id FROM dossier_handoffs h JOIN dossiers d ON d.id = h.dossier_id "
        "WHERE d.centre_id = :centre",
    ),
    ("feedback", "SELECT id FROM feedback WHERE centre_id = :centre"),
    (
        "feedback_events",
        "SELECT e.id FROM feedback_events e JOIN feedback f ON f.id = e.feedback_id "
        "WHERE f.centre_id = :centre",
    ),
)


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


def queue_history(session: Session, centre_code: str, now: datetime) -> int:
    """Queue every row of the centre's history for delivery; how many.

    For a database that becomes a box with a history (a centre that ran on its own before
    joining the province): every row, in the projection's order, ahead of what the hall
    does next, so the hub's reports cover the centre's earlier months too. Call it once,
    in the transaction that first enables the box (no change can fall between the history
    and the capture: the history's rows are read in that transaction)."""
    centre_id = session.scalar(select(Centre.id).where(Centre.code == centre_code))
    if centre_id is None:
        return 0  # a new box, set up from the hub's configuration: no history here
    at = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    queued = 0
    for table_name, rows in BACKFILL:
        queued += session.execute(
            text(
                "INSERT INTO sync_outbox (table_name, op, row_id, captured_at) "
                f"SELECT '{table_name}', 'insert', picked.id, :at FROM ({rows}) AS picked "
                "ORDER BY picked.id"
            ),
            {"centre": centre_id, "at": at},
        ).rowcount
    return queued


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
