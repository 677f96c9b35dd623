"""Appointments (rules: server.domain.appointments): the bookable slots of a service, a
slot held while the citizen fills the form, booked with a confirmation code, changed or
cancelled by that code. The day itself (check-in, figures): appointment_arrivals; closed
days: appointment_closures.

No slot is ever booked twice: a seat (0 … capacity-1) of a slot is taken by inserting or
updating the row under the unique key (service, slot start, seat), in a savepoint; a clash
means another request took that seat, so the next free one is tried, and none left is a
409. Exact on SQLite (serial writes) and PostgreSQL (the unique index waits for the other
transaction, then refuses) without table locks. Like every service: no commit, events
through the outbox.
"""

from __future__ import annotations

import logging
import random
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.db import OutboxMessage, outbox
from server.domain.appointments import (
    ARRIVAL_WINDOW_MINUTES,
    DEFAULT_HORIZON_DAYS,
    DEFAULT_SLOT_MINUTES,
    HOLD_MINUTES,
    Booked,
    BookingClosed,
    BookingQuotaReached,
    BookingStatus,
    HoldExpired,
    Slot,
    SlotNotBookable,
    SlotUnavailable,
    bookable_slots,
    check_code,
    find_slot,
    new_code,
    shared_room,
    slots_of_day,
)
from server.domain.clock import local_day, to_local
from server.domain.errors import InvalidRequest, NotFound
from server.domain.remote import mask_phone, normalize_phone, phone_hash
from server.models import (
    Appointment,
    Centre,
    CentreClosure,
    CounterService,
    Service,
)
from server.services import events, hours, issue_keys

logger = logging.getLogger(__name__)

#: Active bookings one phone may hold in a centre (centre setting appointments_per_phone).
DEFAULT_PER_PHONE = 2
_SEATED = [s.value for s in (BookingStatus.BOOKED, BookingStatus.CHECKED_IN)]
_CODE_TRIES = 20
#: pg_advisory_xact_lock(kind, centre) of a centre's shared counters (two-int key space).
_POOL_LOCK = 1_414_100_014


# --- slots ----------------------------------------------------------------------------------


def slot_minutes(service: Service, centre: Centre) -> int:
    """Minutes per citizen: the service's own, else the centre's setting, else 15. (The
    measured service time moves every day; a booked slot must not.)"""
    setting = (centre.settings or {}).get("appointment_minutes")
    return int(service.appointment_minutes or setting or DEFAULT_SLOT_MINUTES)


def counters_serving(session: Session, service_id: int) -> int:
    return session.execute(
        select(func.count()).where(CounterService.service_id == service_id)
    ).scalar_one()


def sharing_pool(session: Session, service: Service) -> dict[int, frozenset[int]] | None:
    """The bookable services that share counters with `service`, directly or through one
    another, each with the counters serving it (itself included); None when no other
    bookable service shares a counter with it (its own seats are then the whole rule)."""
    rows = session.execute(
        select(CounterService.service_id, CounterService.counter_id)
        .join(Service, Service.id == CounterService.service_id)
        .where(Service.centre_id == service.centre_id, Service.appointments.is_(True))
    ).all()
    serving: dict[int, set[int]] = {}
    for service_id, counter_id in rows:
        serving.setdefault(service_id, set()).add(counter_id)
    pool, frontier = {service.id}, [service.id]
    while frontier:
        counters = serving.get(frontier.pop(), set())
        for other, theirs in serving.items():
            if other not in pool and counters & theirs:
                pool.add(other)
                frontier.append(other)
    if len(pool) == 1:
        return None
    return {s: frozenset(serving.get(s, ())) for s in pool}


