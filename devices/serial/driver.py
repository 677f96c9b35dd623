"""Drivers of the serial hall devices: rating pads, call keypads, LED boards.

They share :class:`~devices.serial.device.SerialDevice` (state machine, reader thread,
reconnects); this module adds what each device means: keys to ratings or counter
operations, texts to LED frames. Callbacks run on the device's reader thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Generic, TypeVar

from devices.serial.codec import (
    DEFAULT_KEYPAD_KEYS,
    KeyDecoder,
    KeypadOperation,
    KeyPress,
    NoiseLog,
    encode_led_line,
    make_key_decoder,
)
from devices.serial.device import (
    FAULT_STATES,
    OPERATIONAL_STATES,
    CommandCallback,
    CounterId,
    DeviceState,
    RatingCallback,
    SerialDevice,
    SerialTiming,
    StateCallback,
)
from devices.serial.rating import DEBOUNCE_WINDOW, Debouncer, RatingScale
from devices.serial.transport import SerialPort

__all__ = [  # the base names are re-exported: the agent needs only this module
    "FAULT_STATES",
    "OPERATIONAL_STATES",
    "CommandCallback",
    "CounterId",
    "DeviceState",
    "KeypadDriver",
    "LedBoardDriver",
    "RatingCallback",
    "RatingPadDriver",
    "SerialDevice",
    "SerialTiming",
    "StateCallback",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")


class _KeyDevice(SerialDevice, Generic[T]):
    """A device that sends key presses: one pad/keypad, or several on an RS-485 bus."""

    def __init__(
        self,
        name: str,
        url: str,
        *,
        counter_id: CounterId | None = None,
        addresses: Mapping[int, CounterId] | None = None,
        framing: str = "auto",
        key_map: Mapping[str | int, str] | None = None,
        debounce: float = DEBOUNCE_WINDOW,
        on_state: StateCallback | None = None,
        timing: SerialTiming | None = None,
    ) -> None:
        super().__init__(name, url, on_state=on_state, timing=timing)
        if (counter_id is None) == (addresses is None):
            raise ValueError(f"{name}: give counter_id (own port) or addresses (RS-485 bus)")
        if addresses is not None:
            if framing == "byte":
                raise ValueError(f"{name}: an RS-485 bus needs line framing (@addr:key)")
            framing = "line"
        self.counter_id = counter_id
        self.addresses = dict(addresses) if addresses is not None else None
        self._framing = framing
        self._key_map = key_map
        self._noise = NoiseLog(name)
        self._debouncer = Debouncer(debounce)
        self._warned_addresses: set[int] = set()
        self._decoder = self._new_decoder()  # validates framing and key map now

    def _new_decoder(self) -> KeyDecoder:
        return make_key_decoder(
            framing=self._framing,
            key_map=self._key_map,
            idle_reset=self.timing.idle_reset,
            noise=self._noise,
        )

    def _connected(self, port: SerialPort) -> None:
        self._decoder = self._new_decoder()  # no half line survives a reconnect

    def _received(self, data: bytes, now: float) -> None:
        pressed_at = datetime.now(UTC)
        for press in self._decoder.feed(data, now):
            counter = self._counter_for(press, now)
            if counter is None:
                continue
            value = self._interpret(press.key)
            if value is None:
                self._noise.report(f"key {press.key!r} (not configured)", now)
                continue
            if not self._debouncer.accept(press.address, press.key, now):
                logger.debug("%s: repeated key %r dropped", self.name, press.key)
                continue
            try:
                self._deliver(counter, press.key, value, pressed_at)
            except Exception:
                logger.exception("%s: callback failed for key %r", self.name, press.key)

    def _counter_for(self, press: KeyPress, now: float) -> CounterId | None:
        if self.addresses is None:
            if press.address is not None:
                self._noise.report(f"addressed frame @{press.address} on a one-pad port", now)
                return None
            return self.counter_id
        if press.address is None:
            self._noise.report("frame without address on an RS-485 bus", now)
            return None
        counter = self.addresses.get(press.address)
        if counter is None:
            # A misconfigured address deserves its own warning, once per address.
            level = logging.DEBUG if press.address in self._warned_addresses else logging.WARNING
            logger.log(level, "%s: ignored key from unknown address %d", self.name, press.address)
            self._warned_addresses.add(press.address)
        return counter

    def _interpret(self, key: str) -> T | None:
        raise NotImplementedError

    def _deliver(self, counter: CounterId, key: str, value: T, pressed_at: datetime) -> None:
        raise NotImplementedError


class RatingPadDriver(_KeyDevice[int]):
    """Satisfaction pads on one port: ``on_rating(counter_id, raw_key, level, pressed_at)``.

    ``level`` is on the 5-level scale (see :mod:`devices.serial.rating`); ``pressed_at``
    is an aware UTC datetime taken when the bytes arrived.
    """

    kind = "ratingpad"

    def __init__(
        self,
        name: str,
        url: str,
        *,
        on_rating: RatingCallback,
        scale: RatingScale | None = None,
        counter_id: CounterId | None = None,
        addresses: Mapping[int, CounterId] | None = None,
        framing: str = "auto",
        key_map: Mapping[str | int, str] | None = None,
        debounce: float = DEBOUNCE_WINDOW,
        on_state: StateCallback | None = None,
        timing: SerialTiming | None = None,
    ) -> None:
        self.scale = scale or RatingScale()
        self._on_rating = on_rating
        super().__init__(
            name,
            url,
            counter_id=counter_id,
            addresses=addresses,
            framing=framing,
            key_map=key_map,
            debounce=debounce,
            on_state=on_state,
            timing=timing,
        )

    def _interpret(self, key: str) -> int | None:
        rating = self.scale.rate(key)
        return None if rating is None else rating.level

    def _deliver(self, counter: CounterId, key: str, value: int, pressed_at: datetime) -> None:
        self._on_rating(counter, key, value, pressed_at)


class KeypadDriver(_KeyDevice[KeypadOperation]):
    """Call keypads on one port: ``on_command(counter_id, operation, pressed_at)``.

    ``pressed_at`` is an aware UTC datetime on the station's clock, taken when the bytes
    arrived (the server refuses a command that reaches it too late to be meant now).

    ``operations`` maps keys to operations (default :data:`DEFAULT_KEYPAD_KEYS`; letters
    match case-insensitively).
    """

    kind = "keypad"

    def __init__(
        self,
        name: str,
        url: str,
        *,
        on_command: CommandCallback,
        operations: Mapping[str, KeypadOperation | str] | None = None,
        counter_id: CounterId | None = None,
        addresses: Mapping[int, CounterId] | None = None,
        framing: str = "auto",
        key_map: Mapping[str | int, str] | None = None,
        debounce: float = DEBOUNCE_WINDOW,
        on_state: StateCallback | None = None,
        timing: SerialTiming | None = None,
    ) -> None:
        ops = DEFAULT_KEYPAD_KEYS if operations is None else operations
        self.operations = {k.upper(): KeypadOperation(v) for k, v in ops.items()}
        self._on_command = on_command
        super().__init__(
            name,
            url,
            counter_id=counter_id,
            addresses=addresses,
            framing=framing,
            key_map=key_map,
            debounce=debounce,
            on_state=on_state,
            timing=timing,
        )

    def _interpret(self, key: str) -> KeypadOperation | None:
        return self.operations.get(key.upper())

    def _deliver(
        self, counter: CounterId, key: str, value: KeypadOperation, pressed_at: datetime
    ) -> None:
        self._on_command(counter, value, pressed_at)


class LedBoardDriver(SerialDevice):
    """Counter LED number boards on one port (one board, or several on RS-485).

    ``boards`` maps counter id -> board address. The driver remembers the last frame per
    address and re-sends all of them after every (re)connect, so a board that was
    unplugged shows the current number again without anyone pressing anything.
    ``refresh_interval`` (seconds, off by default) also re-sends periodically, for boards
    that lose power behind an RS-485 converter whose port never reports an error.
    """

    kind = "ledboard"

    def __init__(
        self,
        name: str,
        url: str,
        *,
        boards: Mapping[CounterId, int],
        width: int | None = None,
        ascii_only: bool = True,
        refresh_interval: float | None = None,
        on_state: StateCallback | None = None,
        timing: SerialTiming | None = None,
    ) -> None:
        super().__init__(name, url, on_state=on_state, timing=timing)
        if not boards:
            raise ValueError(f"{name}: no boards configured")
        self.boards = dict(boards)
        self.width = width
        self.ascii_only = ascii_only
        self.refresh_interval = refresh_interval
        self._frames: dict[int, bytes] = {}
        self._texts: dict[CounterId, str] = {}
        self._last_full_send = 0.0

    def show(self, counter_id: CounterId, text: str) -> None:
        """Show ``text`` on the counter's board now, or as soon as the port is back.

        Never raises for I/O problems (they show in the device state); raises KeyError
        for a counter that has no board.
        """
        address = self.boards[counter_id]
        frame = encode_led_line(address, text, width=self.width, ascii_only=self.ascii_only)
        with self._io_lock:
            self._frames[address] = frame
            self._texts[counter_id] = text
            self._write(frame)

    def blank(self, counter_id: CounterId) -> None:
        """Clear the counter's board (sends an empty text)."""
        self.show(counter_id, "")

    def last_text(self, counter_id: CounterId) -> str | None:
        """The text last asked for on this counter's board (None if never)."""
        return self._texts.get(counter_id)

    def _connected(self, port: SerialPort) -> None:
        self._send_all()

    def _send_all(self) -> None:
        for address in sorted(self._frames):
            if not self._write(self._frames[address]):
                break
        self._last_full_send = time.monotonic()

    def _received(self, data: bytes, now: float) -> None:
        logger.debug("%s: board sent %r", self.name, data[:40])

    def _tick(self, port: SerialPort, now: float) -> None:
        interval = self.refresh_interval
        if interval and now - self._last_full_send >= interval:
            with self._io_lock:
                self._send_all()
