"""Serial drivers against simulators on real pseudo-terminals (no pyserial mocks)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from devices.serial.codec import KeypadOperation
from devices.serial.driver import (
    FAULT_STATES,
    DeviceState,
    KeypadDriver,
    LedBoardDriver,
    RatingPadDriver,
    SerialTiming,
)
from devices.serial.factory import keypad_drivers, led_board_drivers, rating_pad_drivers
from devices.serial.rating import RatingScale
from devices.serial.sim import KeypadSimulator, LedBoardSimulator, PadSimulator

FAST = SerialTiming(read_timeout=0.1, reconnect_initial=0.05, reconnect_max=0.2, idle_reset=0.2)
WAIT = 5.0  # generous upper bound; every wait returns as soon as its condition holds


def wait_until(predicate: Callable[[], bool], timeout: float = WAIT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


class Recorder:
    """Collects callback calls from the driver thread."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self._lock = threading.Lock()

    def __call__(self, *args) -> None:
        with self._lock:
            self.calls.append(args)

    def wait_for(self, count: int, timeout: float = WAIT) -> list[tuple]:
        assert wait_until(lambda: len(self.calls) >= count, timeout), self.calls
        return list(self.calls)

    def stays(self, count: int, period: float = 0.3) -> bool:
        """True if no more than ``count`` calls arrive within ``period`` (a bounded wait)."""
        time.sleep(period)
        return len(self.calls) == count


@pytest.fixture
def drivers():
    started = []

    def start(driver):
        started.append(driver)
        driver.start()
        assert driver.wait_for_state(DeviceState.READY, WAIT), driver.reason
        return driver

    yield start
    for driver in started:
        driver.close()


@pytest.fixture
def sims(tmp_path):
    opened = []

    def open_sim(cls, name="dev", **kw):
        sim = cls(link=tmp_path / name, **kw)
        sim.open()
        opened.append(sim)
        return sim

    yield open_sim
    for sim in opened:
        sim.close()


def rating_pad(sim, ratings, **kw):
    kw.setdefault("counter_id", 7)
    return RatingPadDriver("pad-1", sim.port, on_rating=ratings, timing=FAST, **kw)


# --- rating pads ---------------------------------------------------------------------


def test_key_press_reaches_on_rating_with_counter_and_level(sims, drivers):
    sim = sims(PadSimulator)
    ratings = Recorder()
    drivers(rating_pad(sim, ratings))
    sim.press("5")
    sim.press("2")
    (c1, key1, level1, at1), (c2, key2, level2, _) = ratings.wait_for(2)
    assert (c1, key1, level1) == (7, "5", 5)
    assert (c2, key2, level2) == (7, "2", 2)
    assert at1.tzinfo is not None


def test_three_level_pad_reports_normalised_level(sims, drivers):
    sim = sims(PadSimulator)
    ratings = Recorder()
    drivers(rating_pad(sim, ratings, scale=RatingScale(3)))
    sim.press("3")
    sim.press("5")  # not on a 3-key pad: ignored
    sim.press("1")
    assert [c[1:3] for c in ratings.wait_for(2)] == [("3", 4), ("1", 2)]
    assert ratings.stays(2)


def test_rs485_bus_routes_addresses_to_counters(sims, drivers, caplog):
    sim = sims(PadSimulator, address=1)
    ratings = Recorder()
    drivers(rating_pad(sim, ratings, counter_id=None, addresses={1: "Q1", 2: "Q2"}))
    with caplog.at_level(logging.WARNING, logger="devices.serial.driver"):
        sim.press("5")
        sim.press("1", address=2)
        sim.press("4", address=9)  # nobody configured address 9
        sim.write(b"3\n")  # no address on a bus: ignored
        sim.press("2", address=1)
        calls = ratings.wait_for(3)
    assert [c[:3] for c in calls] == [("Q1", "5", 5), ("Q2", "1", 1), ("Q1", "2", 2)]
    assert ratings.stays(3)
    assert any("unknown address 9" in r.getMessage() for r in caplog.records)


def test_vendor_single_byte_pad_without_newlines(sims, drivers):
    sim = sims(PadSimulator, framing="byte")
    ratings = Recorder()
    keymap = {"A": "5", "B": "4", "C": "3", "D": "2", "E": "1"}
    drivers(rating_pad(sim, ratings, key_map=keymap))
    sim.press("A")
    sim.press("E")
    sim.press("Z")
    assert [c[1:3] for c in ratings.wait_for(2)] == [("5", 5), ("1", 1)]


