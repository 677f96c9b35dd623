"""The serial runners the station agent loads: drivers + spool + server events."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from devices.agent.runners import runner_factories
from devices.config import KeypadConfig, LedBoardConfig, RatingPadConfig, StationConfig
from devices.errors import DeviceError
from devices.serial import runners
from devices.serial.driver import DeviceState
from devices.serial.sim import KeypadSimulator, LedBoardSimulator, PadSimulator
from devices.spool import Spool

WAIT = 5.0


def wait_until(predicate, timeout: float = WAIT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


class FakeAgent:
    """An AgentContext whose server connection the test switches on and off."""

    def __init__(self, spool_dir: Path) -> None:
        self.spool_dir = spool_dir
        self.connected = True
        self.emitted: list[tuple[str, dict]] = []
        self.calls: list[tuple[str, dict]] = []
        self.statuses: list[tuple[str, str, str, str | None]] = []
        self.handlers: dict[str, Any] = {}
        self.connect_callbacks: list[Any] = []
        self.lock = threading.Lock()
        #: The measured clock offset (seconds), None before any measurement.
        self.offset: float | None = None
        self.offset_waits: list[float] = []

    def emit(self, event: str, payload: dict) -> bool:
        if self.connected:
            self.emitted.append((event, payload))
        return self.connected

    def call(self, event: str, payload: dict, timeout: float = 5.0) -> Any:
        if not self.connected:
            raise DeviceError("not connected")
        with self.lock:
            self.calls.append((event, payload))
        return {"ok": True}

    def clock_offset(self, timeout: float = 0.0) -> float | None:
        if timeout:
            self.offset_waits.append(timeout)
        return self.offset

    def report_status(self, device: str, kind: str, state: str, reason: str | None) -> None:
        self.statuses.append((device, kind, state, reason))

    def on(self, event: str, handler) -> None:
        self.handlers[event] = handler

    def deliver(self, event: str, payload: Any) -> None:
        if event in self.handlers:
            self.handlers[event](payload)

    def on_connect(self, callback) -> None:
        self.connect_callbacks.append(callback)

    def reconnect(self) -> None:
        self.connected = True
        for callback in self.connect_callbacks:
            callback()


def station(tmp_path: Path, **sections) -> StationConfig:
    return StationConfig(
        server_url="http://127.0.0.1:8000",
        station_token="t",
        spool_dir=tmp_path / "spool",
        **sections,
    )


@pytest.fixture
def running():
    started = []

    def run(runner_list):
        for runner in runner_list:
            started.append(runner)
            runner.start()
        for runner in runner_list:
            for driver in runner.drivers:
                assert driver.wait_for_state(DeviceState.READY, WAIT), driver.reason
        return runner_list

    yield run
    for runner in started:
        runner.close()


def test_factories_are_registered_for_the_agent():
    factories = runner_factories()
    assert factories["ratingpads"] is runners.rating_pad_runners
    assert factories["keypads"] is runners.keypad_runners
    assert factories["ledboards"] is runners.led_board_runners


def test_ratings_are_spooled_and_delivered_in_order_after_an_outage(tmp_path, running):
    agent = FakeAgent(tmp_path / "spool")
    with PadSimulator(link=tmp_path / "bus", address=1) as bus:
        config = station(
            tmp_path,
            ratingpads=(
                RatingPadConfig("pad-q1", str(tmp_path / "bus"), counter_id=1, address=1),
                RatingPadConfig("pad-q2", str(tmp_path / "bus"), counter_id=2, address=2),
            ),
        )
        (runner,) = running(runners.rating_pad_runners(config, agent))
        assert runner.healthy
        # on_state runs just after the state changes: wait for the report, not the state.
        assert wait_until(
            lambda: {s[0] for s in agent.statuses if s[2] == "ready"} == {"pad-q1", "pad-q2"}
        )

        bus.press("5")
        assert wait_until(lambda: len(agent.calls) == 1)
        event, payload = agent.calls[0]
        assert event == runners.RATING_SUBMIT
        assert payload["counter_id"] == 1
        assert (payload["raw_key"], payload["level"]) == ("5", 5)
        assert len(payload["key"]) == 32
        assert payload["pressed_at"] == payload["station_pressed_at"]  # no offset measured
        assert payload["clock_offset"] is None

        agent.connected = False  # the server goes away; citizens keep pressing
        bus.press("1", address=2)
        bus.press("3")
        spool = Spool(tmp_path / "spool" / runners.SPOOL_FILE)
        try:
            assert wait_until(lambda: spool.pending_count() == 2)
        finally:
            spool.close()
        agent.reconnect()  # wake() skips the back-off
        assert wait_until(lambda: len(agent.calls) == 3)
        assert [(p["counter_id"], p["level"]) for _, p in agent.calls[1:]] == [(2, 1), (1, 3)]


def test_keypad_commands_are_emitted_not_spooled(tmp_path, running):
    agent = FakeAgent(tmp_path / "spool")
    with KeypadSimulator(link=tmp_path / "kp") as keypad:
        config = station(tmp_path, keypads=(KeypadConfig("kp-q3", str(tmp_path / "kp"), 3),))
        running(runners.keypad_runners(config, agent))
        keypad.press("N")
        assert wait_until(lambda: len(agent.emitted) == 1)
        agent.connected = False
        keypad.press("F")
        time.sleep(0.2)  # the dropped press must not show up later
        agent.connected = True
        keypad.press("X")
        assert wait_until(lambda: len(agent.emitted) == 2)
        assert [(e, p["counter_id"], p["operation"]) for e, p in agent.emitted] == [
            (runners.COUNTER_COMMAND, 3, "next"),
            (runners.COUNTER_COMMAND, 3, "no_show"),
        ]


def test_keypad_commands_carry_the_press_time_on_the_servers_clock(tmp_path, running):
    agent = FakeAgent(tmp_path / "spool")
    agent.offset = 300.0  # the station's clock is five minutes behind the server's
    with KeypadSimulator(link=tmp_path / "kp") as keypad:
        config = station(tmp_path, keypads=(KeypadConfig("kp-q3", str(tmp_path / "kp"), 3),))
        running(runners.keypad_runners(config, agent))
        keypad.press("N")
        assert wait_until(lambda: len(agent.emitted) == 1)
        payload = agent.emitted[0][1]
        server_now = datetime.now(UTC) + timedelta(seconds=300)
        pressed_at = datetime.fromisoformat(payload["pressed_at"])
        assert abs((server_now - pressed_at).total_seconds()) < 2
        assert payload["clock_offset"] == 300.0


def test_a_spooled_press_keeps_its_time_and_the_offset_measured_when_it_was_pressed(
    tmp_path, running
):
    agent = FakeAgent(tmp_path / "spool")
    with PadSimulator(link=tmp_path / "pad") as pad:
        config = station(tmp_path, ratingpads=(RatingPadConfig("pad", str(tmp_path / "pad"), 1),))
        running(runners.rating_pad_runners(config, agent))
        agent.connected = False
        pad.press("2")  # pressed before the clock was ever measured (started offline)
        time.sleep(0.4)
        agent.offset = -120.0  # measured later: the station clock is 2 min ahead
        pad.press("4")
        spool = Spool(tmp_path / "spool" / runners.SPOOL_FILE)
        try:
            assert wait_until(lambda: spool.pending_count() == 2)
        finally:
            spool.close()
        agent.offset = -119.0  # the next measurement differs a little; then we reconnect
        time.sleep(1.0)  # delivered at least a second late
        agent.reconnect()
        assert wait_until(lambda: len(agent.calls) == 2)
        first, second = (p for _, p in agent.calls)
        for payload, offset in ((first, -119.0), (second, -120.0)):
            station_time = datetime.fromisoformat(payload["station_pressed_at"])
            pressed_at = datetime.fromisoformat(payload["pressed_at"])
            assert payload["clock_offset"] == offset
            assert pressed_at == station_time + timedelta(seconds=offset)
        # The press time is the press's, not the delivery's.
        second_pressed = datetime.fromisoformat(second["station_pressed_at"])
        assert datetime.now(UTC) - second_pressed > timedelta(seconds=1)
        # The unmeasured one waited for the measurement of the new connection.
        assert agent.offset_waits and set(agent.offset_waits) == {runners.CLOCK_WAIT_SECONDS}


def test_a_press_spooled_by_an_older_agent_is_sent_on_the_servers_clock(tmp_path, running):
    spool = Spool(tmp_path / "spool" / runners.SPOOL_FILE)
    station_time = datetime(2026, 11, 27, 2, 15, tzinfo=UTC)
    old = {"counter_id": 1, "raw_key": "5", "level": 5, "scale": 5}
    spool.put(runners.RATING_KIND, {**old, "pressed_at": station_time.isoformat()})
    spool.close()
    agent = FakeAgent(tmp_path / "spool")
    agent.offset = 30.0
    with PadSimulator(link=tmp_path / "pad"):
        config = station(tmp_path, ratingpads=(RatingPadConfig("pad", str(tmp_path / "pad"), 1),))
        running(runners.rating_pad_runners(config, agent))
        assert wait_until(lambda: len(agent.calls) == 1)
    payload = agent.calls[0][1]
    assert payload["pressed_at"] == (station_time + timedelta(seconds=30)).isoformat()
    assert "sent_at" not in payload


def test_led_boards_follow_counter_updates(tmp_path, running):
    agent = FakeAgent(tmp_path / "spool")
    with LedBoardSimulator(link=tmp_path / "led") as led:
        config = station(
            tmp_path,
            ledboards=(
                LedBoardConfig("led-q1", str(tmp_path / "led"), counter_id=1, address=1),
                LedBoardConfig("led-q2", str(tmp_path / "led"), counter_id=2, address=2),
            ),
        )
        running(runners.led_board_runners(config, agent))
        update = agent.handlers[runners.COUNTER_UPDATED]
        update({"counter": {"id": 2, "current_ticket": {"number": "A1023"}}})
        update({"counter": {"id": 9, "current_ticket": {"number": "B7"}}})  # not ours
        update({"counter": {"id": 1, "current_ticket": None}})
        update("junk")
        assert led.wait_for(lambda s: s.shown == {2: "A1023", 1: ""}, WAIT), led.shown


def test_no_devices_no_runners(tmp_path):
    agent = FakeAgent(tmp_path / "spool")
    config = station(tmp_path)
    assert runners.rating_pad_runners(config, agent) == []
    assert runners.keypad_runners(config, agent) == []
    assert runners.led_board_runners(config, agent) == []
    assert not (tmp_path / "spool").exists()


class ScriptedAgent(FakeAgent):
    """A FakeAgent whose server answers rating.submit with the acks the test queues."""

    def __init__(self, spool_dir: Path, acks: list[Any]) -> None:
        super().__init__(spool_dir)
        self.acks = acks

    def call(self, event: str, payload: dict, timeout: float = 5.0) -> Any:
        super().call(event, payload, timeout)
        return self.acks.pop(0) if self.acks else {"ok": True}


def test_only_a_stored_or_refused_rating_leaves_the_spool(tmp_path, running):
    # Server error (retry), an old server without the handler (None), then stored; the
    # next item is refused for good and not retried.
    agent = ScriptedAgent(
        tmp_path / "spool",
        [{"ok": False, "retry": True, "message": "db down"}, None, {"ok": True}, {"ok": False}],
    )
    with PadSimulator(link=tmp_path / "pad") as pad:
        config = station(tmp_path, ratingpads=(RatingPadConfig("pad", str(tmp_path / "pad"), 1),))
        running(runners.rating_pad_runners(config, agent))
        pad.press("4")
        time.sleep(0.1)
        for _ in range(2):  # skip the back-off
            agent.reconnect()
            time.sleep(0.05)
        assert wait_until(lambda: len(agent.calls) == 3, 10)
        pad.press("2")
        assert wait_until(lambda: len(agent.calls) == 4)
        spool = Spool(tmp_path / "spool" / runners.SPOOL_FILE)
        try:
            assert wait_until(lambda: spool.pending_count() == 0)
        finally:
            spool.close()
        keys = [p["key"] for _, p in agent.calls]
        assert keys[0] == keys[1] == keys[2] != keys[3]  # the same item until it was taken
        first = agent.calls[0][1]
        assert (first["level"], first["scale"]) == (4, 5) and "pressed_at" in first


def test_the_centres_scale_comes_from_the_server_and_is_remembered(tmp_path, running):
    agent = FakeAgent(tmp_path / "spool")
    with PadSimulator(link=tmp_path / "pad") as pad:
        config = station(tmp_path, ratingpads=(RatingPadConfig("pad", str(tmp_path / "pad"), 1),))
        running(runners.rating_pad_runners(config, agent))
        agent.handlers[runners.STATION_CONFIG]({"rating_scale": 3, "station": "COUNTERS-1"})
        pad.press("3")  # the most satisfied key of a 3-key pad: "Hài lòng"
        pad.press("5")  # not on a 3-key pad: ignored
        assert wait_until(lambda: len(agent.calls) == 1)
        time.sleep(0.2)
        assert [(p["raw_key"], p["level"], p["scale"]) for _, p in agent.calls] == [("3", 4, 3)]
    # A restart while the server is unreachable keeps the 3-key scale.
    again = FakeAgent(tmp_path / "spool")
    with PadSimulator(link=tmp_path / "pad2") as pad:
        config = station(tmp_path, ratingpads=(RatingPadConfig("pad", str(tmp_path / "pad2"), 1),))
        running(runners.rating_pad_runners(config, again))
        pad.press("2")
        assert wait_until(lambda: len(again.calls) == 1)
        assert again.calls[0][1]["level"] == 3


def test_a_refused_keypad_key_flashes_on_the_board_then_the_number_returns(
    tmp_path, running, monkeypatch
):
    monkeypatch.setattr(runners, "REFUSAL_SECONDS", 0.3)
    agent = FakeAgent(tmp_path / "spool")
    with LedBoardSimulator(link=tmp_path / "led") as led:
        config = station(tmp_path, ledboards=(LedBoardConfig("led-q1", str(tmp_path / "led"), 1),))
        running(runners.led_board_runners(config, agent))
        agent.handlers[runners.COUNTER_UPDATED](
            {"counter": {"id": 1, "current_ticket": {"number": "1001"}}}
        )
        assert led.wait_for_text(1, "1001", WAIT)
        result = agent.handlers[runners.COUNTER_RESULT]
        result({"ok": True, "counter_id": 1})  # success: the number comes by counter.updated
        result({"ok": False, "counter_id": 9, "board_text": "Hết số"})  # not our board
        result({"ok": False, "counter_id": 1, "board_text": "Hết số"})
        assert led.wait_for_text(1, "Het so", WAIT)
        assert led.wait_for_text(1, "1001", WAIT)
        assert [text for _, text in led.frames] == ["1001", "Het so", "1001"]


def test_a_keypad_key_pressed_while_not_connected_says_so_on_the_board(
    tmp_path, running, monkeypatch
):
    monkeypatch.setattr(runners, "REFUSAL_SECONDS", 0.3)
    agent = FakeAgent(tmp_path / "spool")
    with (
        KeypadSimulator(link=tmp_path / "kp") as keypad,
        LedBoardSimulator(link=tmp_path / "led") as led,
    ):
        config = station(
            tmp_path,
            keypads=(KeypadConfig("kp-q1", str(tmp_path / "kp"), 1),),
            ledboards=(LedBoardConfig("led-q1", str(tmp_path / "led"), 1),),
        )
        running(runners.led_board_runners(config, agent) + runners.keypad_runners(config, agent))
        agent.handlers[runners.COUNTER_UPDATED](
            {"counter": {"id": 1, "current_ticket": {"number": "1001"}}}
        )
        assert led.wait_for_text(1, "1001", WAIT)
        agent.connected = False
        keypad.press("N")  # dropped: staff see why instead of nothing
        assert led.wait_for_text(1, "Mat ket noi", WAIT), led.shown
        assert led.wait_for_text(1, "1001", WAIT)
        assert agent.emitted == []
