"""Simulated hall devices on real pseudo-terminals.

A simulator holds the master side of a ``pty.openpty()`` pair; the agent opens the slave
(``/dev/pts/N``) with the normal serial transport, so the driver code under test is the
one that runs in production. The simulators speak the bytes of ``docs/devices.md`` and
inject faults on command:

- ``unplug()`` closes both sides of the pty and removes the symlink, as udev does when a
  USB adapter is pulled: the driver's read fails and its reopen finds nothing.
- ``replug()`` makes a new pty (a pty cannot be reopened) and points the symlink at it,
  so a driver configured with the symlink path reconnects on its own.
- ``garbage(n)`` writes n random bytes; ``slow = True`` writes byte by byte with delays.

``link`` (or ``name``, which means ``<sim dir>/<name>`` as used by ``pty-sim:NAME`` URLs)
gives the stable path. The simulator keeps its own slave descriptor open so the pty
keeps its raw settings between the driver's connections.
"""

from __future__ import annotations

import array
import contextlib
import fcntl
import logging
import os
import pty
import random
import select
import termios
import threading
import time
import tty
from collections.abc import Callable
from pathlib import Path

from devices.serial.codec import LineSplitter, NoiseLog, encode_key_line, parse_led_line
from devices.serial.transport import sim_dir

logger = logging.getLogger(__name__)

#: Pause between bytes in slow mode: slow enough to split reads, well under IDLE_RESET.
SLOW_DELAY = 0.02


def garbage_bytes(n: int, rng: random.Random, *, exclude: bytes = b"") -> bytes:
    """``n`` random bytes from ``rng``, none of them in ``exclude``."""
    alphabet = bytes(b for b in range(256) if b not in exclude)
    if not alphabet:
        raise ValueError("every byte is excluded")
    return bytes(rng.choices(alphabet, k=n))


