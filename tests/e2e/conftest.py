"""End-to-end fixtures: the real deployment (gunicorn, gevent worker) and Debian's Chromium.

`live_server` migrates a fresh SQLite database, loads the demo centre, starts gunicorn on a
free loopback port and yields its base URL. `browser` is headless Chromium driven by
Playwright with `executable_path` (never a downloaded browser). Screenshots go to
test-artifacts/ (not committed).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("TTHCC_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(
    url: str,
    timeout: float = 20.0,
    process: subprocess.Popen | None = None,
    log: Path | None = None,
) -> None:
    """Until `url` answers below 500; at once if `process` (the server) has exited."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            break
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException as exc:
            last = exc
        time.sleep(0.1)
    exited = "" if process is None or process.poll() is None else f" (exited {process.poll()})"
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise RuntimeError(f"server at {url} did not come up{exited}: {last}\n{tail}")


@dataclass
class LiveServer:
    url: str
    port: int
    instance: Path
    env: dict[str, str]
    process: subprocess.Popen | None = None

    def start(self) -> None:
        log = open(self.instance / "gunicorn.log", "ab")  # noqa: SIM115 - lives with the process
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--worker-class",
                "server.gunicorn_worker.GeventWorker",
                "--workers",
                "1",
                "--no-control-socket",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--graceful-timeout",
                "2",
                "server.wsgi:app",
            ],
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        # A loaded machine can take long to import and bind; a server that exits fails at once.
        wait_for_http(
            self.url + "/api/v1/centres",
            timeout=60.0,
            process=self.process,
            log=self.instance / "gunicorn.log",
        )

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def token(self, username: str = "canbo1", password: str = "tthcc-canbo") -> str:
        r = requests.post(
            f"{self.url}/api/v1/auth/token",
            json={"username": username, "password": password},
            timeout=5,
        )
        r.raise_for_status()
        return r.json()["token"]


@contextmanager
def running_server(instance: Path, public_url: str | None = None) -> Iterator[LiveServer]:
    """A fresh instance folder → demo centre on SQLite → gunicorn on a free loopback port.

    `public_url`: the address printed in QR codes (default: the server's own loopback
    address, which phones cannot reach, so tickets carry no QR code)."""
    instance.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = dict(
        os.environ,
        TTHCC_INSTANCE_PATH=str(instance),
        TTHCC_DATABASE_URL=f"sqlite:///{instance / 'tthcc.sqlite3'}",
        TTHCC_SECRET_KEY="e2e-secret",
        TTHCC_PUBLIC_URL=public_url or f"http://127.0.0.1:{port}",
        TTHCC_PORT=str(port),
    )
    subprocess.run(
        [sys.executable, "-m", "server.cli", "demo"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    server = LiveServer(f"http://127.0.0.1:{port}", port, instance, env)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    with running_server(tmp_path / "instance") as server:
        yield server


@pytest.fixture
def public_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A live server whose public URL phones can reach (a documentation address, not
    loopback): tickets and the kiosk's fallback carry a QR code."""
    with running_server(tmp_path / "public", public_url="http://192.0.2.10:8000") as server:
        yield server


@pytest.fixture(scope="session")
def voice_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default clip set, made once with espeak-ng for every server of the session."""
    from display.voice.clips import build_clips

    folder = tmp_path_factory.mktemp("voice-cache")
    build_clips(folder)
    return folder


class CspTolerantBrowser:
    """The browser, with new contexts bypassing the pages' Content-Security-Policy unless a
    test asks for it (`bypass_csp=False`): Playwright's `wait_for_function("…")` evaluates
    its string with eval, which our CSP forbids. tests/e2e/test_csp.py runs the pages with
    the policy on."""

    def __init__(self, browser) -> None:
        self._browser = browser

    def new_context(self, **kwargs):
        kwargs.setdefault("bypass_csp", True)
        return self._browser.new_context(**kwargs)

    def new_page(self, **kwargs):
        kwargs.setdefault("bypass_csp", True)
        return self._browser.new_page(**kwargs)

    def __getattr__(self, name: str):
        return getattr(self._browser, name)
