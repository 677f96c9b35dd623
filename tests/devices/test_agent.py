"""The station agent against a real python-socketio server on 127.0.0.1 (random port)."""

from __future__ import annotations

import logging
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import socketio
from werkzeug.serving import WSGIRequestHandler, make_server

from devices.agent.agent import Agent
from devices.config import PrinterConfig, StationConfig
from devices.errors import DeviceError

TOKEN = "good-token"
NS = "/station"


class _Handler(WSGIRequestHandler):
    def run_wsgi(self) -> None:
        super().run_wsgi()
        # Werkzeug would go on reading the finished websocket as HTTP, so the client's
        # close frame never gets an answer and every disconnect waits 3 s.
        if self.headers.get("Upgrade", "").lower() == "websocket":
            self.close_connection = True

    def log_request(self, *args: Any) -> None:
        pass  # keep test output readable


class StationServer:
    """A minimal server side of docs/station-protocol.md: token check, jobs, acks."""

    def __init__(self, port: int = 0) -> None:
        self.sio = socketio.Server(async_mode="threading", logger=False, engineio_logger=False)
        self.connected: queue.Queue[str] = queue.Queue()
        self.acks: queue.Queue[dict[str, Any]] = queue.Queue()
        self.statuses: queue.Queue[dict[str, Any]] = queue.Queue()
        self.refused = 0
        self.resend_on_connect: list[dict[str, Any]] = []
        #: How far the server's clock is ahead of this machine's (seconds).
        self.clock_ahead = 0.0
        self.heartbeats: queue.Queue[dict[str, Any]] = queue.Queue()
        #: Cleared: heartbeats are received but not answered until it is set (a stalled
        #: server).
        self.answer_heartbeats = threading.Event()
        self.answer_heartbeats.set()

        @self.sio.on("connect", namespace=NS)
        def connect(sid: str, environ: dict, auth: Any) -> None:
            if not isinstance(auth, dict) or auth.get("token") != TOKEN:
                self.refused += 1
                raise socketio.exceptions.ConnectionRefusedError("invalid token")
            self.connected.put(sid)
            for job in self.resend_on_connect:  # "re-sends every job not yet acknowledged"
                self.sio.emit("print.job", job, to=sid, namespace=NS)

        self.sio.on("print.ack", lambda sid, data: self.acks.put(data), namespace=NS)
        self.sio.on("device.status", lambda sid, data: self.statuses.put(data), namespace=NS)

        @self.sio.on("station.heartbeat", namespace=NS)
        def heartbeat(sid: str, data: Any) -> dict[str, Any]:
            self.heartbeats.put(data)
            self.answer_heartbeats.wait(30)
            return {"ok": True, "server_time": time.time() + self.clock_ahead}

        self.http = make_server(
            "127.0.0.1", port, socketio.WSGIApp(self.sio), threaded=True, request_handler=_Handler
        )
        self.port = self.http.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(
            target=self.http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def send_job(self, sid: str, job: dict[str, Any]) -> None:
        self.sio.emit("print.job", job, to=sid, namespace=NS)

    def next_ack(self, timeout: float = 5.0) -> dict[str, Any]:
        return self.acks.get(timeout=timeout)

    def close(self) -> None:
        self.answer_heartbeats.set()
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def server() -> Iterator[StationServer]:
    station_server = StationServer()
    yield station_server
    station_server.close()


@pytest.fixture
def make_agent(tmp_path: Path):
    agents: list[Agent] = []

    def make(url: str, token: str = TOKEN, **kwargs: Any) -> Agent:
        config = StationConfig(
            server_url=url,
            station_token=token,
            spool_dir=tmp_path / "spool",
            printers=(
                PrinterConfig(name="kiosk-printer", url=f"sim://{tmp_path}/paper", default=True),
            ),
        )
        agent = Agent(config, connect_timeout=2.0, **kwargs)
        agents.append(agent)
        agent.start()
        return agent

    yield make
    for agent in agents:
        agent.close()


def job(ticket_payload, job_id: str = "b6f0c2", **ticket: Any) -> dict[str, Any]:
    return {"job_id": job_id, "printer": None, "ticket": ticket_payload(**ticket)}


def printed_files(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "paper").glob("*.bin"))


def test_job_is_printed_once_and_acknowledged(server, make_agent, tmp_path, ticket_payload) -> None:
    make_agent(server.url)
    sid = server.connected.get(timeout=5)

    server.send_job(sid, job(ticket_payload))
    assert server.next_ack() == {"job_id": "b6f0c2", "status": "printed", "reason": None}
    assert printed_files(tmp_path) == ["b6f0c2.bin"]
    assert (tmp_path / "paper" / "b6f0c2.png").exists()

    server.send_job(sid, job(ticket_payload))  # a re-send: acknowledged, not printed again
    assert server.next_ack() == {"job_id": "b6f0c2", "status": "printed", "reason": None}
    assert printed_files(tmp_path) == ["b6f0c2.bin"]


