"""Printer states and the ESC/POS real-time status queries (DLE EOT n).

python-escpos's ``paper_status()`` reports "plenty of paper" when the printer does not
answer at all, and its socket read waits for the transport's full timeout. We send the
same queries but decode the answers ourselves, so silence is ``OFFLINE`` and a transport
that cannot read (a plain device file) is ``UNKNOWN``, never "ready".
"""

from __future__ import annotations

import contextlib
import enum
import logging
import socket
from collections.abc import Iterator
from typing import Any

from escpos.escpos import Escpos

logger = logging.getLogger(__name__)

DLE_EOT = b"\x10\x04"
QUERY_PRINTER = DLE_EOT + b"\x01"  #: printer status: bit 3 = offline
QUERY_OFFLINE_CAUSE = DLE_EOT + b"\x02"  #: bit 2 cover open, bit 5 paper end stop, bit 6 error
QUERY_PAPER = DLE_EOT + b"\x04"  #: roll paper sensor: bits 2-3 near end, bits 5-6 paper out

#: Bits 1 and 4 are always set in a DLE EOT answer: a byte without them is not an answer.
_FIXED_BITS = 0x12
_OFFLINE = 0x08
_COVER_OPEN = 0x04
_PAPER_NEAR_END = 0x0C
_PAPER_OUT = 0x60

#: How long to wait for a status byte; printers answer real-time queries at once.
STATUS_TIMEOUT = 1.0


class PrinterState(enum.Enum):
    """What the agent knows about a ticket printer."""

    READY = "ready"
    PAPER_NEAR_END = "paper_near_end"
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    OFFLINE = "offline"
    #: The transport cannot read status (e.g. ``file://``): printing is attempted.
    UNKNOWN = "unknown"

    @property
    def can_print(self) -> bool:
        """True when a ticket sent now should come out of the printer."""
        return self in CAN_PRINT_STATES

    @property
    def reason(self) -> str | None:
        """Short human reason for acks and ``device.status`` (None when nothing is wrong)."""
        return _REASONS.get(self)

    @property
    def wire_state(self) -> str:
        """The ``device.status`` state: ``ready``, ``error`` or ``disconnected``."""
        if self in CAN_PRINT_STATES:
            return "ready"
        return "disconnected" if self is PrinterState.OFFLINE else "error"


CAN_PRINT_STATES = frozenset(
    {PrinterState.READY, PrinterState.PAPER_NEAR_END, PrinterState.UNKNOWN}
)
FAULT_STATES = frozenset({PrinterState.PAPER_OUT, PrinterState.COVER_OPEN, PrinterState.OFFLINE})

_REASONS = {
    PrinterState.PAPER_NEAR_END: "paper near end",
    PrinterState.PAPER_OUT: "paper out",
    PrinterState.COVER_OPEN: "cover open",
    PrinterState.OFFLINE: "offline",
}


def _valid(byte: int | None) -> int | None:
    return byte if byte is not None and byte & _FIXED_BITS == _FIXED_BITS else None


def state_from_status_bytes(
    printer: int | None, offline_cause: int | None, paper: int | None
) -> PrinterState:
    """Map the answers to DLE EOT 1, 2 and 4 (None = no answer) to one state.

    Paper out wins over cover open (the usual cause of both is an empty roll being
    changed); no answer to the printer-status query means the printer is offline.
    """
    printer, offline_cause, paper = _valid(printer), _valid(offline_cause), _valid(paper)
    if printer is None:
        return PrinterState.OFFLINE
    if paper is not None and paper & _PAPER_OUT:
        return PrinterState.PAPER_OUT
    if offline_cause is not None and offline_cause & _COVER_OPEN:
        return PrinterState.COVER_OPEN
    if printer & _OFFLINE:
        return PrinterState.OFFLINE
    if paper is not None and paper & _PAPER_NEAR_END:
        return PrinterState.PAPER_NEAR_END
    return PrinterState.READY


def status_answer(state: PrinterState, query: int) -> bytes:
    """The byte a printer in ``state`` answers to DLE EOT ``query`` (for simulators).

    An offline printer answers nothing.
    """
    if state is PrinterState.OFFLINE:
        return b""
    printer, cause, paper = _FIXED_BITS, _FIXED_BITS, _FIXED_BITS
    if state is PrinterState.PAPER_NEAR_END:
        paper |= _PAPER_NEAR_END
    elif state is PrinterState.PAPER_OUT:
        printer |= _OFFLINE
        cause |= 0x20  # printing stopped by paper end
        paper |= _PAPER_NEAR_END | _PAPER_OUT
    elif state is PrinterState.COVER_OPEN:
        printer |= _OFFLINE
        cause |= _COVER_OPEN
    return bytes(({1: printer, 2: cause, 4: paper}.get(query, printer),))


@contextlib.contextmanager
def _status_timeout(printer: Any, timeout: float) -> Iterator[None]:
    """Bound the read of a status byte; python-escpos's Network waits 60 s by default."""
    device = getattr(printer, "_device", None)
    if isinstance(device, socket.socket):
        old = device.gettimeout()
        device.settimeout(timeout)
        try:
            yield
        finally:
            device.settimeout(old)
    elif hasattr(device, "out_waiting"):  # pyserial
        # The query queues behind everything written so far: at 9600 baud a raster
        # ticket takes 38 s to leave. Wait for it, then time only the answer.
        device.flush()
        old = device.timeout
        device.timeout = timeout
        try:
            yield
        finally:
            device.timeout = old
    else:
        yield


def _ask(printer: Any, query: bytes) -> int | None:
    device = getattr(printer, "_device", None)
    try:
        printer._raw(query)
        # pyserial: python-escpos's _read() asks for 16 bytes, so every query would wait
        # out the whole timeout; the answer is one byte.
        serial_port = hasattr(device, "out_waiting")
        answer = device.read(1) if serial_port else printer._read()
    except TimeoutError:  # socket.timeout is TimeoutError since Python 3.10
        return None
    return answer[-1] if answer else None


def read_printer_state(printer: Any, timeout: float = STATUS_TIMEOUT) -> PrinterState:
    """Ask an opened python-escpos printer for its state with DLE EOT 1, 2 and 4.

    Returns ``UNKNOWN`` when the transport cannot read and ``OFFLINE`` when the printer
    stays silent for ``timeout`` seconds or the connection fails.
    """
    if type(printer)._read is Escpos._read:
        # Write-only transport (a device file): sending the queries would only put
        # stray bytes into it.
        return PrinterState.UNKNOWN
    try:
        with _status_timeout(printer, timeout):
            answers = [_ask(printer, query) for query in (QUERY_PRINTER,)]
            if answers[0] is not None:
                answers += [_ask(printer, q) for q in (QUERY_OFFLINE_CAUSE, QUERY_PAPER)]
            else:
                answers += [None, None]
    except NotImplementedError:
        return PrinterState.UNKNOWN
    except OSError as exc:
        logger.debug("status query failed: %s", exc)
        return PrinterState.OFFLINE
    return state_from_status_bytes(*answers)
