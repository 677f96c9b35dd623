"""Fixtures of the devices tests: factories for print-job payloads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import devices.printing  # noqa: F401  (sets the escpos cache dir before escpos is imported)

TICKET = {
    "centre_name": "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG",
    "centre_subtitle": "PHƯỜNG KINH BẮC",
    "number": "1023",
    "service_name": "Hộ tịch",
    "field_name": "Hộ tịch",
    "counters": ["Quầy 1", "Quầy 2"],
    "waiting_ahead": 4,
    "estimate": "Dự kiến chờ: khoảng 12 phút (8-16)",
    "issued_at": "2026-11-27T09:15:02+07:00",
    "priority_label": None,
    "qr_url": "http://192.168.1.10:8000/t/8f3a9c2e",
    "thank_you": "Cảm ơn quý khách!",
    "footer_en": "Please wait for your number to be called",
}


@pytest.fixture
def ticket_payload() -> Callable[..., dict[str, Any]]:
    """``ticket_payload(number="7", priority_label=…)``: a protocol ``ticket`` object."""

    def make(**overrides: Any) -> dict[str, Any]:
        return {**TICKET, **overrides}

    return make
