"""The hub's side, second step: what a box delivered, into the hub's own tables.

`sync_inbox` holds every change of a box exactly once, in the box's order. Projecting it
writes the same rows into the hub's `tickets`, `ticket_events`, `counter_events`, `ratings`,
`dossiers`, `dossier_handoffs`, `feedback`, `feedback_events` (and a station's
`device_states`), so the province board and reports read a box-run centre like any other.

Identifiers: the hub's rows get the hub's own ids; `sync_ids` maps (box, table, the box's
row id) → the hub's id, so two boxes' ticket 17 are two rows, and a row delivered again
(an update, a replay) is the same row. References to configuration travel as natural keys
(`sync_inbox.keys`: service code, counter number, username …) resolved against the hub's
configuration of the box's centre; every `centre_id` is the box's centre.

Idempotent: a row is inserted once (its mapping), then updated with the values it was
delivered with; projecting the same changes again writes the same values. Projection moves
`sync_boxes.projected_seq` in seq order; a change it cannot project (configuration the hub
does not have) stops it there with `project_error`, and the next batch or
`tthcc sync project` takes it up again — the events stay in the inbox meanwhile.
"""

from __future__ import annotations

import functools
import logging
from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Date, bindparam, insert, select, update
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from server.domain.clock import local_day
from server.models import (
    Base,
    Centre,
    Counter,
    Station,
    SyncBox,
    SyncId,
    SyncInboxEvent,
)
from server.models.base import UTCDateTime
from server.services.report_rollups import invalidate
from server.sync.capture import CONFIG_KEYS, config_refs

logger = logging.getLogger(__name__)

#: Projected tables, referenced ones first. print_jobs stay in the inbox only: a box's
#: print queue means nothing at the hub.
ORDER = (
    "tickets",
    "ticket_events",
    "counter_events",
    "ratings",
    "dossiers",
    "dossier_handoffs",
    "feedback",
    "feedback_events",
    "stations",
)
#: Columns holding another delivered row's box id (feedback.rating_id has no foreign key).
EXTRA_REFS = {("feedback", "rating_id"): "ratings"}
#: Projected per chunk of the inbox (one mapping query per table and chunk).
CHUNK = 1000


class ProjectionError(Exception):
    """A change refers to something the hub cannot resolve (configuration it lacks)."""


@functools.cache
def event_refs(table_name: str) -> dict[str, str]:
    """Columns of `table_name` that hold a delivered row's id: column → its table."""
    table = Base.metadata.tables[table_name]
    refs = {
        column.name: fk.column.table.name
        for column in table.c
        for fk in column.foreign_keys
        if fk.column.table.name in ORDER and fk.column.table.name != "stations"
    }
    refs.update({c: t for (tab, c), t in EXTRA_REFS.items() if tab == table_name})
    return refs


def project_pending(session: Session, box: SyncBox) -> int:
    """Project the box's delivered changes after `projected_seq`; returns how many.

    Runs in a savepoint: a change that cannot be projected leaves the hub's tables as they
    were, records why in `project_error`, and the raw changes stay stored."""
    done = 0
    while True:
        events = list(
            session.scalars(
                select(SyncInboxEvent)
                .where(SyncInboxEvent.box_id == box.id, SyncInboxEvent.seq > box.projected_seq)
                .order_by(SyncInboxEvent.seq)
                .limit(CHUNK)
            )
        )
        if not events:
            break
        try:
            with session.begin_nested():
                _Projector(session, box).run(events)
        except (ProjectionError, IntegrityError, DataError) as exc:
            box.project_error = str(exc)[:500]
            logger.warning(
                "box %s: projection stopped after seq %s: %s", box.id, box.projected_seq, exc
            )
            return done
        box.projected_seq = events[-1].seq
        done += len(events)
    box.project_error = ""
    return done


