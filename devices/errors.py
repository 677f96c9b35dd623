"""Typed errors of the devices package.

Drivers raise these; the agent maps them to a clear ``reason`` at the edge (a print ack,
a ``device.status`` event, a log line). Nothing here imports a driver, so any module may
import this one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from devices.printing.status import PrinterState


class DeviceError(Exception):
    """Base class: something went wrong talking to a device."""


class DeviceNotFound(DeviceError):
    """The device is not there: no such port, file, USB id or host."""


class DeviceTimeout(DeviceError):
    """The device did not answer in time."""


class ProtocolError(DeviceError):
    """Bytes or a message did not follow the expected protocol."""


class PrinterFault(DeviceError):
    """The printer is in a state where it cannot print (paper out, cover open, offline).

    ``state`` is the :class:`~devices.printing.status.PrinterState`; ``reason`` is the short
    human text sent in ``print.ack`` (e.g. ``"paper out"``).
    """

    def __init__(self, state: PrinterState, message: str | None = None) -> None:
        self.state = state
        super().__init__(message or state.reason or state.value)

    @property
    def reason(self) -> str:
        """Short reason for acks and device status, e.g. ``"paper out"``."""
        return self.state.reason or self.state.value
