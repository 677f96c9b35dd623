"""`tthcc hub run`: the province hub on this machine, as docs/deployment.md draws it."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import click

from server.config import PROJECT_ROOT

DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/tthcc_hub"


@click.group("hub")
def hub_group() -> None:
    """The province hub: nginx (TLS) + several application processes + PostgreSQL + Redis."""


@hub_group.command("run")
@click.option("--processes", default=2, show_default=True, type=click.IntRange(1, 16))
@click.option("--port", "https_port", default=8443, show_default=True, type=int)
@click.option("--http-port", default=8080, show_default=True, type=int, help="Redirects only.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address nginx listens on.")
@click.option("--database-url", default=DEFAULT_DATABASE, show_default=True)
@click.option(
    "--redis-url",
    default="",
    help="An existing Redis (e.g. redis://127.0.0.1:6379/0); default: a private redis-server.",
)
@click.option(
    "--folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=PROJECT_ROOT / "var" / "hub",
    show_default=True,
    help="Certificate, nginx files, logs, the shared secret key.",
)
@click.option("--province", default=0, type=click.IntRange(0, 500), help="Also N small centres.")
def hub_run(
    processes: int,
    https_port: int,
    http_port: int,
    host: str,
    database_url: str,
    redis_url: str,
    folder: Path,
    province: int,
) -> None:
    """Start the hub and keep it running until Ctrl+C.

    Creates the PostgreSQL database if absent, migrates it, loads the demo centre (and N
    province centres with --province N), makes a self-signed certificate, starts a Redis of
    its own unless --redis-url is given, the application processes and nginx.
    """
    from server.hub.local import LocalHub

    hub = LocalHub(
        folder,
        database_url,
        redis_url=redis_url,
        processes=processes,
        host=host,
        https_port=https_port,
        http_port=http_port,
        channel="tthcc-hub",
    )
    demo = ("demo", "--province", str(province)) if province else ("demo",)
    click.echo(f"preparing {database_url} (schema, demo data) and the certificate …")
    hub.prepare(demo_args=demo)
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    hub.start()
    try:
        click.echo(
            f"TTHCC hub on {hub.url}/ (Ctrl+C to stop); http://{host}:{http_port}/ redirects"
        )
        for app in hub.apps:
            click.echo(f"  {app.name}: {app.url} (log {app.log})")
        click.echo(f"  Redis: {hub.redis_url}{' (its own)' if hub.own_redis else ''}")
        click.echo(f"  nginx: {folder / 'nginx'} (site from deploy/nginx/tthcc-hub.conf)")
        click.echo(f"  certificate (self-signed, for this machine only): {hub.certificate}")
        click.echo(f"  try: curl --cacert {hub.certificate} {hub.url}/api/v1/centres")
        while not stopping:
            for app in hub.apps:
                if app.process is not None and app.process.poll() is not None:
                    # As systemd's Restart=on-failure would; nginx sends new connections to
                    # the others meanwhile.
                    code = app.process.returncode
                    click.echo(f"{app.name} exited ({code}): restarting it in 2 s", err=True)
                    time.sleep(2)
                    app.start(wait=False)
            time.sleep(0.5)
    finally:
        hub.stop()
