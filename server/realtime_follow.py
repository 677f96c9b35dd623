"""Following one ticket from a phone (the /t/<code> page) on the /hall namespace.

The page subscribes with ``{ticket_code}`` instead of a centre: it joins only the rooms of
that ticket (``ticket:<code>``) and of its line (``line:<service_id>``), never the centre's
room, whose events carry every citizen's tickets. It then receives:

- ``snapshot`` ``{ticket, server_time}``: the ticket as ``GET /api/v1/tickets/public/<code>``
  gives it (people ahead, wait estimate, counter);
- ``ticket.status`` ``{ticket}``: its own ticket changed (called: "mời đến Quầy 6");
- ``line.changed`` ``{service_id}``: something moved in its line or at a counter serving it
  (nothing about who): the page reads its ticket again for people ahead and the estimate.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select

from server.db import OutboxMessage
from server.services import events

#: Shape of a ticket's public code (``secrets.token_urlsafe``; the column holds 32).
PUBLIC_CODE = re.compile(r"[A-Za-z0-9_-]{8,32}")
_TICKET_EVENTS = {
    events.TICKET_ISSUED,
    events.TICKET_CALLED,
    events.TICKET_RECALLED,
    events.TICKET_UPDATED,
}


def follow_rooms(session: Any, code: Any) -> tuple[list[str], dict[str, Any]] | None:
    """The rooms to join and the snapshot for a follower of ticket `code`, or None when
    there is no such ticket."""
    from server.api.kiosk.tickets import ticket_out
    from server.domain.clock import to_local, utcnow
    from server.models import Ticket

    if not isinstance(code, str) or not PUBLIC_CODE.fullmatch(code):
        return None
    ticket = session.execute(select(Ticket).where(Ticket.public_code == code)).scalar_one_or_none()
    if ticket is None:
        return None
    view = ticket_out(ticket)
    rooms = [events.ticket_room(code), events.line_room(ticket.service_id)]
    timezone = ticket.service.centre.timezone
    return rooms, {"ticket": view, "server_time": to_local(utcnow(), timezone).isoformat()}


def follower_messages(message: OutboxMessage) -> Iterator[tuple[str, dict[str, Any], str]]:
    """(event, payload, room) to send to followers for one committed hall message."""
    if message.namespace != events.HALL_NAMESPACE:
        return
    if message.event in _TICKET_EVENTS:
        ticket = message.payload.get("ticket") or {}
        code = message.extra.get("public_code")  # never in the centre room's payload
        if code and message.event != events.TICKET_ISSUED:
            yield events.TICKET_STATUS, {"ticket": ticket}, events.ticket_room(code)
        lines = {ticket.get("service_id"), ticket.get("issued_service_id")} - {None}
        if message.event == events.TICKET_ISSUED and ticket.get("is_priority"):
            lines = {ticket.get("service_id")} - {None}  # goes before normal tickets
        elif message.event == events.TICKET_ISSUED:
            lines = set()  # behind everyone who follows this line: nothing changes for them
        for service_id in sorted(lines):
            yield events.LINE_CHANGED, {"service_id": service_id}, events.line_room(service_id)
    elif message.event == events.COUNTER_UPDATED:
        counter = message.payload.get("counter") or {}
        for service in counter.get("services") or []:
            service_id = service.get("id") if isinstance(service, dict) else service
            if isinstance(service_id, int):
                payload = {"service_id": service_id}
                yield events.LINE_CHANGED, payload, events.line_room(service_id)
