"""A booking's messages: the citizen who booked with consent to SMS (or Zalo) is told of
the confirmation, a change, a cancellation and a closure that cancels it, through the same
outbox and worker as a ticket's (docs/notifications.md, docs/appointments.md).

The consent is a `notify_subscriptions` row with `appointment_id` (no ticket): the number
sealed, its mask for logs. Like every service: no commit, no sending.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.domain.clock import to_local
from server.domain.remote import normalize_phone
from server.models import (
    Appointment,
    AppointmentNotice,
    Centre,
    NotifyMessage,
    NotifySubscription,
    Service,
)
from server.notify import texts
from server.notify.store import ChannelUnavailable, enqueue

logger = logging.getLogger(__name__)

#: Channels a booking's messages can take (a browser's push needs a ticket's page).
BOOKING_CHANNELS = ("sms", "zalo")
#: Where a booking is looked up and changed.
BOOKING_URL = "/dat-lich"


def check_channel(channel: str, available: Iterable[str]) -> None:
    """Refuse (409 channel_unavailable) a channel the centre does not offer for bookings,
    before anything is booked."""
    if channel not in BOOKING_CHANNELS or channel not in set(available):
        raise ChannelUnavailable(
            "Trung tâm chưa gửi được tin nhắn về lịch hẹn qua kênh này: quý khách bỏ chọn "
            "«Nhận tin nhắn» để đặt lịch, rồi giữ mã lịch hẹn.",
            f"booking messages by {channel!r} are not available here: book without them",
        )


def subscribe(
    session: Session,
    *,
    row: Appointment,
    phone: str,
    channel: str,
    now: datetime,
    secret_key: str,
) -> NotifySubscription:
    """Record the consent given while booking `row` and queue its confirmation."""
    from server.notify.keys import mask_phone, seal_phone

    number = normalize_phone(phone)
    sub = NotifySubscription(
        centre_id=row.centre_id,
        ticket_id=None,
        appointment_id=row.id,
        channel=channel,
        phone_sealed=seal_phone(number, secret_key),
        phone_masked=mask_phone(number),
        ahead_threshold=0,
        consented_at=now,
    )
    session.add(sub)
    session.flush()
    tell(session, row, "booked", now)
    logger.info("booking %s: messages on by %s (%s)", row.id, channel, sub.phone_masked)
    return sub


def active(session: Session, appointment_id: int) -> list[NotifySubscription]:
    return list(
        session.scalars(
            select(NotifySubscription).where(
                NotifySubscription.appointment_id == appointment_id,
                NotifySubscription.withdrawn_at.is_(None),
            )
        )
    )


def tell(
    session: Session,
    row: Appointment,
    kind: str,
    now: datetime,
    *,
    text: texts.Text | None = None,
) -> int:
    """Queue `kind` (booked, booking_changed, booking_cancelled, cancelled_closure) for the
    booking's subscriptions, once each. Returns the messages queued."""
    subs = active(session, row.id)
    if not subs:
        return 0
    if text is None:
        centre = session.get(Centre, row.centre_id)
        service = session.get(Service, row.service_id)
        start = to_local(row.slot_start, centre.timezone)
        when_vi, when_en = (
            f"{start:%H:%M} ngày {start:%d/%m/%Y}",
            f"{start:%H:%M} on {start:%d/%m/%Y}",
        )
        make = {
            "booked": texts.booked,
            "booking_changed": texts.booking_changed,
            "booking_cancelled": texts.booking_cancelled,
        }[kind]
        text = make(row.code or "", service.name, when_vi, when_en)
    # A booking is moved any number of times: each move is told once.
    key = (
        f"changed:{row.slot_start:%Y%m%d%H%M}:{int(now.timestamp())}"
        if kind == "booking_changed"
        else kind
    )
    for sub in subs:
        enqueue(session, sub, kind, key, text, BOOKING_URL, now)
    return len(subs)


def scan_reminders(session: Session, now: datetime, minutes: int) -> int:
    """Queue the reminder of each booking whose slot starts within `minutes` (booked with
    consent; not cancelled, not checked in), once per subscription and slot: a booking
    moved to another slot is reminded of the new one. Run by the worker each round; the
    (subscription, key) unique index makes two workers scanning at once queue it once.
    A booking made (or moved) inside the window is not reminded: its confirmation is as
    recent. Returns the messages queued."""
    if minutes <= 0:
        return 0
    window = timedelta(minutes=minutes)
    rows = session.execute(
        select(NotifySubscription, Appointment)
        .join(Appointment, Appointment.id == NotifySubscription.appointment_id)
        .where(
            NotifySubscription.withdrawn_at.is_(None),
            Appointment.status == "booked",
            Appointment.slot_start > now,
            Appointment.slot_start <= now + window,
        )
    ).all()
    if not rows:
        return 0
    told = set(
        session.execute(
            select(NotifyMessage.subscription_id, NotifyMessage.dedupe_key).where(
                NotifyMessage.subscription_id.in_([sub.id for sub, _ in rows]),
                NotifyMessage.kind == "booking_reminder",
            )
        ).all()
    )
    queued = 0
    for sub, row in rows:
        key = f"reminder:{row.slot_start:%Y%m%d%H%M}"
        if (sub.id, key) in told:
            continue
        changed = session.scalar(
            select(NotifyMessage.created_at)
            .where(
                NotifyMessage.subscription_id == sub.id,
                NotifyMessage.kind.in_(("booked", "booking_changed")),
            )
            .order_by(NotifyMessage.created_at.desc())
            .limit(1)
        )
        if changed is not None and changed > row.slot_start - window:
            continue  # told of this slot moments ago
        centre = session.get(Centre, row.centre_id)
        service = session.get(Service, row.service_id)
        start = to_local(row.slot_start, centre.timezone)
        left = max(1, math.ceil((row.slot_start - now).total_seconds() / 60))
        text = texts.booking_reminder(
            row.code or "",
            service.name,
            f"{start:%H:%M} ngày {start:%d/%m/%Y}",
            f"{start:%H:%M} on {start:%d/%m/%Y}",
            left,
        )
        enqueue(
            session, sub, "booking_reminder", key, text, BOOKING_URL, now, expires_at=row.slot_start
        )
        logger.info("booking %s: reminder queued (%s)", row.id, sub.phone_masked)
        queued += 1
    return queued


def notice_sent(session: Session, message_id: int, at: datetime) -> None:
    """The closure's message reached the gateway: its appointment notice is sent."""
    appointment_id = session.scalar(
        select(NotifySubscription.appointment_id)
        .join(NotifyMessage, NotifyMessage.subscription_id == NotifySubscription.id)
        .where(NotifyMessage.id == message_id)
    )
    if appointment_id is None:
        return
    session.execute(
        update(AppointmentNotice)
        .where(
            AppointmentNotice.appointment_id == appointment_id,
            AppointmentNotice.kind == "cancelled_closure",
            AppointmentNotice.sent_at.is_(None),
        )
        .values(sent_at=at)
    )
