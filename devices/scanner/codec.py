"""Scanner wire format: pure bytes -> scans, no I/O.

A 2D scanner in serial mode sends each code it reads as one line. Vendors end lines with
CR (the usual factory default), LF or CR LF; all three end a scan here and blank lines are
ignored, so a CR LF split across two reads is one scan, not two. The text is UTF-8 (the ID
card's QR holds Vietnamese names); a scanner set to an AIM symbology prefix sends
``]Q1`` first, which is dropped.

The decoder is streaming: ``feed()`` takes whatever a read returned (half a scan, three
scans, noise) and returns the scans it completed. Noise is dropped and reported through
:class:`~devices.serial.codec.NoiseLog` (DEBUG each, one WARNING a minute): invalid UTF-8,
control characters, over-long lines, a half line followed by silence. The reports name
sizes, never content: a damaged read of an ID card is still a citizen's personal data.
"""

from __future__ import annotations

import re
import unicodedata

from devices.serial.codec import LineSplitter, NoiseLog

#: Longest scan we keep, in bytes. An ID card's QR is ~100-250 bytes of UTF-8; a QR can
#: hold more, but nothing the kiosk reads does, and the cap bounds memory on noise.
MAX_SCAN = 1024

#: Silence (seconds) after which a half-received scan is dropped. A scanner sends a whole
#: code in well under 0.3 s even at 9600 baud.
IDLE_RESET = 1.0

#: An AIM symbology identifier (``]`` + code letter + modifier digit), e.g. ``]Q1``.
_AIM_PREFIX = re.compile(r"\][A-Za-z][0-9A-Za-z]")


class ScanDecoder:
    """Cuts a scanner's byte stream into scans (str, NFC)."""

    def __init__(
        self,
        *,
        max_scan: int = MAX_SCAN,
        idle_reset: float | None = IDLE_RESET,
        noise: NoiseLog | None = None,
    ) -> None:
        self.noise = noise or NoiseLog("scanner")
        self._lines = LineSplitter(
            max_line=max_scan,
            idle_reset=idle_reset,
            noise=self.noise,
            cr_ends_line=True,
            quote_noise=False,
        )

    def feed(self, data: bytes, now: float) -> list[str]:
        """Return the scans that ``data`` completes."""
        scans = (self._decode(line, now) for line in self._lines.feed(data, now) if line)
        return [scan for scan in scans if scan is not None]

    def _decode(self, line: bytes, now: float) -> str | None:
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            self.noise.report(f"{len(line)} bytes that are not UTF-8", now)
            return None
        if _AIM_PREFIX.match(text):
            text = text[3:]
        if any(unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn") and c != "\t" for c in text):
            self.noise.report(f"{len(line)} bytes with control characters", now)
            return None
        text = unicodedata.normalize("NFC", text).strip()
        return text or None


def encode_scan(text: str, *, terminator: bytes = b"\r") -> bytes:
    """The bytes a serial scanner sends for ``text`` (used by the simulator)."""
    if "\r" in text or "\n" in text:
        raise ValueError("a scan is one line")
    return text.encode("utf-8") + terminator
