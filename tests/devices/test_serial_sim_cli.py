"""The simulator commands (``tthcc sim ratingpad|keypad|ledboard``) as separate processes."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from devices.serial.cli import run_commands
from devices.serial.driver import (
    FAULT_STATES,
    DeviceState,
    KeypadDriver,
    LedBoardDriver,
    RatingPadDriver,
    SerialTiming,
)
from devices.serial.sim import PadSimulator

ROOT = Path(__file__).resolve().parents[2]
FAST = SerialTiming(read_timeout=0.1, reconnect_initial=0.05, reconnect_max=0.2, idle_reset=0.2)
WAIT = 5.0


def wait_until(predicate, timeout: float = WAIT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


class SimProcess:
    """A simulator command in a child process, driven through its stdin."""

    def __init__(self, command: str, *args: str) -> None:
        code = f"from devices.serial.cli import {command}; {command}()"
        self.process = subprocess.Popen(
            [sys.executable, "-c", code, *args],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def next_line(self, timeout: float = WAIT) -> str:
        return self.lines.get(timeout=timeout)

    def wait_line(self, wanted: str, timeout: float = WAIT) -> None:
        deadline = time.monotonic() + timeout
        while (line := self.next_line(max(0.01, deadline - time.monotonic()))) != wanted:
            pass
        assert line == wanted

    def send(self, line: str) -> None:
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(WAIT)


@pytest.fixture
def sim_process():
    started = []

    def start(command: str, *args: str) -> SimProcess:
        sim = SimProcess(command, *args)
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()


def test_ratingpad_command_prints_its_pty_and_follows_commands(tmp_path, sim_process):
    link = tmp_path / "ratingpad-1"
    sim = sim_process("ratingpad_command", "--link", str(link))
    path = sim.next_line()
    assert path.startswith("/dev/pts/")
    assert os.path.realpath(link) == path

    ratings = []
    driver = RatingPadDriver(
        "pad-1", str(link), counter_id=5, on_rating=lambda *a: ratings.append(a), timing=FAST
    )
    driver.start()
    try:
        assert driver.wait_for_state(DeviceState.READY, WAIT)
        sim.send("5")
        assert wait_until(lambda: len(ratings) == 1)
        assert ratings[0][:3] == (5, "5", 5)

        sim.send("unplug")
        assert wait_until(lambda: driver.state in FAULT_STATES)
        sim.send("replug")
        sim.wait_line("unplugged")
        assert sim.next_line().startswith("/dev/pts/")
        assert driver.wait_for_state(DeviceState.READY, WAIT)

        sim.send("garbage 2000 1")  # seed 1: no valid line by chance
        sim.wait_line("sent 2000 random bytes")
        # Silence, as the driver hears it, ends the garbage's unfinished line (a fixed sleep
        # here failed on a loaded machine: the driver read the garbage late).
        assert wait_until(
            lambda: time.monotonic() - (driver.last_received_at or 0) > FAST.idle_reset + 0.1
        )
        sim.send("slow")
        sim.send("1")
        assert wait_until(lambda: len(ratings) == 2)
        assert ratings[1][:3] == (5, "1", 1)
        assert driver.state is DeviceState.READY

        sim.send("quit")
        assert sim.process.wait(WAIT) == 0
        assert not os.path.lexists(link)
        assert wait_until(lambda: driver.state in FAULT_STATES)
    finally:
        driver.close()


def test_scripted_presses_on_an_rs485_address(tmp_path, sim_process):
    link = tmp_path / "bus"
    ratings = []
    driver = RatingPadDriver(
        "bus",
        str(link),
        addresses={3: "Q3"},
        on_rating=lambda *a: ratings.append(a),
        timing=FAST,
    )
    driver.start()  # before the simulator exists: it must find it when it appears
    try:
        sim = sim_process(
            "ratingpad_command",
            *("--link", str(link), "--address", "3", "--press", "1", "--press", "5"),
            *("--delay", "0.8", "--exit"),
        )
        # Bounded by the child's start-up, which is slow on a loaded machine.
        assert wait_until(lambda: len(ratings) == 2, timeout=20), ratings
        assert [r[:3] for r in ratings] == [("Q3", "1", 1), ("Q3", "5", 5)]
        assert sim.process.wait(WAIT) == 0
    finally:
        driver.close()


def test_keypad_command(tmp_path, sim_process):
    link = tmp_path / "keypad"
    sim = sim_process("keypad_command", "--link", str(link))
    sim.next_line()
    commands = []
    driver = KeypadDriver(
        "kp", str(link), counter_id=1, on_command=lambda *a: commands.append(a), timing=FAST
    )
    driver.start()
    try:
        assert driver.wait_for_state(DeviceState.READY, WAIT)
        sim.send("N")
        sim.send("F")
        assert wait_until(lambda: len(commands) == 2)
        assert [op.value for _, op, _ in commands] == ["next", "finish"]
    finally:
        driver.close()


def test_ledboard_command_prints_what_the_board_shows(tmp_path, sim_process):
    link = tmp_path / "led"
    sim = sim_process("ledboard_command", "--link", str(link))
    sim.next_line()
    board = LedBoardDriver("led", str(link), boards={"Q1": 4}, timing=FAST)
    board.start()
    try:
        assert board.wait_for_state(DeviceState.READY, WAIT)
        board.show("Q1", "Quầy 1 – 1023")
        sim.wait_line("board 4: [Quay 1 ? 1023]")
        sim.send("show")
        sim.wait_line("board 4: [Quay 1 ? 1023]")
    finally:
        board.close()


def test_sigterm_removes_the_link(tmp_path, sim_process):
    link = tmp_path / "pad"
    sim = sim_process("ratingpad_command", "--link", str(link))
    sim.next_line()
    assert os.path.lexists(link)
    sim.process.send_signal(signal.SIGTERM)
    assert sim.process.wait(WAIT) == 0
    assert not os.path.lexists(link)


def test_console_commands_in_process(tmp_path):
    out: list[str] = []
    with PadSimulator(link=tmp_path / "pad") as sim:
        keep_going = run_commands(
            sim, ["help", "", "slow", "fast", "garbage 10", "garbage x", "quit", "5"], out.append
        )
        assert keep_going is False
        assert out[0].startswith("commands:")
        assert out[1:4] == ["slow mode", "fast mode", "sent 10 random bytes"]
        assert out[4].startswith("error:")
        assert sim.slow is False
