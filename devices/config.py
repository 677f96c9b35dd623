"""Station configuration: one TOML file per station agent.

Example (``tthcc agent station.toml``)::

    server_url = "http://127.0.0.1:8000"
    station_token_file = "/etc/tthcc/station.token"   # or: station_token = "…"
    spool_dir = "/var/lib/tthcc-agent"                # default: $STATE_DIRECTORY, else ./spool

    [[printers]]
    name = "kiosk-printer"          # the name used in print.job and device.status
    url = "usb://0416:5011"         # usb://, serial://, tcp://, file://, sim://
    mode = "text"                   # "text" (CP1258, ~350 B) or "raster" (bitmap, ~35 KB)
    profile = "TM-T20II"            # python-escpos capability profile; default "default"
    default = true

    [[ratingpads]]
    name = "pad-1"
    url = "serial:///dev/serial/by-id/usb-FTDI_FT232R-if00-port0?baudrate=9600"
    counter_id = 1
    address = 3                     # only on a shared RS-485 bus
    keymap = { "A" = "5", "B" = "4" }

    [[scanners]]                    # a 2D scanner in serial mode (kiosk stations)
    name = "kiosk-scanner"
    url = "/dev/serial/by-id/usb-Honeywell_2D_Scanner-if00"

Relative paths are relative to the file's folder. ``TTHCC_AGENT_SERVER_URL`` and
``TTHCC_STATION_TOKEN`` override the file.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from devices.printing.transports import InvalidPrinterUrl, parse_printer_url

ENV_SERVER_URL = "TTHCC_AGENT_SERVER_URL"
ENV_STATION_TOKEN = "TTHCC_STATION_TOKEN"
#: Engine.IO transports the agent may use, in order (a province hub behind nginx accepts
#: WebSocket only: docs/deployment.md).
TRANSPORTS = ("polling", "websocket")


class ConfigError(ValueError):
    """The station configuration is invalid; the message names the file and the field."""


@dataclasses.dataclass(frozen=True)
class PrinterConfig:
    """One ticket printer."""

    name: str
    #: Where the printer is: ``usb://VID:PID``, ``serial:///dev/serial/by-id/…``,
    #: ``tcp://host:9100``, ``file:///dev/usb/lp0`` or ``sim://DIR``.
    url: str
    #: ``text`` sends CP1258 text (fast, needs a printer that draws Vietnamese tone marks);
    #: ``raster`` sends bitmaps (any printer; use only on USB, LAN or >= 115200 baud).
    mode: Literal["text", "raster"] = "text"
    #: python-escpos capability profile (paper width, code pages, QR support).
    profile: str | None = None
    #: The printer used by print jobs that name none.
    default: bool = False
    #: ESC t table number of CP1258 when the profile lacks it (e.g. 52 on Epson, 94 on
    #: many Chinese 80 mm printers).
    codepage: int | None = None
    #: Seconds between status polls while idle.
    status_interval: float = 10.0


@dataclasses.dataclass(frozen=True)
class SerialDeviceConfig:
    """A serial or RS-485 device; its driver lives in ``devices/serial``."""

    name: str
    url: str
    counter_id: int | str | None = None
    #: Address on a shared RS-485 bus (``@<addr>:…``); None on a port of its own.
    address: int | None = None
    #: Vendor key -> our key, for devices that do not send the default keys.
    keymap: Mapping[str, str | int] | None = None


@dataclasses.dataclass(frozen=True)
class RatingPadConfig(SerialDeviceConfig):
    """A citizen satisfaction pad at a counter."""


@dataclasses.dataclass(frozen=True)
class LedBoardConfig(SerialDeviceConfig):
    """A counter's LED number board."""


@dataclasses.dataclass(frozen=True)
class KeypadConfig(SerialDeviceConfig):
    """A counter's call keypad (next, recall, …)."""


@dataclasses.dataclass(frozen=True)
class ScannerConfig(SerialDeviceConfig):
    """A kiosk's 2D barcode scanner in serial mode (ID card QR, check-in codes).

    A scanner in keyboard-wedge mode needs no entry: it types into the kiosk page.
    """


