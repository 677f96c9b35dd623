"""`LocalHub`: a province hub started on this machine (`tthcc hub run`, tests, benchmarks).

The pieces are the production ones: PostgreSQL, Redis (the system's or a private
`redis-server` of its own, which tests may stop and restart), N gunicorn processes with the
gevent worker exactly as `systemd/tthcc-hub@.service` starts them, and Debian's nginx with
the site file `deploy/nginx/tthcc-hub.conf`, over TLS with a self-signed certificate.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from server.config import PROJECT_ROOT
from server.hub import nginx
from server.hub.tls import self_signed_certificate

logger = logging.getLogger(__name__)

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_for_app(url: str, timeout: float = 90.0, process=None) -> None:
    """Until the process answers HTTP (gunicorn listens before its worker has booted)."""
    import urllib.request

    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url}: process exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/api/v1/centres", timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError as exc:
            last = exc
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s: {last}")


def wait_for_port(host: str, port: int, timeout: float = 30.0, process=None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process for port {port} exited with {process.returncode}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {host}:{port} after {timeout:.0f} s")


@dataclass
class AppProcess:
    """One gunicorn process of the hub (`tthcc-hub@<port>.service` in production)."""

    name: str
    port: int
    env: dict[str, str]
    log: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: bool = True) -> None:
        with open(self.log, "ab") as log:
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
                    "--timeout",
                    "60",
                    "--graceful-timeout",
                    "5",
                    "server.wsgi:app",
                ],
                env=self.env,
                cwd=PROJECT_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a process group of its own: kill() takes it all
            )
        if wait:
            wait_for_app(self.url, process=self.process)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """SIGKILL: the arbiter and its worker at once (its own process group), as if the
        host died; SIGTERM: gunicorn's graceful stop."""
        if self.process is None or self.process.poll() is not None:
            return
        if sig == signal.SIGKILL:
            os.killpg(self.process.pid, signal.SIGKILL)
        else:
            self.process.send_signal(sig)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        # The worker exits a moment after the arbiter; until then the port still accepts.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            except OSError:
                return
            time.sleep(0.02)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)


@dataclass
class LocalHub:
    """A hub in `folder`; `start()` brings everything up, `stop()` takes it down."""

    folder: Path
    database_url: str
    #: The system Redis (e.g. redis://127.0.0.1:6379/0), or "" to run a private one.
    redis_url: str = ""
    processes: int = 2
    host: str = "127.0.0.1"
    https_port: int = 0
    http_port: int = 0
    channel: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)
    apps: list[AppProcess] = field(default_factory=list)
    redis_port: int = 0
    #: nginx's one worker: two connections per WebSocket (benchmarks/province.py raises it).
    nginx_worker_connections: int = 4096
    _redis: subprocess.Popen | None = None
    _nginx: subprocess.Popen | None = None

    def __post_init__(self) -> None:
        self.folder = Path(self.folder).resolve()
        self.https_port = self.https_port or free_port()
        self.http_port = self.http_port or free_port()
        self.channel = self.channel or f"tthcc-hub-{secrets.token_hex(4)}"
        self.own_redis = not self.redis_url
        if self.own_redis:
            self.redis_port = self.redis_port or free_port()
            self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"

    # --- addresses ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.https_port}"

    @property
    def certificate(self) -> Path:
        return self.folder / "tls" / "hub-cert.pem"

    def env(self, node: str = "") -> dict[str, str]:
        """The environment of the hub's processes (the systemd unit's /etc/tthcc/hub.env)."""
        secret = self.folder / "secret_key"
        if not secret.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            secret.write_text(secrets.token_hex(32))
            secret.chmod(0o600)
        env = dict(
            os.environ,
            TTHCC_DATABASE_URL=self.database_url,
            TTHCC_REDIS_URL=self.redis_url,
            TTHCC_SOCKETIO_CHANNEL=self.channel,
            TTHCC_SOCKETIO_TRANSPORTS="websocket",
            TTHCC_PROXY_HOPS="1",
            TTHCC_SECRET_KEY=secret.read_text().strip(),
            TTHCC_INSTANCE_PATH=str(self.folder / "instance"),
            TTHCC_PUBLIC_URL=self.url,
        )
        env.update(self.extra_env)
        if node:
            env["TTHCC_NODE_NAME"] = node
        return env

    # --- life -----------------------------------------------------------------------------

    def prepare(self, *, demo_args: tuple[str, ...] = ("demo",)) -> None:
        """Certificate, database (created if absent), schema and demo data."""
        (self.folder / "instance").mkdir(parents=True, exist_ok=True)
        self_signed_certificate(self.folder / "tls")
        create_database(self.database_url)
        if demo_args:
            subprocess.run(
                [sys.executable, "-m", "server.cli", *demo_args],
                env=self.env(),
                cwd=PROJECT_ROOT,
                check=True,
                capture_output=True,
            )

    def start(self) -> None:
        if self.own_redis:
            self.start_redis()
        if not self.apps:
            for i in range(self.processes):
                name = f"app{i + 1}"
                self.apps.append(
                    AppProcess(name, free_port(), self.env(name), self.folder / f"{name}.log")
                )
        for app in self.apps:
            app.start(wait=False)
        for app in self.apps:
            wait_for_app(app.url, process=app.process)
        self.start_nginx()

    def stop(self) -> None:
        if self._nginx is not None and self._nginx.poll() is None:
            self._nginx.send_signal(signal.SIGQUIT)  # graceful: finish requests
            try:
                self._nginx.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._nginx.kill()
                self._nginx.wait()
        for app in self.apps:
            app.stop()
        self.stop_redis()

    def __enter__(self) -> LocalHub:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- pieces ---------------------------------------------------------------------------

    def nginx_config(self) -> Path:
        prefix = self.folder / "nginx"
        cert, key = self_signed_certificate(self.folder / "tls")
        site = nginx.site_config(
            app_addresses=[f"127.0.0.1:{app.port}" for app in self.apps],
            host=self.host,
            https_port=self.https_port,
            http_port=self.http_port,
            certificate=cert,
            key=key,
        )
        return nginx.write_configs(prefix, site, worker_connections=self.nginx_worker_connections)

    def start_nginx(self) -> None:
        main = self.nginx_config()
        prefix = main.parent
        check = subprocess.run(
            [NGINX, "-t", "-q", "-p", str(prefix), "-c", str(main)], capture_output=True
        )
        if check.returncode != 0:
            raise RuntimeError(f"nginx refused its configuration: {check.stderr.decode()}")
        self._nginx = subprocess.Popen(
            [NGINX, "-p", str(prefix), "-c", str(main), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=open(prefix / "stderr.log", "ab"),  # noqa: SIM115 - lives with nginx
        )
        wait_for_port(self.host, self.https_port, process=self._nginx)

    def start_redis(self) -> None:
        if not self.own_redis:
            raise RuntimeError("this hub uses a Redis it does not own")
        self._redis = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=open(self.folder / "redis.log", "ab"),  # noqa: SIM115 - lives with redis
            stderr=subprocess.STDOUT,
        )
        wait_for_port("127.0.0.1", self.redis_port, process=self._redis)

    def stop_redis(self, sig: int = signal.SIGTERM) -> None:
        if self._redis is None or self._redis.poll() is not None:
            return
        self._redis.send_signal(sig)
        try:
            self._redis.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._redis.kill()
            self._redis.wait()


def create_database(url: str) -> None:
    """Create the PostgreSQL database of `url` if it does not exist (SQLite: nothing)."""
    if not url.startswith("postgresql"):
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": target.database},
            ).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()