def pool_bookings(
    session: Session,
    pool: dict[int, frozenset[int]],
    days: Iterable[date],
    now: datetime,
    *,
    exclude_id: int | None = None,
) -> list[Booked]:
    """The seats held on `days` by the pool's services: bookings, check-ins, live holds."""
    query = select(Appointment.service_id, Appointment.slot_start, Appointment.slot_minutes).where(
        Appointment.service_id.in_(list(pool)),
        Appointment.day.in_(list(days)),
        Appointment.seat.is_not(None),
        or_(
            Appointment.status.in_(_SEATED),
            and_(Appointment.status == BookingStatus.HELD.value, Appointment.hold_until > now),
        ),
    )
    if exclude_id is not None:
        query = query.where(Appointment.id != exclude_id)
    return [
        Booked(service_id, start, start + timedelta(minutes=minutes))
        for service_id, start, minutes in session.execute(query).all()
    ]


def _lock_pool(session: Session, centre_id: int) -> None:
    """Serialise the bookings of a centre's services that share counters, so two at once
    never both fit the last counter (PostgreSQL; SQLite's writes are serial already)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:kind, :centre)"),
            {"kind": _POOL_LOCK, "centre": centre_id},
        )


def closed_days(session: Session, centre_id: int) -> set[date]:
    return set(
        session.execute(select(CentreClosure.day).where(CentreClosure.centre_id == centre_id))
        .scalars()
        .all()
    )


@dataclass(frozen=True)
class ServiceSlots:
    service: Service
    centre: Centre
    minutes: int
    days: list[tuple[date, list[Slot]]]


def service_slots(
    session: Session, service_id: int, now: datetime, *, horizon_days: int = DEFAULT_HORIZON_DAYS
) -> ServiceSlots:
    """The slots of a bookable service from now on (NotFound / SlotNotBookable)."""
    service, centre = _bookable_service(session, service_id)
    local_now = to_local(now, centre.timezone)
    rules = hours.service_rules(service, centre)
    minutes = slot_minutes(service, centre)
    days = list(
        bookable_slots(
            local_now,
            rules,
            hours.calendar_for(session, local_now.year),
            minutes=minutes,
            counters=counters_serving(session, service.id),
            closed_days=closed_days(session, centre.id),
            horizon_days=horizon_days,
        )
    )
    return ServiceSlots(service, centre, minutes, days)


def taken_seats(
    session: Session, service_id: int, starts: Iterable[datetime], now: datetime
) -> dict[datetime, int]:
    """Seats taken per slot start (UTC): bookings, check-ins and live holds."""
    starts = list(starts)
    if not starts:
        return {}
    rows = session.execute(
        select(Appointment.slot_start, func.count())
        .where(
            Appointment.service_id == service_id,
            Appointment.slot_start.in_(starts),
            Appointment.seat.is_not(None),
            or_(
                Appointment.status.in_(_SEATED),
                and_(Appointment.status == BookingStatus.HELD.value, Appointment.hold_until > now),
            ),
        )
        .group_by(Appointment.slot_start)
    ).all()
    return {start: count for start, count in rows}


def slots_view(session: Session, service_id: int, now: datetime, horizon_days: int) -> dict:
    """What the phone page lists: per day, each slot with its free seats."""
    found = service_slots(session, service_id, now, horizon_days=horizon_days)
    starts = [slot.start for _day, slots in found.days for slot in slots]
    taken = taken_seats(session, service_id, starts, now)
    pool = sharing_pool(session, found.service)
    shared = (
        pool_bookings(session, pool, [day for day, slots in found.days if slots], now)
        if pool
        else []
    )

    def free(slot: Slot) -> int:
        own = max(0, slot.capacity - taken.get(slot.start, 0))
        if pool is None:
            return own
        start, end = (slot.start.astimezone(now.tzinfo), slot.end.astimezone(now.tzinfo))
        return min(own, shared_room(found.service.id, start, end, shared, pool))

    days = []
    for day, slots in found.days:
        if not slots:
            continue
        days.append(
            {
                "day": day.isoformat(),
                "slots": [
                    {
                        "start": slot.start.isoformat(),
                        "end": slot.end.isoformat(),
                        "capacity": slot.capacity,
                        "free": free(slot),
                    }
                    for slot in slots
                ],
            }
        )
    return {
        "service_id": found.service.id,
        "service": found.service.name,
        "minutes": found.minutes,
        "hold_minutes": HOLD_MINUTES,
        "days": days,
    }


def _slot_at(session: Session, service: Service, centre: Centre, start: Any, now: datetime) -> Slot:
    """The bookable slot of `service` starting at `start` (ISO text or aware datetime):
    after now and within the booking horizon, on the day's grid (else SlotNotBookable)."""
    moment = _parse_start(start, centre.timezone)
    local_now = to_local(now, centre.timezone)
    if moment <= local_now:
        raise SlotNotBookable(
            f"Khung giờ {moment:%H:%M} ngày {moment:%d/%m/%Y} đã qua.",
            f"the slot at {moment:%H:%M} on {moment:%d/%m/%Y} has passed",
        )
    if (moment.date() - local_now.date()).days >= DEFAULT_HORIZON_DAYS:
        raise SlotNotBookable(
            f"Chỉ đặt lịch trước tối đa {DEFAULT_HORIZON_DAYS} ngày.",
            f"appointments are taken up to {DEFAULT_HORIZON_DAYS} days ahead",
        )
    rules = hours.service_rules(service, centre)
    slots = slots_of_day(
        moment.date(),
        rules,
        hours.calendar_for(session, moment.year),
        minutes=slot_minutes(service, centre),
        counters=counters_serving(session, service.id),
        tzinfo=moment.tzinfo,
        closed_days=closed_days(session, centre.id),
    )
    return find_slot(slots, moment)


