"""Proof that a phone number belongs to the citizen typing it: a one-time code by SMS.

The quotas per phone number (remote numbers, bookings) bound a person only when the
number is theirs. With an SMS gateway set, taking a remote number or booking with a
phone needs the six digits sent to that phone (docs/remote.md, "Phone ownership"). The
rules here are pure: the code, its keyed hash, its validity, attempts and send limits.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from server.domain.clock import DEFAULT_TIMEZONE, local_day
from server.domain.errors import DomainError

#: Digits of a code.
CODE_DIGITS = 6
#: How long a code stays valid after it was sent.
VALID_FOR = timedelta(minutes=5)
#: Wrong codes a verification takes before it is locked (a new code is then needed).
MAX_ATTEMPTS = 5
#: Seconds before another code may be sent to the same number.
RESEND_AFTER_SECONDS = 60
#: Codes sent to one number: per hour and per day (each resend counts).
PER_PHONE_HOUR = 5
PER_PHONE_DAY = 10
#: Verifications are forgotten a day after they were made (the day's limit needs them).
KEEP_FOR = timedelta(days=1)
# A number whose code was accepted stays proved, for the page holding its verification,
# until the end of that local day (check_proof); rows live KEEP_FOR, longer than that.


class PhoneCheckError(DomainError):
    """A refusal about the one-time code (each subclass: its own code and status)."""


class CodeRequired(PhoneCheckError):
    code = "phone_code_required"
    http_status = 422


class UnknownVerification(PhoneCheckError):
    code = "phone_verification_unknown"
    http_status = 422


class OtherNumber(PhoneCheckError):
    code = "phone_code_other_number"
    http_status = 422


class WrongCode(PhoneCheckError):
    code = "phone_code_wrong"
    http_status = 422


class CodeExpired(PhoneCheckError):
    code = "phone_code_expired"
    http_status = 409


class CodeUsed(PhoneCheckError):
    code = "phone_code_used"
    http_status = 409


class CodeLocked(PhoneCheckError):
    code = "phone_code_locked"
    http_status = 429


class ResendTooSoon(PhoneCheckError):
    code = "phone_code_too_soon"
    http_status = 429


class PhoneCodeLimit(PhoneCheckError):
    code = "phone_code_limit"
    http_status = 429


class VerificationOff(PhoneCheckError):
    code = "phone_verification_off"
    http_status = 409


class SmsUnavailable(PhoneCheckError):
    code = "sms_unavailable"
    http_status = 503


def new_code() -> str:
    """Six random digits (leading zeros kept)."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def new_token() -> str:
    """The verification's handle, given to the page (unguessable)."""
    return secrets.token_urlsafe(18)


def token_digest(token: str) -> str:
    """What the table keeps of a token: its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


def code_digest(code: str, token_hash: str, key: str) -> str:
    """What the table keeps of a code: HMAC-SHA256 under the app's key, salted by the
    verification (the table alone does not give six digits back by trying a million)."""
    return hmac.new(key.encode(), f"{token_hash}:{code}".encode(), hashlib.sha256).hexdigest()


def clean_code(raw: str | None) -> str:
    """The digits typed ("123 456" → "123456"); "" when absent."""
    return "".join(ch for ch in str(raw or "") if ch.isdigit())


@dataclass(frozen=True)
class SendCounts:
    """What one number received lately: codes sent in the last hour and day, and when the
    last one went."""

    last_hour: int
    last_day: int
    last_sent_at: datetime | None


def check_send(counts: SendCounts, now: datetime, masked: str) -> None:
    """Refuse another code too soon (ResendTooSoon) or past the number's limits."""
    if counts.last_sent_at is not None:
        wait = counts.last_sent_at + timedelta(seconds=RESEND_AFTER_SECONDS) - now
        if wait > timedelta(0):
            seconds = max(1, int(wait.total_seconds() + 0.999))
            raise ResendTooSoon(
                f"Mã xác nhận vừa được gửi tới số {masked}. Quý khách vui lòng chờ "
                f"{seconds} giây rồi bấm «Gửi lại mã».",
                f"a code was just sent to {masked}: wait {seconds} s before asking again",
                details={"retry_after_seconds": seconds},
            )
    if counts.last_hour >= PER_PHONE_HOUR or counts.last_day >= PER_PHONE_DAY:
        hour = counts.last_hour >= PER_PHONE_HOUR
        raise PhoneCodeLimit(
            f"Số {masked} đã nhận quá nhiều mã xác nhận "
            f"{'trong một giờ' if hour else 'hôm nay'}. Quý khách vui lòng thử lại "
            f"{'sau một giờ' if hour else 'vào ngày mai'} hoặc lấy số tại kiosk của Trung tâm.",
            f"too many codes sent to {masked} this {'hour' if hour else 'day'}",
            details={"retry_after_seconds": 3600 if hour else 86400},
        )


