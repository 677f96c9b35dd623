"""Ticket numbers in the database: the next number of a service's day, and how full the
ranges are.

The rule is ``server.domain.numbering.allocate_number``; here it runs as at most one
statement per decision, whatever the size of the range:

- first pass of the day: one ``UPDATE … RETURNING`` (last number + 1), nothing else;
- otherwise, with the (service, day) row created if need be and locked (one upsert), the
  first free number after the last one in scan order, found by **one** ``SELECT`` over
  the day's active numbers (gaps between them, plus the number after the last and the
  start of the range), then one ``UPDATE``; or none found: the range is full and the
  request is refused at once. Before, that was one query per number of the range (about
  1 s per refusal on PostgreSQL, on the only worker).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    bindparam,
    case,
    cast,
    func,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from server.domain.hours import DailyCapReached
from server.domain.lifecycle import ACTIVE_STATUSES
from server.domain.numbering import (
    Allocation,
    NumberRange,
    cycle_after,
    fresh_number,
    range_exhausted,
)
from server.models import NumberSequence, Service, Ticket
from server.models.base import MAX_DB_INT

_ACTIVE = sorted(s.value for s in ACTIVE_STATUSES)

# Hot-path statements are built once, with bind parameters: building a statement costs
# more than running it on SQLite.
_BUMP_NUMBER = (
    update(NumberSequence)
    .where(
        NumberSequence.service_id == bindparam("b_service_id"),
        NumberSequence.day == bindparam("b_day"),
        NumberSequence.cycle == 0,
        NumberSequence.last_number.is_not(None),
        NumberSequence.last_number >= bindparam("range_start"),
        NumberSequence.last_number < bindparam("range_end"),
        NumberSequence.issued < bindparam("cap"),
    )
    .values(last_number=NumberSequence.last_number + 1, issued=NumberSequence.issued + 1)
    .returning(NumberSequence.last_number)
    .execution_options(synchronize_session=False)
)


def _lock_statement(insert: Callable[..., Any]) -> Any:
    """Create the (service, day) row if absent and lock it, returning what it holds: one
    statement (the upsert's update takes the row lock on PostgreSQL; SQLite's write lock
    is already ours since BEGIN IMMEDIATE)."""
    statement = insert(NumberSequence).values(
        service_id=bindparam("service_id"), day=bindparam("day"), last_number=None, cycle=0
    )
    return statement.on_conflict_do_update(
        index_elements=[NumberSequence.service_id, NumberSequence.day],
        set_={"service_id": statement.excluded.service_id},
    ).returning(NumberSequence.last_number, NumberSequence.cycle, NumberSequence.issued)


_LOCK = {"postgresql": _lock_statement(pg_insert), "sqlite": _lock_statement(sqlite_insert)}
_SET_NUMBER = (
    update(NumberSequence)
    .where(
        NumberSequence.service_id == bindparam("b_service_id"),
        NumberSequence.day == bindparam("b_day"),
    )
    .values(
        last_number=bindparam("number"),
        cycle=bindparam("cycle"),
        issued=NumberSequence.issued + 1,
    )
    .execution_options(synchronize_session=False)
)


def _first_free_statement() -> Select:
    """``SELECT`` the first number of the range, in scan order after ``last``, that no
    active ticket of the service's day holds (no row: every number is held).

    A free number is the start of the range, the number after the last one, or right
    after an active number whose successor is not active (a gap): the first free number
    in scan order is always one of these, because the number before it in the scan was
    held. The active numbers are read once, in order, from the index of the day's tickets.
    """
    start = cast(bindparam("range_start"), Integer)
    end = cast(bindparam("range_end"), Integer)
    last = cast(bindparam("last"), Integer)
    active = (
        select(Ticket.number.label("number"))
        .where(
            Ticket.issued_service_id == bindparam("service_id"),
            Ticket.day == bindparam("day"),
            Ticket.status.in_(_ACTIVE),
            Ticket.number.between(start, end),
        )
        .distinct()
        .cte("active")
    )
    ordered = select(
        active.c.number,
        func.lead(active.c.number).over(order_by=active.c.number).label("next_number"),
    ).subquery("ordered")
    candidates = union_all(
        select((ordered.c.number + 1).label("n")).where(
            or_(ordered.c.next_number.is_(None), ordered.c.next_number > ordered.c.number + 1)
        ),
        select((last + 1).label("n")),
        select(start.label("n")),
    ).subquery("candidates")
    n = candidates.c.n
    return (
        select(n)
        .where(n.between(start, end), n.not_in(select(active.c.number)))
        .order_by(case((n > last, 0), else_=1), n)
        .limit(1)
    )


_FIRST_FREE = _first_free_statement()


def first_free_number(
    session: Session, service_id: int, day: date, number_range: NumberRange, last_number: int
) -> int | None:
    """The first number after ``last_number`` (wrapping) that no active ticket of the
    service's day holds, or None. One statement."""
    return (
        session.connection()
        .execute(
            _FIRST_FREE,
            {
                "service_id": service_id,
                "day": day,
                "range_start": number_range.start,
                "range_end": number_range.end,
                "last": last_number,
            },
        )
        .scalar_one_or_none()
    )


def next_number(
    session: Session, service: Service, day: date, daily_cap: int | None = None
) -> Allocation:
    """Allocate the service's next number for ``day`` (``allocate_number``'s rule).

    Raises :class:`~server.domain.errors.NumberRangeExhausted` when every number is held,
    and :class:`~server.domain.hours.DailyCapReached` (bare: the caller says when the
    service issues again) when ``daily_cap`` tickets were issued that day. The cap is read
    on the locked (service, day) row, so concurrent issuing never passes it.
    """
    fast = (
        session.connection()
        .execute(
            _BUMP_NUMBER,
            {
                "b_service_id": service.id,
                "b_day": day,
                "range_start": service.range_start,
                "range_end": service.range_end,
                "cap": MAX_DB_INT if daily_cap is None else daily_cap,
            },
        )
        .scalar_one_or_none()
    )
    if fast is not None:
        return Allocation(fast, 0)
    number_range = NumberRange(service.range_start, service.range_end)
    connection = session.connection()
    lock = _LOCK[connection.dialect.name]
    last, cycle, issued = connection.execute(lock, {"service_id": service.id, "day": day}).one()
    if daily_cap is not None and (issued or 0) >= daily_cap:
        raise DailyCapReached("", "", details={"daily_cap": daily_cap, "issued": issued})
    number = fresh_number(number_range, last, cycle)
    if number is None:
        assert last is not None  # fresh_number answers the first of the day
        number = first_free_number(session, service.id, day, number_range, last)
        if number is None:
            raise range_exhausted(number_range, service.name, service.id)
        cycle = cycle_after(number_range, last, cycle, number)
    connection.execute(
        _SET_NUMBER,
        {"b_service_id": service.id, "b_day": day, "number": number, "cycle": cycle},
    )
    return Allocation(number, cycle)


def numbers_held(session: Session, centre_id: int, day: date) -> dict[int, int]:
    """Per service of the centre: how many numbers of its range active tickets hold today
    (what stands between the service and a refusal)."""
    rows = session.execute(
        select(Ticket.issued_service_id, func.count(Ticket.number.distinct()))
        .join(Service, Service.id == Ticket.issued_service_id)
        .where(
            Ticket.centre_id == centre_id,
            Ticket.day == day,
            Ticket.status.in_(_ACTIVE),
            Ticket.number.between(Service.range_start, Service.range_end),
        )
        .group_by(Ticket.issued_service_id)
    )
    return {service_id: held for service_id, held in rows}
