"""The centre's side: deliver the outbox to the hub in order, advance on acknowledgement.

One round: read the outbox after the acknowledged mark (`sync_link.acked_seq`), attach each
changed row as it is now, send the batch, and store the mark the hub answers. The mark moves
only on the hub's answer, so a push killed at any point resends at most the batch in flight,
and the hub stores a replayed event once (it is unique per (box, seq) there).
"""

from __future__ import annotations

import logging
import os
import signal
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from server.db import Database
from server.domain.clock import utcnow
from server.models import Base, SyncLink, SyncOutbox

logger = logging.getLogger(__name__)

#: Events per request: ~500 B each, well under the hub's request limit (1 MB by default).
DEFAULT_BATCH = 500

#: Sends one batch; returns (HTTP status, JSON body). Raises HubUnreachable.
Transport = Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]


class HubUnreachable(Exception):
    """The hub did not answer (network down, hub stopped): try again later."""


class HubRefused(Exception):
    """The hub answered with an error that retrying will not fix (bad token, wrong centre)."""


@dataclass
class PushResult:
    batches: int = 0
    #: Events sent (a resent event counts again), stored new at the hub, and already there.
    sent: int = 0
    received: int = 0
    duplicates: int = 0
    acked_seq: int = 0
    pending: int = 0


def http_transport(hub_url: str, token: str, timeout: float = 30.0) -> Transport:
    """POST batches to `<hub_url>/api/v1/sync/batch` with the box token."""
    import requests

    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    url = hub_url.rstrip("/") + "/api/v1/sync/batch"

    def send(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        try:
            response = http.post(url, json=body, timeout=timeout)
        except requests.RequestException as exc:
            raise HubUnreachable(str(exc)) from exc
        if response.status_code >= 500 or response.status_code in (502, 503, 504):
            raise HubUnreachable(f"hub answered {response.status_code}")
        try:
            reply = response.json()
        except ValueError:
            reply = {"message": response.text[:200]}
        return response.status_code, reply

    return send


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _not_personal(table_name: str, column: str, value: Any) -> Any:
    """A ticket's print job without the citizen's name a citizen chose to print: it stays
    on the hall's box, never in the hub's inbox (docs/privacy.md)."""
    if table_name == "print_jobs" and column == "payload" and isinstance(value, dict):
        return {k: v for k, v in value.items() if k != "citizen_name"}
    return value


def read_batch(session: Any, after: int, limit: int) -> list[dict[str, Any]]:
    """The next `limit` outbox entries after `after`, each with its row as it is now."""
    entries = session.execute(
        select(SyncOutbox).where(SyncOutbox.seq > after).order_by(SyncOutbox.seq).limit(limit)
    ).scalars()
    entries = list(entries)
    wanted: dict[str, set[int]] = defaultdict(set)
    for entry in entries:
        wanted[entry.table_name].add(entry.row_id)
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    for table_name, ids in wanted.items():
        table = Base.metadata.tables[table_name]
        for row in session.execute(select(table).where(table.c.id.in_(ids))).mappings():
            rows[(table_name, row["id"])] = {
                k: _jsonable(_not_personal(table_name, k, v)) for k, v in row.items()
            }
    keys = _config_keys(session, rows)
    return [
        {
            "seq": entry.seq,
            "table": entry.table_name,
            "op": entry.op,
            "row_id": entry.row_id,
            "captured_at": entry.captured_at,
            "payload": rows.get((entry.table_name, entry.row_id)),
            "keys": keys.get((entry.table_name, entry.row_id), {}),
        }
        for entry in entries
    ]


def _config_keys(
    session: Any, rows: dict[tuple[str, int], dict[str, Any]]
) -> dict[tuple[str, int], dict[str, Any]]:
    """Per row, the natural keys of the configuration it refers to ({"service_id": "HT"}):
    the hub knows its services by code, not by the box's ids."""
    from server.sync.capture import CONFIG_KEYS, config_refs

    wanted: dict[str, set[int]] = defaultdict(set)
    for (table_name, _), row in rows.items():
        for column, config_table in config_refs(table_name).items():
            if row.get(column) is not None:
                wanted[config_table].add(row[column])
    names: dict[str, dict[int, Any]] = {}
    for config_table, ids in wanted.items():
        table = Base.metadata.tables[config_table]
        key = table.c[CONFIG_KEYS[config_table]]
        names[config_table] = dict(
            session.execute(select(table.c.id, key).where(table.c.id.in_(ids))).all()
        )
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for (table_name, row_id), row in rows.items():
        out[(table_name, row_id)] = {
            column: names[config_table].get(row[column])
            for column, config_table in config_refs(table_name).items()
            if row.get(column) is not None
        }
    return out


def _record(database: Database, *, acked: int | None = None, error: str = "") -> None:
    with database.transaction() as session:
        link = session.scalars(select(SyncLink)).one()
        now = utcnow()
        link.last_attempt_at = now
        link.last_error = error[:500]
        if acked is not None:
            link.acked_seq = acked
            link.last_push_at = now


def _fault_after_send(batches: int) -> None:
    """Tests: die with SIGKILL after the hub stored batch N, before the mark is kept."""
    at = os.environ.get("TTHCC_SYNC_KILL_AFTER_BATCH")
    if at and int(at) == batches:
        os.kill(os.getpid(), signal.SIGKILL)


def push(
    database: Database,
    transport: Transport,
    *,
    batch_size: int = DEFAULT_BATCH,
    max_batches: int | None = None,
) -> PushResult:
    """Deliver everything pending (or `max_batches` batches); raises HubUnreachable/Refused."""
    result = PushResult()
    while max_batches is None or result.batches < max_batches:
        with database.transaction() as session:
            link = session.scalars(select(SyncLink)).first()
            if link is None:
                raise HubRefused("this database is not a centre box (tthcc sync enable)")
            after = link.acked_seq
            events = read_batch(session, after, batch_size)
            body = {"box": link.box_id, "centre": link.centre_code, "after": after}
            last_seq = session.scalar(select(func.max(SyncOutbox.seq))) or 0
        result.acked_seq = after
        # Nothing pending: an empty batch all the same, so "last successful push" means the
        # hub answered, and the hub hears from a quiet centre (its board's link state).
        body["events"] = events
        try:
            status, reply = transport(body)
        except HubUnreachable as exc:
            _record(database, error=f"unreachable: {exc}")
            raise
        if status == 413 and len(events) > 1:
            # Too large for the hub (or its proxy): smaller batches from now on.
            batch_size = max(1, len(events) // 2)
            logger.warning("batch of %s refused as too large: now %s", len(events), batch_size)
            continue
        if events:
            result.batches += 1
        result.sent += len(events)
        if isinstance(reply.get("acked"), int) and reply["acked"] > last_seq:
            # The hub holds sequences this box never wrote: the box was restored from an
            # older backup, and its new changes would pass for duplicates. Stop, loudly.
            message = (
                f"the hub holds this box's changes up to seq {reply['acked']}, the box only "
                f"up to {last_seq}: restored from an older backup? Register it again "
                "(docs/sync.md)"
            )
            _record(database, error=message)
            raise HubRefused(message)
        if status == 409 and isinstance(reply.get("acked"), int):
            # The hub holds less (or more) than we thought: continue from its mark.
            logger.warning(
                "hub's mark is %s, ours %s: resuming from the hub's", reply["acked"], after
            )
            _record(database, acked=reply["acked"])
            result.acked_seq = reply["acked"]
            continue
        if status != 200:
            message = reply.get("message_en") or reply.get("message") or str(status)
            _record(database, error=f"refused ({status}): {message}")
            raise HubRefused(f"hub refused the batch ({status}): {message}")
        if not events:
            _record(database, acked=reply["acked"])
            result.acked_seq = reply["acked"]
            break
        _fault_after_send(result.batches)
        result.received += reply.get("received", 0)
        result.duplicates += reply.get("duplicates", 0)
        result.acked_seq = reply["acked"]
        _record(database, acked=reply["acked"])
        logger.info(
            "delivered seq %s..%s (%s new, %s already there)",
            events[0]["seq"],
            events[-1]["seq"],
            reply.get("received"),
            reply.get("duplicates"),
        )
    with database.transaction() as session:
        from server.sync.capture import link_state

        result.pending = link_state(session)["pending"]
    return result
