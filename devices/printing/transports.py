"""Open a ticket printer from a URL, and read its state.

=================================================  ===================================
``usb://0416:5011`` (hex VID:PID)                  ``escpos.printer.Usb`` (needs pyusb)
``serial:///dev/serial/by-id/…?baudrate=115200``   ``escpos.printer.Serial``
``tcp://192.168.1.50:9100`` (port default 9100)    ``escpos.printer.Network``
``file:///dev/usb/lp0``                            ``escpos.printer.File``
``sim://var/sim/printer`` (relative or absolute)   :class:`~devices.printing.sim.SimPrinter`
=================================================  ===================================

Query parameters pass through to the python-escpos constructor (``baudrate``,
``timeout``, ``dsrdtr``, ``in_ep``…). Parsing imports nothing heavy, so configuration can
be validated without opening anything.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from devices.errors import DeviceError, DeviceNotFound
from devices.printing.status import STATUS_TIMEOUT, PrinterState, read_printer_state

logger = logging.getLogger(__name__)

SCHEMES = ("usb", "serial", "tcp", "file", "sim")
DEFAULT_TCP_PORT = 9100
#: Seconds a network printer may take to accept or take data before we call it offline.
DEFAULT_TCP_TIMEOUT = 10.0
#: Milliseconds a USB write may block (``?timeout=`` in the URL overrides it).
DEFAULT_USB_TIMEOUT_MS = 10_000

#: Query parameters per scheme and how to convert them.
_PARAMS: dict[str, dict[str, Any]] = {
    "usb": {"timeout": int, "in_ep": lambda v: int(v, 0), "out_ep": lambda v: int(v, 0)},
    "serial": {
        "baudrate": int,
        "bytesize": int,
        "timeout": float,
        "parity": str,
        "stopbits": int,
        "xonxoff": lambda v: _bool(v),
        "dsrdtr": lambda v: _bool(v),
    },
    "tcp": {"timeout": float},
    "file": {},
    "sim": {},
}


class InvalidPrinterUrl(ValueError):
    """A printer URL that cannot be understood; the message says what is expected."""


@dataclasses.dataclass(frozen=True)
class PrinterSpec:
    """A parsed printer URL: which class to build and with which arguments."""

    scheme: str
    kwargs: dict[str, Any]

    @property
    def class_name(self) -> str:
        """Name of the printer class in ``escpos.printer`` (or ``SimPrinter``)."""
        return {
            "usb": "Usb",
            "serial": "Serial",
            "tcp": "Network",
            "file": "File",
            "sim": "SimPrinter",
        }[self.scheme]


def _bool(value: str) -> bool:
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _hex_id(text: str, what: str, url: str) -> int:
    try:
        value = int(text, 16)
    except ValueError:
        raise InvalidPrinterUrl(f"{url}: {what} {text!r} is not hexadecimal") from None
    if not 0 <= value <= 0xFFFF:
        raise InvalidPrinterUrl(f"{url}: {what} {text!r} is out of range")
    return value


def parse_printer_url(url: str) -> PrinterSpec:
    """Parse a printer URL (see the module docstring) into a :class:`PrinterSpec`."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in SCHEMES:
        raise InvalidPrinterUrl(
            f"{url!r}: printer URL must start with one of " + ", ".join(f"{s}://" for s in SCHEMES)
        )
    location, _, query = rest.partition("?")
    kwargs: dict[str, Any] = {}
    if scheme == "usb":
        vid, colon, pid = location.partition(":")
        if not colon:
            raise InvalidPrinterUrl(f"{url!r}: expected usb://VID:PID, e.g. usb://0416:5011")
        kwargs = {
            "idVendor": _hex_id(vid.removeprefix("0x"), "vendor id", url),
            "idProduct": _hex_id(pid.removeprefix("0x"), "product id", url),
            # python-escpos's default 0 means "wait forever" to libusb: a printer that
            # stops taking data would hang the printer thread for good.
            "timeout": DEFAULT_USB_TIMEOUT_MS,
        }
    elif scheme == "tcp":
        parts = urlsplit(f"tcp://{location}")
        try:
            port = parts.port or DEFAULT_TCP_PORT
        except ValueError:
            raise InvalidPrinterUrl(f"{url!r}: bad port") from None
        if not parts.hostname:
            raise InvalidPrinterUrl(f"{url!r}: expected tcp://HOST[:PORT]")
        kwargs = {"host": parts.hostname, "port": port, "timeout": DEFAULT_TCP_TIMEOUT}
    else:
        path = unquote(location)
        if not path:
            raise InvalidPrinterUrl(f"{url!r}: a path is required after {scheme}://")
        kwargs = {"directory": path} if scheme == "sim" else {"devfile": path}
    for key, value in parse_qsl(query, keep_blank_values=True):
        convert = _PARAMS[scheme].get(key)
        if convert is None:
            raise InvalidPrinterUrl(
                f"{url!r}: unknown parameter {key!r} for {scheme}:// "
                f"(known: {', '.join(_PARAMS[scheme]) or 'none'})"
            )
        try:
            kwargs[key] = convert(value)
        except ValueError:
            raise InvalidPrinterUrl(f"{url!r}: bad value for {key}: {value!r}") from None
    return PrinterSpec(scheme, kwargs)


def printer_class(spec: PrinterSpec) -> type:
    """The python-escpos class that ``spec`` builds (imported only when asked for)."""
    if spec.scheme == "sim":
        from devices.printing.sim import SimPrinter

        return SimPrinter
    import escpos.printer

    return getattr(escpos.printer, spec.class_name)


def open_printer(url: str | PrinterSpec, profile: str | None = None) -> Any:
    """Build and open the printer for ``url``; raises :class:`DeviceNotFound` if absent.

    ``profile`` is a python-escpos capability profile name (e.g. ``"TM-T20II"``); None
    uses python-escpos's ``default`` profile.
    """
    from escpos.exceptions import DeviceNotFoundError, Error

    spec = url if isinstance(url, PrinterSpec) else parse_printer_url(url)
    cls = printer_class(spec)
    try:
        printer = cls(profile=profile, **spec.kwargs)
    except (Error, RuntimeError) as exc:  # RuntimeError: Usb without pyusb installed
        raise DeviceError(f"cannot set up {spec.class_name} printer: {exc}") from exc
    except KeyError as exc:  # python-escpos's get_profile() on an unknown name
        raise DeviceError(f"unknown python-escpos printer profile {profile!r}") from exc
    if spec.scheme == "sim":
        return printer
    try:
        printer.open()
    except (DeviceNotFoundError, OSError) as exc:
        raise DeviceNotFound(f"{spec.class_name} printer not found: {exc}") from exc
    if printer.device is None:  # some transports log instead of raising
        raise DeviceNotFound(f"{spec.class_name} printer not found")
    return printer


def printer_state(printer: Any, timeout: float = STATUS_TIMEOUT) -> PrinterState:
    """Ask an opened printer for its state (see :func:`read_printer_state`)."""
    return read_printer_state(printer, timeout)
