"""Consent and triggers: who is told what, and the messages queued for the worker.

Like every service: no commit, no sending. Consent queues "joined" in its own request.
Calls and no-shows are read by the worker (server.notify.delivery) from the ticket trail
that the move's own transaction wrote (`scan_moves`), and "N ahead" from the line
(`scan_near`): the hot call path runs no statement of ours at all (measured:
benchmarks/notify_call_path.py).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, cast, exists, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from server.domain.errors import DomainError, InvalidRequest
from server.domain.remote import normalize_phone
from server.models import (
    Centre,
    Counter,
    NotifyMessage,
    NotifySubscription,
    Ticket,
    TicketEvent,
)
from server.notify import texts

logger = logging.getLogger(__name__)

CHANNELS = ("webpush", "sms", "zalo")
DEFAULT_AHEAD = 3
#: How long each kind of message is still worth sending after the event.
TTL = {
    "joined": timedelta(minutes=30),
    "near": timedelta(minutes=30),
    "called": timedelta(minutes=15),
    "no_show": timedelta(hours=2),
    "closure": timedelta(hours=24),
    # A booking's (server.notify.bookings): worth sending for a day.
    "booked": timedelta(hours=24),
    "booking_changed": timedelta(hours=24),
    # Useless once the slot began: queued with the slot's start as its end (bookings.py).
    "booking_reminder": timedelta(hours=1),
    "booking_cancelled": timedelta(hours=24),
    "cancelled_closure": timedelta(hours=24),
}
_OVER = ("done", "no_show", "cancelled")


class ChannelUnavailable(DomainError):
    code = "channel_unavailable"


class TicketOver(DomainError):
    code = "ticket_over"


class TooManyNumbers(DomainError):
    code = "too_many_numbers"


#: Phone numbers one ticket may have messages sent to (a code holder cannot text a list).
MAX_NUMBERS_PER_TICKET = 2


def ahead_threshold(centre: Centre) -> int:
    """The centre's "tell me when N are ahead" (settings.notify_ahead, default 3)."""
    value = (centre.settings or {}).get("notify_ahead")
    return int(value) if value not in (None, "") else DEFAULT_AHEAD


def ticket_url(ticket_code: str) -> str:
    return f"/t/{ticket_code}"


def subscribe(
    session: Session,
    *,
    ticket: Ticket,
    channel: str,
    now: datetime,
    secret_key: str,
    available: Iterable[str],
    push: dict[str, Any] | None = None,
    phone: str | None = None,
    allow_local_push: bool = False,
) -> tuple[NotifySubscription, bool]:
    """Record the citizen's consent for `ticket` on `channel` and queue the "joined"
    message. Returns (subscription, created); the same browser or number again is the same
    subscription. Raises ChannelUnavailable, TicketOver, InvalidRequest."""
    if channel not in CHANNELS or channel not in set(available):
        raise ChannelUnavailable(
            "Kênh thông báo này chưa được bật tại trung tâm.",
            f"notification channel {channel!r} is not available",
        )
    if ticket.status in _OVER:
        raise TicketOver(
            "Số thứ tự này đã kết thúc, không thể đăng ký thông báo.",
            "this ticket is over: no notifications",
        )
    centre = session.get(Centre, ticket.centre_id)
    values: dict[str, Any] = {}
    if channel == "webpush":
        values = _push_values(push or {}, allow_local_push)
        same = NotifySubscription.endpoint == values["endpoint"]
    else:
        from server.notify.keys import mask_phone, seal_phone

        number = normalize_phone(phone or "")
        values = {
            "phone_sealed": seal_phone(number, secret_key),
            "phone_masked": mask_phone(number),
        }
        # The sealing is randomised: find the same number by opening the ticket's few rows.
        same = NotifySubscription.phone_masked == values["phone_masked"]
    # One consent at a time per ticket: the look-up below and the count of numbers hold
    # only if no other request adds one meanwhile (on PostgreSQL six phones at once kept six
    # numbers; SQLite's writes are serialised anyway).
    session.execute(select(Ticket.id).where(Ticket.id == ticket.id).with_for_update())
    existing = session.scalars(
        select(NotifySubscription).where(
            NotifySubscription.ticket_id == ticket.id,
            NotifySubscription.channel == channel,
            NotifySubscription.withdrawn_at.is_(None),
            same,
        )
    ).first()
    if existing is None and channel != "webpush":
        numbers = session.scalar(
            select(func.count()).where(
                NotifySubscription.ticket_id == ticket.id,
                NotifySubscription.phone_masked.is_not(None),
                NotifySubscription.withdrawn_at.is_(None),
            )
        )
        if numbers >= MAX_NUMBERS_PER_TICKET:
            raise TooManyNumbers(
                f"Mỗi số thứ tự nhận tin nhắn ở tối đa {MAX_NUMBERS_PER_TICKET} số điện thoại.",
                f"at most {MAX_NUMBERS_PER_TICKET} phone numbers per ticket",
            )
    if existing is not None:
        existing.p256dh = values.get("p256dh", existing.p256dh)
        existing.auth = values.get("auth", existing.auth)
        existing.phone_sealed = values.get("phone_sealed", existing.phone_sealed)
        return existing, False
    sub = NotifySubscription(
        centre_id=ticket.centre_id,
        ticket_id=ticket.id,
        channel=channel,
        ahead_threshold=ahead_threshold(centre),
        consented_at=now,
        **values,
    )
    session.add(sub)
    session.flush()
    from server.services.queue import waiting_ahead_of

    ahead = waiting_ahead_of(session, ticket)
    text = texts.joined(ticket.display_number, ticket.service.name, ahead, sub.ahead_threshold)
    enqueue(session, sub, "joined", "joined", text, ticket_url(ticket.public_code), now)
    logger.info(
        "notifications on for ticket %s by %s (%s)",
        ticket.display_number,
        channel,
        sub.phone_masked or "browser",
    )
    return sub, True


