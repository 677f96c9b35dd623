"""The serial scanner driver: one port, one reader thread, scans to a callback.

It shares :class:`~devices.serial.device.SerialDevice` with the hall devices (state
machine, named reader thread, reconnect with capped back-off, ``exclusive`` ports), so an
unplugged scanner is one log line and comes back by itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from devices.scanner.codec import IDLE_RESET, ScanDecoder
from devices.serial.codec import NoiseLog
from devices.serial.device import SerialDevice, SerialTiming, StateCallback
from devices.serial.transport import SerialPort

logger = logging.getLogger(__name__)

#: ``on_scan(text, scanned_at)``; ``scanned_at`` is an aware UTC datetime on this PC's
#: clock, taken when the scan's last byte arrived.
ScanCallback = Callable[[str, datetime], None]

#: A scanner repeats a code held under it: the same text within this many seconds is one scan.
REPEAT_WINDOW = 2.0


class ScannerDriver(SerialDevice):
    """A 2D barcode scanner in serial mode (CR/LF-terminated lines)."""

    kind = "scanner"

    def __init__(
        self,
        name: str,
        url: str,
        *,
        on_scan: ScanCallback,
        repeat_window: float = REPEAT_WINDOW,
        on_state: StateCallback | None = None,
        timing: SerialTiming | None = None,
    ) -> None:
        super().__init__(name, url, on_state=on_state, timing=timing or SerialTiming())
        self._on_scan = on_scan
        self.repeat_window = repeat_window
        self._noise = NoiseLog(name)
        self._decoder = self._new_decoder()
        self._last: tuple[str, float] | None = None

    @property
    def noise_count(self) -> int:
        """How many unrecognised inputs were dropped since start (tests, diagnostics)."""
        return self._noise.total

    def _new_decoder(self) -> ScanDecoder:
        return ScanDecoder(idle_reset=max(self.timing.idle_reset, IDLE_RESET), noise=self._noise)

    def _connected(self, port: SerialPort) -> None:
        self._decoder = self._new_decoder()  # no half scan survives a reconnect
        self._last = None

    def _received(self, data: bytes, now: float) -> None:
        scanned_at = datetime.now(UTC)
        for text in self._decoder.feed(data, now):
            last, self._last = self._last, (text, now)
            if last is not None and last[0] == text and now - last[1] < self.repeat_window:
                logger.debug("%s: repeated scan dropped", self.name)
                continue
            # Never log the text: an ID card's QR is a citizen's personal data.
            logger.debug("%s: scan of %d characters", self.name, len(text))
            try:
                self._on_scan(text, scanned_at)
            except Exception:
                logger.exception("%s: scan callback failed", self.name)
