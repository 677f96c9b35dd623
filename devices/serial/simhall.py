"""``tthcc sim hall CONFIG``: every simulated serial device of a station, in one process.

For each ``pty-sim:NAME`` port of the station config (``[[ratingpads]]``, ``[[keypads]]``,
``[[ledboards]]``, ``[[scanners]]``) it plugs in the matching simulator on a real pseudo-terminal (the
symlink ``<sim dir>/NAME``, as ``tthcc sim … --name NAME`` does) and makes a control FIFO
``<sim dir>/NAME.ctl``. A line written into the FIFO is a simulator command
(docs/devices.md, "Simulators"), so a person can press keys from any shell::

    echo 5 > var/dev/ratingpad-1.ctl          # the pad of counter 1: "Rất hài lòng"
    echo N > var/dev/keypad-1.ctl             # counter 1's keypad: call the next ticket
    echo @3:1 > var/dev/ratingpads-bus.ctl    # a pad on an RS-485 bus, address 3
    echo show > var/dev/ledboards.ctl         # print what every board shows
    echo card > var/dev/scanner-1.ctl         # the kiosk's scanner reads a sample ID card

Lines on standard input work too, prefixed with the port name (``ratingpad-1 5``). What
LED boards show is printed as it changes (``ledboards: board 3 [1023]``).

Only one hall runs per sim dir: a second one waits for the first to stop (a lock file),
instead of taking its devices away.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import select
import signal
import stat
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import click

from devices.config import SerialDeviceConfig, StationConfig
from devices.serial.cli import run_commands
from devices.serial.sim import KeypadSimulator, LedBoardSimulator, PadSimulator, PtyDevice
from devices.serial.transport import sim_dir

logger = logging.getLogger(__name__)

CONTROL_SUFFIX = ".ctl"
LOCK_FILE = ".simhall.lock"
SIM_PREFIX = "pty-sim:"


def sim_name(url: str) -> str | None:
    """NAME of a ``pty-sim:NAME`` URL, else None (a real port: nothing to simulate)."""
    if not url.startswith(SIM_PREFIX):
        return None
    return url.removeprefix(SIM_PREFIX).removeprefix("//") or None


class SimHall:
    """The simulators of one station config, each with a control FIFO."""

    def __init__(
        self,
        config: StationConfig,
        *,
        directory: Path | None = None,
        echo: Callable[[str], None] = print,
    ) -> None:
        self.directory = Path(directory) if directory is not None else sim_dir()
        self.echo = echo
        self.devices: dict[str, PtyDevice] = {}
        self._fifos: dict[int, tuple[str, Path]] = {}
        self._partial: dict[int, bytes] = {}
        self._lock_fd: int | None = None
        self._plan(config)

    def _plan(self, config: StationConfig) -> None:
        sections: Iterable[tuple[str, tuple[SerialDeviceConfig, ...]]] = (
            ("ratingpad", config.ratingpads),
            ("keypad", config.keypads),
            ("ledboard", config.ledboards),
            ("scanner", config.scanners),
        )
        for kind, entries in sections:
            by_port: dict[str, list[SerialDeviceConfig]] = {}
            for entry in entries:
                name = sim_name(entry.url)
                if name is not None:
                    by_port.setdefault(name, []).append(entry)
            for name, group in by_port.items():
                if name in self.devices:
                    raise ValueError(f"pty-sim:{name} is used by two kinds of device")
                self.devices[name] = self._simulator(kind, name, group)

    def _simulator(self, kind: str, name: str, group: list[SerialDeviceConfig]) -> PtyDevice:
        link = self.directory / name
        if kind == "ledboard":
            boards = {entry.address or 1: entry.counter_id for entry in group}

            def shown(address: int, text: str) -> None:
                counter = boards.get(address)
                where = f" (counter {counter})" if counter is not None else ""
                self.echo(f"{name}: board {address} [{text}]{where}")

            return LedBoardSimulator(link=link, on_show=shown)
        if kind == "scanner":
            from devices.scanner.sim import ScannerSimulator

            return ScannerSimulator(link=link)
        # One device on its own port sends bare keys; on a bus, type @ADDR:KEY.
        address = group[0].address if len(group) == 1 else None
        cls = KeypadSimulator if kind == "keypad" else PadSimulator
        return cls(link=link, address=address)

    # --- lifecycle ----------------------------------------------------------------------

    def open(self, *, wait_for_lock: bool = True) -> None:
        """Take the hall lock, plug every simulator in and make the control FIFOs."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(self.directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait_for_lock:
                raise
            self.echo(f"another simulator hall runs in {self.directory}: waiting for it to stop")
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        for name, device in self.devices.items():
            path = device.open()
            control = self._make_fifo(name)
            self.echo(f"{name}: {device.kind} on {path}; commands: echo KEY > {control}")

    def _make_fifo(self, name: str) -> Path:
        path = self.directory / f"{name}{CONTROL_SUFFIX}"
        try:
            mode = path.lstat().st_mode
        except FileNotFoundError:
            os.mkfifo(path, 0o600)
        else:
            if not stat.S_ISFIFO(mode):
                raise FileExistsError(f"{path} exists and is not a FIFO")
        # Read and write: the FIFO never reports end-of-file when a writer (echo) closes.
        fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
        self._fifos[fd] = (name, path)
        self._partial[fd] = b""
        return path

    def close(self) -> None:
        """Unplug every simulator (their links go) and remove the FIFOs. Idempotent."""
        for fd, (_name, path) in list(self._fifos.items()):
            os.close(fd)
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        self._fifos.clear()
        for device in self.devices.values():
            device.close(drain_timeout=0.5)
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the lock
            self._lock_fd = None

    def __enter__(self) -> SimHall:
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- commands -----------------------------------------------------------------------

    def command(self, name: str, line: str) -> None:
        """Apply one simulator command to the device on port ``name``."""
        device = self.devices.get(name)
        if device is None:
            self.echo(f"no simulated port {name!r}; ports: {', '.join(sorted(self.devices))}")
            return
        echo = lambda message: self.echo(f"{name}: {message}")  # noqa: E731
        if device.kind == "scanner":
            from devices.scanner.sim import run_commands as scanner_commands

            scanner_commands(device, [line], echo)  # type: ignore[arg-type]
            return
        run_commands(device, [line], echo)

    def serve(self, stdin: int | None = None, stop: Callable[[], bool] = lambda: False) -> None:
        """Read the FIFOs (and ``stdin``, lines ``NAME COMMAND``) until ``stop()``."""
        stdin_buffer = b""
        while not stop():
            watched = list(self._fifos) + ([stdin] if stdin is not None else [])
            try:
                ready, _, _ = select.select(watched, [], [], 0.5)
            except InterruptedError:
                continue
            for fd in ready:
                if fd == stdin:
                    data = os.read(fd, 4096)
                    if not data:
                        stdin = None  # end of input: the FIFOs still work
                        continue
                    stdin_buffer, lines = _lines(stdin_buffer + data)
                    for line in lines:
                        name, _, rest = line.partition(" ")
                        if rest.strip():
                            self.command(name, rest.strip())
                    continue
                try:
                    data = os.read(fd, 4096)
                except BlockingIOError:
                    continue
                name = self._fifos[fd][0]
                self._partial[fd], lines = _lines(self._partial[fd] + data)
                for line in lines:
                    self.command(name, line)


