"""Serial-specific errors, refining the package's typed errors.

The base classes live in :mod:`devices.errors` (owned by the agent/printing side); the
ones here only add what a serial port can tell us, so the driver can choose between the
``disconnected`` and ``error`` states without parsing messages twice.
"""

from __future__ import annotations

from devices.errors import DeviceError, DeviceNotFound, DeviceTimeout, ProtocolError

__all__ = [
    "DeviceError",
    "DeviceNotFound",
    "DeviceTimeout",
    "PortBusy",
    "PortDisconnected",
    "ProtocolError",
]


class PortDisconnected(DeviceError):
    """The port went away while open (USB unplugged, simulator master closed)."""


class PortBusy(DeviceError):
    """Another process holds the port (we open with ``exclusive=True``)."""