def test_vendor_hex_byte_map(sims, drivers):
    sim = sims(PadSimulator, framing="byte")
    ratings = Recorder()
    drivers(rating_pad(sim, ratings, key_map={f"0x{0x30 + n:02x}": str(n) for n in range(1, 6)}))
    sim.write(b"\x35\x31")
    assert [c[2] for c in ratings.wait_for(2)] == [5, 1]


def test_vendor_line_key_map(sims, drivers):
    sim = sims(PadSimulator)
    ratings = Recorder()
    drivers(rating_pad(sim, ratings, key_map={"K1": "1", "K5": "5"}))
    sim.write(b"K5\r\nK7\r\n5\r\nK1\r\n")
    assert [c[1:3] for c in ratings.wait_for(2)] == [("5", 5), ("1", 1)]
    assert ratings.stays(2)


def test_repeated_key_within_debounce_window_is_dropped(sims, drivers):
    sim = sims(PadSimulator)
    ratings = Recorder()
    drivers(rating_pad(sim, ratings, debounce=0.3))
    sim.press("5")
    sim.press("5")  # contact bounce
    sim.press("4")  # a different key counts
    ratings.wait_for(2)
    time.sleep(0.35)  # the window must pass: that is what is under test
    sim.press("4")
    assert [c[1] for c in ratings.wait_for(3)] == ["5", "4", "4"]
    assert ratings.stays(3)


def test_slow_device_bytes_split_across_reads_still_decode(sims, drivers):
    sim = sims(PadSimulator, address=3)
    ratings = Recorder()
    drivers(rating_pad(sim, ratings, counter_id=None, addresses={3: 7}))
    sim.slow = True
    sim.press("4")
    assert ratings.wait_for(1)[0][:3] == (7, "4", 4)


def test_callback_exception_does_not_break_the_port(sims, drivers):
    sim = sims(PadSimulator)
    seen = Recorder()

    def on_rating(*args):
        seen(*args)
        if len(seen.calls) == 1:
            raise RuntimeError("server glue bug")

    driver = drivers(rating_pad(sim, on_rating))
    sim.press("5")
    sim.press("4")
    assert len(seen.wait_for(2)) == 2
    assert driver.state is DeviceState.READY


# --- faults --------------------------------------------------------------------------


def test_unplug_and_replug_mid_stream(sims, drivers):
    sim = sims(PadSimulator)
    ratings, states = Recorder(), Recorder()
    driver = drivers(rating_pad(sim, ratings, on_state=states))
    sim.press("5")
    ratings.wait_for(1)

    sim.unplug()
    assert wait_until(lambda: driver.state in FAULT_STATES)
    assert driver.reason

    sim.replug()  # new pty, same symlink
    assert driver.wait_for_state(DeviceState.READY, WAIT)
    sim.press("3")
    assert [c[1] for c in ratings.wait_for(2)] == ["5", "3"]
    kinds = [s for _, s, _ in states.calls]
    assert kinds[0] is DeviceState.READY
    assert kinds[-1] is DeviceState.READY
    assert set(kinds[1:-1]) <= FAULT_STATES and kinds[1:-1]
    assert all(name == "pad-1" for name, _, _ in states.calls)


def test_retries_report_a_failure_once(tmp_path, caplog):
    states = Recorder()
    driver = RatingPadDriver(
        "pad-x",
        str(tmp_path / "missing"),
        counter_id=1,
        on_rating=Recorder(),
        on_state=states,
        timing=SerialTiming(reconnect_initial=0.01, reconnect_max=0.02),
    )
    with caplog.at_level(logging.INFO, logger="devices.serial.device"):
        driver.start()
        try:
            states.wait_for(1)
            time.sleep(0.3)  # ~15 more failed attempts
        finally:
            driver.close()
    assert [(s, r) for _, s, r in states.calls] == [
        (DeviceState.DISCONNECTED, f"{tmp_path / 'missing'}: no such device"),
        (DeviceState.DISCONNECTED, "closed"),
    ]
    transitions = [r for r in caplog.records if "->" in r.getMessage()]
    assert len(transitions) == 2


def test_device_found_late_is_picked_up(tmp_path, drivers):
    ratings = Recorder()
    sim = PadSimulator(link=tmp_path / "late")
    driver = RatingPadDriver("pad-late", sim.port, counter_id=2, on_rating=ratings, timing=FAST)
    driver.start()
    try:
        assert wait_until(lambda: driver.reason and "no such device" in driver.reason)
        with sim:
            assert driver.wait_for_state(DeviceState.READY, WAIT)
            sim.press("4")
            assert ratings.wait_for(1)[0][:3] == (2, "4", 4)
    finally:
        driver.close()