@dataclasses.dataclass(frozen=True)
class StationConfig:
    """A station agent's whole configuration."""

    server_url: str
    station_token: str
    spool_dir: Path
    printers: tuple[PrinterConfig, ...] = ()
    ratingpads: tuple[RatingPadConfig, ...] = ()
    ledboards: tuple[LedBoardConfig, ...] = ()
    keypads: tuple[KeypadConfig, ...] = ()
    scanners: tuple[ScannerConfig, ...] = ()
    #: Engine.IO transports, in order: ``("websocket",)`` for a server that refuses
    #: long-polling (the province hub); the default starts with polling, then upgrades.
    transports: tuple[str, ...] = TRANSPORTS
    #: CA certificate(s) to trust for an https:// server with a private CA (the hub's
    #: self-signed certificate); None trusts the system's CAs.
    ca_file: Path | None = None

    def printer(self, name: str | None = None) -> PrinterConfig:
        """The printer called ``name``, or the default printer when ``name`` is None.

        Raises ``KeyError`` when there is no such printer.
        """
        for printer in self.printers:
            if printer.name == name or (name is None and printer.default):
                return printer
        raise KeyError(name if name is not None else "(default printer)")


def _check_type(where: str, key: str, value: Any, types: type | tuple[type, ...]) -> Any:
    if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        raise ConfigError(f"{where}: {key} must be {_type_names(types)}, not {value!r}")
    if not isinstance(value, types):
        raise ConfigError(f"{where}: {key} must be {_type_names(types)}, not {value!r}")
    return value


