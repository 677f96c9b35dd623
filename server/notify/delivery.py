"""The delivery worker: claim due messages atomically, send them, retry with back-off.

Runs inside each server process (a background task, TTHCC_NOTIFY_WORKER=inline) or as its
own process (`tthcc notify run --loop`); any number of them may run against one database.
A message is claimed by one UPDATE … RETURNING that flips it to `sending` with a lease:
on PostgreSQL the candidate rows are locked with SKIP LOCKED, on SQLite every write
transaction is serial (BEGIN IMMEDIATE). So two workers never claim the same message; a
worker killed mid-send leaves a lease that expires, and the message is sent again then
(at least once after a crash, exactly once otherwise; the SMS gateway is given the
message's reference as an idempotency key, so it can drop that second copy).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update

from server.db import Database
from server.domain.clock import utcnow
from server.models import NotifyMessage, NotifySubscription
from server.notify import bookings, store
from server.notify.channels import Channel, Outgoing, SendResult  # no heavy imports

logger = logging.getLogger(__name__)

#: Attempts before a message is given up as failed (5 s, 10 s, 20 s, 40 s, 80 s apart).
MAX_ATTEMPTS = 6
BACKOFF_FIRST = 5.0
BACKOFF_CAP = 300.0
_T = NotifyMessage.__table__


def backoff(attempts: int, retry_after: float | None = None) -> timedelta:
    """Wait before the next attempt: doubling from 5 s, capped at 5 min; a service's
    Retry-After is honoured up to 10 min."""
    wait = min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_CAP)
    if retry_after:
        wait = max(wait, min(retry_after, 600.0))
    return timedelta(seconds=wait)


def claim(
    database: Database, worker: str, now: datetime, *, limit: int, lease: timedelta
) -> list[int]:
    """Flip up to `limit` due messages (or ones whose claim lapsed) to `sending` for
    `worker`, in one committed statement; returns their ids."""
    due = (
        select(_T.c.id)
        .where(
            or_(
                and_(_T.c.status == "pending", _T.c.next_attempt_at <= now),
                and_(_T.c.status == "sending", _T.c.lease_until < now),
            )
        )
        .order_by(_T.c.next_attempt_at, _T.c.id)
        .limit(limit)
    )
    if not database.is_sqlite:
        due = due.with_for_update(skip_locked=True)
    stmt = (
        update(_T)
        .where(_T.c.id.in_(due.scalar_subquery()))
        .values(
            status="sending",
            claimed_by=worker,
            lease_until=now + lease,
            attempts=_T.c.attempts + 1,
        )
        .returning(_T.c.id)
    )
    with database.engine.begin() as conn:
        return sorted(conn.execute(stmt).scalars())


class NotifyWorker:
    """One delivery worker. `channels` maps a channel name to its sender."""

    def __init__(
        self,
        database: Database,
        channels: dict[str, Channel],
        secret_key: str,
        *,
        name: str | None = None,
        batch: int = 10,
        send_timeout: float = 10.0,
        clock: Callable[[], datetime] = utcnow,
        reminder_minutes: int = 30,
    ) -> None:
        self.database = database
        self.channels = channels
        self.secret_key = secret_key
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.batch = batch
        # Long enough for every send of a batch to time out before another may take over.
        self.lease = timedelta(seconds=batch * (send_timeout + 2) + 30)
        self.clock = clock
        #: Minutes before a booked slot to remind it (0: never; TTHCC_BOOKING_REMINDER_MINUTES).
        self.reminder_minutes = reminder_minutes
        self._last_sweep = 0.0
        self._failing: str = ""

    def run_once(self) -> dict[str, int]:
        """One round: queue what the trail and the lines say (calls, no-shows, "near"), then
        send what is due. Returns how many were queued and the send outcomes."""
        counts: dict[str, int] = {}
        now = self.clock()
        with self.database.transaction() as session:
            counts["queued"] = (
                store.scan_moves(session, now)
                + store.scan_near(session, now)
                + bookings.scan_reminders(session, now, self.reminder_minutes)
            )
            if time.monotonic() - self._last_sweep > 600:
                store.expire_contacts(session, now)
                self._last_sweep = time.monotonic()
        for message_id in claim(self.database, self.name, now, limit=self.batch, lease=self.lease):
            outcome = self._deliver(message_id)
            counts[outcome] = counts.get(outcome, 0) + 1
        return counts

    def _deliver(self, message_id: int) -> str:
        from server.notify.keys import open_phone

        now = self.clock()
        early: tuple[str, str] | None = None
        with self.database.transaction() as session:
            message = session.get(NotifyMessage, message_id)
            sub = session.get(NotifySubscription, message.subscription_id)
            channel = self.channels.get(message.channel)
            if sub.withdrawn_at is not None:
                early = ("cancelled", f"withdrawn: {sub.withdrawn_reason}")
            elif now > message.expires_at:
                early = ("expired", "too late to be useful")
            elif channel is None:
                early = ("failed", f"channel {message.channel} is off")
            else:
                outgoing = Outgoing(
                    id=message.id,
                    channel=message.channel,
                    kind=message.kind,
                    title=message.title,
                    body=message.body,
                    url=message.url,
                    ttl=max(int((message.expires_at - now).total_seconds()), 60),
                    endpoint=sub.endpoint,
                    p256dh=sub.p256dh,
                    auth=sub.auth,
                    phone=open_phone(sub.phone_sealed, self.secret_key)
                    if sub.phone_sealed
                    else None,
                    phone_masked=sub.phone_masked,
                )
                attempts = message.attempts
        if early is not None:  # written after the read transaction: SQLite has one writer
            return self._finish(message_id, *early)
        try:
            result = channel.send(outgoing)
        except Exception as exc:  # a channel bug must not kill the worker
            logger.exception("notification %s: %s channel failed", message_id, outgoing.channel)
            result = SendResult("retry", f"{type(exc).__name__}")
        return self._record(outgoing, attempts, result)

    def _record(self, message: Outgoing, attempts: int, result: SendResult) -> str:
        now = self.clock()
        to = message.phone_masked or "browser"
        if result.outcome == "sent":
            if self._failing == message.channel:
                logger.info("notifications: %s delivers again", message.channel)
                self._failing = ""
            logger.info("notification %s (%s) sent to %s", message.id, message.kind, to)
            status = self._finish(message.id, "sent", "", provider_ref=result.provider_ref, at=now)
            if message.kind == "cancelled_closure":  # the booking's notice is now sent
                from server.notify.bookings import notice_sent

                with self.database.transaction() as session:
                    notice_sent(session, message.id, now)
            return status
        if result.outcome == "gone":
            with self.database.transaction() as session:
                sub = session.scalars(
                    select(NotifySubscription)
                    .join(NotifyMessage, NotifyMessage.subscription_id == NotifySubscription.id)
                    .where(NotifyMessage.id == message.id)
                ).one()
                store.withdraw(session, sub, now, "gone")
            return self._finish(message.id, "failed", result.detail)
        if result.outcome == "retry" and attempts < MAX_ATTEMPTS:
            if self._failing != message.channel:  # once per outage, not every retry
                logger.warning("notifications: %s: %s (retrying)", message.channel, result.detail)
                self._failing = message.channel
            return self._finish(
                message.id,
                "pending",
                result.detail,
                next_attempt_at=now + backoff(attempts, result.retry_after),
            )
        logger.warning(
            "notification %s (%s) to %s failed after %d attempt(s): %s",
            message.id,
            message.kind,
            to,
            attempts,
            result.detail,
        )
        return self._finish(message.id, "failed", result.detail)

    def _finish(self, message_id: int, status: str, error: str, **values: Any) -> str:
        """Write the outcome, only while the claim is still ours."""
        at = values.pop("at", None)
        if at is not None:
            values["sent_at"] = at
        with self.database.engine.begin() as conn:
            written = conn.execute(
                update(_T)
                .where(_T.c.id == message_id, _T.c.claimed_by == self.name)
                .values(status=status, last_error=error[:300], lease_until=None, **values)
            ).rowcount
        if not written:
            logger.warning("notification %s: claim lost before its outcome was written", message_id)
        return status

    def run_forever(
        self, interval: float, *, sleep: Callable[[float], Any] = time.sleep, stop: Any = None
    ) -> None:
        """Rounds every `interval` seconds (at once again while there is more to send)."""
        logger.info("notification worker %s running", self.name)
        while stop is None or not stop.is_set():
            try:
                counts = self.run_once()
            except Exception:  # never let the worker die: log, wait, go on
                logger.exception("notification worker round failed")
                counts = {}
            busy = sum(v for k, v in counts.items() if k != "queued") >= self.batch
            sleep(0 if busy else interval)


def channels_from_config(config: Any) -> dict[str, Channel]:
    """The channels this deployment has: Web Push when a VAPID key is kept, SMS (and
    Zalo) when a gateway is configured."""
    from server.notify.channels import HttpGatewayProvider, WebPushChannel

    channels: dict[str, Channel] = {}
    if config.vapid_key_path.exists():
        channels["webpush"] = WebPushChannel.from_file(config.vapid_key_path, config.vapid_subject)
    if config.sms_gateway_url:
        gateway = HttpGatewayProvider(
            config.sms_gateway_url,
            config.sms_gateway_token,
            timeout=float(config.sms_gateway_timeout_seconds),
            sender=config.sms_sender,
        )
        channels["sms"] = gateway
        if config.zalo_via_gateway:
            channels["zalo"] = gateway
    return channels


def available_channels(config: Any) -> list[str]:
    """Channel names offered to citizens (without loading anything heavy)."""
    names = []
    if config.vapid_key_path.exists():
        names.append("webpush")
    if config.sms_gateway_url:
        names.append("sms")
        if config.zalo_via_gateway:
            names.append("zalo")
    return names


def start_inline_worker(app: Any) -> NotifyWorker | None:
    """The worker inside a server process (gevent: a greenlet), when any channel is on."""
    config = app.config["TTHCC"]
    if config.notify_worker != "inline" or not available_channels(config):
        return None
    worker = NotifyWorker(
        app.extensions["tthcc_db"],
        channels_from_config(config),
        app.config["SECRET_KEY"],
        name=f"{config.node_name or socket.gethostname()}:{os.getpid()}",
        reminder_minutes=config.booking_reminder_minutes,
    )
    socketio = app.extensions["socketio"]
    socketio.start_background_task(
        worker.run_forever, float(config.notify_interval_seconds), sleep=socketio.sleep
    )
    app.extensions["tthcc_notify_worker"] = worker
    return worker