_B64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")


def _push_values(push: dict[str, Any], allow_local: bool) -> dict[str, Any]:
    """A browser's PushSubscription (its toJSON()), checked: an https push service (never
    an address inside our network: the server POSTs there), a P-256 key and a 16-byte
    secret."""
    from urllib.parse import urlsplit

    from server.notify.keys import b64url_decode

    endpoint = str(push.get("endpoint") or "")
    keys = push.get("keys") or {}
    p256dh, auth = str(keys.get("p256dh") or ""), str(keys.get("auth") or "")
    parts = urlsplit(endpoint)
    bad = InvalidRequest(
        "Đăng ký nhận thông báo của trình duyệt không hợp lệ.",
        "invalid push subscription (endpoint, keys.p256dh, keys.auth)",
    )
    if len(endpoint) > 1000 or not parts.hostname:
        raise bad
    if not allow_local and (parts.scheme != "https" or _is_internal(parts.hostname)):
        raise bad
    try:
        if not (_B64URL.match(p256dh) and _B64URL.match(auth)):
            raise ValueError
        point, secret = b64url_decode(p256dh), b64url_decode(auth)
    except ValueError:
        raise bad from None
    if len(point) != 65 or point[0] != 4 or len(secret) != 16:
        raise bad
    return {"endpoint": endpoint, "p256dh": p256dh, "auth": auth}


def _is_internal(host: str) -> bool:
    import ipaddress

    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address.is_global


def withdraw(session: Session, sub: NotifySubscription, now: datetime, reason: str) -> int:
    """Stop `sub`: erase its contact, cancel what is still queued. Returns messages cancelled."""
    if sub.withdrawn_at is None:
        sub.withdrawn_at, sub.withdrawn_reason = now, reason
    sub.endpoint = sub.p256dh = sub.auth = sub.phone_sealed = None
    cancelled = session.execute(
        update(NotifyMessage)
        .where(NotifyMessage.subscription_id == sub.id, NotifyMessage.status == "pending")
        .values(status="cancelled", last_error=f"withdrawn: {reason}")
    ).rowcount
    logger.info("notifications %s withdrawn (%s), %d cancelled", sub.id, reason, cancelled)
    return cancelled