def test_job_resent_after_agent_restart_is_not_printed_again(
    server, make_agent, tmp_path, ticket_payload
) -> None:
    first = make_agent(server.url)
    server.send_job(server.connected.get(timeout=5), job(ticket_payload))
    assert server.next_ack()["status"] == "printed"
    printed_at = (tmp_path / "paper" / "b6f0c2.bin").stat().st_mtime_ns
    first.close()

    # The ack was "lost": the server re-sends the job when the new agent connects.
    server.resend_on_connect.append(job(ticket_payload))
    make_agent(server.url)
    assert server.next_ack() == {"job_id": "b6f0c2", "status": "printed", "reason": None}
    assert printed_files(tmp_path) == ["b6f0c2.bin"]
    assert (tmp_path / "paper" / "b6f0c2.bin").stat().st_mtime_ns == printed_at


def test_paper_out_fails_the_job_then_a_resend_prints(
    server, make_agent, tmp_path, ticket_payload
) -> None:
    (tmp_path / "paper").mkdir()
    (tmp_path / "paper" / "fault").write_text("paper_out")
    make_agent(server.url)
    sid = server.connected.get(timeout=5)

    server.send_job(sid, job(ticket_payload))
    assert server.next_ack() == {"job_id": "b6f0c2", "status": "failed", "reason": "paper out"}
    assert printed_files(tmp_path) == []
    status = server.statuses.get(timeout=5)
    assert status == {
        "device": "kiosk-printer",
        "kind": "printer",
        "state": "error",
        "reason": "paper out",
    }

    (tmp_path / "paper" / "fault").unlink()  # paper refilled
    server.send_job(sid, job(ticket_payload))
    assert server.next_ack()["status"] == "printed"
    assert printed_files(tmp_path) == ["b6f0c2.bin"]
    assert server.statuses.get(timeout=5)["state"] == "ready"


def test_invalid_ticket_is_acknowledged_failed_with_the_reason(server, make_agent, ticket_payload):
    make_agent(server.url)
    server.send_job(server.connected.get(timeout=5), job(ticket_payload, number=""))
    ack = server.next_ack()
    assert ack["status"] == "failed" and "number" in ack["reason"]


def test_printer_state_is_reported_after_connecting(server, make_agent) -> None:
    make_agent(server.url)
    assert server.statuses.get(timeout=5) == {
        "device": "kiosk-printer",
        "kind": "printer",
        "state": "ready",
        "reason": None,
    }


def test_bad_token_is_refused(server, make_agent) -> None:
    agent = make_agent(server.url, token="stolen")
    deadline = time.monotonic() + 3
    while agent.last_connect_error is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert agent.last_connect_error == "invalid token"
    assert not agent.connected
    assert server.refused >= 1 and server.connected.empty()


def test_unreachable_server_is_logged_once_and_retried(make_agent, caplog) -> None:
    with socket.socket() as probe:  # a port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    caplog.set_level(logging.DEBUG, logger="devices.agent.agent")
    agent = make_agent(f"http://127.0.0.1:{port}", retry_initial=0.05, retry_max=0.1)

    def attempts() -> list[logging.LogRecord]:
        return [r for r in caplog.records if "connect" in r.getMessage()]

    # Waited for, not slept for: on a loaded machine 0.8 s held fewer than 3 attempts.
    deadline = time.monotonic() + 10
    while len(attempts()) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    warnings = [r for r in attempts() if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and len(attempts()) >= 5

    server = StationServer(port)  # the server comes back on the same address
    try:
        assert agent.wait_connected(3.0)
    finally:
        agent.close()
        server.close()


def test_health_loop_pings_the_watchdog(server, make_agent, tmp_path, monkeypatch) -> None:
    agent = make_agent(server.url)
    assert agent.wait_connected(5)
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.bind(str(tmp_path / "notify"))
        notify.settimeout(2)
        monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
        assert agent.health_check()
        assert notify.recv(256) == b"WATCHDOG=1"
        assert notify.recv(256).startswith(f"STATUS=connected to {server.url}".encode())


def test_job_for_an_unknown_printer_fails(server, make_agent, ticket_payload) -> None:
    make_agent(server.url)
    server.send_job(server.connected.get(timeout=5), {**job(ticket_payload), "printer": "nope"})
    assert server.next_ack() == {
        "job_id": "b6f0c2",
        "status": "failed",
        "reason": "no printer named 'nope' at this station",
    }


def test_agent_command_runs_until_sigterm(server, tmp_path: Path) -> None:
    config = tmp_path / "station.toml"
    config.write_text(
        f'server_url = "{server.url}"\nstation_token = "{TOKEN}"\nspool_dir = "spool"\n'
        f'[[printers]]\nname = "kiosk-printer"\nurl = "sim://{tmp_path}/paper"\n'
    )
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify"))
    notify.settimeout(10)
    env = {**os.environ, "NOTIFY_SOCKET": str(tmp_path / "notify")}
    code = "from devices.agent.cli import agent_command; agent_command()"
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(config)], env=env, stderr=subprocess.PIPE, text=True
    )
    server.answer_heartbeats.clear()  # the heartbeat after connect is still in flight
    try:
        assert notify.recv(256) == b"READY=1"
        assert server.statuses.get(timeout=10)["state"] == "ready"  # connect() returned
        server.heartbeats.get(timeout=10)
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        # Not held by the unanswered heartbeat (its 5 s timeout): disconnecting waits at
        # most 2 s for python-engineio, the rest is prompt.
        assert time.monotonic() - signalled < 4.0
    finally:
        process.kill()
        notify.close()
    assert "connected to" in process.stderr.read()


