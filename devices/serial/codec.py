"""Wire formats of the serial hall devices: pure bytes <-> messages, no I/O.

Rating pads and call keypads send ASCII lines, ``<key>\\n`` on a port of their own or
``@<addr>:<key>\\n`` on a shared RS-485 bus; ``\\r`` is ignored. Some vendors' pads send
one byte per key and no newline; :class:`ByteKeyDecoder` and a key map cover those.
Counter LED boards receive ``@<addr>:<text>\\n``. ``docs/devices.md`` is the reference.

The decoders are streaming: ``feed()`` takes whatever a read returned (half a line, three
lines, 100 KB of noise) and returns the key presses completed by it. Anything that is not
a valid frame is dropped and reported through :class:`NoiseLog`, which logs every item
at DEBUG but at most one WARNING per interval, so a chattering cable cannot flood the log.
Time is passed in (``now``, from ``time.monotonic()``), which keeps the codec pure.
"""

from __future__ import annotations

import enum
import logging
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

logger = logging.getLogger(__name__)

#: Longest line we keep, in bytes. Real frames are under 20 bytes; the cap bounds memory
#: when a cable delivers noise without newlines.
MAX_LINE = 64

#: Silence (seconds) after which a half-received line is discarded, so noise without a
#: newline cannot glue itself to the next real press. A real device sends a whole frame
#: in a few milliseconds; the simulators' "slow" fault stays well under this.
IDLE_RESET = 0.5

#: Addresses on an RS-485 bus: 0..247 as on Modbus-style buses, we accept up to 255.
MAX_ADDRESS = 255

_KEY_LINE = re.compile(r"(?:@(?P<addr>\d{1,3}):)?(?P<key>[A-Za-z0-9_.+*#-]{1,16})")
_LED_LINE = re.compile(r"@(?P<addr>\d{1,3}):(?P<text>[^\n]*)")


@dataclass(frozen=True, slots=True)
class KeyPress:
    """One key as the device framed it: ``address`` is None for a pad on its own port."""

    key: str
    address: int | None = None


class NoiseLog:
    """Reports unrecognised input: DEBUG for each item, WARNING at most once per interval.

    The warning carries how many items were dropped since the previous warning, so the
    log says "this cable is noisy" once a minute instead of a thousand times.
    """

    def __init__(self, source: str, *, interval: float = 60.0) -> None:
        self.source = source
        self.interval = interval
        self.total = 0
        self._since_warning = 0
        self._last_warning: float | None = None

    def report(self, what: str, now: float) -> None:
        self.total += 1
        self._since_warning += 1
        logger.debug("%s: ignored %s", self.source, what)
        if self._last_warning is None or now - self._last_warning >= self.interval:
            logger.warning(
                "%s: ignored %d unrecognised input(s) (latest: %s)",
                self.source,
                self._since_warning,
                what,
            )
            self._last_warning = now
            self._since_warning = 0


class LineSplitter:
    """Cuts a byte stream into lines: ``\\n`` ends a line, ``\\r`` is dropped.

    A line longer than ``max_line`` is discarded whole (up to its newline). After
    ``idle_reset`` seconds without bytes, a partial line is discarded too.

    ``cr_ends_line``: ``\r`` ends a line too (scanners end a code with CR, LF or CR LF;
    the empty line between CR and LF is returned as ``b""``). ``quote_noise=False``: noise
    reports give sizes only, never bytes (a scan may hold an ID card's data).
    """

    def __init__(
        self,
        *,
        max_line: int = MAX_LINE,
        idle_reset: float | None = IDLE_RESET,
        noise: NoiseLog | None = None,
        cr_ends_line: bool = False,
        quote_noise: bool = True,
    ) -> None:
        self.max_line = max_line
        self.idle_reset = idle_reset
        self.noise = noise or NoiseLog("serial")
        self._cr = b"\n" if cr_ends_line else b""
        self._quote_noise = quote_noise
        self._buffer = bytearray()
        self._overflow = False  # inside an over-long line: drop until the next newline
        self._last_byte_at: float | None = None

    def feed(self, data: bytes, now: float) -> list[bytes]:
        """Return the complete lines (without ``\\r``/``\\n``) that ``data`` finishes."""
        if not data:
            return []
        self._expire_partial(now)
        self._last_byte_at = now
        lines: list[bytes] = []
        *complete, rest = data.replace(b"\r", self._cr).split(b"\n")
        for chunk in complete:
            line = self._take(chunk, now)
            if line is not None:
                lines.append(line)
            self._buffer.clear()
            self._overflow = False
        self._append(rest, now)
        return lines

    def _take(self, chunk: bytes, now: float) -> bytes | None:
        if self._overflow or len(self._buffer) + len(chunk) > self.max_line:
            self.noise.report(f"over-long line (> {self.max_line} bytes)", now)
            return None
        return bytes(self._buffer + chunk)

    def _append(self, rest: bytes, now: float) -> None:
        if self._overflow:
            return
        if len(self._buffer) + len(rest) > self.max_line:
            # Keep nothing: the rest of this line is dropped when its newline arrives.
            self._overflow = True
            self._buffer.clear()
            return
        self._buffer += rest

    def _expire_partial(self, now: float) -> None:
        if self.idle_reset is None or self._last_byte_at is None:
            return
        if now - self._last_byte_at < self.idle_reset:
            return
        if self._buffer or self._overflow:
            partial = (
                repr(bytes(self._buffer)[:20])
                if self._quote_noise
                else f"of {len(self._buffer)} bytes"
            )
            self.noise.report(f"unfinished line {partial}", now)
        self._buffer.clear()
        self._overflow = False


