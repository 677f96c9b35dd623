"""Serial hall devices: one state machine per port, reconnecting forever.

Each driver owns one named thread (``serial:<name>``), started by :meth:`start` and
stopped by :meth:`close` (idempotent). The thread opens the port, reads, and on any I/O
error closes the port, enters an error state, waits a capped back-off and tries again.
The thread lives with the state machine rather than with the transport so reconnecting
never spawns threads.

Callbacks run on that thread; they must be quick and must not block on the device. An
exception in a callback is logged and does not disturb the port.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar, Generic, TypeVar

from devices.serial.backoff import Backoff
from devices.serial.codec import (
    DEFAULT_KEYPAD_KEYS,
    IDLE_RESET,
    KeyDecoder,
    KeypadOperation,
    KeyPress,
    NoiseLog,
    encode_led_line,
    make_key_decoder,
)
from devices.serial.errors import DeviceError, DeviceNotFound, PortDisconnected
from devices.serial.rating import DEBOUNCE_WINDOW, Debouncer, RatingScale
from devices.serial.transport import SerialPort, parse_port_url

logger = logging.getLogger(__name__)

CounterId = Hashable  # whatever the agent's config uses to name a counter (id or code)


class DeviceState(enum.StrEnum):
    """Device states; the values are those of the ``device.status`` event."""

    READY = "ready"
    ERROR = "error"
    DISCONNECTED = "disconnected"


OPERATIONAL_STATES = frozenset({DeviceState.READY})
FAULT_STATES = frozenset({DeviceState.ERROR, DeviceState.DISCONNECTED})

StateCallback = Callable[[str, DeviceState, "str | None"], None]
RatingCallback = Callable[[CounterId, str, int, datetime], None]
CommandCallback = Callable[[CounterId, KeypadOperation], None]


@dataclass(frozen=True)
class SerialTiming:
    """Timeouts and retry delays of one serial device, in seconds."""

    read_timeout: float = 0.5
    """Longest a read blocks; bounds how long :meth:`SerialDevice.close` can take."""
    write_timeout: float = 1.0
    """Longest a write may block (a stalled board) before the port counts as failed."""
    reconnect_initial: float = 0.5
    """First wait after a failure before opening the port again."""
    reconnect_max: float = 30.0
    """Cap of the doubling reconnect wait."""
    idle_reset: float = IDLE_RESET
    """Silence after which a half-received line is dropped (see codec.LineSplitter)."""
    close_timeout: float = 5.0
    """How long :meth:`SerialDevice.close` waits for the reader thread."""


class SerialDevice:
    """Base of the serial drivers: port lifecycle, state machine, reconnects."""

    kind: ClassVar[str] = "serial"

    def __init__(
        self,
        name: str,
        url: str,
        *,
        on_state: StateCallback | None = None,
        timing: SerialTiming | None = None,
    ) -> None:
        parse_port_url(url)  # fail at configuration time, not in the thread
        self.name = name
        self.url = url
        self.timing = timing or SerialTiming()
        self._on_state = on_state
        self._state = DeviceState.DISCONNECTED
        self._reason: str | None = "not started"
        self._state_changed = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Guards the current connection against close/cancel from other threads and
        # orders writes from callers against the re-send after a reconnect.
        self._io_lock = threading.RLock()
        self._port: SerialPort | None = None
        self._broken: DeviceError | None = None

    # --- public surface --------------------------------------------------------------

    @property
    def state(self) -> DeviceState:
        return self._state

    @property
    def reason(self) -> str | None:
        """Why the device is not ready (None when ready)."""
        return self._reason

    @property
    def healthy(self) -> bool:
        """True while the port thread runs (the agent's watchdog checks it)."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the port thread; the device connects (and reconnects) in the background."""
        if self._thread is not None:
            raise RuntimeError(f"{self.name}: already started")
        self._thread = threading.Thread(target=self._run, name=f"serial:{self.name}", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the thread and close the port. Safe to call more than once."""
        self._stop.set()
        with self._io_lock:
            if self._port is not None:
                self._port.cancel_read()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(self.timing.close_timeout)
            if thread.is_alive():
                logger.warning("%s: reader thread did not stop in time", self.name)
        self._set_state(DeviceState.DISCONNECTED, "closed")

    def wait_for_state(self, state: DeviceState, timeout: float) -> bool:
        """Block until the device is in ``state``; False if ``timeout`` passed first."""
        with self._state_changed:
            return self._state_changed.wait_for(lambda: self._state is state, timeout)

    # --- state machine ----------------------------------------------------------------

    def _set_state(self, state: DeviceState, reason: str | None = None) -> None:
        with self._state_changed:
            old = self._state
            if (state, reason) == (old, self._reason):
                return  # a retry that failed the same way: nothing new to say
            self._state, self._reason = state, reason
            self._state_changed.notify_all()
        suffix = f" ({reason})" if reason else ""
        logger.info("%s: %s -> %s%s", self.name, old.value, state.value, suffix)
        if self._on_state is not None:
            try:
                self._on_state(self.name, state, reason)
            except Exception:
                logger.exception("%s: on_state callback failed", self.name)

    def _fail(self, exc: Exception) -> None:
        gone = isinstance(exc, DeviceNotFound | PortDisconnected)
        logger.debug("%s: %s", self.name, exc)
        self._set_state(DeviceState.DISCONNECTED if gone else DeviceState.ERROR, str(exc))

    # --- the port thread --------------------------------------------------------------

    def _run(self) -> None:
        timing = self.timing
        backoff = Backoff(timing.reconnect_initial, timing.reconnect_max)
        while not self._stop.is_set():
            port = SerialPort(
                self.url, read_timeout=timing.read_timeout, write_timeout=timing.write_timeout
            )
            try:
                port.open()
            except DeviceError as exc:
                self._fail(exc)
                self._stop.wait(backoff.next())
                continue
            backoff.reset()
            try:
                self._serve(port)
            except DeviceError as exc:
                self._fail(exc)
            except Exception as exc:
                # A bug here must not end the thread: the device would be dead for good.
                logger.exception("%s: unexpected error, reconnecting", self.name)
                self._fail(exc)
            finally:
                with self._io_lock:
                    self._port = None
                    port.close()
            self._stop.wait(backoff.next())

    def _serve(self, port: SerialPort) -> None:
        with self._io_lock:
            self._port = port
            self._broken = None
            self._connected(port)
            if self._broken is not None:
                raise self._broken
        self._set_state(DeviceState.READY)
        while not self._stop.is_set():
            data = port.read()
            if self._broken is not None:
                raise self._broken
            now = time.monotonic()
            if data:
                self._received(data, now)
            self._tick(port, now)

    def _write(self, data: bytes) -> bool:
        """Write on the current connection (caller holds ``_io_lock``); False if none.

        A failed write hands its error to the reader thread, which owns the one error path.
        """
        port = self._port
        if port is None or self._broken is not None:
            return False
        try:
            port.write(data)
        except DeviceError as exc:
            self._broken = exc
            port.cancel_read()
            return False
        return True

    # --- hooks for subclasses ---------------------------------------------------------

    def _connected(self, port: SerialPort) -> None:
        """Called with ``_io_lock`` held right after the port opened."""

    def _received(self, data: bytes, now: float) -> None:
        """Called on the port thread with each chunk read."""

    def _tick(self, port: SerialPort, now: float) -> None:
        """Called on the port thread after each read (data or timeout)."""


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
    """Call keypads on one port: ``on_command(counter_id, operation)``.

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
        self._on_command(counter, value)


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