@dataclass(frozen=True)
class Verification:
    """A verification as the rules see it."""

    phone_hash: str
    phone_masked: str
    token_hash: str
    code_hash: str
    expires_at: datetime
    attempts: int
    used_at: datetime | None
    sent: bool


def check_code(
    verification: Verification, *, phone_hash: str, code: str, key: str, now: datetime
) -> None:
    """Accept `code` for `verification` or raise why not. A wrong code is the caller's to
    count (WrongCode and the CodeLocked it turns into both follow one more attempt)."""
    masked = verification.phone_masked
    if verification.phone_hash != phone_hash:
        raise OtherNumber(
            f"Mã xác nhận này được gửi tới số {masked}, không phải số vừa nhập. Quý khách "
            "nhập lại đúng số đó, hoặc bấm «Gửi lại mã» để nhận mã cho số mới.",
            f"this code was sent to {masked}, not to the number given",
        )
    if verification.used_at is not None:
        raise CodeUsed(
            "Mã xác nhận này đã được dùng. Mỗi mã chỉ dùng một lần: quý khách bấm «Gửi lại "
            "mã» để nhận mã mới.",
            "this code was used already: ask for a new one",
        )
    if verification.attempts >= MAX_ATTEMPTS:
        raise locked(masked)
    if not verification.sent or now >= verification.expires_at:
        raise CodeExpired(
            f"Mã xác nhận đã hết hạn (mỗi mã dùng được {VALID_FOR.seconds // 60} phút). "
            f"Quý khách bấm «Gửi lại mã» để nhận mã mới tới số {masked}.",
            "the code expired: ask for a new one",
        )
    wanted = code_digest(code, verification.token_hash, key)
    if len(code) != CODE_DIGITS or not hmac.compare_digest(wanted, verification.code_hash):
        left = MAX_ATTEMPTS - verification.attempts - 1
        if left <= 0:
            raise locked(masked)
        raise WrongCode(
            f"Mã xác nhận không đúng. Quý khách kiểm tra tin nhắn gửi tới số {masked} và "
            f"nhập lại ({left} lần thử còn lại).",
            f"wrong code: {left} attempt(s) left",
            details={"attempts_left": left},
        )


def locked(masked: str) -> CodeLocked:
    return CodeLocked(
        f"Đã nhập sai mã {MAX_ATTEMPTS} lần: mã này không còn dùng được. Quý khách bấm «Gửi "
        f"lại mã» để nhận mã mới tới số {masked}.",
        f"{MAX_ATTEMPTS} wrong codes: this one is locked, ask for a new one",
        details={"attempts_left": 0},
    )


def check_proof(
    proved_hash: str,
    masked: str,
    used_at: datetime | None,
    *,
    phone_hash: str,
    now: datetime,
    timezone: str = DEFAULT_TIMEZONE,
) -> None:
    """A verification sent back without a code: accepted when its code was accepted on
    today's local day for this very number (a second number, a booking or messages the
    same day ask no new SMS). Else CodeRequired, or OtherNumber."""
    if proved_hash != phone_hash:
        raise OtherNumber(
            f"Mã xác nhận này được gửi tới số {masked}, không phải số vừa nhập. Quý khách "
            "nhập lại đúng số đó, hoặc bấm «Gửi mã xác nhận» để nhận mã cho số mới.",
            f"this verification is for {masked}, not for the number given",
        )
    if used_at is None or local_day(used_at, timezone) != local_day(now, timezone):
        raise CodeRequired(
            f"Cần mã xác nhận gửi qua SMS tới số {masked}"
            f"{'' if used_at is None else ' (lần xác nhận trước chỉ dùng trong ngày hôm đó)'}"
            ": bấm «Gửi mã xác nhận», rồi nhập mã 6 chữ số nhận được.",
            "a one-time code is required (a number stays proved only until the end of the "
            "day its code was accepted)",
        )