def enqueue(
    session: Session,
    sub: NotifySubscription,
    kind: str,
    key: str,
    text: texts.Text,
    url: str,
    now: datetime,
    *,
    expires_at: datetime | None = None,
) -> None:
    """Queue one message for `sub`, once per (subscription, key): a trigger seen twice adds
    nothing. `expires_at`: its end of useful life, when sooner than its kind's."""
    values = {
        "subscription_id": sub.id,
        "centre_id": sub.centre_id,
        "ticket_id": sub.ticket_id,
        "kind": kind,
        "dedupe_key": key[:40],
        "channel": sub.channel,
        "title": text.title[:200],
        "body": text.body,
        "url": url,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "expires_at": min(now + TTL[kind], expires_at) if expires_at else now + TTL[kind],
        "last_error": "",
        "created_at": now,
    }
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(NotifyMessage.__table__)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["subscription_id", "dedupe_key"])
    )


# --- triggers ---------------------------------------------------------------------------------

#: Ticket moves that notify, as the append-only trail (ticket_events) records them.
_NOTIFYING = ("call", "recall", "no_show")


def scan_moves(session: Session, now: datetime, *, since: timedelta = timedelta(hours=24)) -> int:
    """Queue "called" and "no-show" messages for the moves of subscribed tickets, read from
    the ticket trail. Run by the worker, so the call path pays nothing: the trail row is
    written by the call's own transaction anyway, and a message is keyed by its event
    ("ev:<id>"), so every call, recall and no-show is told once, whichever worker sees it
    first. A move older than its message's useful life is skipped. Returns messages queued.
    """
    key = literal("ev:") + cast(TicketEvent.id, String)
    told = exists().where(
        and_(
            NotifyMessage.subscription_id == NotifySubscription.id, NotifyMessage.dedupe_key == key
        )
    )
    rows = session.execute(
        select(NotifySubscription, TicketEvent, Ticket.display_number, Ticket.public_code)
        .join(TicketEvent, TicketEvent.ticket_id == NotifySubscription.ticket_id)
        .join(Ticket, Ticket.id == NotifySubscription.ticket_id)
        .where(
            NotifySubscription.withdrawn_at.is_(None),
            NotifySubscription.consented_at >= now - since,
            TicketEvent.kind.in_(_NOTIFYING),
            ~told,
        )
        .order_by(TicketEvent.id)
    ).all()
    queued = 0
    for sub, move, number, code in rows:
        kind = "no_show" if move.kind == "no_show" else "called"
        if move.at + TTL[kind] < now:
            continue  # too late to be useful (a worker that was down for long)
        if kind == "no_show":
            text = texts.no_show(number)
        else:
            counter = session.get(Counter, move.counter_id) if move.counter_id else None
            text = texts.called(number, counter.label if counter else "quầy")
        enqueue(session, sub, kind, f"ev:{move.id}", text, ticket_url(code), now)
        queued += 1
    return queued


def scan_near(session: Session, now: datetime, *, since: timedelta = timedelta(hours=24)) -> int:
    """Queue "your turn is near" for waiting tickets whose people ahead fell to their
    threshold (once per subscription). Run by the worker, off the call path: one query for
    the candidates, one per line they wait in. Returns the messages queued (a second
    process scanning at once adds none: the unique key)."""
    already = exists().where(
        and_(NotifyMessage.subscription_id == NotifySubscription.id, NotifyMessage.kind == "near")
    )
    rows = session.execute(
        select(NotifySubscription, Ticket)
        .join(Ticket, Ticket.id == NotifySubscription.ticket_id)
        .where(
            NotifySubscription.withdrawn_at.is_(None),
            NotifySubscription.consented_at >= now - since,
            Ticket.status == "waiting",
            ~already,
        )
    ).all()
    lines: dict[tuple[int, Any], dict[int, int]] = {}
    queued = 0
    for sub, ticket in rows:
        line = (ticket.service_id, ticket.day)
        if line not in lines:
            lines[line] = _people_ahead(session, *line)
        ahead = lines[line].get(ticket.id, 0)
        if ahead <= sub.ahead_threshold:
            text = texts.near(ticket.display_number, ahead)
            enqueue(session, sub, "near", "near", text, ticket_url(ticket.public_code), now)
            queued += 1
    return queued


