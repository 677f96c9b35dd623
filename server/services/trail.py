"""The ticket trail: every transition appended to `ticket_events` (audit and reports)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from server.domain.actors import Actor
from server.models import TicketEvent

_INSERT_EVENT = insert(TicketEvent)


def _event_row(
    ticket: Mapping[str, Any],
    kind: str,
    from_status: str | None,
    now: datetime,
    actor: Actor,
    data: Mapping[str, Any],
) -> dict[str, Any]:
    return {
        "ticket_id": ticket["id"],
        "centre_id": ticket["centre_id"],
        "service_id": ticket["service_id"],
        "kind": kind,
        "from_status": from_status,
        "to_status": ticket["status"],
        "at": now,
        "actor": actor.name,
        "counter_id": ticket["counter_id"],
        # The civil servant serving the ticket (evaluation); `actor` says who pressed.
        "staff_id": ticket["staff_id"] if ticket["staff_id"] is not None else actor.staff_id,
        "outcome": data.get("outcome"),
        "data": dict(data),
    }


def record_event(
    session: Session,
    ticket: Mapping[str, Any],
    kind: str,
    from_status: str | None,
    now: datetime,
    actor: Actor,
    **data: Any,
) -> None:
    """Append the transition to `ticket_events`; `ticket` is the row after the change."""
    # A Core insert: the trail is append-only and never read back in the same request,
    # so the ORM's unit of work would only add cost on the hottest paths.
    session.connection().execute(
        _INSERT_EVENT, _event_row(ticket, kind, from_status, now, actor, data)
    )


def record_events(
    session: Session,
    moves: list[tuple[Mapping[str, Any], str, str | None, Mapping[str, Any]]],
    now: datetime,
    actor: Actor,
) -> None:
    """Append several transitions (ticket row after, kind, from status, data) at once."""
    if moves:
        session.connection().execute(
            _INSERT_EVENT,
            [_event_row(row, kind, before, now, actor, data) for row, kind, before, data in moves],
        )