def test_a_call_in_flight_gives_up_when_the_link_drops(server, make_agent) -> None:
    agent = make_agent(server.url, heartbeat_interval=3600)
    sid = server.connected.get(timeout=5)
    assert agent.wait_connected(5)
    assert agent.clock_offset(timeout=5) is not None  # the measurements after connect
    server.answer_heartbeats.clear()
    threading.Timer(0.3, server.sio.disconnect, args=(sid,), kwargs={"namespace": NS}).start()
    started = time.monotonic()
    with pytest.raises(DeviceError, match="connection closed"):
        agent.call("station.heartbeat", {}, timeout=5.0)
    # python-socketio's own call() would wait out the 5 s after the drop.
    assert time.monotonic() - started < 2.0
    server.answer_heartbeats.set()
    # The server closed the namespace; the agent connects again (the connection thread
    # used to die here racing python-engineio's own close).
    assert server.connected.get(timeout=10) != sid
    assert agent.wait_connected(5)
    assert agent.health_check()


def test_agent_command_explains_a_bad_config(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from devices.agent.cli import agent_command

    config = tmp_path / "station.toml"
    config.write_text('server_url = "ftp://x"\n')
    result = CliRunner().invoke(agent_command, [str(config)])
    assert result.exit_code == 1
    assert "server_url must be an http:// or https:// URL" in result.output


def test_several_runners_may_follow_one_server_event(server, make_agent) -> None:
    agent = make_agent(server.url)
    seen: queue.Queue[tuple[str, Any]] = queue.Queue()
    agent.on("counter.updated", lambda data: seen.put(("boards", data)))
    agent.on("counter.updated", lambda data: 1 / 0)  # a broken handler stops no one
    agent.on("counter.updated", lambda data: seen.put(("keypad", data)))
    sid = server.connected.get(timeout=5)
    server.sio.emit("counter.updated", {"counter": {"id": 1}}, to=sid, namespace=NS)
    got = [seen.get(timeout=5), seen.get(timeout=5)]
    assert got == [("boards", {"counter": {"id": 1}}), ("keypad", {"counter": {"id": 1}})]


def test_health_check_covers_the_serial_runners(server, tmp_path: Path) -> None:
    from devices.config import RatingPadConfig
    from devices.serial.sim import PadSimulator

    with PadSimulator(link=tmp_path / "pad") as _pad:
        config = StationConfig(
            server_url=server.url,
            station_token=TOKEN,
            spool_dir=tmp_path / "spool",
            ratingpads=(RatingPadConfig("pad-q1", str(tmp_path / "pad"), counter_id=1),),
        )
        agent = Agent(config, connect_timeout=2.0)
        agent.start()
        try:
            assert agent.wait_connected(5)
            assert agent.health_check()  # serial runners report health as a property
            agent.runners["ratingpads"].drivers[0].close()  # its reader thread ends
            assert not agent.health_check()
        finally:
            agent.close()


def test_the_station_clock_is_measured_at_connect_and_on_every_heartbeat(server, make_agent):
    server.clock_ahead = 300.0  # the station's clock is five minutes behind the server's
    agent = make_agent(server.url, heartbeat_interval=0.3)
    assert agent.wait_connected(5)
    offset = agent.clock_offset(timeout=5)
    # Both clocks are this machine's: only the loopback round trip can make it inexact.
    assert offset == pytest.approx(300.0, abs=0.05)
    shown = re.search(r"clock ([+-]\d+\.\d+) s", agent.summary())
    assert shown and float(shown.group(1)) == pytest.approx(300.0, abs=0.05), agent.summary()
    beats = [server.heartbeats.get(timeout=5) for _ in range(5)]  # 3 at connect, then beats
    assert beats[0] == {"clock_offset": None, "round_trip": None}
    assert beats[-1]["clock_offset"] == pytest.approx(300.0, abs=0.05)


def test_a_server_without_heartbeats_leaves_presses_on_the_station_clock(make_agent):
    old = StationServer()
    old.sio.handlers[NS].pop("station.heartbeat")
    try:
        agent = make_agent(old.url)
        old.connected.get(timeout=5)
        assert agent.clock_offset(timeout=8) is None  # one unanswered call, then on
        assert agent.connected
    finally:
        old.close()