def _people_ahead(session: Session, service_id: int, day: Any) -> dict[int, int]:
    """Ticket id → people ahead in its line, as server.services.queue.waiting_ahead_of
    counts them (a priority ticket counts only the priority tickets before it)."""
    waiting = session.execute(
        select(Ticket.id, Ticket.is_priority)
        .where(Ticket.service_id == service_id, Ticket.day == day, Ticket.status == "waiting")
        .order_by(Ticket.queued_at, Ticket.id)
    ).all()
    ahead: dict[int, int] = {}
    before_priority = 0
    for before, (ident, is_priority) in enumerate(waiting):
        ahead[ident] = before_priority if is_priority else before
        before_priority += 1 if is_priority else 0
    return ahead


def expire_contacts(
    session: Session, now: datetime, *, after: timedelta = timedelta(hours=24)
) -> int:
    """Erase the contact of subscriptions whose ticket's day is over, and of bookings a
    day after their slot or their cancellation (kept no longer than needed). Returns how
    many."""
    from server.models import Appointment

    stale = list(
        session.scalars(
            select(NotifySubscription).where(
                NotifySubscription.withdrawn_at.is_(None),
                NotifySubscription.appointment_id.is_(None),
                NotifySubscription.consented_at < now - after,
            )
        )
    )
    stale += session.scalars(
        select(NotifySubscription)
        .join(Appointment, Appointment.id == NotifySubscription.appointment_id)
        .where(
            NotifySubscription.withdrawn_at.is_(None),
            (Appointment.slot_start < now - after) | (Appointment.cancelled_at < now - after),
        )
    ).all()
    for sub in stale:
        withdraw(session, sub, now, "expired")
    return len(stale)


def notify_closure(
    session: Session, *, centre_id: int, day: Any, reason: str, now: datetime
) -> int:
    """The centre closes on `day`: tell every citizen holding a number of that day who
    turned notifications on (the appointments' closure hook calls this for tickets; a
    booking's contact is the booking's). Returns the messages queued."""
    centre = session.get(Centre, centre_id)
    rows = session.execute(
        select(NotifySubscription, Ticket)
        .join(Ticket, Ticket.id == NotifySubscription.ticket_id)
        .where(
            NotifySubscription.centre_id == centre_id,
            NotifySubscription.withdrawn_at.is_(None),
            Ticket.day == day,
        )
    ).all()
    for sub, ticket in rows:
        # A ticket holder's words: their number, not "your booking is cancelled".
        text = texts.closure(
            centre.name,
            day.strftime("%d/%m/%Y"),
            ticket.display_number,
            reason,
            booked=ticket.origin == "appointment",
            cancelled=ticket.status == "cancelled",
        )
        enqueue(
            session,
            sub,
            "closure",
            f"closure:{day.isoformat()}",
            text,
            ticket_url(ticket.public_code),
            now,
        )
    return len(rows)


def report(session: Session, centre_ids: list[int], since: datetime) -> dict[str, Any]:
    """Messages by status and channel (and by kind) since `since`, and consents given."""
    rows = session.execute(
        select(NotifyMessage.channel, NotifyMessage.kind, NotifyMessage.status, func.count())
        .where(NotifyMessage.centre_id.in_(centre_ids), NotifyMessage.created_at >= since)
        .group_by(NotifyMessage.channel, NotifyMessage.kind, NotifyMessage.status)
    ).all()
    statuses = ("pending", "sending", "sent", "failed", "expired", "cancelled")
    totals = dict.fromkeys(statuses, 0)
    by_channel: dict[str, dict[str, int]] = {}
    by_kind: dict[str, dict[str, int]] = {}
    for channel, kind, status, count in rows:
        totals[status] = totals.get(status, 0) + count
        by_channel.setdefault(channel, dict.fromkeys(statuses, 0))[status] += count
        by_kind.setdefault(kind, dict.fromkeys(statuses, 0))[status] += count
    consents = dict(
        session.execute(
            select(NotifySubscription.channel, func.count())
            .where(
                NotifySubscription.centre_id.in_(centre_ids),
                NotifySubscription.consented_at >= since,
            )
            .group_by(NotifySubscription.channel)
        ).all()
    )
    withdrawn = session.scalar(
        select(func.count()).where(
            NotifySubscription.centre_id.in_(centre_ids),
            NotifySubscription.consented_at >= since,
            NotifySubscription.withdrawn_reason == "citizen",
        )
    )
    failures = [
        {
            "id": m.id,
            "channel": m.channel,
            "kind": m.kind,
            "attempts": m.attempts,
            "error": m.last_error,
            "at": m.created_at.isoformat(),
        }
        for m in session.scalars(
            select(NotifyMessage)
            .where(
                NotifyMessage.centre_id.in_(centre_ids),
                NotifyMessage.created_at >= since,
                NotifyMessage.status == "failed",
            )
            .order_by(NotifyMessage.id.desc())
            .limit(20)
        )
    ]
    return {
        "since": since.isoformat(),
        "booking_notices": _booking_notices(session, centre_ids, since),
        "totals": totals,
        "by_channel": by_channel,
        "by_kind": by_kind,
        "consents": consents,
        "withdrawn": withdrawn or 0,
        "recent_failures": failures,
    }


