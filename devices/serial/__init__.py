"""Serial hall devices: rating pads, call keypads and counter LED boards.

Layers: :mod:`~devices.serial.codec` (bytes <-> messages), :mod:`~devices.serial.transport`
(ports from URLs), :mod:`~devices.serial.driver` (state machine, reconnects, callbacks),
:mod:`~devices.serial.sim` (simulators on pseudo-terminals). The protocols are described
in ``docs/devices.md``.
"""

from devices.serial.codec import KeypadOperation
from devices.serial.driver import (
    FAULT_STATES,
    OPERATIONAL_STATES,
    DeviceState,
    KeypadDriver,
    LedBoardDriver,
    RatingPadDriver,
    SerialTiming,
)
from devices.serial.rating import Rating, RatingScale

__all__ = [
    "FAULT_STATES",
    "OPERATIONAL_STATES",
    "DeviceState",
    "KeypadDriver",
    "KeypadOperation",
    "LedBoardDriver",
    "Rating",
    "RatingPadDriver",
    "RatingScale",
    "SerialTiming",
]
