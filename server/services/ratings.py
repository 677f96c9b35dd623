"""Recording satisfaction ratings: a press on a counter's pad, or a web rating.

Everything is decided at the time of the press, never of its delivery: a press that
reaches the server 15 s (or an hour) late, through a stalled link or from the agent's
spool, rates the citizen who pressed it, with the staff member who served them.

``record_rating`` finds the ticket the press rates (rules in ``server.domain.ratings``),
stores the press exactly once per idempotency key, and appends ``rating.recorded`` to the
outbox. Like every service it never commits: the caller does, and on an ``IntegrityError``
(a concurrent delivery of the same key) rolls back and calls :func:`find_by_key`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db import OutboxMessage, outbox
from server.domain.clock import local_day, start_of_local_day, to_local
from server.domain.errors import InvalidRequest, NotFound
from server.domain.ratings import (
    DEFAULT_CRITERION,
    LEVEL_LABELS,
    SCALES,
    SOURCES,
    THANK_YOU,
    Outcome,
    RatingPolicy,
    ServedTicket,
    outcome,
    rated_ticket,
    valid_criterion,
)
from server.models import Centre, Counter, CounterEvent, Rating, Service, Ticket, TicketEvent
from server.services import events
from server.services.report_rollups import invalidate_if_past

logger = logging.getLogger(__name__)

#: The lowest level each pad size can give: such a rating opens a follow-up case.
LOWEST_LEVEL = {3: 2, 4: 2, 5: 1}


@dataclass(frozen=True)
class RecordedRating:
    rating: Rating
    #: True when the idempotency key was seen before: nothing was stored or sent.
    duplicate: bool = False
    #: The rating this press replaced (same ticket, within the replace window).
    replaced: Rating | None = None


def policy_for(centre: Centre) -> RatingPolicy:
    return RatingPolicy.from_settings(centre.settings)


def find_by_key(session: Session, idempotency_key: str) -> Rating | None:
    return session.execute(
        select(Rating).where(Rating.idempotency_key == idempotency_key)
    ).scalar_one_or_none()


def record_rating(
    session: Session,
    *,
    counter_id: int,
    raw_key: str,
    level: int,
    pressed_at: datetime,
    idempotency_key: str,
    now: datetime,
    scale: int | None = None,
    criterion: str = DEFAULT_CRITERION,
    source: str = "pad",
    station_id: int | None = None,
    ticket_id: int | None = None,
) -> RecordedRating:
    """Store one press against the ticket it rates; a repeated key returns the first.

    ``pressed_at`` later than ``now`` (a station clock running fast) is taken as ``now``.
    ``ticket_id`` rates that ticket directly (a web form); it must have been served at
    the counter. ``scale`` is the number of keys of the pad (default: the centre's).
    """
    existing = find_by_key(session, idempotency_key)
    if existing is not None:
        return RecordedRating(existing, duplicate=True)
    _validate(raw_key, level, scale, criterion, source, idempotency_key, pressed_at)
    counter = session.get(Counter, counter_id)
    if counter is None:
        raise NotFound(f"Không tìm thấy quầy số {counter_id}.", f"counter {counter_id} not found")
    centre = session.get(Centre, counter.centre_id)
    policy = policy_for(centre)
    at = min(pressed_at, now)

    service_id = staff_id = None
    if ticket_id is not None:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None or ticket.counter_id != counter.id:
            raise InvalidRequest(
                "Phiếu này không được phục vụ tại quầy đã chọn.",
                f"ticket {ticket_id} was not served at counter {counter_id}",
            )
        service_id, staff_id = ticket.service_id, ticket.staff_id
    else:
        rated = _ticket_rated_at(session, counter, centre, at, policy)
        ticket = rated.ticket if rated is not None else None
        if rated is not None:
            service_id, staff_id = rated.service_id, rated.staff_id
    if ticket is not None and session.get_bind().dialect.name == "postgresql":
        # Two presses on one ticket decide their outcome one after the other (SQLite
        # already serialises writers from BEGIN IMMEDIATE).
        session.refresh(ticket, with_for_update=True)

    rating = Rating(
        centre_id=centre.id,
        counter_id=counter.id,
        staff_id=staff_id if ticket is not None else _staff_at(session, counter, at),
        station_id=station_id,
        raw_key=raw_key,
        level=level,
        scale=scale or policy.scale,
        criterion=criterion,
        source=source,
        pressed_at=at,
        received_at=now,
        idempotency_key=idempotency_key,
    )
    replaced: Rating | None = None
    result = Outcome.UNATTACHED
    if ticket is not None:
        counted, first_pressed_at = _ratings_of(session, ticket.id, criterion)
        result = outcome(
            at,
            first_pressed_at=first_pressed_at,
            counted_pressed_at=counted.pressed_at if counted else None,
            replace_seconds=policy.replace_seconds,
        )
        if result is not Outcome.UNATTACHED:
            rating.ticket_id = ticket.id
            rating.service_id = service_id
    session.add(rating)
    if result is Outcome.REPLACES:
        replaced = counted
        _supersede(session, counted, rating)
    elif result is Outcome.REPLACED:
        rating.replaced_by_id = counted.id
    session.flush()
    # A press of an earlier day (a pad that was offline) changes that day's figures.
    pressed = [rating.pressed_at] + ([replaced.pressed_at] if replaced is not None else [])
    invalidate_if_past(
        session,
        {(centre.id, local_day(p, centre.timezone)) for p in pressed},
        now,
        centre.timezone,
    )

    logger.info(
        "rating %s at counter %s: level %s, %s%s",
        rating.id,
        counter.number,
        level,
        result.value,
        f" (ticket {ticket.display_number})" if rating.ticket_id and ticket else "",
    )
    if rating.replaced_by_id is None and level <= LOWEST_LEVEL.get(rating.scale, 1):
        from server.services.feedback import open_case_for_low_rating

        open_case_for_low_rating(session, rating, now=now)
    _emit(session, rating, counter, centre, ticket if rating.ticket_id else None, replaced)
    return RecordedRating(rating, replaced=replaced)


def _validate(
    raw_key: str,
    level: int,
    scale: int | None,
    criterion: str,
    source: str,
    idempotency_key: str,
    pressed_at: datetime,
) -> None:
    problems = []
    if not isinstance(raw_key, str) or not 1 <= len(raw_key) <= 16:
        problems.append("raw_key must be 1-16 characters")
    if isinstance(level, bool) or level not in LEVEL_LABELS:
        problems.append("level must be an integer 1-5")
    if scale is not None and scale not in SCALES:
        problems.append("scale must be 3, 4 or 5")
    if not valid_criterion(criterion):
        problems.append("criterion must be a lowercase identifier")
    if source not in SOURCES:
        problems.append(f"source must be one of {', '.join(SOURCES)}")
    if not isinstance(idempotency_key, str) or not 8 <= len(idempotency_key) <= 64:
        problems.append("key must be 8-64 characters")
    if pressed_at.tzinfo is None:
        problems.append("pressed_at must carry a time zone")
    if problems:
        raise InvalidRequest("Đánh giá không hợp lệ.", "invalid rating: " + "; ".join(problems))


@dataclass(frozen=True)
class _Stay:
    """A ticket's stay at the counter, as the trail tells it: when it was called there,
    started, and left (finished or otherwise), with the service and staff of that stay."""

    ticket_id: int
    called_at: datetime
    started_at: datetime | None = None
    left_at: datetime | None = None
    finished: bool = False
    service_id: int | None = None
    staff_id: int | None = None


#: Events that end a ticket's stay at its counter.
_LEAVING = ("finish", "no_show", "transfer", "requeue")


def _stays(session: Session, counter: Counter, centre: Centre, at: datetime) -> list[_Stay]:
    """Every stay at the counter on the day of `at` that began by `at`, from the trail.

    The trail, not the ticket row: a press delivered late must rate who was at the counter
    when it was pressed, even if that ticket was recalled, transferred, requeued or called
    elsewhere since.
    """
    day_start = start_of_local_day(at, centre.timezone)
    called_here = (
        select(TicketEvent.ticket_id)
        .where(
            TicketEvent.centre_id == centre.id,
            TicketEvent.counter_id == counter.id,
            TicketEvent.kind == "call",
            TicketEvent.at >= day_start,
            TicketEvent.at <= at,
        )
        .scalar_subquery()
    )
    events = session.execute(
        select(
            TicketEvent.ticket_id,
            TicketEvent.kind,
            TicketEvent.at,
            TicketEvent.counter_id,
            TicketEvent.service_id,
            TicketEvent.staff_id,
        )
        .where(TicketEvent.ticket_id.in_(called_here), TicketEvent.at >= day_start)
        .order_by(TicketEvent.at, TicketEvent.id)
    ).all()
    open_stays: dict[int, _Stay] = {}
    stays: list[_Stay] = []
    for e in events:
        stay = open_stays.get(e.ticket_id)
        if e.kind == "call":
            if stay is not None:  # called elsewhere (or again here): the earlier stay ends
                stays.append(replace(stay, left_at=e.at))
                del open_stays[e.ticket_id]
            if e.counter_id == counter.id and e.at <= at:
                open_stays[e.ticket_id] = _Stay(
                    e.ticket_id, e.at, None, None, False, e.service_id, e.staff_id
                )
        elif stay is not None and e.kind == "start" and stay.started_at is None:
            open_stays[e.ticket_id] = replace(stay, started_at=e.at)
        elif stay is not None and e.kind in _LEAVING:
            stays.append(replace(stay, left_at=e.at, finished=e.kind == "finish"))
            del open_stays[e.ticket_id]
    return stays + list(open_stays.values())


@dataclass(frozen=True)
class _Rated:
    ticket: Ticket
    service_id: int | None
    staff_id: int | None


def _ticket_rated_at(
    session: Session, counter: Counter, centre: Centre, at: datetime, policy: RatingPolicy
) -> _Rated | None:
    """The ticket a press at ``at`` rates: who was at the counter then, or had just left it
    after being served (the domain's rule, over the stays the trail records)."""
    candidates = []
    for stay in _stays(session, counter, centre, at):
        if stay.left_at is not None and stay.left_at <= at and not stay.finished:
            continue  # left unserved (absent, transferred) before the press
        candidates.append(stay)
    chosen = rated_ticket(
        (ServedTicket(s.ticket_id, s.called_at, s.started_at, s.left_at) for s in candidates),
        at,
        policy.window_seconds,
    )
    if chosen is None:
        return None
    stay = max((s for s in candidates if s.ticket_id == chosen), key=lambda s: s.called_at)
    return _Rated(session.get(Ticket, chosen), stay.service_id, stay.staff_id)


def _staff_at(session: Session, counter: Counter, at: datetime) -> int | None:
    """Who held the counter at ``at``: its trail's last change before then (the counter's
    staff now when it has none, e.g. a counter opened before the trail existed)."""
    staff = session.execute(
        select(CounterEvent.staff_id)
        .where(
            CounterEvent.centre_id == counter.centre_id,
            CounterEvent.counter_id == counter.id,
            CounterEvent.at <= at,
        )
        .order_by(CounterEvent.at.desc(), CounterEvent.id.desc())
        .limit(1)
    ).first()
    return staff.staff_id if staff is not None else counter.staff_id


def _ratings_of(
    session: Session, ticket_id: int, criterion: str
) -> tuple[Rating | None, datetime | None]:
    """The ticket's counted rating for ``criterion`` and the time of its first press."""
    counted = session.execute(
        select(Rating).where(
            Rating.ticket_id == ticket_id,
            Rating.criterion == criterion,
            Rating.replaced_by_id.is_(None),
        )
    ).scalar_one_or_none()
    first = session.execute(
        select(func.min(Rating.pressed_at)).where(
            Rating.ticket_id == ticket_id, Rating.criterion == criterion
        )
    ).scalar_one_or_none()
    return counted, first


def _supersede(session: Session, old: Rating, new: Rating) -> None:
    """``new`` counts for the ticket from now on; ``old`` stays, pointing at ``new``."""
    # The partial unique index allows one counted rating per ticket: move the old one
    # out of the way first, in its own statement.
    new_ticket, new.ticket_id = new.ticket_id, None
    session.flush()
    old.replaced_by_id = new.id
    session.flush()
    new.ticket_id = new_ticket
    session.flush()


def rating_view(
    rating: Rating,
    *,
    counter: Counter | None = None,
    ticket: Ticket | None = None,
    service: Service | None = None,
    timezone: str = "Asia/Ho_Chi_Minh",
) -> dict[str, Any]:
    """The public shape of a rating (API, ``rating.recorded``)."""
    return {
        "id": rating.id,
        "centre_id": rating.centre_id,
        "counter_id": rating.counter_id,
        "counter_number": counter.number if counter else None,
        "counter_name": counter.label if counter else None,
        "ticket_id": rating.ticket_id,
        "ticket_number": ticket.display_number if ticket else None,
        "staff_id": rating.staff_id,
        "service_id": rating.service_id,
        "service_name": service.name if service else None,
        "level": rating.level,
        "label": LEVEL_LABELS.get(rating.level, ""),
        "raw_key": rating.raw_key,
        "scale": rating.scale,
        "criterion": rating.criterion,
        "source": rating.source,
        "attached": rating.ticket_id is not None,
        "counted": rating.replaced_by_id is None,
        "replaced_by_id": rating.replaced_by_id,
        "pressed_at": to_local(rating.pressed_at, timezone).isoformat(),
        "received_at": to_local(rating.received_at, timezone).isoformat(),
    }


def rating_view_of(session: Session, rating: Rating) -> dict[str, Any]:
    """``rating_view`` with the counter, ticket and service loaded."""
    counter = session.get(Counter, rating.counter_id)
    ticket = session.get(Ticket, rating.ticket_id) if rating.ticket_id else None
    service = session.get(Service, rating.service_id) if rating.service_id else None
    centre = session.get(Centre, rating.centre_id)
    return rating_view(
        rating, counter=counter, ticket=ticket, service=service, timezone=centre.timezone
    )


def _emit(
    session: Session,
    rating: Rating,
    counter: Counter,
    centre: Centre,
    ticket: Ticket | None,
    replaced: Rating | None,
) -> None:
    service = session.get(Service, rating.service_id) if rating.service_id else None
    view = rating_view(
        rating, counter=counter, ticket=ticket, service=service, timezone=centre.timezone
    )
    # The centre's room reaches the lobby display and any anonymous /hall client: who was
    # rated stays in the API (supervisors), not on the air.
    view.pop("staff_id")
    payload = {
        "rating": view,
        "replaces_id": replaced.id if replaced is not None else None,
        "thank_you": THANK_YOU,
    }
    outbox(session).append(
        OutboxMessage(
            events.RATING_RECORDED,
            payload,
            (events.centre_room(centre.id), events.counter_room(counter.id)),
        )
    )
