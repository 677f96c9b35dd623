"""Serial ports from URLs: a thin, blocking layer over pyserial.

Like python-escpos's transports, this is only open / read / write / close; the driver
owns the reader thread, the states and the reconnects. Port URLs:

``serial:///dev/serial/by-id/usb-FTDI_…-if00-port0?baudrate=9600``
    a local port with settings (baudrate, bytesize, parity, stopbits, rtscts, xonxoff).
``/dev/serial/by-id/…`` or ``var/dev/ratingpad-1``
    a plain path, 9600 8N1.
``pty-sim:ratingpad-1``
    the simulator started with that name: the symlink ``<sim dir>/ratingpad-1``, where
    the sim dir is ``$TTHCC_SIM_DIR`` or ``var/dev``. It is still a real pseudo-terminal.
``socket://host:port``, ``rfc2217://host:port``
    handed to pyserial (serial-over-Ethernet converters).

Local ports are opened with ``exclusive=True``: pyserial's ``open()`` flushes input and a
second opener would silently steal bytes, so a second agent must fail loudly instead.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import serial

from devices.serial.errors import DeviceError, DeviceNotFound, PortBusy, PortDisconnected

logger = logging.getLogger(__name__)

#: Where ``pty-sim:NAME`` looks for the simulator's symlink, unless TTHCC_SIM_DIR is set.
DEFAULT_SIM_DIR = "var/dev"

_SETTINGS: dict[str, Any] = {
    "baudrate": int,
    "bytesize": int,
    "parity": str,
    "stopbits": float,
    "rtscts": lambda v: v.lower() in ("1", "true", "yes", "on"),
    "xonxoff": lambda v: v.lower() in ("1", "true", "yes", "on"),
}
_NOT_FOUND = {errno.ENOENT, errno.ENXIO, errno.ENODEV}
_GONE = {errno.EIO, errno.ENXIO, errno.ENODEV, errno.EBADF}


def sim_dir() -> Path:
    """The folder where simulators put their named symlinks."""
    return Path(os.environ.get("TTHCC_SIM_DIR", DEFAULT_SIM_DIR))


@dataclass(frozen=True)
class PortSpec:
    """A parsed port URL: either a local ``path`` or a pyserial ``pyserial_url``."""

    url: str
    path: str | None = None
    pyserial_url: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def target(self) -> str:
        return self.path or self.pyserial_url or self.url


def parse_port_url(url: str) -> PortSpec:
    """Parse a port URL (see the module docstring); raises ValueError on a bad one."""
    if not url:
        raise ValueError("empty port URL")
    if url.startswith(("/", ".")):
        return PortSpec(url, path=url)
    if url.startswith("pty-sim:"):
        name = url.removeprefix("pty-sim:").removeprefix("//")
        if not name or "/" in name:
            raise ValueError(f"{url!r}: use pty-sim:NAME")
        return PortSpec(url, path=str(sim_dir() / name))
    if url.startswith("serial:"):
        parts = urlsplit(url)
        path = parts.path if not parts.netloc else f"//{parts.netloc}{parts.path}"
        if not path:
            raise ValueError(f"{url!r}: no device path")
        settings: dict[str, Any] = {}
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if key not in _SETTINGS:
                raise ValueError(f"{url!r}: unknown setting {key!r}")
            settings[key] = _SETTINGS[key](value)
        return PortSpec(url, path=path, settings=settings)
    if "://" in url:
        return PortSpec(url, pyserial_url=url)
    return PortSpec(url, path=url)


class SerialPort:
    """One open connection to one port. Not thread-safe except :meth:`cancel_read`."""

    def __init__(self, url: str, *, read_timeout: float = 0.5, write_timeout: float = 1.0):
        self.spec = parse_port_url(url)
        self.read_timeout = read_timeout
        self.write_timeout = write_timeout
        self._serial: serial.SerialBase | None = None

    @property
    def is_open(self) -> bool:
        return self._serial is not None and self._serial.is_open

    def open(self) -> None:
        """Open the port; raises DeviceNotFound, PortBusy or DeviceError."""
        spec = self.spec
        options = {"timeout": self.read_timeout, "write_timeout": self.write_timeout}
        try:
            if spec.pyserial_url is not None:
                self._serial = serial.serial_for_url(spec.pyserial_url, **options)
                return
            settings = {"baudrate": 9600, **spec.settings, **options}
            port = serial.Serial(exclusive=True, **settings)
            port.port = spec.path
            port.open()
            self._serial = port
        except serial.SerialException as exc:
            raise _open_error(spec.target, exc) from exc
        except (OSError, ValueError) as exc:
            raise DeviceError(f"cannot open {spec.target}: {exc}") from exc

    def read(self) -> bytes:
        """Bytes available now, waiting up to ``read_timeout`` for the first; b"" if none."""
        port = self._require_open()
        try:
            first = port.read(1)
            if not first:
                return b""
            waiting = port.in_waiting
            return first + port.read(waiting) if waiting else first
        except serial.SerialException as exc:
            raise _io_error(self.spec.target, "read", exc) from exc
        except OSError as exc:
            raise _io_error(self.spec.target, "read", exc) from exc

    def write(self, data: bytes) -> None:
        """Write all of ``data``, waiting at most ``write_timeout`` (else DeviceError).

        No ``flush()``: tcdrain has no timeout and would hang on a stalled port.
        """
        port = self._require_open()
        try:
            port.write(data)
        except serial.SerialTimeoutException as exc:
            raise DeviceError(f"{self.spec.target}: write timed out") from exc
        except (serial.SerialException, OSError) as exc:
            raise _io_error(self.spec.target, "write", exc) from exc

    def cancel_read(self) -> None:
        """Wake a blocked :meth:`read` from another thread (it then returns b"")."""
        port = self._serial
        if port is not None and port.is_open and hasattr(port, "cancel_read"):
            # Already closing: the reader finds out on its own.
            with contextlib.suppress(OSError, serial.SerialException):
                port.cancel_read()

    def close(self) -> None:
        """Close the port; safe to call twice and after a failure."""
        port, self._serial = self._serial, None
        if port is None:
            return
        try:
            port.close()
        except (OSError, serial.SerialException) as exc:
            logger.debug("%s: error while closing: %s", self.spec.target, exc)

    def _require_open(self) -> serial.SerialBase:
        if self._serial is None:
            raise DeviceError(f"{self.spec.target}: port is not open")
        return self._serial


def _open_error(target: str, exc: serial.SerialException) -> DeviceError:
    code = getattr(exc, "errno", None)
    if code in _NOT_FOUND:
        return DeviceNotFound(f"{target}: no such device")
    if code == errno.EACCES:
        return DeviceError(f"{target}: permission denied (is the user in group dialout?)")
    if "exclusively lock" in str(exc):
        return PortBusy(f"{target}: port is in use by another process")
    return DeviceError(f"cannot open {target}: {exc}")


def _io_error(target: str, what: str, exc: Exception) -> DeviceError:
    code = getattr(exc, "errno", None)
    if code is None and exc.__context__ is not None:
        code = getattr(exc.__context__, "errno", None)
    # pyserial reports a vanished device as "readiness to read but returned no data".
    if code in _GONE or "returned no data" in str(exc) or "[Errno 5]" in str(exc):
        return PortDisconnected(f"{target}: device disconnected")
    return DeviceError(f"{target}: {what} failed: {exc}")
