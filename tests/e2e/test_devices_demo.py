"""The newcomer's path: `tthcc run` serves the demo with simulated counter devices; a key
pressed from a shell (`echo 5 > var/dev/ratingpad-1.ctl`) becomes a counted rating, and a
keypad's N calls a ticket that the LED board shows. `tthcc demo` stays idempotent and
safe to run concurrently, for both demo stations."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import requests

from tests.e2e.conftest import ROOT, free_port, wait_for_http
from tests.e2e.test_devices import wait_until


def _env(instance: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ, TTHCC_INSTANCE_PATH=str(instance), TTHCC_SECRET_KEY="demo-test")
    env.pop("TTHCC_SIM_DIR", None)
    env.pop("TTHCC_DATABASE_URL", None)
    env.update(extra)
    return env


def echo(fifo: Path, line: str) -> None:
    """What `echo LINE > FIFO` does in a shell."""
    with open(fifo, "w") as control:
        control.write(line + "\n")


def test_tthcc_run_a_shell_press_is_counted_and_the_keypad_calls_to_the_board(tmp_path):
    instance = tmp_path / "instance"
    port = free_port()
    log = tmp_path / "run.log"
    with open(log, "wb") as out:
        run = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "run", "--port", str(port)],
            env=_env(instance),
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def output() -> str:
        return log.read_text(encoding="utf-8", errors="replace")

    url = f"http://127.0.0.1:{port}"
    dev = instance / "dev"
    try:
        wait_for_http(url + "/api/v1/centres", timeout=60)
        wait_until(lambda: output().count("connected to ") >= 2, 30, "both demo agents")
        assert (dev / "ratingpad-1").is_symlink() and (dev / "ratingpad-1.ctl").exists()

        def token(user: str, password: str) -> dict:
            r = requests.post(
                f"{url}/api/v1/auth/token", json={"username": user, "password": password}
            )
            return {"Authorization": f"Bearer {r.json()['token']}"}

        staff = token("canbo1", "tthcc-canbo")
        supervisor = token("giamsat", "tthcc-giamsat")
        requests.post(f"{url}/api/v1/counters/1/status", json={"status": "open"}, headers=staff)
        ticket = requests.post(f"{url}/api/v1/tickets", json={"service_id": 1}).json()

        echo(dev / "keypad-1.ctl", "N")  # counter 1's keypad: call the next ticket
        wait_until(
            lambda: f"ledboards: board 1 [{ticket['number']}] (counter 1)" in output(),
            15,
            "the LED board of counter 1 showing the ticket",
        )
        current = requests.get(f"{url}/api/v1/counters/1").json()["current_ticket"]
        assert current["id"] == ticket["id"]
        requests.post(f"{url}/api/v1/tickets/{ticket['id']}/finish", headers=staff)
        wait_until(lambda: "ledboards: board 1 [] (counter 1)" in output(), 15, "a blank board")

        echo(dev / "ratingpad-1.ctl", "5")  # the citizen: Rất hài lòng
        ratings = wait_until(
            lambda: requests.get(f"{url}/api/v1/ratings", headers=supervisor).json(),
            15,
            "the rating",
        )
        assert len(ratings) == 1
        rating = ratings[0]
        assert (rating["ticket_number"], rating["level"], rating["counter_number"]) == (
            ticket["number"],
            5,
            1,
        )
        me = requests.get(f"{url}/api/v1/auth/me", headers=staff).json()["user"]
        assert rating["staff_id"] == me["id"]
    finally:
        run.send_signal(signal.SIGINT)
        try:
            run.wait(timeout=30)
        except subprocess.TimeoutExpired:
            run.kill()
            run.wait()
    assert run.returncode == 0, output()[-3000:]
    # The simulators cleaned up: no link or FIFO is left pointing nowhere.
    assert not list(dev.glob("ratingpad-*")) and not list(dev.glob("*.ctl")), list(dev.iterdir())


def test_demo_runs_at_once_leave_valid_tokens_for_both_stations(tmp_path):
    instance = tmp_path / "instance"
    env = _env(instance, TTHCC_LOG_LEVEL="WARNING")
    subprocess.run(
        [sys.executable, "-m", "server.cli", "db", "upgrade"], env=env, cwd=ROOT, check=True
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "server.cli", "demo"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    assert sum(out.startswith(b"created") for out, _ in outputs) == 1

    from server.db import Database
    from server.services.auth import station_for_token

    database = Database(f"sqlite:///{instance / 'tthcc.sqlite3'}")
    try:
        with database.transaction() as s:
            for name, code in (
                ("kiosk-agent.toml", "KIOSK-1"),
                ("counters-agent.toml", "COUNTERS-1"),
            ):
                path = instance / "demo" / name
                token = tomllib.loads(path.read_text())["station_token"]
                station = station_for_token(s, token)
                assert station is not None and station.code == code, name
                assert path.stat().st_mode & 0o077 == 0  # it holds a token: owner only
    finally:
        database.dispose()
    # A valid station config: a pad per counter, the boards on one bus, counter 1's keypad.
    from devices.config import load_config
    from devices.serial.simhall import SimHall

    station = load_config(instance / "demo" / "counters-agent.toml", env={})
    assert [p.url for p in station.ratingpads][:2] == ["pty-sim:ratingpad-1", "pty-sim:ratingpad-2"]
    assert {b.address for b in station.ledboards} == set(range(1, 8))
    hall = SimHall(station, directory=tmp_path / "dev")
    assert sorted(hall.devices) == sorted(
        [f"ratingpad-{n}" for n in range(1, 8)] + ["ledboards", "keypad-1"]
    )