def _parse_start(start: Any, timezone: str) -> datetime:
    from zoneinfo import ZoneInfo

    try:
        moment = start if isinstance(start, datetime) else datetime.fromisoformat(str(start))
    except ValueError:
        raise InvalidRequest(
            "Giờ hẹn không hợp lệ (dạng 2026-11-26T08:00+07:00).",
            "start must be an ISO time like 2026-11-26T08:00+07:00",
        ) from None
    zone = ZoneInfo(timezone)
    try:
        return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)
    except OverflowError:  # year 1 or 9999 shifted out of range
        raise SlotNotBookable("Giờ hẹn không hợp lệ.", "start is out of range") from None


# --- taking a seat: the one place that writes `seat` -----------------------------------------


def _take_seat(
    session: Session,
    service: Service,
    slot: Slot,
    now: datetime,
    write: Callable[[int], int],
    *,
    moving: int | None = None,
) -> int:
    """A free seat of `slot`, written by `write(seat)` (returns the rows written) in a
    savepoint; the unique key refuses a seat another request took meanwhile, and the next
    free one is tried. SlotUnavailable when none is left, or when the counters the service
    shares with other bookable services are all taken at some moment of the slot (under
    the centre's pool lock; `moving`: the booking being moved, not counted)."""
    service_id = service.id
    start = slot.start.astimezone(now.tzinfo)
    pool = sharing_pool(session, service)
    if pool is not None:
        _lock_pool(session, service.centre_id)
        end = slot.end.astimezone(now.tzinfo)
        held = pool_bookings(session, pool, [slot.start.date()], now, exclude_id=moving)
        if shared_room(service_id, start, end, held, pool) < 1:
            raise _slot_full(slot)
    # Holds nobody confirmed in time give their seats back.
    session.execute(
        update(Appointment)
        .where(
            Appointment.service_id == service_id,
            Appointment.slot_start == start,
            Appointment.status == BookingStatus.HELD.value,
            Appointment.hold_until <= now,
        )
        .values(status=BookingStatus.EXPIRED.value, seat=None, hold_token=None)
        .execution_options(synchronize_session=False)
    )
    for _ in range(slot.capacity + 2):
        taken = set(
            session.execute(
                select(Appointment.seat).where(
                    Appointment.service_id == service_id,
                    Appointment.slot_start == start,
                    Appointment.seat.is_not(None),
                )
            ).scalars()
        )
        free = [seat for seat in range(slot.capacity) if seat not in taken]
        if not free:
            break
        seat = random.choice(free)  # concurrent requests rarely pick the same one
        try:
            with session.begin_nested():
                if write(seat) == 1:
                    return seat
        except IntegrityError:
            continue
    raise _slot_full(slot)