class _Projector:
    def __init__(self, session: Session, box: SyncBox) -> None:
        self.session = session
        self.box = box
        self.ids: dict[str, dict[int, int]] = defaultdict(dict)  # table → box id → hub id
        self.new_ids: list[dict[str, Any]] = []
        self.config: dict[str, dict[Any, int]] = {}
        self.days: set[date] = set()
        #: Moments of delivered ratings and dossiers: their local days' roll-ups change.
        self.moments: set[datetime] = set()

    # --- look-ups, one query per table and chunk ---------------------------------------
    def _load(self, rows: dict[str, dict[int, SyncInboxEvent]]) -> None:
        wanted: dict[str, set[int]] = defaultdict(set)
        config_wanted: dict[str, set[Any]] = defaultdict(set)
        for table_name, by_id in rows.items():
            wanted[table_name].update(by_id)
            refs = event_refs(table_name)
            for event in by_id.values():
                payload = event.payload or {}
                for column, target in refs.items():
                    if payload.get(column) is not None:
                        wanted[target].add(payload[column])
                for column, config_table in config_refs(table_name).items():
                    key = (event.keys or {}).get(column)
                    if key is not None:
                        config_wanted[config_table].add(key)
        for table_name, ids in wanted.items():
            found = self.session.execute(
                select(SyncId.box_row_id, SyncId.hub_id).where(
                    SyncId.box_id == self.box.id,
                    SyncId.table_name == table_name,
                    SyncId.box_row_id.in_(ids),
                )
            )
            self.ids[table_name].update(dict(found.all()))
        for config_table, keys in config_wanted.items():
            table = Base.metadata.tables[config_table]
            key = table.c[CONFIG_KEYS[config_table]]
            stmt = select(key, table.c.id).where(key.in_(keys))
            if "centre_id" in table.c and config_table != "users":
                stmt = stmt.where(table.c.centre_id == self.box.centre_id)
            self.config[config_table] = dict(self.session.execute(stmt).all())

    # --- one row ---------------------------------------------------------------------------
    def _values(self, table_name: str, event: SyncInboxEvent, skip: tuple[str, ...] = ()) -> dict:
        table = Base.metadata.tables[table_name]
        payload = event.payload or {}
        keys = event.keys or {}
        refs = event_refs(table_name)
        configs = config_refs(table_name)
        values: dict[str, Any] = {}
        for column in table.c:
            name = column.name
            if name == "id" or name in skip or name not in payload:
                continue
            value = payload[name]
            if name == "centre_id":
                value = self.box.centre_id
            elif value is not None and name in configs:
                value = self.config.get(configs[name], {}).get(keys.get(name))
                if value is None and not column.nullable:
                    raise ProjectionError(
                        f"{table_name} {event.row_id}: {configs[name]} "
                        f"{keys.get(name)!r} is not configured at the hub for this centre"
                    )
            elif value is not None and name in refs:
                value = self.ids[refs[name]].get(value)
                if value is None and not column.nullable:
                    raise ProjectionError(
                        f"{table_name} {event.row_id}: {refs[name]} {payload[name]} "
                        "was never delivered"
                    )
            elif isinstance(value, str) and isinstance(column.type, UTCDateTime):
                value = datetime.fromisoformat(value)
                value = value if value.tzinfo else value.replace(tzinfo=UTC)
            elif isinstance(value, str) and isinstance(column.type, Date):
                value = date.fromisoformat(value)
            values[name] = value
        return values

    def _write(self, table_name: str, rows: list[tuple[SyncInboxEvent, dict[str, Any]]]) -> None:
        """Insert the rows the hub does not have yet, update the others: one executemany
        per table and set of columns (a chunk of 1,000 changes is a handful of statements)."""
        table = Base.metadata.tables[table_name]
        known = self.ids[table_name]
        fresh: dict[tuple[str, ...], list[tuple[int, dict[str, Any]]]] = defaultdict(list)
        stale: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for event, values in rows:
            if event.row_id in known:
                if values:
                    stale[tuple(sorted(values))].append({"_hub_id": known[event.row_id], **values})
            else:
                fresh[tuple(sorted(values))].append((event.row_id, values))
        for group in fresh.values():
            ids = self.session.execute(
                insert(table).returning(table.c.id, sort_by_parameter_order=True),
                [values for _, values in group],
            ).scalars()
            for (box_row_id, _), hub_id in zip(group, ids, strict=True):
                known[box_row_id] = hub_id
                self.new_ids.append(
                    {
                        "box_id": self.box.id,
                        "table_name": table_name,
                        "box_row_id": box_row_id,
                        "hub_id": hub_id,
                    }
                )
        for params in stale.values():
            self.session.execute(
                update(table).where(table.c.id == bindparam("_hub_id")),
                params,
            )

    # --- a chunk ---------------------------------------------------------------------------
    def run(self, events: list[SyncInboxEvent]) -> None:
        # The row as last delivered in this chunk (every entry of a push carries the row as
        # it was then: the last one is the newest).
        rows: dict[str, dict[int, SyncInboxEvent]] = defaultdict(dict)
        for event in events:
            if event.payload is not None and event.table_name in ORDER:
                rows[event.table_name].pop(event.row_id, None)
                rows[event.table_name][event.row_id] = event
        self._load(rows)
        for table_name in ORDER:
            by_id = rows.get(table_name, {})
            if not by_id:
                continue
            if table_name == "ratings":
                self._ratings(list(by_id.values()))
                for e in by_id.values():
                    pressed = (e.payload or {}).get("pressed_at")
                    if isinstance(pressed, str):
                        at = datetime.fromisoformat(pressed)
                        self.moments.add(at if at.tzinfo else at.replace(tzinfo=UTC))
            elif table_name == "stations":
                self._stations(list(by_id.values()))
            else:
                written = [(e, self._values(table_name, e)) for e in by_id.values()]
                self._write(table_name, written)
                if table_name == "tickets":
                    self.days.update(v["day"] for _, v in written if "day" in v)
                elif table_name == "dossiers":
                    for _, v in written:
                        for name in ("received_at", "result_ready_at"):
                            if isinstance(v.get(name), datetime):
                                self.moments.add(v[name])
                elif table_name == "counter_events":
                    last = {v["counter_id"]: v for _, v in written}  # seq order: the newest
                    for values in last.values():
                        self._counter_status(values)
        if self.new_ids:
            self.session.execute(insert(SyncId), self.new_ids)
        if self.days or self.moments:
            # The hall of these days changed at the hub (a box delivering late, after days
            # offline): fold their report facts and roll their roll-ups up again.
            timezone = self.session.execute(
                select(Centre.timezone).where(Centre.id == self.box.centre_id)
            ).scalar_one()
            days = self.days | {local_day(at, timezone) for at in self.moments}
            invalidate(self.session, [(self.box.centre_id, d) for d in days])

    def _ratings(self, events: list[SyncInboxEvent]) -> None:
        """As the box replaces a rating: every row first without its ticket and successor,
        then the successors (the old press stops counting), then the tickets — so the
        hub's "one counted rating per ticket" holds at every statement."""
        late = ("replaced_by_id", "ticket_id")
        first = []
        for event in events:
            values = self._values("ratings", event, skip=late)
            if event.row_id not in self.ids["ratings"]:
                values.update(ticket_id=None, replaced_by_id=None)
            first.append((event, values))
        self._write("ratings", first)
        table = Base.metadata.tables["ratings"]
        full = [(event, self._values("ratings", event)) for event in events]
        for column in late:
            self.session.execute(
                update(table).where(table.c.id == bindparam("_hub_id")),
                [
                    {"_hub_id": self.ids["ratings"][event.row_id], column: values.get(column)}
                    for event, values in full
                ],
            )

    def _stations(self, events: list[SyncInboxEvent]) -> None:
        """A station's device states onto the hub's station of the same code."""
        for event in events:
            payload = event.payload or {}
            self.session.execute(
                update(Station)
                .where(Station.centre_id == self.box.centre_id, Station.code == payload.get("code"))
                .values(device_states=payload.get("device_states") or {})
            )

    def _counter_status(self, values: dict[str, Any]) -> None:
        self.session.execute(
            update(Counter)
            .where(Counter.id == values["counter_id"])
            .values(
                status=values["status"],
                status_reason=values.get("reason", ""),
                status_since=values["at"],
                staff_id=values.get("staff_id"),
            )
        )
