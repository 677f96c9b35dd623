"""Notifications to citizens (docs/notifications.md): who agreed to be told what, through
which channel, about which ticket (`notify_subscriptions`, the consent record), and the
messages waiting to go out (`notify_messages`, the delivery outbox)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, UTCDateTime
from server.models.ticket import Ticket


class NotifySubscription(Base):
    """A citizen's consent to be notified about one ticket through one channel.

    Web Push keeps the browser's subscription (endpoint and keys); SMS and Zalo keep the
    phone number sealed (AES-GCM under a key derived from the app's secret) and a mask.
    Withdrawing (or the ticket's day passing) erases the contact and stops every message.
    """

    __tablename__ = "notify_subscriptions"
    __table_args__ = (
        Index("ix_notify_subscriptions_ticket", "ticket_id"),
        Index("ix_notify_subscriptions_appointment", "appointment_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id", ondelete="CASCADE"))
    #: The ticket told about; None for a booking's subscription (`appointment_id`).
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), nullable=True
    )
    #: A booking made with consent to messages (confirmation, change, cancellation).
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), nullable=True
    )
    #: webpush | sms | zalo
    channel: Mapped[str] = mapped_column(String(10))
    #: Web Push: the push service URL the browser gave, and its keys (base64url).
    endpoint: Mapped[str | None] = mapped_column(Text, nullable=True)
    p256dh: Mapped[str | None] = mapped_column(String(200), nullable=True)
    auth: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: SMS / Zalo: the number, sealed; "***5678" for staff and logs.
    phone_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    phone_masked: Mapped[str | None] = mapped_column(String(16), nullable=True)
    #: "When N people are ahead" for this subscription (the centre's setting at consent).
    ahead_threshold: Mapped[int] = mapped_column(Integer, default=3)
    consented_at: Mapped[datetime] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: Why it stopped: "citizen" (withdrawn), "gone" (the push service forgot it), "expired".
    withdrawn_reason: Mapped[str | None] = mapped_column(String(20), nullable=True)

    ticket: Mapped[Ticket | None] = relationship()


class NotifyMessage(Base):
    """One message to send: pending → sending (claimed, leased) → sent | failed | cancelled.

    Unique per (subscription, key), so a trigger seen twice (two processes scanning the
    line, a retried request) enqueues one message.
    """

    __tablename__ = "notify_messages"
    __table_args__ = (
        UniqueConstraint("subscription_id", "dedupe_key"),
        Index("ix_notify_messages_due", "status", "next_attempt_at"),
        Index("ix_notify_messages_centre", "centre_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("notify_subscriptions.id", ondelete="CASCADE")
    )
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id", ondelete="CASCADE"))
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), nullable=True
    )
    #: joined | near | called | no_show | closure; a booking's: booked | booking_changed |
    #: booking_cancelled | cancelled_closure
    kind: Mapped[str] = mapped_column(String(20))
    dedupe_key: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(10))
    #: The whole text, Vietnamese first then English (SMS), and the push title / URL.
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Pointless after this (a "your turn is near" an hour later): given up as failed.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: While `sending`: the worker that claimed it and until when its claim holds.
    claimed_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: The provider's id for the message (the SMS gateway's), when it gave one.
    provider_ref: Mapped[str | None] = mapped_column(String(100), nullable=True)

    subscription: Mapped[NotifySubscription] = relationship()
