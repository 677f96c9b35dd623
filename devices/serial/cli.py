"""``tthcc sim ratingpad|keypad|ledboard``: simulated serial devices for demos and tests.

Each command prints the slave path of its pseudo-terminal as the first line of standard
output (e.g. ``/dev/pts/5``), then reads commands from standard input, one per line:

``5``, ``N``, ``@3:5``  press a key (``@addr:key`` sends that exact RS-485 frame)
``unplug`` / ``replug``  pull and reinsert the cable (replug prints the new path)
``garbage N [SEED]``     send N random bytes (SEED makes them repeatable)
``slow`` / ``fast``      write byte by byte with pauses, or normally
``show``                 (ledboard) print what every board shows
``help``, ``quit``

At the end of standard input the simulator stays plugged in until interrupted, so it can
run in the background with ``</dev/null``.
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import click

from devices.serial.sim import KeypadSimulator, LedBoardSimulator, PadSimulator, PtyDevice

HELP = (
    "commands: <key> | @<addr>:<key> | unplug | replug | garbage N [SEED] | slow | fast"
    " | show | quit"
)


def run_commands(device: PtyDevice, lines: Iterable[str], echo: Callable[[str], None]) -> bool:
    """Apply console commands to ``device``; False once ``quit`` was read."""
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        try:
            if not _command(device, line, echo):
                return False
        except (ValueError, OSError) as exc:
            echo(f"error: {exc}")
    return True


def _command(device: PtyDevice, line: str, echo: Callable[[str], None]) -> bool:
    word, _, arg = line.partition(" ")
    if word in ("quit", "exit"):
        return False
    if word == "help":
        echo(HELP)
    elif word == "unplug":
        device.unplug()
        echo("unplugged")
    elif word == "replug":
        echo(device.replug())
    elif word == "garbage":
        count, _, seed = arg.partition(" ")
        sent = device.garbage(int(count or "100"), seed=int(seed) if seed else None)
        echo(f"sent {len(sent)} random bytes")
    elif word in ("slow", "fast"):
        device.slow = word == "slow"
        echo(f"{word} mode")
    elif word == "show" and isinstance(device, LedBoardSimulator):
        for address, text in sorted(device.shown.items()):
            echo(_board_line(address, text))
    elif isinstance(device, PadSimulator):
        if line.startswith("@"):
            device.write(f"{line}\n".encode("ascii"))
        else:
            device.press(line)
        echo(f"pressed {line}")
    else:
        echo(f"unknown command {line!r}; {HELP}")
    return True


def _board_line(address: int, text: str) -> str:
    return f"board {address}: [{text}]"


def _echo(message: str) -> None:
    click.echo(message)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _serve(device: PtyDevice, script: Iterable[str], delay: float, exit_after: bool) -> None:
    # SIGTERM (systemd, kill) must remove the symlink too, as Ctrl-C does.
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        click.echo(device.open())
        click.echo(f"{device.kind} simulator ready; {HELP}", err=True)
        for key in script:
            # Keys sent before the agent opened the port are lost (pyserial flushes
            # input on open), exactly as with a real pad: give it time to connect.
            time.sleep(delay)
            run_commands(device, [key], _echo)
        if not exit_after and run_commands(device, sys.stdin, _echo):
            signal.pause()  # end of input: stay plugged in until interrupted
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second TERM must not cut cleanup
        device.close(drain_timeout=1.0)
        signal.signal(signal.SIGTERM, previous)


_link = click.option(
    "--link",
    type=click.Path(path_type=Path),
    help="Stable symlink to (re)point at the pty, e.g. var/dev/ratingpad-1.",
)
_name = click.option("--name", help="Put the symlink in the sim dir (for pty-sim:NAME URLs).")
_press = click.option("--press", "presses", multiple=True, help="Key to press (repeatable).")
_delay = click.option(
    "--delay", default=1.0, show_default=True, help="Seconds before each scripted press."
)
_exit = click.option("--exit", "exit_after", is_flag=True, help="Quit after the scripted presses.")
_address = click.option("--address", type=int, help="RS-485 address: send @ADDR:KEY frames.")
_framing = click.option(
    "--framing",
    type=click.Choice(["line", "byte"]),
    default="line",
    show_default=True,
    help="line: KEY\\n frames; byte: one byte per key, no newline (vendor pads).",
)


@click.command("ratingpad")
@_link
@_name
@_address
@_framing
@_press
@_delay
@_exit
def ratingpad_command(
    link: Path | None,
    name: str | None,
    address: int | None,
    framing: str,
    presses: tuple[str, ...],
    delay: float,
    exit_after: bool,
) -> None:
    """Simulate a satisfaction rating pad on a pseudo-terminal."""
    device = PadSimulator(address=address, framing=framing, link=link, name=name)
    _serve(device, presses, delay, exit_after)


@click.command("keypad")
@_link
@_name
@_address
@_framing
@_press
@_delay
@_exit
def keypad_command(
    link: Path | None,
    name: str | None,
    address: int | None,
    framing: str,
    presses: tuple[str, ...],
    delay: float,
    exit_after: bool,
) -> None:
    """Simulate a counter's call keypad (N next, R recall, F finish, X no-show)."""
    device = KeypadSimulator(address=address, framing=framing, link=link, name=name)
    _serve(device, presses, delay, exit_after)


@click.command("ledboard")
@_link
@_name
def ledboard_command(link: Path | None, name: str | None) -> None:
    """Simulate counter LED boards: print what each board would show."""
    device = LedBoardSimulator(
        link=link, name=name, on_show=lambda a, t: click.echo(_board_line(a, t))
    )
    _serve(device, (), 0, False)
