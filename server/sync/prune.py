"""Pruning what delivery no longer needs (docs/sync.md, "Retention").

- **On a centre box**: `sync_outbox` entries the hub acknowledged (`seq <=
  sync_link.acked_seq`) and captured more than the retention period ago. Kept: everything
  not acknowledged (never pruned, however old: days offline are a longer outbox), and the
  acknowledged entries of the retention period — a hub restored from a backup younger than
  that answers 409 with its older mark and the box resends from there.
- **On the hub**: `sync_inbox` rows already projected into the hub's tables (`seq <=
  sync_boxes.projected_seq`, and stored: `<= last_seq`) and received more than the
  retention period ago. Kept: what is stored but not projected yet (a change the hub could
  not project waits in the inbox), and the period's rows (`tthcc sync project --replay`
  replays what is kept).

A change sent again is recognised as a duplicate by the box's mark (`sync_boxes.last_seq`),
not by its inbox row, so pruning never lets it in twice. `sync_ids` is not pruned: a box's
row may be updated long after (a dossier resolved weeks later, a rating replaced, a ticket
finished after midnight), and its mapping is how the update finds the hub's row.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, select
from sqlalchemy.orm import Session

from server.models import SyncBox, SyncInboxEvent, SyncLink, SyncOutbox

#: Days kept after delivery (`tthcc sync prune --days`, TTHCC_SYNC_RETENTION_DAYS).
DEFAULT_DAYS = 30


def prune(session: Session, now: datetime, days: int = DEFAULT_DAYS) -> dict[str, Any]:
    """Delete what is delivered and older than `days`, on a box and/or on a hub; how many."""
    if days < 1:
        raise ValueError("keep at least a day")
    cutoff = now - timedelta(days=days)
    out: dict[str, Any] = {"days": days, "cutoff": cutoff.isoformat()}
    link = session.scalars(select(SyncLink)).first()
    if link is not None:
        # captured_at is ISO text in UTC (…T…Z): compared as text, as it is written.
        out["outbox_pruned"] = session.execute(
            delete(SyncOutbox).where(
                SyncOutbox.seq <= link.acked_seq,
                SyncOutbox.captured_at < cutoff.strftime("%Y-%m-%dT%H:%M:%S"),
            )
        ).rowcount
    inbox = 0
    for box_id, last_seq, projected_seq in session.execute(
        select(SyncBox.id, SyncBox.last_seq, SyncBox.projected_seq)
    ).all():
        inbox += session.execute(
            delete(SyncInboxEvent).where(
                and_(
                    SyncInboxEvent.box_id == box_id,
                    SyncInboxEvent.seq <= min(last_seq, projected_seq),
                    SyncInboxEvent.received_at < cutoff,
                )
            )
        ).rowcount
    out["inbox_pruned"] = inbox
    return out
