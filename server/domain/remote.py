"""Numbers from the phone: today's number taken remotely, with quotas per phone number, and
a check-in at the kiosk on arrival, valid until the number is called plus a grace time.

A phone number is personal data: it is only ever kept as a keyed hash (for the quotas) and
a mask ("091****123", for staff), never logged. See docs/remote.md.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from server.domain.errors import DomainError, InvalidRequest

#: Vietnamese mobile numbers: 10 digits, 03x/05x/07x/08x/09x (after +84 / 84 → 0).
_MOBILE = re.compile(r"^0[35789]\d{8}$")


class RemoteNotAllowed(DomainError):
    """The service does not hand out numbers remotely."""

    code = "remote_not_allowed"
    http_status = 409


class RemoteOnly(DomainError):
    """The centre hands out numbers only remotely: the kiosk checks citizens in."""

    code = "remote_only"
    http_status = 409


class PhoneQuotaReached(DomainError):
    """This phone number took its quota of numbers today (per day, or per service)."""

    code = "phone_quota_reached"
    http_status = 429


class CheckInExpired(DomainError):
    """The check-in code no longer admits: called longer ago than the grace, or done."""

    code = "check_in_expired"
    http_status = 409


def normalize_phone(raw: str) -> str:
    """ "+84 912 345 678" → "0912345678"; InvalidRequest (422) unless a Vietnamese mobile."""
    digits = re.sub(r"[\s.\-()]", "", str(raw or ""))
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    if not _MOBILE.match(digits):
        raise InvalidRequest(
            "Số điện thoại không hợp lệ: nhập số di động 10 chữ số, ví dụ 0912345678.",
            "phone must be a Vietnamese mobile number (10 digits, e.g. 0912345678)",
        )
    return digits


def phone_hash(phone: str, key: str) -> str:
    """A keyed hash of a normalised number: equal numbers match, the number is not kept."""
    return hmac.new(key.encode(), phone.encode(), hashlib.sha256).hexdigest()


def mask_phone(phone: str) -> str:
    """ "0912345678" → "091****678": enough for staff to recognise, not to call."""
    return f"{phone[:3]}****{phone[-3:]}"


@dataclass(frozen=True)
class Quotas:
    """Remote numbers one phone may take in a local day: in all, and per service."""

    per_day: int = 3
    per_service: int = 1


def check_quotas(quotas: Quotas, *, taken_today: int, taken_for_service: int) -> None:
    """Raise PhoneQuotaReached when one more remote number would pass a quota."""
    if taken_for_service >= quotas.per_service:
        raise PhoneQuotaReached(
            f"Số điện thoại này đã lấy {taken_for_service} số cho dịch vụ này hôm nay "
            f"(tối đa {quotas.per_service}).",
            f"this phone took {taken_for_service} numbers for this service today "
            f"(at most {quotas.per_service})",
            details={"quota": "per_service", "limit": quotas.per_service},
        )
    if taken_today >= quotas.per_day:
        raise PhoneQuotaReached(
            f"Số điện thoại này đã lấy {taken_today} số hôm nay (tối đa {quotas.per_day} "
            "số mỗi ngày).",
            f"this phone took {taken_today} numbers today (at most {quotas.per_day} a day)",
            details={"quota": "per_day", "limit": quotas.per_day},
        )


def check_in_deadline(called_at: datetime | None, grace_minutes: int) -> datetime | None:
    """Until when a code admits: None (no deadline yet) while the number was never called."""
    if called_at is None:
        return None
    return called_at + timedelta(minutes=grace_minutes)


def check_admits(
    status: str, called_at: datetime | None, now: datetime, grace_minutes: int
) -> None:
    """A check-in admits a waiting number, or a called one until called_at + grace; not
    one being served or done (CheckInExpired, with the reason)."""
    if status == "cancelled":
        raise CheckInExpired(
            "Số thứ tự này đã bị hủy do trung tâm tạm nghỉ hôm nay: mã không còn dùng được. "
            "Quý khách vui lòng lấy số vào ngày làm việc khác.",
            "the number was cancelled (the centre is closed today): the code no longer admits",
            details={"reason": status},
        )
    if status in ("serving", "done", "no_show"):
        raise CheckInExpired(
            "Số thứ tự này đã được phục vụ hoặc đã kết thúc: mã không còn dùng được.",
            f"the ticket is {status}: the code no longer admits",
            details={"reason": status},
        )
    deadline = check_in_deadline(called_at, grace_minutes)
    if status == "called" and deadline is not None and now > deadline:
        raise CheckInExpired(
            f"Số thứ tự này đã được mời quá {grace_minutes} phút: mã đã hết hạn. Quý khách "
            "vui lòng lấy số mới.",
            f"the number was called more than {grace_minutes} minutes ago: the code expired",
            details={"reason": "expired"},
        )