def _type_names(types: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
    types = types if isinstance(types, tuple) else (types,)
    return " or ".join(names.get(t, t.__name__) for t in types)


def _build(cls: type, where: str, raw: Any) -> Any:
    """Build dataclass ``cls`` from a TOML table, checking names, types and required keys."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table, got {raw!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(fields)}"
        )
    missing = [
        name
        for name, f in fields.items()
        if name not in raw
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(f"{where}: missing required key(s) {', '.join(missing)}")
    types: dict[str, type | tuple[type, ...]] = {
        "name": str,
        "url": str,
        "mode": str,
        "profile": str,
        "default": bool,
        "codepage": int,
        "status_interval": (int, float),
        "counter_id": (int, str),
        "address": int,
        "keymap": dict,
    }
    for key, value in raw.items():
        _check_type(where, key, value, types[key])
    return cls(**raw)


def _validate_printer(where: str, printer: PrinterConfig) -> None:
    if printer.mode not in ("text", "raster"):
        raise ConfigError(f'{where}: mode must be "text" or "raster", not {printer.mode!r}')
    if printer.codepage is not None and not 0 <= printer.codepage <= 255:
        raise ConfigError(f"{where}: codepage must be 0-255, not {printer.codepage}")
    if printer.status_interval <= 0:
        raise ConfigError(f"{where}: status_interval must be > 0")
    if not printer.name.strip():
        raise ConfigError(f"{where}: name must not be empty")


def _validate_serial(where: str, device: SerialDeviceConfig) -> SerialDeviceConfig:
    if device.address is not None and not 0 <= device.address <= 255:
        raise ConfigError(f"{where}: address must be 0-255, not {device.address}")
    if device.keymap is not None:
        for key, value in device.keymap.items():
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                raise ConfigError(f"{where}: keymap[{key!r}] must be a string or integer")
        device = dataclasses.replace(device, keymap=dict(device.keymap))
    return device


def _section(raw: dict[str, Any], key: str, cls: type, source: str) -> tuple[Any, ...]:
    tables = raw.get(key, [])
    if not isinstance(tables, list):
        raise ConfigError(f"{source}: [[{key}]] must be an array of tables")
    items = []
    for index, table in enumerate(tables):
        name = table.get("name", index) if isinstance(table, dict) else index
        where = f"{source}: [[{key}]] {name!r}"
        item = _build(cls, where, table)
        if isinstance(item, PrinterConfig):
            _validate_printer(where, item)
        else:
            item = _validate_serial(where, item)
        items.append(item)  # serial device URLs are validated by their drivers
    return tuple(items)


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> StationConfig:
    """Read and validate a station TOML file; raise :class:`ConfigError` with a clear message."""
    env = os.environ if env is None else env
    path = Path(path)
    source = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{source}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    base = path.parent

    known = {"server_url", "station_token", "station_token_file", "spool_dir"}
    known |= {"transports", "ca_file"}
    known |= {"printers", "ratingpads", "ledboards", "keypads", "scanners"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) {', '.join(unknown)}")

    server_url = env.get(ENV_SERVER_URL) or raw.get("server_url")
    if not isinstance(server_url, str) or not server_url.startswith(("http://", "https://")):
        raise ConfigError(
            f"{source}: server_url must be an http:// or https:// URL "
            f"(or set {ENV_SERVER_URL}), got {server_url!r}"
        )

    token = env.get(ENV_STATION_TOKEN) or _read_token(raw, base, source)

    spool = raw.get("spool_dir") or env.get("STATE_DIRECTORY", "").split(":")[0] or "spool"
    if not isinstance(spool, str):
        raise ConfigError(f"{source}: spool_dir must be a path string")

    transports = _transports(raw.get("transports", list(TRANSPORTS)), source)
    ca_file = raw.get("ca_file")
    if ca_file is not None:
        if not isinstance(ca_file, str) or not ca_file:
            raise ConfigError(f"{source}: ca_file must be a path string")
        if not server_url.startswith("https://"):
            raise ConfigError(f"{source}: ca_file is only for an https:// server_url")
        if not (base / ca_file).is_file():
            raise ConfigError(f"{source}: ca_file {ca_file!r}: no such file")

    printers = _section(raw, "printers", PrinterConfig, source)
    for printer in printers:
        try:
            parse_printer_url(printer.url)
        except InvalidPrinterUrl as exc:
            raise ConfigError(f"{source}: [[printers]] {printer.name!r}: {exc}") from None
    printers = _with_one_default(printers, source)

    config = StationConfig(
        server_url=server_url.rstrip("/"),
        station_token=token,
        spool_dir=base / spool,
        printers=printers,
        ratingpads=_section(raw, "ratingpads", RatingPadConfig, source),
        ledboards=_section(raw, "ledboards", LedBoardConfig, source),
        keypads=_section(raw, "keypads", KeypadConfig, source),
        scanners=_section(raw, "scanners", ScannerConfig, source),
        transports=transports,
        ca_file=base / ca_file if ca_file is not None else None,
    )
    names = [d.name for d in (*config.printers, *config.ratingpads, *config.ledboards)]
    names += [d.name for d in (*config.keypads, *config.scanners)]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"{source}: device names must be unique; repeated: {duplicates}")
    return config


def _transports(value: Any, source: str) -> tuple[str, ...]:
    """``transports = ["websocket"]``: known Engine.IO names, each once, at least one."""
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ConfigError(f'{source}: transports must be a list such as ["websocket"]')
    unknown = sorted(set(value) - set(TRANSPORTS))
    if unknown or len(set(value)) != len(value):
        raise ConfigError(
            f"{source}: transports may name {' and '.join(TRANSPORTS)}, each once; got {value!r}"
        )
    return tuple(value)


def _read_token(raw: dict[str, Any], base: Path, source: str) -> str:
    token, token_file = raw.get("station_token"), raw.get("station_token_file")
    if token is not None and token_file is not None:
        raise ConfigError(f"{source}: set station_token or station_token_file, not both")
    if token_file is not None:
        if not isinstance(token_file, str):
            raise ConfigError(f"{source}: station_token_file must be a path string")
        try:
            token = (base / token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{source}: cannot read station_token_file: {exc}") from None
    if not isinstance(token, str) or not token.strip():
        raise ConfigError(
            f"{source}: a station token is required: station_token, station_token_file "
            f"or {ENV_STATION_TOKEN} (issue one with `tthcc station token STATION_CODE`)"
        )
    return token.strip()


def _with_one_default(
    printers: tuple[PrinterConfig, ...], source: str
) -> tuple[PrinterConfig, ...]:
    defaults = [p.name for p in printers if p.default]
    if len(defaults) > 1:
        raise ConfigError(f"{source}: only one printer may be default; found {defaults}")
    if not defaults and len(printers) == 1:
        return (dataclasses.replace(printers[0], default=True),)
    if not defaults and printers:
        raise ConfigError(
            f"{source}: several printers and none is default: set default = true on one"
        )
    return printers
