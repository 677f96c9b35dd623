"""The hub's side: register boxes, and store a box's batch exactly once, in order.

A batch says which mark it follows (`after`, the box's acknowledged sequence). The hub's
mark for the box (`sync_boxes.last_seq`) is read under a row lock, so two pushes of one box
cannot interleave; events at or below it are duplicates (a replay after a lost
acknowledgement) and are acknowledged without being stored again; a batch that follows a
mark the hub never reached is answered 409 with the hub's mark, and the box resends from it.
The unique (box_id, seq) of `sync_inbox` is the last guard.
"""

from __future__ import annotations

import hmac
import itertools
import re
import secrets
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from server.models import Centre, SyncBox, SyncInboxEvent
from server.services.auth import hash_token
from server.sync.capture import CAPTURED, box_id_of
from server.sync.project import project_pending


class BatchRefused(Exception):
    def __init__(self, status: int, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details


def add_box(session: Session, centre: Centre, now: datetime) -> tuple[SyncBox, str]:
    """A new box for `centre`; returns it and its token (shown once, stored hashed)."""
    box_id = uuid.uuid4().hex
    token = f"{box_id}.{secrets.token_urlsafe(32)}"
    box = SyncBox(
        id=box_id, centre_id=centre.id, token_hash=hash_token(token), last_seq=0, created_at=now
    )
    session.add(box)
    session.flush()
    return box, token


_TOKEN = re.compile(r"[0-9a-f]{32}\.[A-Za-z0-9_-]{20,100}")


def box_for_token(session: Session, token: str) -> SyncBox | None:
    if not _TOKEN.fullmatch(token):
        return None  # not a box token: no look-up at all (a staff token, garbage, NUL…)
    box_id = box_id_of(token)
    box = session.get(SyncBox, box_id)
    if box is None or not hmac.compare_digest(box.token_hash, hash_token(token)):
        return None
    return box


def ingest(session: Session, box: SyncBox, batch: dict[str, Any], now: datetime) -> dict:
    """Store the batch's new events; the answer is the hub's mark and what was new."""
    centre = session.get(Centre, box.centre_id)
    if batch["box"] != box.id or centre is None or batch["centre"] != centre.code:
        raise BatchRefused(
            403,
            "Hộp trung tâm chỉ được gửi dữ liệu của trung tâm mình. / "
            "A centre box delivers for its own centre only.",
        )
    events = batch["events"]
    seqs = [e["seq"] for e in events]
    if any(b <= a for a, b in itertools.pairwise(seqs)) or any(
        e["op"] not in CAPTURED.get(e["table"], ()) for e in events
    ):
        raise BatchRefused(
            422,
            "Lô dữ liệu không hợp lệ (thứ tự hoặc bảng). / "
            "Invalid batch: sequences must increase, tables and operations must be delivered ones.",
        )
    # Lock the box's row: one batch of a box at a time (SQLite: BEGIN IMMEDIATE already).
    last = session.scalar(select(SyncBox.last_seq).where(SyncBox.id == box.id).with_for_update())
    if batch["after"] > last:
        raise BatchRefused(
            409,
            "Trung tâm gửi tiếp sau mốc mà máy chủ tỉnh chưa nhận. / "
            "The batch follows a mark the hub has not reached: resend from the hub's.",
            acked=last,
        )
    new = [e for e in events if e["seq"] > last]
    if new:
        session.execute(
            insert(SyncInboxEvent),
            [
                {
                    "box_id": box.id,
                    "seq": e["seq"],
                    "centre_id": box.centre_id,
                    "table_name": e["table"],
                    "op": e["op"],
                    "ref": f"{box.id}/{e['table']}/{e['row_id']}",
                    "captured_at": e["captured_at"],
                    "payload": e["payload"],
                    "keys": e.get("keys"),
                    "received_at": now,
                }
                for e in new
            ],
        )
        last = new[-1]["seq"]
    box.last_seq = last
    box.last_push_at = now
    # Into the hub's own tables, in the same transaction: stored and projected together
    # (a change the hub cannot project stays stored; docs/sync.md, "Projection").
    project_pending(session, box)
    return {"acked": last, "received": len(new), "duplicates": len(events) - len(new)}