class PtyDevice:
    """A pseudo-terminal whose master side plays the device."""

    kind = "device"

    def __init__(self, *, link: str | Path | None = None, name: str | None = None) -> None:
        if link is not None and name is not None:
            raise ValueError("give link or name, not both")
        self.link = Path(link) if link is not None else (sim_dir() / name if name else None)
        self.slow = False
        self.slow_delay = SLOW_DELAY
        self._master: int | None = None
        self._slave: int | None = None
        self._path: str | None = None
        self._write_lock = threading.Lock()

    @property
    def path(self) -> str | None:
        """The current slave path (``/dev/pts/N``); None while unplugged."""
        return self._path

    @property
    def port(self) -> str:
        """What to give the driver: the link if there is one, else the slave path."""
        if self.link is not None:
            return str(self.link)
        if self._path is None:
            raise RuntimeError("simulator is not plugged in")
        return self._path

    @property
    def plugged(self) -> bool:
        return self._master is not None

    def open(self) -> str:
        """Plug in: create the pty (and link); returns the slave path."""
        if self._master is not None:
            return self._path or ""
        if self.link is not None and self.link.exists() and not self.link.is_symlink():
            # Never replace a real file or device node (e.g. a mistyped --link /dev/ttyUSB0).
            raise FileExistsError(f"{self.link} exists and is not a symlink")
        master, slave = pty.openpty()
        tty.setraw(slave)  # no echo, no line editing: bytes pass through unchanged
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self._path = os.ttyname(slave)
        if self.link is not None:
            self.link.parent.mkdir(parents=True, exist_ok=True)
            staging = self.link.with_name(f".{self.link.name}.{os.getpid()}.tmp")
            with contextlib.suppress(FileNotFoundError):
                staging.unlink()
            staging.symlink_to(self._path)
            os.replace(staging, self.link)  # atomic: the driver never sees a missing link
        self._plugged_in()
        logger.info("%s simulator on %s", self.kind, self._path)
        return self._path

    def unplug(self) -> None:
        """Pull the cable: the driver's next read fails and reopening finds nothing."""
        if self._master is None:
            return
        self._unplugging()
        if self.link is not None and self.link.is_symlink():
            with contextlib.suppress(FileNotFoundError):
                self.link.unlink()
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None
        self._path = None

    def replug(self) -> str:
        """Plug back in on a new pty; the link (if any) now points at it."""
        self.unplug()
        return self.open()

    def close(self, drain_timeout: float = 0.0) -> None:
        """Unplug, first giving the agent up to ``drain_timeout`` s to read what was sent.

        Closing a pty master discards bytes the slave side has not read yet, so a
        scripted press followed by quit would vanish without the drain.
        """
        if drain_timeout > 0 and self.plugged:
            self.drain(drain_timeout)
        self.unplug()

    def unread(self) -> int:
        """Bytes sent to the agent that it has not read yet."""
        if self._slave is None:
            return 0
        buffer = array.array("i", [0])
        fcntl.ioctl(self._slave, termios.FIONREAD, buffer)
        return buffer[0]

    def drain(self, timeout: float, *, settle: float = 0.2) -> bool:
        """Wait until the agent has read everything sent; False on timeout.

        The kernel moves bytes written to the master into the slave's queue from a work
        queue, so an empty queue only counts once it has stayed empty for ``settle`` s.
        """
        deadline = time.monotonic() + timeout
        empty_since: float | None = None
        while True:
            now = time.monotonic()
            if self.unread():
                empty_since = None
            elif empty_since is None:
                empty_since = now
            elif now - empty_since >= settle:
                return True
            if now >= deadline:
                return False
            time.sleep(0.01)

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def write(self, data: bytes, *, timeout: float = 5.0) -> None:
        """Send ``data`` to the agent (byte by byte with pauses when ``slow``)."""
        if self.slow:
            for i in range(len(data)):
                self._write_all(data[i : i + 1], timeout)
                time.sleep(self.slow_delay)
        else:
            self._write_all(data, timeout)

    def garbage(self, n: int, *, seed: int | None = None, exclude: bytes = b"") -> bytes:
        """Send ``n`` random bytes (none from ``exclude``); returns what was sent."""
        data = garbage_bytes(n, random.Random(seed), exclude=exclude)
        self.write(data, timeout=max(5.0, n / 10_000))
        return data

    def _write_all(self, data: bytes, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._write_lock:
            view = memoryview(data)
            while view:
                master = self._master
                if master is None:
                    raise OSError("simulator is unplugged")
                try:
                    sent = os.write(master, view)
                except BlockingIOError:
                    sent = 0
                view = view[sent:]
                if view:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise TimeoutError("nobody reads the port: pty buffer full")
                    select.select([], [master], [], min(left, 0.1))

    # Hooks for simulators that read from the agent.
    def _plugged_in(self) -> None:
        pass

    def _unplugging(self) -> None:
        pass


class PadSimulator(PtyDevice):
    """A satisfaction pad, or several on one RS-485 bus (give ``address``).

    ``framing="byte"`` imitates vendor pads that send one byte per key and no newline.
    """

    kind = "ratingpad"

    def __init__(
        self,
        *,
        address: int | None = None,
        framing: str = "line",
        link: str | Path | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(link=link, name=name)
        if framing not in ("line", "byte"):
            raise ValueError(f"unknown framing {framing!r}")
        if framing == "byte" and address is not None:
            raise ValueError("byte-framed pads have no address")
        self.address = address
        self.framing = framing

    def frame(self, key: str, address: int | None = None) -> bytes:
        """The bytes this device sends for ``key``."""
        if self.framing == "byte":
            if len(key) != 1:
                raise ValueError("a byte-framed pad sends one character per key")
            return key.encode("latin-1")
        return encode_key_line(key, self.address if address is None else address)

    def press(self, key: str, *, address: int | None = None) -> bytes:
        """Press ``key`` (on the pad at ``address`` of the bus); returns the bytes sent."""
        data = self.frame(key, address)
        self.write(data)
        return data


class KeypadSimulator(PadSimulator):
    """A counter's call keypad: same framing as a pad, keys like ``N`` or ``1``."""

    kind = "keypad"


class LedBoardSimulator(PtyDevice):
    """One or more counter LED boards: decodes ``@addr:text`` and remembers what shows.

    ``on_show(address, text)`` is called for each frame (the CLI prints it). ``received``
    (raw bytes) and ``frames`` cover the time since the last plug-in; unplugging blanks
    ``shown``, as a board without power forgets its text.
    """

    kind = "ledboard"

    def __init__(
        self,
        *,
        link: str | Path | None = None,
        name: str | None = None,
        on_show: Callable[[int, str], None] | None = None,
    ) -> None:
        super().__init__(link=link, name=name)
        self.on_show = on_show
        self.shown: dict[int, str] = {}
        self.frames: list[tuple[int, str]] = []
        self.received = bytearray()
        self._changed = threading.Condition()
        self._noise = NoiseLog("ledboard-sim")
        self._reader: threading.Thread | None = None
        self._wake: tuple[int, int] | None = None

    def wait_for(self, predicate: Callable[[LedBoardSimulator], bool], timeout: float) -> bool:
        """Wait until ``predicate(self)`` holds (checked on every frame); False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self), timeout)

    def wait_for_text(self, address: int, text: str, timeout: float) -> bool:
        return self.wait_for(lambda sim: sim.shown.get(address) == text, timeout)

    def _plugged_in(self) -> None:
        with self._changed:
            self.received.clear()
            self.frames.clear()
        self._wake = os.pipe()
        master = self._master
        assert master is not None
        self._reader = threading.Thread(
            target=self._read_loop, args=(master, self._wake[0]), name="sim:ledboard", daemon=True
        )
        self._reader.start()

    def _unplugging(self) -> None:
        if self._wake is not None:
            os.write(self._wake[1], b"x")
        if self._reader is not None:
            self._reader.join(5)
        if self._wake is not None:
            for fd in self._wake:
                os.close(fd)
        self._reader = self._wake = None
        with self._changed:
            self.shown.clear()
            self._changed.notify_all()

    def _read_loop(self, master: int, wake: int) -> None:
        splitter = LineSplitter(max_line=512, idle_reset=None, noise=self._noise)
        while True:
            ready, _, _ = select.select([master, wake], [], [])
            if wake in ready:
                return
            try:
                data = os.read(master, 4096)
            except BlockingIOError:
                continue
            except OSError:
                return  # EIO: every slave closed
            if not data:
                return
            with self._changed:
                self.received += data
            for line in splitter.feed(data, time.monotonic()):
                self._frame(line)

    def _frame(self, line: bytes) -> None:
        parsed = parse_led_line(line)
        if parsed is None:
            self._noise.report(f"line {line[:40]!r}", time.monotonic())
            return
        address, text = parsed
        with self._changed:
            self.shown[address] = text
            self.frames.append(parsed)
            self._changed.notify_all()
        if self.on_show is not None:
            self.on_show(address, text)