def test_second_driver_on_same_port_is_an_error_not_a_thief(sims, drivers):
    sim = sims(PadSimulator)
    first, second = Recorder(), Recorder()
    drivers(rating_pad(sim, first))
    intruder = RatingPadDriver("pad-2", sim.port, counter_id=8, on_rating=second, timing=FAST)
    intruder.start()
    try:
        assert intruder.wait_for_state(DeviceState.ERROR, WAIT)
        assert "in use" in intruder.reason
        sim.press("5")
        first.wait_for(1)
        assert second.calls == []
    finally:
        intruder.close()


@pytest.mark.parametrize(
    ("exclude", "label"), [(b"\n", "no newlines"), (b"0123456789", "no digits")]
)
def test_100kb_of_garbage_is_survived(sims, drivers, exclude, label):
    sim = sims(PadSimulator)
    ratings, states = Recorder(), Recorder()
    driver = drivers(rating_pad(sim, ratings, on_state=states))
    sim.garbage(100_000, seed=485, exclude=exclude)
    assert ratings.stays(0, period=FAST.idle_reset + 0.2), label
    assert driver.state is DeviceState.READY
    assert states.calls == [("pad-1", DeviceState.READY, None)]  # never left ready
    sim.press("5")
    assert ratings.wait_for(1)[0][:3] == (7, "5", 5)


def test_valid_line_after_newline_in_garbage_is_recognised(sims, drivers):
    sim = sims(PadSimulator)
    ratings = Recorder()
    drivers(rating_pad(sim, ratings))
    digits = b"0123456789"
    sim.garbage(20_000, seed=1, exclude=digits)
    sim.write(b"\n4\n")
    sim.garbage(20_000, seed=2, exclude=digits)
    assert ratings.wait_for(1)[0][1] == "4"
    assert ratings.stays(1)


def test_close_is_idempotent_and_stops_the_named_thread(sims):
    sim = sims(PadSimulator)
    driver = rating_pad(sim, Recorder())
    driver.start()
    assert driver.wait_for_state(DeviceState.READY, WAIT)
    assert "serial:pad-1" in [t.name for t in threading.enumerate()]
    driver.close()
    driver.close()
    assert driver.state is DeviceState.DISCONNECTED
    assert driver.reason == "closed"
    assert "serial:pad-1" not in [t.name for t in threading.enumerate()]


def test_pty_sim_url_follows_the_named_simulator(monkeypatch, tmp_path, drivers):
    monkeypatch.setenv("TTHCC_SIM_DIR", str(tmp_path / "sims"))
    ratings = Recorder()
    with PadSimulator(name="ratingpad-1") as sim:
        drivers(
            RatingPadDriver(
                "pad-1", "pty-sim:ratingpad-1", counter_id=4, on_rating=ratings, timing=FAST
            )
        )
        sim.press("1")
        assert ratings.wait_for(1)[0][:3] == (4, "1", 1)


def test_driver_config_errors_fail_at_construction():
    with pytest.raises(ValueError):
        RatingPadDriver("p", "/dev/null", on_rating=print)  # neither counter nor bus
    with pytest.raises(ValueError):
        RatingPadDriver("p", "/dev/null", counter_id=1, addresses={1: 1}, on_rating=print)
    with pytest.raises(ValueError):
        RatingPadDriver("p", "/dev/null", addresses={1: 1}, framing="byte", on_rating=print)
    with pytest.raises(ValueError):
        RatingPadDriver("p", "", counter_id=1, on_rating=print)


# --- keypads -------------------------------------------------------------------------


def test_keypad_keys_become_counter_operations(sims, drivers):
    sim = sims(KeypadSimulator)
    commands = Recorder()
    drivers(KeypadDriver("kp-1", sim.port, counter_id=3, on_command=commands, timing=FAST))
    for key in ("N", "r", "3", "X", "Z"):
        sim.press(key)
    calls = commands.wait_for(4)
    assert all(pressed.tzinfo is not None for *_, pressed in calls)  # when the key came
    assert [call[:2] for call in calls] == [
        (3, KeypadOperation.NEXT),
        (3, KeypadOperation.RECALL),
        (3, KeypadOperation.FINISH),
        (3, KeypadOperation.NO_SHOW),
    ]
    assert commands.stays(4)


def test_keypads_on_a_bus_with_a_custom_map(sims, drivers):
    sim = sims(KeypadSimulator, address=1)
    commands = Recorder()
    drivers(
        KeypadDriver(
            "kp-bus",
            sim.port,
            addresses={1: "Q1", 2: "Q2"},
            operations={"A": "next", "B": "finish"},
            on_command=commands,
            timing=FAST,
        )
    )
    sim.press("A")
    sim.press("B", address=2)
    sim.press("N")  # not in the custom map
    assert [call[:2] for call in commands.wait_for(2)] == [
        ("Q1", KeypadOperation.NEXT),
        ("Q2", KeypadOperation.FINISH),
    ]
    assert commands.stays(2)