def _slot_full(slot: Slot) -> SlotUnavailable:
    return SlotUnavailable(
        f"Khung giờ {slot.start:%H:%M} ngày {slot.start:%d/%m/%Y} đã kín chỗ: quý khách vui "
        "lòng chọn khung giờ khác.",
        f"the slot at {slot.start:%H:%M} on {slot.start:%d/%m/%Y} is fully booked: "
        "choose another one",
        details={"start": slot.start.isoformat()},
    )


def _load(session: Session, appointment_id: int) -> Appointment:
    row = session.get(Appointment, appointment_id)
    session.refresh(row)
    return row


# --- hold, book, change, cancel ------------------------------------------------------------


def hold(session: Session, *, service_id: int, start: Any, now: datetime) -> Appointment:
    """Hold a seat of the slot for HOLD_MINUTES while the citizen fills the form."""
    service, centre = _bookable_service(session, service_id)
    slot = _slot_at(session, service, centre, start, now)
    token = secrets.token_urlsafe(18)
    values = _new_row(service, slot, now) | {
        "status": BookingStatus.HELD.value,
        "hold_token": token,
        "hold_until": now + timedelta(minutes=HOLD_MINUTES),
    }
    _take_seat(
        session,
        service,
        slot,
        now,
        lambda seat: _insert(session, values | {"seat": seat}),
    )
    return session.execute(select(Appointment).where(Appointment.hold_token == token)).scalar_one()


def book(
    session: Session,
    *,
    phone: str,
    now: datetime,
    phone_key: str,
    hold_token: str | None = None,
    service_id: int | None = None,
    start: Any = None,
    key: BookingKey | None = None,
) -> Appointment:
    """Book: confirm a held seat (`hold_token`), or take a seat of `service_id` at `start`
    at once. The phone number is kept hashed and masked, like remote numbers'. `key`: the
    phone's Idempotency-Key (`booking_key_of`), stored on the booking; the caller looked
    for its booking first (`booked_with_key`)."""
    normalized = normalize_phone(phone)
    digest = phone_hash(normalized, phone_key)
    if hold_token:
        row = session.execute(
            select(Appointment).where(Appointment.hold_token == hold_token)
        ).scalar_one_or_none()
        if row is None or row.status != BookingStatus.HELD.value:
            raise HoldExpired(
                "Khung giờ đã được giữ quá 5 phút và đã trả lại: quý khách vui lòng chọn lại.",
                "the hold has expired and the seat was released: choose a slot again",
            )
        service, centre = _bookable_service(session, row.service_id)
    else:
        if service_id is None or start is None:
            raise InvalidRequest(
                "Thiếu khung giờ: gửi «hold» hoặc «service_id» và «start».",
                "send hold, or service_id and start",
            )
        service, centre = _bookable_service(session, service_id)
    _check_quota(session, centre, digest, now)
    code = None
    if hold_token:
        code = _with_code(
            session,
            lambda c: (
                session.connection()
                .execute(
                    update(Appointment)
                    .where(
                        Appointment.id == row.id,
                        Appointment.status == BookingStatus.HELD.value,
                        Appointment.seat.is_not(None),
                    )
                    # The token stays: a retry of this confirmation is known by it.
                    .values(_booked_values(c, digest, normalized, now, keep_hold=True))
                )
                .rowcount
            ),
        )
        if code is None:  # released meanwhile by another booking of the slot
            raise HoldExpired(
                "Khung giờ đã được giữ quá 5 phút và đã trả lại: quý khách vui lòng chọn lại.",
                "the hold has expired and the seat was released: choose a slot again",
            )
    else:
        slot = _slot_at(session, service, centre, start, now)
        base = _new_row(service, slot, now)

        def write(seat: int) -> int:
            nonlocal code
            code = _with_code(
                session,
                lambda c: _insert(
                    session,
                    base
                    | {"seat": seat, "status": BookingStatus.BOOKED.value}
                    | _booked_values(c, digest, normalized, now),
                ),
                nested=False,  # inside _take_seat's savepoint: a clash there is the seat's
            )
            return 1

        _take_seat(session, service, slot, now, write)
    if key is not None:
        # Outside the seat's and the code's savepoints: a clash of the key (the same press
        # committed first elsewhere) is not taken for a clash of a seat or a code.
        session.connection().execute(
            update(Appointment)
            .where(Appointment.code == code)
            .values(request_id=key.request_id, request_fingerprint=key.fingerprint)
        )
    booked = session.execute(
        select(Appointment)
        .where(Appointment.code == code)
        .execution_options(populate_existing=True)  # written by Core statements above
    ).scalar_one()
    logger.info(
        "appointment booked for service %s at %s (%s)",
        service.id,
        booked.slot_start.isoformat(),
        mask_phone(normalized),
    )
    _emit(session, "appointment.booked", booked)
    return booked