class KeyDecoder(Protocol):
    """What a driver needs from a key decoder: bytes in, key presses out."""

    noise: NoiseLog

    def feed(self, data: bytes, now: float) -> list[KeyPress]: ...


def parse_key_line(line: bytes) -> KeyPress | None:
    """Parse one line (``5`` or ``@3:5``); None if it is not a key frame."""
    try:
        text = line.decode("ascii")
    except UnicodeDecodeError:
        return None
    match = _KEY_LINE.fullmatch(text)
    if match is None:
        return None
    address = match["addr"]
    if address is not None and int(address) > MAX_ADDRESS:
        return None
    return KeyPress(match["key"], None if address is None else int(address))


class LineKeyDecoder:
    """Decodes the default protocol: ASCII lines ``<key>`` or ``@<addr>:<key>``.

    ``key_map`` (vendor token -> key) replaces the identity mapping: when given, only the
    tokens it names are keys, and a pad that sends ``K1`` can be mapped to ``1``.
    """

    def __init__(
        self,
        *,
        key_map: Mapping[str, str] | None = None,
        max_line: int = MAX_LINE,
        idle_reset: float | None = IDLE_RESET,
        noise: NoiseLog | None = None,
    ) -> None:
        self.noise = noise or NoiseLog("serial")
        self.key_map = dict(key_map) if key_map is not None else None
        self._splitter = LineSplitter(max_line=max_line, idle_reset=idle_reset, noise=self.noise)

    def feed(self, data: bytes, now: float) -> list[KeyPress]:
        presses: list[KeyPress] = []
        for line in self._splitter.feed(data, now):
            if not line:
                continue  # blank lines (e.g. "\r\n\r\n") are harmless framing
            press = parse_key_line(line)
            if press is not None and self.key_map is not None:
                key = self.key_map.get(press.key)
                press = None if key is None else KeyPress(key, press.address)
            if press is None:
                self.noise.report(f"line {line[:20]!r}", now)
            else:
                presses.append(press)
        return presses


class ByteKeyDecoder:
    """Decodes vendor pads that send one byte per key and no newline (e.g. ``0x31``).

    Such pads have no address; bytes outside ``byte_map`` are noise, except ``\\r`` and
    ``\\n``, which are ignored silently so a pad that does end its keys with a newline
    decodes the same way.
    """

    def __init__(self, byte_map: Mapping[int, str], *, noise: NoiseLog | None = None) -> None:
        if not byte_map:
            raise ValueError("a byte key map needs at least one byte")
        self.noise = noise or NoiseLog("serial")
        self.byte_map = dict(byte_map)

    def feed(self, data: bytes, now: float) -> list[KeyPress]:
        presses: list[KeyPress] = []
        for byte in data:
            key = self.byte_map.get(byte)
            if key is None and byte in b"\r\n":
                continue
            if key is None:
                self.noise.report(f"byte 0x{byte:02x}", now)
            else:
                presses.append(KeyPress(key))
        return presses


def parse_byte_map(mapping: Mapping[str | int, str]) -> dict[int, str]:
    """Turn a config key map into a byte map.

    Config keys may be an int (``0x31``), a one-character string (``"A"``) or a hex string
    (``"0x41"``), because TOML table keys are always strings.
    """
    result: dict[int, str] = {}
    for raw, key in mapping.items():
        if isinstance(raw, int):
            byte = raw
        elif len(raw) == 1:
            byte = ord(raw)
        elif raw.lower().startswith("0x"):
            byte = int(raw, 16)
        else:
            raise ValueError(f"byte key {raw!r}: use one character or 0xNN")
        if not 0 <= byte <= 0xFF:
            raise ValueError(f"byte key {raw!r} is not a byte")
        result[byte] = str(key)
    return result


def is_byte_map(key_map: Mapping[str | int, str]) -> bool:
    """True if every vendor key is one byte (``"A"``, ``0x31``, ``"0x31"``), not a line."""

    def one_byte(raw: str | int) -> bool:
        return isinstance(raw, int) or len(raw) == 1 or raw.lower().startswith("0x")

    return bool(key_map) and all(one_byte(raw) for raw in key_map)


