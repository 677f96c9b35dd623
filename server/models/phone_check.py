"""One-time codes sent by SMS to prove a phone number is the citizen's (docs/remote.md,
"Phone ownership"): the number as a keyed hash and a mask, the code as a keyed hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UTCDateTime


class PhoneVerification(Base):
    """A code sent to a number (server.services.phone_check): used once, within its
    validity, after at most MAX_ATTEMPTS wrong ones; forgotten a day later."""

    __tablename__ = "phone_verifications"
    __table_args__ = (
        Index("ix_phone_verifications_phone", "phone_hash", "created_at"),
        Index("ix_phone_verifications_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the handle the page holds.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: HMAC-SHA256 of the normalised number under the app's key (as remote_numbers').
    phone_hash: Mapped[str] = mapped_column(String(64))
    #: "091****678", for the page and the logs.
    phone_masked: Mapped[str] = mapped_column(String(16))
    #: HMAC-SHA256 of the six digits, salted by the token's hash.
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: When the gateway took the SMS (None while it is being sent).
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Wrong codes tried so far.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: When a right code was used (a remote number taken, a booking made): once only.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