# --- LED boards ----------------------------------------------------------------------


def led_driver(sim, **kw):
    kw.setdefault("boards", {"Q1": 1, "Q2": 2})
    return LedBoardDriver("led-1", sim.port, timing=FAST, **kw)


def test_led_board_receives_exact_bytes(sims, drivers):
    sim = sims(LedBoardSimulator)
    board = drivers(led_driver(sim, width=12))
    board.show("Q1", "Quầy 1: 1023")
    board.blank("Q2")
    board.show("Q2", "Số 2004 mời vào")
    expected = b"@1:Quay 1: 1023\n@2:\n@2:So 2004 moi \n"
    assert wait_until(lambda: bytes(sim.received) == expected), bytes(sim.received)
    assert sim.shown == {1: "Quay 1: 1023", 2: "So 2004 moi "}
    assert board.last_text("Q2") == "Số 2004 mời vào"


def test_led_text_shown_before_connecting_is_sent_on_connect(sims, drivers):
    sim = sims(LedBoardSimulator)
    board = led_driver(sim)
    board.show("Q1", "1001")
    drivers(board)
    assert sim.wait_for_text(1, "1001", WAIT)


def test_led_board_gets_current_texts_again_after_reconnect(sims, drivers):
    sim = sims(LedBoardSimulator)
    board = drivers(led_driver(sim))
    board.show("Q1", "1001")
    board.show("Q2", "2001")
    assert sim.wait_for(lambda s: s.shown == {1: "1001", 2: "2001"}, WAIT)

    sim.unplug()  # the boards lose power and go dark
    assert wait_until(lambda: board.state in FAULT_STATES)
    board.show("Q1", "1002")  # called while the port is gone: remembered, not lost
    assert sim.shown == {}

    sim.replug()
    assert sim.wait_for(lambda s: s.shown == {1: "1002", 2: "2001"}, WAIT)
    assert bytes(sim.received) == b"@1:1002\n@2:2001\n"  # only the new pty's bytes
    assert board.wait_for_state(DeviceState.READY, WAIT)  # set right after the re-send


def test_led_periodic_refresh(sims, drivers):
    sim = sims(LedBoardSimulator)
    board = drivers(led_driver(sim, refresh_interval=0.1))
    board.show("Q1", "7")
    assert sim.wait_for(lambda s: s.frames.count((1, "7")) >= 3, WAIT)


def test_led_unknown_counter_is_a_key_error(sims):
    sim = sims(LedBoardSimulator)
    with pytest.raises(KeyError):
        led_driver(sim).show("Q9", "1")


# --- drivers from station config ----------------------------------------------------


@dataclass(frozen=True)
class Entry:
    name: str
    url: str
    counter_id: int | str | None = None
    address: int | None = None
    keymap: dict | None = None


def test_factory_makes_one_driver_per_port_and_reports_each_device(sims, drivers):
    bus = sims(PadSimulator, "bus", address=1)
    single = sims(PadSimulator, "single")
    ratings, states = Recorder(), Recorder()
    built = rating_pad_drivers(
        [
            Entry("pad-1", bus.port, counter_id=1, address=1),
            Entry("pad-2", bus.port, counter_id=2, address=2),
            Entry("pad-3", single.port, counter_id=3),
        ],
        on_rating=ratings,
        on_state=states,
        timing=FAST,
    )
    assert len(built) == 2
    for driver in built:
        drivers(driver)
    bus.press("5", address=2)
    single.press("4")
    assert sorted(c[:3] for c in ratings.wait_for(2)) == [(2, "5", 5), (3, "4", 4)]
    assert {name for name, state, _ in states.calls if state is DeviceState.READY} == {
        "pad-1",
        "pad-2",
        "pad-3",
    }


def test_factory_refuses_ambiguous_buses():
    with pytest.raises(ValueError, match="address"):
        rating_pad_drivers([Entry("a", "/dev/x", 1), Entry("b", "/dev/x", 2)], on_rating=print)
    with pytest.raises(ValueError, match="keymap"):
        keypad_drivers(
            [Entry("a", "/dev/x", 1, 1, {"A": "N"}), Entry("b", "/dev/x", 2, 2)],
            on_command=print,
        )


def test_factory_led_boards_default_to_address_1(sims, drivers):
    sim = sims(LedBoardSimulator)
    (board,) = led_board_drivers([Entry("led-q1", sim.port, counter_id="Q1")], timing=FAST)
    drivers(board)
    board.show("Q1", "1023")
    assert sim.wait_for_text(1, "1023", WAIT)
