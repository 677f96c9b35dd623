"""A simulated serial 2D scanner on a real pseudo-terminal, and ``tthcc sim scanner``.

The agent opens the slave side with the normal transport, so the production driver runs
unchanged. Faults on command as with the hall devices (unplug, replug, garbage, slow).

``tthcc sim scanner --name scanner-1`` prints the slave path first, then reads commands
from standard input, one per line:

``card``                 scan a sample chip ID card's QR (a made-up citizen)
``card NAME``            the same with that full name
``code 123456``          scan a check-in code (a number taken from the phone)
``scan TEXT``            scan exactly TEXT
``unplug`` / ``replug`` / ``garbage N [SEED]`` / ``slow`` / ``fast`` / ``help`` / ``quit``
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import click

from devices.scanner.codec import encode_scan
from devices.serial.sim import PtyDevice

#: A made-up citizen: the layout of the chip ID card's QR (12-digit ID | 9-digit old ID,
#: may be empty | full name | date of birth ddmmyyyy | sex | address | date of issue).
SAMPLE_CARD = (
    "001089012345",
    "",
    "Nguyễn Thị Minh Khai",
    "05071989",
    "Nữ",
    "Số 12 ngõ 34 phố Kim Mã, Phường Ngọc Hà, Thành phố Hà Nội",
    "15042021",
)


def id_card_text(
    *,
    number: str = SAMPLE_CARD[0],
    old_number: str = SAMPLE_CARD[1],
    name: str = SAMPLE_CARD[2],
    birth: str = SAMPLE_CARD[3],
    sex: str = SAMPLE_CARD[4],
    address: str = SAMPLE_CARD[5],
    issued: str = SAMPLE_CARD[6],
) -> str:
    """The text of a chip ID card's QR code for the given fields (tests, demo)."""
    return "|".join((number, old_number, name, birth, sex, address, issued))


class ScannerSimulator(PtyDevice):
    """A 2D scanner that sends each scan as one line (CR by default, as most do)."""

    kind = "scanner"

    def __init__(
        self,
        *,
        terminator: bytes = b"\r",
        link: str | Path | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(link=link, name=name)
        if terminator not in (b"\r", b"\n", b"\r\n"):
            raise ValueError("terminator must be CR, LF or CR LF")
        self.terminator = terminator

    def scan(self, text: str) -> bytes:
        """Scan ``text``; returns the bytes sent."""
        data = encode_scan(text, terminator=self.terminator)
        self.write(data)
        return data

    def scan_card(self, **fields: str) -> bytes:
        """Scan a chip ID card (fields as :func:`id_card_text`)."""
        return self.scan(id_card_text(**fields))


HELP = "commands: card [NAME] | code DIGITS | scan TEXT | unplug | replug | garbage N [SEED] | slow | fast | quit"


def run_commands(
    device: ScannerSimulator, lines: Iterable[str], echo: Callable[[str], None]
) -> bool:
    """Apply console commands to the simulator; False once ``quit`` was read."""
    from devices.serial.cli import run_commands as serial_commands

    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        word, _, arg = line.partition(" ")
        try:
            if word == "card":
                device.scan_card(**({"name": arg} if arg else {}))
                echo("scanned an ID card")
            elif word == "code":
                device.scan(arg)
                echo(f"scanned code {arg}")
            elif word == "scan":
                device.scan(arg)
                echo(f"scanned {len(arg)} characters")
            elif word == "help":
                echo(HELP)
            elif not serial_commands(device, [line], echo):
                return False
        except (ValueError, OSError) as exc:
            echo(f"error: {exc}")
    return True


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@click.command("scanner")
@click.option("--link", type=click.Path(path_type=Path), help="Stable symlink to the pty.")
@click.option("--name", help="Put the symlink in the sim dir (for pty-sim:NAME URLs).")
@click.option(
    "--terminator",
    type=click.Choice(["cr", "lf", "crlf"]),
    default="cr",
    show_default=True,
    help="What ends each scan.",
)
@click.option(
    "--scan", "scans", multiple=True, help="A command to run (repeatable): card, code 123456…"
)
@click.option("--delay", default=1.0, show_default=True, help="Seconds before each scripted scan.")
@click.option("--exit", "exit_after", is_flag=True, help="Quit after the scripted scans.")
def scanner_command(
    link: Path | None,
    name: str | None,
    terminator: str,
    scans: tuple[str, ...],
    delay: float,
    exit_after: bool,
) -> None:
    """Simulate a 2D barcode scanner (serial mode) on a pseudo-terminal."""
    ending = {"cr": b"\r", "lf": b"\n", "crlf": b"\r\n"}[terminator]
    device = ScannerSimulator(terminator=ending, link=link, name=name)
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        click.echo(device.open())
        click.echo(f"scanner simulator ready; {HELP}", err=True)
        for command in scans:
            time.sleep(delay)  # scans before the agent opened the port are lost, as for real
            run_commands(device, [command], click.echo)
        if not exit_after and run_commands(device, sys.stdin, click.echo):
            signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        device.close(drain_timeout=1.0)
        signal.signal(signal.SIGTERM, previous)
