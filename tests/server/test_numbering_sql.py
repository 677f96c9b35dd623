"""Ticket numbers in the database (server/services/numbering.py) against the rule
(server/domain/numbering.allocate_number), on SQLite and PostgreSQL.

Property-based: random ranges, last numbers, cycles and sets of numbers still held in the
hall; the one-statement search must pick the number (and cycle) the rule picks, or refuse
exactly when the rule does.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, insert

from server.domain.errors import NumberRangeExhausted
from server.domain.numbering import Allocation, NumberRange, allocate_number
from server.models import NumberSequence, Service, Ticket
from server.services.numbering import next_number
from tests.server.factories import create_centre, create_service

DAY = date(2026, 11, 25)
AT = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


@pytest.fixture
def service_ids(database) -> tuple[int, int]:
    with database.transaction() as s:
        centre = create_centre(s)
        return centre.id, create_service(s, centre).id


def _ticket(centre_id: int, service_id: int, number: int, cycle: int, status: str) -> dict:
    return {
        "centre_id": centre_id,
        "issued_service_id": service_id,
        "service_id": service_id,
        "day": DAY,
        "number": number,
        "cycle": cycle,
        "display_number": f"{number:04d}",
        "public_code": uuid.uuid4().hex,
        "is_priority": False,
        "status": status,
        "issued_at": AT,
        "queued_at": AT,
        "call_count": 0,
        "transfer_count": 0,
    }


@st.composite
def halls(draw):
    """A range, the day's sequence row, the numbers held and some done tickets."""
    start = draw(st.integers(0, 40))
    size = draw(st.integers(1, 24))
    end = start + size - 1
    near = st.integers(max(0, start - 3), end + 3)  # a range an admin changed mid-day
    active = draw(st.sets(near))
    done = draw(st.sets(near, max_size=6))
    last = draw(st.one_of(st.none(), near))
    cycle = 0 if last is None else draw(st.integers(0, 3))
    return NumberRange(start, end), last, cycle, active, done


def _in_database(database, ids, number_range, last, cycle, active, done):
    centre_id, service_id = ids
    session = database.session_factory()
    try:
        if last is not None:
            session.execute(
                insert(NumberSequence).values(
                    service_id=service_id, day=DAY, last_number=last, cycle=cycle
                )
            )
        cycles = itertools.count(100)  # (cycle, number) is unique: done ones in other cycles
        rows = [_ticket(centre_id, service_id, n, 0, "waiting") for n in active]
        rows += [_ticket(centre_id, service_id, n, next(cycles), "done") for n in done]
        if rows:
            session.execute(insert(Ticket), rows)
        service = Service(
            id=service_id,
            name="Hộ tịch",
            range_start=number_range.start,
            range_end=number_range.end,
        )
        try:
            return next_number(session, service, DAY)
        except NumberRangeExhausted as exc:
            return exc
    finally:
        session.rollback()
        session.close()


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(hall=halls())
def test_the_one_statement_search_follows_the_rule(database, service_ids, hall):
    number_range, last, cycle, active, done = hall
    try:
        expected: Allocation | str = allocate_number(number_range, last, cycle, active.__contains__)
    except NumberRangeExhausted:
        expected = "exhausted"
    got = _in_database(database, service_ids, number_range, last, cycle, active, done)
    if isinstance(got, NumberRangeExhausted):
        got = "exhausted"
    assert got == expected


def test_a_full_range_is_refused_in_a_few_statements_whatever_its_size(database, service_ids):
    centre_id, service_id = service_ids
    number_range = NumberRange(1001, 1999)
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    with database.transaction() as s:
        s.execute(
            insert(NumberSequence).values(service_id=service_id, day=DAY, last_number=1999, cycle=0)
        )
        s.execute(
            insert(Ticket),
            [_ticket(centre_id, service_id, n, 0, "waiting") for n in range(1001, 2000)],
        )
    service = Service(id=service_id, name="Hộ tịch", range_start=1001, range_end=1999)
    event.listen(database.engine, "before_cursor_execute", count)
    try:
        with pytest.raises(NumberRangeExhausted) as refused, database.transaction() as s:
            next_number(s, service, DAY)
    finally:
        event.remove(database.engine, "before_cursor_execute", count)
    # The fast path's UPDATE, the row lock (one upsert), one search: not one query per
    # number of the range (999 before).
    searches = [q for q in statements if "FROM tickets" in q]
    assert len(searches) == 1, statements
    assert len([q for q in statements if not q.startswith(("BEGIN", "ROLLBACK"))]) == 3
    details = refused.value.details
    assert (details["range_start"], details["range_end"]) == (1001, 1999)
    assert details["service_id"] == service_id and details["service_name"] == "Hộ tịch"
    assert number_range.size == 999 and "999 số" in refused.value.message_vi
