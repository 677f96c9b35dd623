"""A hall at work on a centre box, through the real services and commits (sync tests and
benchmarks/sync.py): each citizen issued, called, started, finished and rating.

Every step is its own transaction, as at the counter: the triggers capture each commit.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select

from server.models import Counter, Service
from server.services import issuing
from server.services import lifecycle as ops
from server.services.ratings import record_rating


def hall_ids(database, centre_id: int) -> tuple[list[int], list[tuple[int, set[int]]]]:
    """The centre's services and, per counter, the services it serves."""
    with database.transaction() as s:
        services = list(
            s.scalars(select(Service.id).where(Service.centre_id == centre_id).order_by(Service.id))
        )
        counters = [
            (c.id, {link.service_id for link in c.service_links})
            for c in s.scalars(select(Counter).where(Counter.centre_id == centre_id))
        ]
    return services, counters


def serve_citizens(database, centre_id: int, count: int, start: datetime) -> list[str]:
    """`count` citizens through the hall; returns their display numbers in issue order."""
    services, counters = hall_ids(database, centre_id)
    numbers = []
    at = start
    for i in range(count):
        at += timedelta(seconds=5)
        counter_id, served = counters[i % len(counters)]
        service_id = next(svc for svc in services if svc in served)
        with database.transaction() as s:
            numbers.append(
                issuing.issue_ticket(s, service_id=service_id, now=at).ticket.display_number
            )
        with database.transaction() as s:
            ticket = ops.call_next(s, counter_id=counter_id, now=at + timedelta(seconds=1))
            ticket_id = ticket.id
        with database.transaction() as s:
            ops.start(s, ticket_id=ticket_id, now=at + timedelta(seconds=2))
        with database.transaction() as s:
            ops.finish(s, ticket_id=ticket_id, now=at + timedelta(seconds=3))
        with database.transaction() as s:
            record_rating(
                s,
                counter_id=counter_id,
                raw_key="5",
                level=5,
                pressed_at=at + timedelta(seconds=4),
                idempotency_key=uuid.uuid4().hex,
                now=at + timedelta(seconds=4),
                ticket_id=ticket_id,
            )
    return numbers
