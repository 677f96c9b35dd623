"""A receipt and appointment slip (Giấy tiếp nhận hồ sơ và hẹn trả kết quả) on the
ticket printer: the same blocks, drawers and PNG preview as the queue ticket.

The server sends the slip already worded (Vietnamese, dates written out), so the station
only lays it out: a header, a title, left-aligned lines, the QR code of the dossier code
and a footer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from devices.errors import ProtocolError
from devices.printing.layout import (
    ESC,
    Block,
    Cut,
    Feed,
    Mode,
    QrCode,
    TextLine,
    _draw_raster,
    _draw_text,
    codepage_table,
)


class SlipPayloadError(ProtocolError):
    """A ``slip`` payload is missing fields or has wrong types."""


@dataclasses.dataclass(frozen=True)
class SlipPrint:
    centre_name: str
    title: str
    lines: tuple[str, ...]
    centre_subtitle: str | None = None
    code: str | None = None
    qr_data: str | None = None
    footer: tuple[str, ...] = ()

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> SlipPrint:
        if not isinstance(payload, Mapping):
            raise SlipPayloadError("slip must be an object")
        problems = []
        for key in ("centre_name", "title"):
            if not isinstance(payload.get(key), str) or not payload[key].strip():
                problems.append(f"{key} must be a non-empty string")
        lists = {}
        for key in ("lines", "footer"):
            value = payload.get(key) or []
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problems.append(f"{key} must be a list of strings")
                value = []
            lists[key] = tuple(value)
        for key in ("centre_subtitle", "code", "qr_data"):
            if payload.get(key) is not None and not isinstance(payload[key], str):
                problems.append(f"{key} must be a string")
        if problems:
            raise SlipPayloadError("invalid slip: " + "; ".join(problems))
        return cls(
            centre_name=payload["centre_name"],
            title=payload["title"],
            lines=lists["lines"],
            centre_subtitle=payload.get("centre_subtitle"),
            code=payload.get("code"),
            qr_data=payload.get("qr_data"),
            footer=lists["footer"],
        )


def slip_blocks(slip: SlipPrint) -> list[Block]:
    blocks: list[Block] = [TextLine(slip.centre_name, bold=True)]
    if slip.centre_subtitle:
        blocks.append(TextLine(slip.centre_subtitle, bold=True))
    # The code is among the lines ("Mã hồ sơ: …") and in the QR code.
    blocks += [Feed(1), TextLine(slip.title, bold=True), Feed(1)]
    blocks += [TextLine(line, align="left") for line in slip.lines]
    if slip.qr_data:
        blocks.append(QrCode(slip.qr_data, module_size=5))
    blocks += [TextLine(line) for line in slip.footer]
    blocks.append(Cut())
    return blocks


def draw_slip(printer: Any, slip: SlipPrint, mode: Mode, *, codepage: int | None = None) -> None:
    """Draw the slip onto a python-escpos printer, like `draw_ticket` does a ticket."""
    blocks = slip_blocks(slip)
    printer._raw(ESC + b"@")
    if mode == "text":
        _draw_text(printer, blocks, codepage_table(printer, codepage))
    elif mode == "raster":
        _draw_raster(printer, blocks)
    else:
        raise ValueError(f"mode must be 'text' or 'raster', not {mode!r}")
