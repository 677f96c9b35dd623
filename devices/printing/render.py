"""Render layout blocks to a Pillow image: raster printing and PNG previews share this.

Sizes are in printer dots (203 dpi), so a 576 px wide image is exactly 80 mm paper and a
preview looks like the paper ticket.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

from devices.errors import DeviceError
from devices.printing.layout import Block, Cut, Feed, Picture, QrCode, TextLine

#: Folder of the DejaVu fonts (Debian package fonts-dejavu-core); override for other systems.
FONT_DIR = Path(os.environ.get("TTHCC_FONT_DIR", "/usr/share/fonts/truetype/dejavu"))
FONT_FILES = {False: "DejaVuSans.ttf", True: "DejaVuSans-Bold.ttf"}

#: Pixel size of scale-1 text: close to ESC/POS font A (12 x 24 dots), and small enough
#: that "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG" in bold fits one 80 mm line.
BASE_FONT_PX = 22
LINE_GAP = 6
MARGIN = 12


class FontMissing(DeviceError):
    """No font with Vietnamese glyphs: raster printing and previews cannot work."""


@functools.lru_cache(maxsize=32)
def load_font(bold: bool, size_px: int) -> ImageFont.FreeTypeFont:
    """DejaVu Sans (regular or bold) at ``size_px``; it has every Vietnamese glyph."""
    path = FONT_DIR / FONT_FILES[bold]
    try:
        return ImageFont.truetype(str(path), size_px)
    except OSError as exc:
        raise FontMissing(
            f"font {path} not found: install the Debian package fonts-dejavu-core "
            "(or set TTHCC_FONT_DIR to a folder with DejaVuSans.ttf and DejaVuSans-Bold.ttf)"
        ) from exc


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Greedy word wrap by measured width; a single over-long word is split by letters."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if font.getlength(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        for char in word:
            if current and font.getlength(current + char) > width:
                lines.append(current)
                current = ""
            current += char
    if current or not lines:
        lines.append(current)
    return lines


def qr_image(data: str, module_size: int) -> Image.Image:
    """The QR code as the printer draws it natively: ``module_size`` dots per module."""
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_L, box_size=module_size, border=2
    )
    code.add_data(data)
    code.make(fit=True)
    return code.make_image().get_image().convert("L")


def _render_text(block: TextLine, width: int) -> Image.Image:
    font = load_font(block.bold, BASE_FONT_PX * max(1, block.scale))
    inner = width - 2 * MARGIN
    lines = _wrap(block.text, font, inner - (16 if block.invert else 0))
    ascent, descent = font.getmetrics()
    line_h = ascent + descent + LINE_GAP
    image = Image.new("L", (width, line_h * len(lines)), 255)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        text_w = font.getlength(line)
        if block.align == "center":
            x = (width - text_w) / 2
        elif block.align == "right":
            x = width - MARGIN - text_w
        else:
            x = MARGIN
        y = i * line_h
        if block.invert:
            draw.rectangle((x - 8, y, x + text_w + 8, y + line_h - 1), fill=0)
        draw.text((x, y + LINE_GAP // 2), line, font=font, fill=255 if block.invert else 0)
    return image


def _render_block(block: Block, width: int) -> Image.Image | None:
    if isinstance(block, TextLine):
        return _render_text(block, width)
    if isinstance(block, Feed):
        return Image.new("L", (width, block.lines * (BASE_FONT_PX + LINE_GAP)), 255)
    if isinstance(block, QrCode):
        return _centred(qr_image(block.data, block.module_size), width)
    if isinstance(block, Picture):
        return _centred(block.image.convert("L"), width)
    if isinstance(block, Cut):
        image = Image.new("L", (width, 24), 255)
        draw = ImageDraw.Draw(image)
        for x in range(0, width, 16):  # dashed line: where the cutter cuts
            draw.line((x, 12, x + 8, 12), fill=128, width=2)
        return image
    return None


def _centred(picture: Image.Image, width: int) -> Image.Image:
    if picture.width >= width:
        return picture.crop((0, 0, width, picture.height))
    image = Image.new("L", (width, picture.height), 255)
    image.paste(picture, ((width - picture.width) // 2, 0))
    return image


def render_blocks(blocks: list[Block], width: int = 576) -> Image.Image:
    """Stack the blocks top to bottom into one greyscale image ``width`` dots wide."""
    parts = [part for block in blocks if (part := _render_block(block, width)) is not None]
    height = sum(part.height for part in parts) or 1
    image = Image.new("L", (width, height), 255)
    y = 0
    for part in parts:
        image.paste(part, (0, y))
        y += part.height
    return image
