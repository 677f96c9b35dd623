"""What each notification says: Vietnamese first (NFC), English second. Pure functions."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Text:
    """A push notification's title and body; an SMS is `sms` (both, one after the other)."""

    title: str
    body: str

    @property
    def sms(self) -> str:
        return f"{self.title}\n{self.body}"


def _nfc(title: str, body: str) -> Text:
    return Text(unicodedata.normalize("NFC", title), unicodedata.normalize("NFC", body))


def joined(number: str, service: str, ahead: int, threshold: int) -> Text:
    """Sent when the citizen turns notifications on for a ticket."""
    return _nfc(
        f"Số {number}: đã bật thông báo / Notifications on",
        f"{service}. Hiện có {ahead} người phía trước. Quý khách sẽ được báo khi còn "
        f"{threshold} người phía trước và khi đến lượt.\n"
        f"{ahead} ahead of you now. You will be told when {threshold} are ahead and "
        "when it is your turn.",
    )


def near(number: str, ahead: int) -> Text:
    """Sent once when the people ahead fall to the threshold."""
    return _nfc(
        f"Số {number}: sắp đến lượt / Your turn is near",
        f"Còn {ahead} người phía trước quý khách. Vui lòng có mặt gần khu vực quầy.\n"
        f"{ahead} ahead of you. Please come close to the counters.",
    )


def called(number: str, counter: str) -> Text:
    """Sent on each call (a recall too): the counter to go to."""
    counter_en = counter.replace("Quầy", "Counter", 1) if counter.startswith("Quầy") else counter
    return _nfc(
        f"Mời số {number} đến {counter} / Number {number}: {counter_en}",
        f"Xin mời công dân có số thứ tự {number} đến {counter}.\n"
        f"Number {number}, please go to {counter_en}.",
    )


def no_show(number: str) -> Text:
    """Sent when the ticket is marked absent after its call."""
    return _nfc(
        f"Số {number}: đã qua lượt / Missed",
        f"Số {number} đã được gọi nhưng quý khách chưa có mặt nên đã qua lượt. Vui lòng "
        "liên hệ quầy hướng dẫn.\n"
        f"Number {number} was called but you were not there. Please ask at the "
        "information desk.",
    )


def closure(
    centre: str,
    day: str,
    number: str,
    reason: str = "",
    *,
    booked: bool = False,
    cancelled: bool = False,
) -> Text:
    """Sent to a ticket holder (a walk-in, a remote number, a checked-in booking) whose
    ticket's day the centre closes. Tickets in the hall stay (docs/hours.md): the citizen
    is told the day is closed. `cancelled`: a phone's number not checked in, taken back by
    a closure declared for today, says so. A booking not yet checked in is told by
    `booking_closure` instead (its own notice)."""
    why = f" ({reason})" if reason else ""
    again_vi, again_en = (
        ("đặt lịch hẹn lại vào ngày khác", "book another day")
        if booked
        else ("lấy số lại vào ngày làm việc khác", "take a new number on another working day")
    )
    if cancelled:  # a phone's or a booking's number not yet called: taken back
        return _nfc(
            f"{centre} tạm nghỉ ngày {day}: số {number} đã hủy / Number cancelled",
            f"Trung tâm tạm nghỉ ngày {day}{why}. Số {number} của quý khách đã bị hủy, quý "
            f"khách không cần đến trung tâm hôm nay; vui lòng {again_vi}.\n"
            f"The centre is closed on {day}{why}. Your number {number} is cancelled: no need "
            f"to come today; please {again_en}.",
        )
    return _nfc(
        f"{centre} tạm nghỉ ngày {day} / Centre closed",
        f"Trung tâm tạm nghỉ ngày {day}{why}. Số {number} của quý khách có thể không được "
        f"phục vụ trong ngày này; vui lòng {again_vi}.\n"
        f"The centre is closed on {day}{why}. Your number {number} may not be served that "
        f"day; please {again_en}.",
    )


def booked(code: str, service: str, when_vi: str, when_en: str) -> Text:
    """Sent when a booking is made with consent: its code and time."""
    return _nfc(
        f"Đặt lịch thành công: mã {code} / Booking confirmed",
        f"{service}, lúc {when_vi}. Khi đến, nhập mã {code} tại kiosk (từ 10 phút trước giờ "
        f"hẹn).\n{service}, at {when_en}. On arrival, type code {code} at the kiosk (from 10 "
        "minutes before).",
    )


def booking_reminder(code: str, service: str, when_vi: str, when_en: str, minutes: int) -> Text:
    """Sent once, the centre's minutes before the slot (a booking with consent, not
    cancelled, not checked in): the time and the code to type at the kiosk."""
    return _nfc(
        f"Nhắc lịch hẹn: mã {code} / Booking reminder",
        f"{service}, lúc {when_vi} (còn khoảng {minutes} phút). Khi đến, nhập mã {code} tại "
        f"kiosk (từ 10 phút trước giờ hẹn).\n{service}, at {when_en} (in about {minutes} "
        f"minutes). On arrival, type code {code} at the kiosk (from 10 minutes before).",
    )


def booking_changed(code: str, service: str, when_vi: str, when_en: str) -> Text:
    """Sent when the citizen moves the booking to another slot (the code stays)."""
    return _nfc(
        f"Đã đổi lịch hẹn {code} / Booking moved",
        f"{service}: giờ hẹn mới {when_vi}, mã giữ nguyên {code}.\n"
        f"{service}: new time {when_en}, same code {code}.",
    )


def booking_cancelled(code: str, service: str, when_vi: str, when_en: str) -> Text:
    """Sent when the citizen cancels the booking."""
    return _nfc(
        f"Đã hủy lịch hẹn {code} / Booking cancelled",
        f"Lịch hẹn {service} lúc {when_vi} đã được hủy theo yêu cầu.\n"
        f"Your booking for {service} at {when_en} is cancelled as you asked.",
    )


def booking_closure(message_vi: str, message_en: str) -> Text:
    """Sent when a closure cancels the booking: the notice's own words."""
    return _nfc(
        "Lịch hẹn bị hủy do trung tâm nghỉ / Booking cancelled", f"{message_vi}\n{message_en}"
    )


def phone_code(code: str, minutes: int) -> Text:
    """The one-time code proving the number is the citizen's (the code first: phones
    offer to fill it in)."""
    return _nfc(
        f"{code} là mã xác nhận số điện thoại / Your verification code",
        f"Mã dùng được {minutes} phút để lấy số hoặc đặt lịch tại Trung tâm. Không đưa mã "
        f"này cho người khác.\nValid for {minutes} minutes. Do not share it.",
    )