def _lines(buffer: bytes) -> tuple[bytes, list[str]]:
    *complete, rest = buffer.split(b"\n")
    lines = [raw.decode("utf-8", "replace").strip() for raw in complete]
    return rest[-4096:], [line for line in lines if line]


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_hall(config: StationConfig, *, read_stdin: bool = True) -> None:
    """Run until SIGTERM or Ctrl-C (``tthcc sim hall``); both remove links and FIFOs."""
    hall = SimHall(config, echo=lambda message: print(message, flush=True))
    if not hall.devices:
        print("no pty-sim: ports in this station config: nothing to simulate", flush=True)
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        hall.open()
        print(f"simulator hall ready ({len(hall.devices)} port(s))", flush=True)
        hall.serve(sys.stdin.fileno() if read_stdin else None)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second TERM must not cut cleanup
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        hall.close()
        signal.signal(signal.SIGTERM, previous)


@click.command("hall")
@click.argument("config", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--no-stdin", is_flag=True, help="Take commands from the FIFOs only.")
def hall_command(config: Path, no_stdin: bool) -> None:
    """Simulate every pty-sim: device of station config CONFIG, with control FIFOs.

    Each port NAME gets the link <sim dir>/NAME and the FIFO <sim dir>/NAME.ctl (sim dir:
    $TTHCC_SIM_DIR, default var/dev): `echo 5 > var/dev/ratingpad-1.ctl` presses 5.
    """
    from devices.config import ConfigError, load_config

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("devices.serial.sim").setLevel(logging.WARNING)  # the hall says it all
    try:
        station = load_config(config)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    run_hall(station, read_stdin=not no_stdin)
