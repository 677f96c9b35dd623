"""Decode the ESC/POS subset our layouts emit back into layout blocks.

The simulators use it to answer status queries at command boundaries (a DLE EOT inside
bitmap or QR data is data, not a query) and to turn a received job into a PNG, so a job
that went through the bytes can be looked at. Commands outside the subset are skipped by
their known length, or byte by byte when unknown.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from PIL import Image

from devices.printing.layout import Block, Cut, Feed, Picture, QrCode, TextLine
from devices.printing.vietnamese import from_cp1258

ESC, GS, DLE, LF = 0x1B, 0x1D, 0x10, 0x0A

#: ESC commands -> number of parameter bytes.
_ESC_ARGS = {
    ord("@"): 0, ord("2"): 0, ord("t"): 1, ord("a"): 1, ord("E"): 1, ord("!"): 1,
    ord("d"): 1, ord("J"): 1, ord("3"): 1, ord("M"): 1, ord("-"): 1, ord("G"): 1,
    ord("V"): 1, ord("{"): 1, ord("p"): 3, ord("c"): 2,
}  # fmt: skip
#: GS commands with fixed parameters -> number of parameter bytes.
_GS_ARGS = {
    ord("!"): 1, ord("B"): 1, ord("b"): 1, ord("L"): 2, ord("W"): 2, ord("h"): 1,
    ord("w"): 1, ord("H"): 1, ord("f"): 1, ord("a"): 1,
}  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Command:
    """One command: ``name`` ("other" when outside the subset), parameters, its bytes."""

    name: str
    args: tuple[Any, ...] = ()
    raw: bytes = b""


class EscposStream:
    """Incremental tokenizer: feed bytes as they arrive, get back complete commands."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Command]:
        """Add ``data``; return the commands completed so far (partial ones wait)."""
        self._buffer += data
        commands: list[Command] = []
        pos = 0
        while pos < len(self._buffer):
            result = _parse_one(self._buffer, pos)
            if result is None:  # incomplete: wait for more bytes
                break
            command, end = result
            raw = bytes(self._buffer[pos:end])
            if command is None:
                command = Command("other")
            commands.append(dataclasses.replace(command, raw=raw))
            pos = end
        del self._buffer[:pos]
        return commands


def _parse_one(buf: bytearray, pos: int) -> tuple[Command | None, int] | None:
    byte = buf[pos]
    if byte == LF:
        return Command("lf"), pos + 1
    if byte >= 0x20:
        end = pos
        while end < len(buf) and buf[end] >= 0x20:
            end += 1
        return Command("text", (bytes(buf[pos:end]),)), end
    if byte == DLE:
        if len(buf) < pos + 3:
            return None
        if buf[pos + 1] == 0x04:
            return Command("status", (buf[pos + 2],)), pos + 3
        return None, pos + 2
    if byte == ESC:
        return _parse_esc(buf, pos)
    if byte == GS:
        return _parse_gs(buf, pos)
    return None, pos + 1  # CR, NUL and other control bytes: ignored


def _parse_esc(buf: bytearray, pos: int) -> tuple[Command | None, int] | None:
    if len(buf) < pos + 2:
        return None
    code = buf[pos + 1]
    count = _ESC_ARGS.get(code, 0)
    end = pos + 2 + count
    if len(buf) < end:
        return None
    args = tuple(buf[pos + 2 : end])
    names = {"@": "init", "t": "codepage", "a": "align", "E": "bold", "!": "mode", "d": "feed"}
    name = names.get(chr(code))
    return (Command(name, args) if name else None), end