def _insert(session: Session, values: dict[str, Any]) -> int:
    """Insert a booking row (an INSERT's rowcount is not reliable across drivers: it
    either raises or wrote one row)."""
    session.connection().execute(insert(Appointment).values(values))
    return 1


def _booked_values(
    code: str, digest: str, normalized: str, now: datetime, *, keep_hold: bool = False
) -> dict[str, Any]:
    values = {
        "status": BookingStatus.BOOKED.value,
        "code": code,
        "phone_hash": digest,
        "phone_masked": mask_phone(normalized),
        "booked_at": now,
        "hold_token": None,
        "hold_until": None,
    }
    if keep_hold:
        del values["hold_token"]
    return values


# --- retries: the phone's Idempotency-Key (docs/appointments.md, "Retries") ------------------


@dataclass(frozen=True)
class BookingKey:
    #: sha256("phone:<hash>", the centre's local day, key): appointments.request_id.
    request_id: str
    #: Digest of what was asked: the service, the slot's start (UTC), the phone's hash.
    fingerprint: str
    #: The phone number's keyed hash (its lock).
    phone: str


def booking_key_of(
    session: Session,
    header: str,
    *,
    phone: str,
    phone_key: str,
    now: datetime,
    hold_token: str | None = None,
    service_id: int | None = None,
    start: Any = None,
) -> BookingKey | None:
    """The Idempotency-Key of a booking request, the phone's own (scope "phone:<hash>"):
    another number sending it has another key. InvalidKey (422) when malformed,
    InvalidRequest when the number is not a mobile; None when the request names no slot
    that exists (its booking is refused anyway: hold_expired, not found, a bad start). The
    slot of a hold is the held (or booked from it) row's, so a confirmation and a booking of
    the same slot at once ask the same."""
    issue_keys.check_key(header.strip())
    digest = phone_hash(normalize_phone(phone), phone_key)
    if hold_token:
        row = session.execute(
            select(Appointment.service_id, Appointment.slot_start).where(
                Appointment.hold_token == hold_token
            )
        ).first()
        if row is None:
            return None
        asked_service, slot_start = row
    else:
        service = session.get(Service, service_id) if service_id is not None else None
        if service is None or start is None:
            return None
        timezone = session.get(Centre, service.centre_id).timezone
        try:
            slot_start = _parse_start(start, timezone).astimezone(now.tzinfo)
        except (InvalidRequest, SlotNotBookable):
            return None
        asked_service = service.id
    centre_id = session.execute(
        select(Service.centre_id).where(Service.id == asked_service)
    ).scalar_one()
    timezone = session.get(Centre, centre_id).timezone
    key = issue_keys.keyed(
        header,
        scope=f"phone:{digest}",
        asked={
            "service_id": asked_service,
            "slot_start": slot_start.astimezone(now.tzinfo).isoformat(),
            "phone": digest,
        },
    )
    return BookingKey(key.digest(local_day(now, timezone)), key.fingerprint, digest)