def make_key_decoder(
    *,
    framing: str = "auto",
    key_map: Mapping[str | int, str] | None = None,
    max_line: int = MAX_LINE,
    idle_reset: float | None = IDLE_RESET,
    noise: NoiseLog | None = None,
) -> KeyDecoder:
    """Build the decoder a device's config asks for.

    ``framing`` is ``line``, ``byte`` or ``auto``: byte framing when the key map names
    only single bytes (a vendor pad that sends ``A`` with no newline), else lines.
    """
    if framing == "auto":
        framing = "byte" if key_map is not None and is_byte_map(key_map) else "line"
    if framing == "line":
        line_map = None if key_map is None else {str(k): str(v) for k, v in key_map.items()}
        return LineKeyDecoder(
            key_map=line_map, max_line=max_line, idle_reset=idle_reset, noise=noise
        )
    if framing == "byte":
        if key_map is None:
            raise ValueError("byte framing needs a key map (byte -> key)")
        return ByteKeyDecoder(parse_byte_map(key_map), noise=noise)
    raise ValueError(f"unknown framing {framing!r}: use 'line', 'byte' or 'auto'")


def encode_key_line(key: str, address: int | None = None) -> bytes:
    """The bytes a pad or keypad sends for ``key`` (used by the simulators)."""
    if _KEY_LINE.fullmatch(key) is None or key.startswith("@"):
        raise ValueError(f"not a key token: {key!r}")
    if address is None:
        return f"{key}\n".encode("ascii")
    _check_address(address)
    return f"@{address}:{key}\n".encode("ascii")


# --- Call keypads --------------------------------------------------------------------


class KeypadOperation(enum.StrEnum):
    """What a keypad key asks of the counter; values are the server's operation names."""

    NEXT = "next"
    RECALL = "recall"
    FINISH = "finish"
    NO_SHOW = "no_show"


#: Default keypad keys. Letters are matched case-insensitively.
DEFAULT_KEYPAD_KEYS: Mapping[str, KeypadOperation] = {
    "N": KeypadOperation.NEXT,
    "1": KeypadOperation.NEXT,
    "R": KeypadOperation.RECALL,
    "2": KeypadOperation.RECALL,
    "F": KeypadOperation.FINISH,
    "3": KeypadOperation.FINISH,
    "X": KeypadOperation.NO_SHOW,
    "4": KeypadOperation.NO_SHOW,
}


def keypad_key_map(mapping: Mapping[str, str]) -> dict[str, KeypadOperation]:
    """Validate a configured keypad map (key -> operation name) and normalise its keys."""
    return {key.upper(): KeypadOperation(op) for key, op in mapping.items()}


def keypad_operation(
    key: str, key_map: Mapping[str, KeypadOperation] = DEFAULT_KEYPAD_KEYS
) -> KeypadOperation | None:
    """The operation for a keypad key, or None for a key the map does not name."""
    return key_map.get(key.upper())


# --- LED boards ----------------------------------------------------------------------

_VIETNAMESE_D = str.maketrans({"đ": "d", "Đ": "D"})  # đ has no decomposition under NFD


def fold_to_ascii(text: str) -> str:
    """Drop diacritics (``"Quầy số 1"`` -> ``"Quay so 1"``); other non-ASCII -> ``?``."""
    decomposed = unicodedata.normalize("NFD", text.translate(_VIETNAMESE_D))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.encode("ascii", errors="replace").decode("ascii")


def led_text(text: str, *, width: int | None = None, ascii_only: bool = True) -> str:
    """The text a board will actually show: one line, no control characters, cut to width.

    Control characters (a newline would end the frame) become spaces; diacritics are
    stripped when the board cannot draw them; ``width`` counts characters.
    """
    text = unicodedata.normalize("NFC", text)
    if ascii_only:
        text = fold_to_ascii(text)
    text = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)
    if width is not None:
        text = text[:width]
    return text


def encode_led_line(
    address: int, text: str, *, width: int | None = None, ascii_only: bool = True
) -> bytes:
    """Frame ``text`` for board ``address``: ``@<addr>:<text>\\n`` (UTF-8 if not ASCII)."""
    _check_address(address)
    shown = led_text(text, width=width, ascii_only=ascii_only)
    return f"@{address}:{shown}\n".encode("ascii" if ascii_only else "utf-8")


def parse_led_line(line: bytes) -> tuple[int, str] | None:
    """Parse one LED frame (without its newline); None if it is not ``@<addr>:<text>``."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return None
    match = _LED_LINE.fullmatch(text)
    if match is None or int(match["addr"]) > MAX_ADDRESS:
        return None
    return int(match["addr"]), match["text"]


def _check_address(address: int) -> None:
    if not 0 <= address <= MAX_ADDRESS:
        raise ValueError(f"address {address} is outside 0..{MAX_ADDRESS}")
