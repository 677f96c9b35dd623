"""The ticket layout: one list of blocks, drawn as ESC/POS text, ESC/POS raster or a PNG.

``ticket_blocks()`` decides what a ticket says and how it is emphasised; ``draw_ticket()``
draws those blocks onto any python-escpos printer object (``Dummy`` in tests, ``Usb``,
``Network``, the simulator…); :mod:`devices.printing.preview` renders the very same blocks
to a PNG, so the kiosk fallback and the admin preview cannot drift from the paper.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import logging
import textwrap
from typing import TYPE_CHECKING, Any, Literal

from devices.errors import DeviceError
from devices.printing.ticket import TicketPrint
from devices.printing.vietnamese import to_cp1258

if TYPE_CHECKING:
    from PIL import Image

__all__ = [
    "Block",
    "Cut",
    "Feed",
    "Picture",
    "QrCode",
    "TextLine",
    "TicketPrint",
    "codepage_table",
    "draw_ticket",
    "ticket_blocks",
]

logger = logging.getLogger(__name__)

Align = Literal["left", "center", "right"]
Mode = Literal["text", "raster"]

ESC = b"\x1b"
GS = b"\x1d"
#: Paper width in dots of an 80 mm printer at 203 dpi, when the profile does not say.
DEFAULT_WIDTH_PX = 576
#: Characters per line of font A on 80 mm paper, when the profile does not say.
DEFAULT_COLUMNS = 48


@dataclasses.dataclass(frozen=True)
class TextLine:
    """A paragraph, wrapped to the paper width by whoever draws it."""

    text: str
    scale: int = 1  #: ESC/POS character size multiplier (1-8), width and height
    bold: bool = False
    align: Align = "center"
    invert: bool = False  #: white on black


@dataclasses.dataclass(frozen=True)
class QrCode:
    data: str
    module_size: int = 6  #: dots per QR module (ESC/POS 1-16)


@dataclasses.dataclass(frozen=True)
class Feed:
    lines: int = 1


@dataclasses.dataclass(frozen=True)
class Cut:
    pass


@dataclasses.dataclass(frozen=True)
class Picture:
    """A bitmap; only the ESC/POS decoder of the simulators produces these."""

    image: Image.Image


Block = TextLine | QrCode | Feed | Cut | Picture


def ticket_blocks(ticket: TicketPrint) -> list[Block]:
    """What a ticket says (DOMAIN.md, "Ticket"), top to bottom."""
    blocks: list[Block] = [TextLine(ticket.centre_name, bold=True)]
    if ticket.centre_subtitle:
        blocks.append(TextLine(ticket.centre_subtitle, bold=True))
    blocks += [
        Feed(1),
        TextLine("SỐ THỨ TỰ", scale=2, bold=True),
        TextLine(ticket.number, scale=4, bold=True),
    ]
    if ticket.citizen_name:
        blocks.append(TextLine(f"Công dân: {ticket.citizen_name}", bold=True))
    if ticket.priority_label:
        blocks.append(TextLine(f"ƯU TIÊN: {ticket.priority_label}", bold=True, invert=True))
    blocks.append(TextLine(ticket.service_name, bold=True))
    if ticket.field_name and ticket.field_name != ticket.service_name:
        blocks.append(TextLine(f"Lĩnh vực: {ticket.field_name}"))
    if ticket.counters:
        blocks.append(TextLine("Quầy phục vụ: " + ", ".join(ticket.counters)))
    issued = ticket.local_issued_at().strftime("%d/%m/%Y %H:%M:%S")
    blocks += [
        TextLine(f"Số người chờ trước: {ticket.waiting_ahead}"),
    ]
    if ticket.estimate:
        blocks.append(TextLine(ticket.estimate))
    blocks.append(TextLine(f"Thời gian: {issued}"))
    if ticket.qr_url:
        blocks.append(QrCode(ticket.qr_url))
    if ticket.thank_you:
        blocks.append(TextLine(ticket.thank_you, bold=True))
    if ticket.footer_en:
        blocks.append(TextLine(ticket.footer_en))
    blocks.append(Cut())
    return blocks


def draw_ticket(
    printer: Any, ticket: TicketPrint, mode: Mode, *, codepage: int | None = None
) -> None:
    """Draw ``ticket`` onto a python-escpos printer object, ending with a cut.

    ``mode="text"`` sends CP1258 text (about 300 bytes) and needs a printer whose CP1258
    table draws combining tone marks well; ``mode="raster"`` sends the text as bitmaps
    rendered with DejaVu Sans (tens of KB) and works on any printer. Both print the QR
    code natively (GS ( k). ``codepage`` overrides the ESC t table number of CP1258 when
    the printer's profile does not know it.
    """
    blocks = ticket_blocks(ticket)
    printer._raw(ESC + b"@")  # known state: earlier jobs may have left a style set
    if mode == "text":
        _draw_text(printer, blocks, codepage_table(printer, codepage))
    elif mode == "raster":
        _draw_raster(printer, blocks)
    else:
        raise ValueError(f"mode must be 'text' or 'raster', not {mode!r}")


def codepage_table(printer: Any, override: int | None = None) -> int:
    """The ESC t table number of CP1258 in the printer's capability profile."""
    if override is not None:
        return override
    for table, name in printer.profile.profile_data.get("codePages", {}).items():
        if name == "CP1258":
            return int(table)
    name = printer.profile.profile_data.get("name", "?")
    raise DeviceError(
        f"printer profile {name!r} has no CP1258 code page: set `codepage` (the ESC t "
        'table number from the printer\'s manual) or use mode = "raster"'
    )


class _TextStyle:
    """The printer's current style, so each command is sent only when it changes."""

    def __init__(self, printer: Any) -> None:
        self.printer = printer
        self.current: dict[str, int] = {"align": 0, "bold": 0, "size": 0, "invert": 0}

    def apply(self, **wanted: int) -> None:
        commands = {"align": ESC + b"a", "bold": ESC + b"E", "size": GS + b"!", "invert": GS + b"B"}
        for key, value in wanted.items():
            if self.current[key] != value:
                self.printer._raw(commands[key] + bytes((value,)))
                self.current[key] = value


_ALIGN = {"left": 0, "center": 1, "right": 2}


def _columns(printer: Any) -> int:
    try:
        return int(printer.profile.get_columns("a"))
    except Exception:  # profiles without font data: assume 80 mm paper
        return DEFAULT_COLUMNS


def _draw_text(printer: Any, blocks: list[Block], table: int) -> None:
    # Pre-encoded bytes through _raw: python-escpos's magic encoder would pick code pages
    # itself and drop the letters CP1258 only has as base + combining tone mark.
    printer._raw(ESC + b"t" + bytes((table,)))
    style = _TextStyle(printer)
    columns = _columns(printer)
    for block in blocks:
        if isinstance(block, TextLine):
            scale = max(1, min(block.scale, 8))
            style.apply(
                align=_ALIGN[block.align],
                bold=int(block.bold),
                size=(scale - 1) << 4 | (scale - 1),
                invert=int(block.invert),
            )
            width = max(columns // scale, 1)
            pad = " " if block.invert else ""  # white-on-black reads better with a margin
            for line in textwrap.wrap(block.text, width - 2 * len(pad)) or [""]:
                printer._raw(to_cp1258(pad + line + pad) + b"\n")
        elif isinstance(block, Feed):
            printer._raw(ESC + b"d" + bytes((block.lines,)))
        elif isinstance(block, QrCode):
            style.apply(align=_ALIGN["center"])
            _draw_qr(printer, block)
        elif isinstance(block, Cut):
            style.apply(size=0, bold=0, invert=0, align=0)
            printer.cut()
        elif isinstance(block, Picture):
            printer.image(block.image, center=True)


def _draw_qr(printer: Any, block: QrCode) -> None:
    if printer.profile.supports("qrCode"):
        printer.qr(block.data, size=block.module_size, native=True)
    else:  # ~4.5 KB instead of ~90 bytes, but it prints
        logger.debug("profile has no native QR: sending the QR code as an image")
        printer.qr(block.data, size=block.module_size, native=False, center=True)


def paper_width_px(printer: Any) -> int:
    """Printable width in dots from the profile, else 576 (80 mm at 203 dpi)."""
    try:
        return int(printer.profile.profile_data["media"]["width"]["pixels"])
    except (KeyError, TypeError, ValueError):
        return DEFAULT_WIDTH_PX


def _draw_raster(printer: Any, blocks: list[Block]) -> None:
    from PIL import Image

    from devices.printing.render import render_blocks  # Pillow + fonts only when needed

    width = paper_width_px(printer)
    run: list[Block] = []

    def flush_run() -> None:
        if run:
            # Thresholding, not dithering: dithered anti-aliasing prints as grey fuzz.
            image = render_blocks(run, width).convert("1", dither=Image.Dither.NONE)
            # python-escpos print()s a centring warning to stdout for profiles without a
            # pixel width; our bitmaps are already full width, so the warning is noise.
            with contextlib.redirect_stdout(io.StringIO()):
                printer.image(image, fragment_height=960)
            run.clear()

    for block in blocks:
        if isinstance(block, QrCode):
            flush_run()
            printer._raw(ESC + b"a\x01")  # bitmaps are full width: only the QR is centred
            _draw_qr(printer, block)
        elif isinstance(block, Cut):
            flush_run()
            printer.cut()
        else:
            run.append(block)
    flush_run()
