"""The ticket to print: the ``ticket`` object of a ``print.job`` (docs/station-protocol.md)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from devices.errors import ProtocolError

DEFAULT_THANK_YOU = "Cảm ơn quý khách!"


class TicketPayloadError(ProtocolError):
    """A ``print.job`` ticket payload is missing fields or has wrong types."""


@dataclasses.dataclass(frozen=True)
class TicketPrint:
    """Everything printed on a queue ticket; mirrors the protocol's ``ticket`` payload."""

    centre_name: str
    number: str
    service_name: str
    issued_at: datetime
    waiting_ahead: int
    centre_subtitle: str | None = None
    field_name: str | None = None
    counters: tuple[str, ...] = ()
    priority_label: str | None = None
    qr_url: str | None = None
    #: The wait estimate line, e.g. "Dự kiến chờ: khoảng 12 phút (9-15)".
    estimate: str | None = None
    thank_you: str | None = DEFAULT_THANK_YOU
    footer_en: str | None = None
    #: The citizen's name, only when they chose to have it printed (docs/privacy.md).
    citizen_name: str | None = None

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> TicketPrint:
        """Validate a decoded JSON ``ticket`` object; unknown keys are ignored.

        Raises :class:`TicketPayloadError` naming every bad field at once.
        """
        if not isinstance(payload, Mapping):
            raise TicketPayloadError(f"ticket must be an object, got {type(payload).__name__}")
        problems: list[str] = []

        def text(key: str, *, required: bool = False) -> str | None:
            value = payload.get(key)
            if value is None:
                if required:
                    problems.append(f"{key} is required")
                return None
            if not isinstance(value, str) or (required and not value.strip()):
                problems.append(f"{key} must be a non-empty string, got {value!r}")
                return None
            return value

        number = payload.get("number")
        if isinstance(number, int) and not isinstance(number, bool):
            number = str(number)  # lenient: a server that sends 1023 instead of "1023"
        if not isinstance(number, str) or not number.strip():
            problems.append(f"number must be a non-empty string, got {number!r}")

        waiting = payload.get("waiting_ahead")
        if isinstance(waiting, bool) or not isinstance(waiting, int) or waiting < 0:
            problems.append(f"waiting_ahead must be an integer >= 0, got {waiting!r}")

        issued_at = _parse_time(payload.get("issued_at"), problems)

        counters = payload.get("counters") or []
        if not isinstance(counters, list) or not all(isinstance(c, str) for c in counters):
            problems.append(f"counters must be a list of strings, got {counters!r}")
            counters = []

        fields = {
            "centre_name": text("centre_name", required=True),
            "service_name": text("service_name", required=True),
            "centre_subtitle": text("centre_subtitle"),
            "field_name": text("field_name"),
            "priority_label": text("priority_label"),
            "qr_url": text("qr_url"),
            "estimate": text("estimate"),
            "thank_you": text("thank_you") if "thank_you" in payload else DEFAULT_THANK_YOU,
            "footer_en": text("footer_en"),
            "citizen_name": text("citizen_name"),
        }
        if problems:
            raise TicketPayloadError("invalid ticket: " + "; ".join(problems))
        return cls(
            number=number.strip(),
            waiting_ahead=waiting,
            issued_at=issued_at,
            counters=tuple(counters),
            **fields,
        )

    def local_issued_at(self) -> datetime:
        """The print time as the citizen's wall clock.

        The server sends the centre's local time with its offset (``+07:00``), printed as
        is. A UTC timestamp means the server left localisation to us: convert it to this
        station's time zone.
        """
        if self.issued_at.utcoffset() == timedelta(0):
            return self.issued_at.astimezone()
        return self.issued_at


def _parse_time(value: Any, problems: list[str]) -> datetime:
    try:
        if not isinstance(value, str):
            raise ValueError
        parsed = datetime.fromisoformat(value)
    except ValueError:
        problems.append(f"issued_at must be an ISO 8601 timestamp, got {value!r}")
        return datetime.min
    if parsed.tzinfo is None:
        problems.append(f"issued_at must carry a UTC offset, got {value!r}")
    return parsed
