"""The `tthcc` console script contract (ARCHITECTURE.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return dict(
        os.environ,
        TTHCC_INSTANCE_PATH=str(tmp_path / "instance"),
        TTHCC_SECRET_KEY="cli-test",
        TTHCC_LOG_LEVEL="WARNING",
    )


def tthcc(env, *args, stdin: str | None = None, check: bool = True):
    result = subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        env=env,
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"tthcc {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def test_every_contract_command_exists(env):
    out = tthcc(env, "--help").stdout
    for command in ("run", "db", "demo", "user", "agent", "sim", "station", "voice"):
        assert f"  {command} " in out, command
    sim = tthcc(env, "sim", "--help").stdout
    for device in ("printer", "ratingpad", "keypad", "ledboard", "scanner"):
        assert f"  {device} " in sim, device
    run = tthcc(env, "run", "--help").stdout
    assert "--host" in run and "--port" in run


def test_db_upgrade_demo_and_user_add(env):
    tthcc(env, "db", "upgrade")
    first = tthcc(env, "demo").stdout
    second = tthcc(env, "demo").stdout
    assert first.startswith("created") and second.startswith("already present")
    purged = tthcc(env, "privacy", "purge").stdout  # the hourly retention job
    assert purged.startswith("ID-card scans: 0 pending deleted, 0 cleared")
    agent_config = Path(env["TTHCC_INSTANCE_PATH"]) / "demo" / "kiosk-agent.toml"
    token_before = agent_config.read_text()
    assert "station_token" in token_before
    # Re-running the demo keeps the kiosk agent's still-valid token.
    assert agent_config.read_text() == token_before

    added = tthcc(
        env, "user", "add", "nguyenvana", "--role", "supervisor", stdin="mat-khau-du-dai\n"
    )
    assert "nguyenvana (supervisor) created" in added.stdout
    dup = tthcc(
        env, "user", "add", "nguyenvana", "--role", "staff", stdin="mat-khau-du-dai\n", check=False
    )
    assert dup.returncode != 0 and "taken" in dup.stderr
    short = tthcc(env, "user", "add", "x", "--role", "staff", stdin="ngan\n", check=False)
    assert short.returncode != 0 and "8+" in short.stderr
    bad_role = tthcc(
        env, "user", "add", "y", "--role", "king", stdin="mat-khau-du-dai\n", check=False
    )
    assert bad_role.returncode != 0


def test_user_added_on_the_cli_can_log_in(env, tmp_path):
    tthcc(env, "db", "upgrade")
    tthcc(env, "user", "add", "tranb", "--role", "admin", stdin="mat-khau-du-dai\n")
    from server.app import create_app
    from server.config import Config

    app = create_app(Config.from_env(env))
    response = app.test_client().post(
        "/api/v1/auth/token", json={"username": "tranb", "password": "mat-khau-du-dai"}
    )
    assert response.status_code == 200 and response.get_json()["user"]["role"] == "admin"


def test_station_token_can_be_issued_and_revoked(env):
    tthcc(env, "demo")
    token = tthcc(env, "station", "token", "KIOSK-1").stdout.strip()
    assert len(token) >= 40
    from server.app import create_app
    from server.config import Config
    from server.services.auth import station_for_token

    app = create_app(Config.from_env(env))
    database = app.extensions["tthcc_db"]
    with database.transaction() as s:
        assert station_for_token(s, token).code == "KIOSK-1"
    tthcc(env, "station", "revoke", "KIOSK-1")
    with database.transaction() as s:
        assert station_for_token(s, token) is None
    missing = tthcc(env, "station", "token", "NOPE", check=False)
    assert missing.returncode != 0 and "no station" in missing.stderr


def test_demo_adds_the_slip_printer_to_an_older_counters_config_keeping_its_token(env):
    import tomllib

    tthcc(env, "demo")
    path = Path(env["TTHCC_INSTANCE_PATH"]) / "demo" / "counters-agent.toml"
    config = tomllib.loads(path.read_text())
    assert [p["url"] for p in config["printers"]] == [
        f"sim://{Path(env['TTHCC_INSTANCE_PATH']) / 'printed-counters'}"
    ]
    older = path.read_text().split("\n# The counters' dossier slips")[0]
    older += path.read_text().split("default = true\n", 1)[1]
    path.write_text(older)  # as `tthcc demo` wrote it before slips were printed
    assert "printers" not in tomllib.loads(older)

    tthcc(env, "demo")
    again = tomllib.loads(path.read_text())
    assert again["station_token"] == config["station_token"]  # still valid: kept
    assert again["printers"] == config["printers"] and len(again["ratingpads"]) == 7
    rewritten = path.read_text()
    tthcc(env, "demo")
    assert path.read_text() == rewritten