def _parse_gs(buf: bytearray, pos: int) -> tuple[Command | None, int] | None:
    if len(buf) < pos + 2:
        return None
    code = chr(buf[pos + 1])
    if code == "V":  # cut: GS V m, or GS V m n for m = 65/66
        if len(buf) < pos + 3:
            return None
        end = pos + 3 + (1 if buf[pos + 2] in (65, 66) else 0)
        return (Command("cut"), end) if len(buf) >= end else None
    if code == "v":  # GS v 0 m xL xH yL yH data: raster bit image
        if len(buf) < pos + 8:
            return None
        width_bytes = buf[pos + 4] | buf[pos + 5] << 8
        height = buf[pos + 6] | buf[pos + 7] << 8
        end = pos + 8 + width_bytes * height
        if len(buf) < end:
            return None
        return Command("raster", (width_bytes, height, bytes(buf[pos + 8 : end]))), end
    if code == "(":  # GS ( k / GS ( L pL pH data: 2D codes and graphics
        if len(buf) < pos + 5:
            return None
        end = pos + 5 + (buf[pos + 3] | buf[pos + 4] << 8)
        if len(buf) < end:
            return None
        if chr(buf[pos + 2]) == "k":
            return Command("2d", bytes(buf[pos + 5 : end])), end
        return None, end
    end = pos + 2 + _GS_ARGS.get(ord(code), 0)
    if len(buf) < end:
        return None
    args = tuple(buf[pos + 2 : end])
    names = {"!": "size", "B": "invert"}
    return (Command(names[code], args) if code in names else None), end


def _raster_image(width_bytes: int, height: int, data: bytes) -> Image.Image:
    # GS v 0 bit 1 = black dot; Pillow mode "1" stores 1 = white, hence the inversion.
    inverted = bytes(b ^ 0xFF for b in data)
    return Image.frombytes("1", (width_bytes * 8, height), inverted)


class _Decoder:
    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.text = bytearray()
        self.reset()

    def reset(self) -> None:
        self.align, self.bold, self.scale, self.invert = "left", False, 1, False
        self.qr_data, self.qr_module = "", 3

    def end_line(self) -> None:
        if self.text:
            line = TextLine(
                from_cp1258(bytes(self.text)),
                scale=self.scale,
                bold=self.bold,
                align=self.align,  # type: ignore[arg-type]
                invert=self.invert,
            )
            self.blocks.append(line)
        else:
            self.blocks.append(Feed(1))
        self.text.clear()

    def handle(self, command: Command) -> None:
        name, args = command.name, command.args
        if name == "text":
            self.text += args[0]
        elif name == "lf":
            self.end_line()
        elif name == "init":
            self.reset()
        elif name == "align":
            self.align = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center"}.get(
                args[0], "right"
            )
        elif name == "bold":
            self.bold = bool(args[0] & 1)
        elif name == "mode":  # ESC ! n: bit 3 bold, bits 4-5 double height/width
            self.bold = bool(args[0] & 0x08)
            self.scale = 2 if args[0] & 0x30 else 1
        elif name == "size":
            self.scale = max((args[0] >> 4) + 1, (args[0] & 0x0F) + 1)
        elif name == "invert":
            self.invert = bool(args[0] & 1)
        elif name == "feed":
            self.blocks.append(Feed(args[0]))
        elif name == "raster":
            self.blocks.append(Picture(_raster_image(*args)))
        elif name == "2d":
            self.handle_2d(args)
        elif name == "cut":
            self.blocks.append(Cut())

    def handle_2d(self, payload: bytes) -> None:
        # payload = cn fn [m] data; cn "1" (49) is QR
        if len(payload) < 2 or payload[0] != 49:
            return
        fn = payload[1]
        if fn == 67 and len(payload) >= 3:
            self.qr_module = payload[2]
        elif fn == 80:
            self.qr_data = payload[3:].decode("utf-8", errors="replace")
        elif fn == 81 and self.qr_data:
            self.blocks.append(QrCode(self.qr_data, self.qr_module))


def decode_blocks(data: bytes) -> list[Block]:
    """Turn a whole ESC/POS job into layout blocks (text, feeds, bitmaps, QR codes, cuts).

    Text is read as CP1258 whatever ESC t selected: it is the only code page we send.
    """
    decoder = _Decoder()
    for command in EscposStream().feed(data):
        decoder.handle(command)
    if decoder.text:
        decoder.end_line()
    return decoder.blocks