def booked_with_key(session: Session, key: BookingKey) -> Appointment | None:
    """The booking this phone's key made today, if any (KeyReused when it was asked for
    another slot or service). Takes the phone's lock first (PostgreSQL), so a retry racing
    the first request waits for its commit and then finds its booking; SQLite's writers
    are serial from BEGIN already."""
    from server.services.remote import _lock_phone

    _lock_phone(session, key.phone)
    row = session.execute(
        select(Appointment)
        .where(Appointment.request_id == key.request_id)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if row is not None and row.request_fingerprint != key.fingerprint:
        raise issue_keys.KeyReused(
            f"Khóa {issue_keys.HEADER} này đã đặt một lịch hẹn khác hôm nay: mỗi lần bấm đặt "
            "lịch dùng một khóa mới.",
            f"this {issue_keys.HEADER} already booked a different appointment today: use a "
            "new key for each new booking",
            details={"header": issue_keys.HEADER},
        )
    return row


def _with_code(session: Session, write: Callable[[str], int], *, nested: bool = True) -> str | None:
    """Write with a fresh confirmation code (drawn again on the rare clash of the unique
    key); the code, or None when `write` wrote nothing."""
    if not nested:
        code = new_code()
        return code if write(code) == 1 else None
    for _ in range(_CODE_TRIES):
        code = new_code()
        try:
            with session.begin_nested():
                return code if write(code) == 1 else None
        except IntegrityError:
            continue
    raise RuntimeError(f"no free appointment code after {_CODE_TRIES} tries")


def change(session: Session, *, code: str, start: Any, now: datetime) -> Appointment:
    """Move a booking to another slot of its service (its code stays); the old seat is
    given up only once the new one is taken."""
    row = by_code(session, code)
    _still_open(row, now)
    service, centre = _bookable_service(session, row.service_id)
    slot = _slot_at(session, service, centre, start, now)
    new_start = slot.start.astimezone(now.tzinfo)
    if new_start == row.slot_start:
        return row
    moved = {
        "slot_start": new_start,
        "day": slot.start.date(),
        "slot_minutes": int((slot.end - slot.start).total_seconds() // 60),
    }
    _take_seat(
        session,
        service,
        slot,
        now,
        moving=row.id,
        write=lambda seat: (
            session.connection()
            .execute(
                update(Appointment)
                .where(Appointment.id == row.id, Appointment.status == BookingStatus.BOOKED.value)
                .values(moved | {"seat": seat})
            )
            .rowcount
        ),
    )
    row = _load(session, row.id)
    _emit(session, "appointment.changed", row)
    from server.notify import bookings as booking_messages

    booking_messages.tell(session, row, "booking_changed", now)
    return row


def cancel(session: Session, *, code: str, now: datetime) -> Appointment:
    """The citizen cancels: the seat is free at once."""
    row = by_code(session, code)
    _still_open(row, now)
    cancel_rows(session, [row], now, reason="citizen")
    from server.notify import bookings as booking_messages

    booking_messages.tell(session, row, "booking_cancelled", now)
    return row


def by_code(session: Session, code: str, *, lock: bool = False) -> Appointment:
    """The booking of this code; `lock`: its row locked until the commit (a check-in: two
    at once, a kiosk's retry racing its first try, must not issue two tickets)."""
    code = check_code(code)
    query = select(Appointment).where(Appointment.code == code)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    row = session.execute(query).scalar_one_or_none()
    if row is None:
        raise NotFound(
            "Không tìm thấy lịch hẹn với mã này: quý khách vui lòng kiểm tra lại mã.",
            "no appointment has this code",
        )
    return row


def _bookable_service(session: Session, service_id: int) -> tuple[Service, Centre]:
    service = session.get(Service, service_id)
    if service is None or not service.active:
        raise NotFound(
            f"Không tìm thấy dịch vụ số {service_id}.", f"service {service_id} not found"
        )
    if not service.appointments:
        raise SlotNotBookable(
            f"Dịch vụ «{service.name}» không nhận đặt lịch hẹn: quý khách vui lòng lấy số "
            "tại kiosk hoặc trên điện thoại.",
            f"service {service_id} does not take appointments",
        )
    return service, session.get(Centre, service.centre_id)


def _new_row(service: Service, slot: Slot, now: datetime) -> dict[str, Any]:
    return {
        "centre_id": service.centre_id,
        "service_id": service.id,
        "day": slot.start.date(),
        "slot_start": slot.start.astimezone(now.tzinfo),
        "slot_minutes": int((slot.end - slot.start).total_seconds() // 60),
        "created_at": now,
    }


def _still_open(row: Appointment, now: datetime) -> None:
    if row.status != BookingStatus.BOOKED.value or row.slot_start <= now:
        raise BookingClosed(
            "Lịch hẹn này không còn thay đổi hay hủy được (đã hủy, đã đến hoặc đã qua giờ).",
            "this appointment can no longer be changed or cancelled "
            "(cancelled, checked in or past)",
            details={"status": row.status},
        )


def check_can_book(
    session: Session, *, hold_token: str, phone: str, now: datetime, phone_key: str
) -> None:
    """Refuse now, with the message booking would give, a phone that could not confirm the
    held slot (the hold expired, or the phone holds its bookings already): asked before a
    one-time code is texted (docs/remote.md, "Phone ownership"). Reads only."""
    digest = phone_hash(normalize_phone(phone), phone_key)
    row = session.execute(
        select(Appointment).where(Appointment.hold_token == hold_token)
    ).scalar_one_or_none()
    if row is None or row.status != BookingStatus.HELD.value or row.hold_until <= now:
        raise HoldExpired(
            "Khung giờ đã được giữ quá 5 phút và đã trả lại: quý khách vui lòng chọn lại.",
            "the hold has expired and the seat was released: choose a slot again",
        )
    _check_quota(session, session.get(Centre, row.centre_id), digest, now)


def _check_quota(session: Session, centre: Centre, digest: str, now: datetime) -> None:
    from server.services.remote import _lock_phone

    _lock_phone(session, digest)
    limit = int((centre.settings or {}).get("appointments_per_phone") or DEFAULT_PER_PHONE)
    active = session.execute(
        select(func.count()).where(
            Appointment.centre_id == centre.id,
            Appointment.phone_hash == digest,
            Appointment.status == BookingStatus.BOOKED.value,
            Appointment.slot_start > now,
        )
    ).scalar_one()
    if active >= limit:
        raise BookingQuotaReached(
            f"Số điện thoại này đã có {active} lịch hẹn sắp tới (tối đa {limit}): quý khách "
            "vui lòng hủy một lịch trước khi đặt thêm.",
            f"this phone number already has {active} upcoming appointments (at most {limit})",
            details={"limit": limit},
        )


def cancel_rows(
    session: Session, rows: Iterable[Appointment], now: datetime, *, reason: str
) -> list[Appointment]:
    done = []
    for row in rows:
        row.status = BookingStatus.CANCELLED.value
        row.seat = None
        row.hold_token = None
        row.cancelled_at = now
        row.cancel_reason = reason
        done.append(row)
    session.flush()
    for row in done:
        if row.code:
            _emit(session, "appointment.cancelled", row, reason=reason)
    return done


def _emit(session: Session, event: str, row: Appointment, **extra: Any) -> None:
    """For the centre's pages and the notifications work: never the phone number."""
    outbox(session).append(
        OutboxMessage(
            event,
            {
                "appointment_id": row.id,
                "service_id": row.service_id,
                "slot_start": row.slot_start.isoformat(),
                "status": row.status,
                **extra,
            },
            (events.centre_room(row.centre_id),),
        )
    )


def appointment_view(row: Appointment, timezone: str, service_name: str = "") -> dict[str, Any]:
    """What the phone and the kiosk show (never the phone number, only its mask)."""
    start = to_local(row.slot_start, timezone)
    return {
        "id": row.id,
        "code": row.code,
        "status": row.status,
        "service_id": row.service_id,
        "service": service_name,
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=row.slot_minutes)).isoformat(),
        "phone": row.phone_masked,
        "hold_until": to_local(row.hold_until, timezone).isoformat() if row.hold_until else None,
        "cancel_reason": row.cancel_reason,
        "arrival": row.arrival,
        "check_in_from": (start - timedelta(minutes=ARRIVAL_WINDOW_MINUTES)).isoformat(),
    }