def _booking_notices(session: Session, centre_ids: list[int], since: datetime) -> dict[str, int]:
    """The appointments' notices (a booking cancelled by a closure): sent once its message
    reached the gateway; a booking made without consent to messages keeps its unsent."""
    from server.models import Appointment, AppointmentNotice

    rows = session.execute(
        select(AppointmentNotice.sent_at.is_(None), func.count())
        .join(Appointment, Appointment.id == AppointmentNotice.appointment_id)
        .where(Appointment.centre_id.in_(centre_ids), AppointmentNotice.created_at >= since)
        .group_by(AppointmentNotice.sent_at.is_(None))
    ).all()
    counts = {"unsent": 0, "sent": 0}
    for unsent, count in rows:
        counts["unsent" if unsent else "sent"] += count
    return counts


#: The report page's names for the channels and the triggers (Vietnamese).
CHANNEL_VI = {"webpush": "Trình duyệt (Web Push)", "sms": "SMS", "zalo": "Zalo"}
KIND_VI = {
    "joined": "Bật thông báo",
    "near": "Sắp đến lượt",
    "called": "Mời đến quầy",
    "no_show": "Qua lượt",
    "closure": "Trung tâm nghỉ",
    "booked": "Đặt lịch",
    "booking_changed": "Đổi lịch hẹn",
    "booking_reminder": "Nhắc lịch hẹn",
    "booking_cancelled": "Hủy lịch hẹn",
    "cancelled_closure": "Lịch hẹn hủy do nghỉ",
}


def day_table(
    session: Session, centre_ids: list[int], start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """Messages queued in [start, end) per channel and trigger: queued (all), sent,
    failed, retried (more than one attempt), waiting (pending or being sent), expired,
    cancelled. Counts only: no number, no text (the supervisors' page)."""
    retried = func.count().filter(NotifyMessage.attempts > 1)
    rows = session.execute(
        select(
            NotifyMessage.channel, NotifyMessage.kind, NotifyMessage.status, func.count(), retried
        )
        .where(
            NotifyMessage.centre_id.in_(centre_ids),
            NotifyMessage.created_at >= start,
            NotifyMessage.created_at < end,
        )
        .group_by(NotifyMessage.channel, NotifyMessage.kind, NotifyMessage.status)
    ).all()
    table: dict[tuple[str, str], dict[str, Any]] = {}
    for channel, kind, status, count, again in rows:
        row = table.setdefault(
            (channel, kind),
            {
                "channel": channel,
                "channel_label": CHANNEL_VI.get(channel, channel),
                "kind": kind,
                "kind_label": KIND_VI.get(kind, kind),
                **dict.fromkeys(
                    ("queued", "sent", "failed", "retried", "waiting", "expired", "cancelled"), 0
                ),
            },
        )
        row["queued"] += count
        row["retried"] += again
        key = "waiting" if status in ("pending", "sending") else status
        if key in row:
            row[key] += count
    order = list(KIND_VI)
    return sorted(
        table.values(),
        key=lambda r: (
            list(CHANNEL_VI).index(r["channel"]) if r["channel"] in CHANNEL_VI else 9,
            order.index(r["kind"]) if r["kind"] in order else 99,
        ),
    )
