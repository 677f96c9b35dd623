"""The `tthcc` console script: a Flask CLI group (contract in ARCHITECTURE.md)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, routes_command, shell_command
from sqlalchemy import select

from server.app import create_app
from server.config import Config
from server.domain.errors import DomainError

logger = logging.getLogger(__name__)


def _app_factory():  # FlaskGroup calls it with no arguments
    return create_app(Config.from_env())


@click.group(cls=FlaskGroup, create_app=_app_factory, add_default_commands=False)
def cli() -> None:
    """TTHCC: queue, kiosk, counters, displays and devices of a public administration centre."""
    logging.basicConfig(
        level=os.environ.get("TTHCC_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


cli.add_command(shell_command)
cli.add_command(routes_command)


def _db():
    return current_app.extensions["tthcc_db"]


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the latest revision (safe to run concurrently)."""
    from server.migrate import upgrade

    upgrade(_db().engine)
    click.echo("database is up to date")


def _demo_agent_config_path(config: Config) -> Path:
    return config.instance_path / "demo" / "kiosk-agent.toml"


def _demo_counters_config_path(config: Config) -> Path:
    return config.instance_path / "demo" / "counters-agent.toml"


def _load_demo(config: Config) -> None:
    """Load the demo and make sure both demo agent configs hold a valid token.

    Tokens are checked, issued and written while the demo lock is held (same
    transaction), so concurrent runs leave the files and the database agreeing.
    """
    from server.demo import load_demo, write_agent_config, write_counters_agent_config
    from server.migrate import upgrade
    from server.services.auth import issue_station_token, station_for_token

    database = _db()
    upgrade(database.engine)
    kiosk_path = _demo_agent_config_path(config)
    counters_path = _demo_counters_config_path(config)
    server_url = f"http://127.0.0.1:{os.environ.get('TTHCC_PORT', '8000')}"

    def needs_token(session, path: Path, station_id: int | None) -> bool:
        token = _read_token(path)
        station = station_for_token(session, token) if token else None
        return station is None or station.id != station_id

    with database.transaction() as session:
        result = load_demo(session)  # takes the demo lock
        from server.models import Station

        if needs_token(session, kiosk_path, result.kiosk_station_id):
            write_agent_config(
                kiosk_path,
                server_url=server_url,
                token=issue_station_token(session, session.get(Station, result.kiosk_station_id)),
                printed_dir=config.instance_path / "printed",
                spool_dir=config.instance_path / "demo" / "kiosk-spool",
            )
        if result.counters_station_id is not None:
            token = _read_token(counters_path)
            if needs_token(session, counters_path, result.counters_station_id):
                station = session.get(Station, result.counters_station_id)
                token = issue_station_token(session, station)
            # Also rewritten, with its still-valid token, when an older demo wrote it
            # without a device added since (the counters' slip printer).
            write_counters_agent_config(
                counters_path,
                server_url=server_url,
                token=token,
                spool_dir=config.instance_path / "demo" / "counters-spool",
                counters=result.counters,
                printed_dir=config.instance_path / "printed-counters",
            )
    click.echo(
        ("created" if result.created else "already present")
        + f": demo centre id {result.centre_id}; agent configs {kiosk_path}, {counters_path}"
    )


def _read_token(path: Path) -> str | None:
    import tomllib

    try:
        return tomllib.loads(path.read_text(encoding="utf-8")).get("station_token")
    except (OSError, tomllib.TOMLDecodeError):
        return None


@cli.command("demo")
@click.option(
    "--province",
    default=0,
    type=click.IntRange(0, 500),
    help="Also N other centres of the province (positions in Bắc Ninh; idempotent).",
)
def demo_command(province: int) -> None:
    """Load the demo centre (a ward centre in Bắc Ninh) if absent; idempotent."""
    _load_demo(current_app.config["TTHCC"])
    if province:
        from server.demo import load_province_demo

        with _db().transaction() as session:
            ids = load_province_demo(session, province)
        click.echo(f"province demo: {len(ids)} more centres (ids {ids[0]}…{ids[-1]})")


@cli.group()
def user() -> None:
    """Staff accounts."""


@user.command("add")
@click.argument("name")
@click.option(
    "--role", required=True, type=click.Choice(["staff", "supervisor", "admin", "viewer"])
)
@click.option("--full-name", default="", help="Shown on the counter page and reports.")
@click.option("--centre", "centre_code", default=None, help="Centre code (default: none).")
def user_add(name: str, role: str, full_name: str, centre_code: str | None) -> None:
    """Create user NAME; the password is read from standard input."""
    from server.models import Centre
    from server.services.auth import create_user

    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    with _db().transaction() as session:
        centre_id = None
        if centre_code:
            centre = session.execute(
                select(Centre).where(Centre.code == centre_code)
            ).scalar_one_or_none()
            if centre is None:
                raise click.ClickException(f"no centre with code {centre_code!r}")
            centre_id = centre.id
        try:
            created = create_user(
                session,
                username=name,
                password=password,
                role=role,
                full_name=full_name,
                centre_id=centre_id,
            )
        except DomainError as exc:
            raise click.ClickException(exc.message_en) from exc
        click.echo(f"user {created.username} ({created.role}) created")


@cli.group()
def station() -> None:
    """Stations (PCs with devices) and their agent tokens."""


def _station(session, code: str, centre_code: str | None):
    from server.models import Centre, Station

    query = select(Station).where(Station.code == code)
    if centre_code:
        query = query.join(Centre, Centre.id == Station.centre_id).where(Centre.code == centre_code)
    rows = session.execute(query).scalars().all()
    if not rows:
        raise click.ClickException(f"no station with code {code!r}")
    if len(rows) > 1:
        raise click.ClickException(f"several centres have a station {code!r}: give --centre")
    return rows[0]


@station.command("token")
@click.argument("code")
@click.option("--centre", "centre_code", default=None)
def station_token(code: str, centre_code: str | None) -> None:
    """Issue a new token for station CODE (the old one stops working); prints it once."""
    from server.domain.clock import utcnow
    from server.services import audit
    from server.services.auth import issue_station_token

    with _db().transaction() as session:
        row = _station(session, code, centre_code)
        token = issue_station_token(session, row)
        audit.record(
            session,
            user=None,
            actor="cli",
            entity="stations",
            action="issue_token",
            now=utcnow(),
            entity_id=row.id,
            centre_id=row.centre_id,
        )
    click.echo(token)


@station.command("revoke")
@click.argument("code")
@click.option("--centre", "centre_code", default=None)
def station_revoke(code: str, centre_code: str | None) -> None:
    """Revoke station CODE's token: its agent is refused from now on."""
    from server.domain.clock import utcnow
    from server.services import audit
    from server.services.auth import revoke_station_token

    with _db().transaction() as session:
        row = _station(session, code, centre_code)
        revoke_station_token(session, row, utcnow())
        audit.record(
            session,
            user=None,
            actor="cli",
            entity="stations",
            action="revoke_token",
            now=utcnow(),
            entity_id=row.id,
            centre_id=row.centre_id,
        )
    click.echo(f"token of station {code} revoked")


@station.command("kiosk-code")
@click.argument("code")
@click.option("--centre", "centre_code", default=None)
def station_kiosk_code(code: str, centre_code: str | None) -> None:
    """A one-time code for kiosk station CODE's page: open /kiosk/provision?code=… once on
    the kiosk PC within 24 h. Prints the code once."""
    from server.domain.clock import utcnow
    from server.services import audit
    from server.services.kiosks import issue_code

    with _db().transaction() as session:
        row = _station(session, code, centre_code)
        try:
            secret = issue_code(session, row, utcnow())
        except Exception as exc:
            raise click.ClickException(str(exc)) from exc
        audit.record(
            session,
            user=None,
            actor="cli",
            entity="stations",
            action="issue_kiosk_code",
            now=utcnow(),
            entity_id=row.id,
            centre_id=row.centre_id,
        )
    click.echo(f"/kiosk/provision?code={secret}")


@cli.group()
def privacy() -> None:
    """Personal data: what is kept and for how long (docs/privacy.md)."""


@privacy.command("purge")
def privacy_purge() -> None:
    """Clear what an ID card scan left that is past its time (run hourly: the systemd
    timer tthcc-purge.timer): pending scans are deleted, linked ones lose the name, date
    of birth and address at the end of the centre's day."""
    from server.runtime import now
    from server.services.id_cards import purge

    with _db().transaction() as session:
        counts = purge(session, now())
    click.echo(f"ID-card scans: {counts['deleted']} pending deleted, {counts['cleared']} cleared")


@cli.command("access-table")
@click.option("--check", is_flag=True, help="Exit 1 if docs/security.md is out of date.")
def access_table_command(check: bool) -> None:
    """Write the route → who table of docs/security.md from server/access_policy.py."""
    from flask import current_app

    from server.access_policy import access_table, with_table

    path = Path(__file__).resolve().parents[1] / "docs" / "security.md"
    document = path.read_text(encoding="utf-8")
    updated = with_table(document, access_table(current_app))
    if check:
        if updated != document:
            raise click.ClickException(f"{path} is out of date: run tthcc access-table")
        click.echo(f"{path}: up to date")
        return
    path.write_text(updated, encoding="utf-8")
    click.echo(f"{path}: table written")


@cli.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--no-agent", is_flag=True, help="Don't start the demo stations' agents and simulators."
)
@click.option("--no-demo", is_flag=True, help="Don't load the demo centre into an empty database.")
def run_command(host: str, port: int, no_agent: bool, no_demo: bool) -> None:
    """Serve everything: migrate, load the demo if empty, start gunicorn and the demo agents.

    With the demo: the kiosk station's agent (simulated printer), and the counters
    station's simulated rating pads, LED boards and keypad (`tthcc sim hall`) with its
    agent. Press a rating key from a shell: `echo 5 > var/dev/ratingpad-1.ctl`.
    """
    from server.demo import DEMO_CENTRE_CODE
    from server.migrate import upgrade
    from server.models import Centre

    config: Config = current_app.config["TTHCC"]
    database = _db()
    upgrade(database.engine)
    from server.notify.cli import ensure_vapid_key

    ensure_vapid_key(config)  # made once, kept: browsers' subscriptions are bound to it
    with database.transaction() as session:
        codes = set(session.execute(select(Centre.code)).scalars())
    os.environ["TTHCC_PORT"] = str(port)
    if not no_demo and (not codes or DEMO_CENTRE_CODE in codes):
        _load_demo(config)  # idempotent: also renews a demo agent's token that stopped working
    sim_dir = Path(os.environ.get("TTHCC_SIM_DIR") or config.instance_path / "dev")
    env = dict(
        os.environ,
        TTHCC_INSTANCE_PATH=str(config.instance_path),
        TTHCC_DATABASE_URL=config.database_url,
        TTHCC_PUBLIC_URL=os.environ.get("TTHCC_PUBLIC_URL", f"http://{host}:{port}"),
        TTHCC_SIM_DIR=str(sim_dir.resolve()),
    )
    public_warning = Config.from_env(
        {"TTHCC_PUBLIC_URL": env["TTHCC_PUBLIC_URL"]}
    ).public_url_warning()
    if public_warning:
        logger.warning("%s", public_warning)
        click.echo(f"WARNING: {public_warning}", err=True)
    # The agents reach this server whatever port an earlier `tthcc demo` wrote down.
    local = "127.0.0.1" if host in ("0.0.0.0", "") else ("[::1]" if host == "::" else host)
    agent_env = dict(env, TTHCC_AGENT_SERVER_URL=f"http://{local}:{port}")
    procs: list[subprocess.Popen] = [
        subprocess.Popen(
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
                f"{host}:{port}",
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
                "server.wsgi:app",
            ],
            env=env,
        )
    ]
    tthcc = [sys.executable, "-m", "server.cli"]
    if config.sync_hub_url and config.sync_token:
        # A centre box: capture from now on and deliver to the hub in the background.
        from server.sync.cli import enable_from_config

        enable_from_config(config)
        procs.append(subprocess.Popen([*tthcc, "sync", "push", "--loop"], env=env))
    kiosk_config = _demo_agent_config_path(config)
    counters_config = _demo_counters_config_path(config)
    if not no_agent and kiosk_config.exists():
        procs.append(subprocess.Popen([*tthcc, "agent", str(kiosk_config)], env=agent_env))
    if not no_agent and counters_config.exists():
        # Simulators first: the agent then finds every port at its first attempt.
        procs.append(
            subprocess.Popen(
                [*tthcc, "sim", "hall", "--no-stdin", str(counters_config)],
                env=env,
                stdin=subprocess.DEVNULL,
            )
        )
        _wait_for_simulators(counters_config, sim_dir, procs[-1])
        procs.append(subprocess.Popen([*tthcc, "agent", str(counters_config)], env=agent_env))
    click.echo(f"TTHCC is running on http://{host}:{port}/ (Ctrl+C to stop)")
    if not no_agent and counters_config.exists():
        click.echo(
            f"Simulated devices in {sim_dir}: press a rating key with "
            f"`echo 5 > {sim_dir}/ratingpad-1.ctl`, call the next ticket at counter 1 with "
            f'`echo N > {sim_dir}/keypad-1.ctl` (see README, "Try the devices").'
        )
    _supervise(procs)


def _wait_for_simulators(
    config_path: Path, sim_dir: Path, hall: subprocess.Popen, timeout: float = 10.0
) -> None:
    """Wait until the hall has plugged in every pty-sim: port of the config."""
    from devices.config import ConfigError, load_config
    from devices.serial.simhall import sim_name

    try:
        station = load_config(config_path, env={})
    except ConfigError as exc:
        logger.warning("%s", exc)
        return
    entries = (*station.ratingpads, *station.keypads, *station.ledboards)
    names = {name for name in (sim_name(e.url) for e in entries) if name}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and hall.poll() is None:
        if all((sim_dir / name).is_symlink() for name in names):
            return
        time.sleep(0.05)
    logger.warning("simulated devices not ready after %.0f s; the agent will keep trying", timeout)


def _supervise(procs: list[subprocess.Popen]) -> None:
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping and all(p.poll() is None for p in procs):
        time.sleep(0.3)
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
    failed = [p for p in procs if p.returncode not in (0, -signal.SIGTERM, None)]
    if failed and not stopping:
        raise SystemExit(f"a component exited with status {failed[0].returncode}")


def _mount_device_commands() -> None:
    """Commands that live in devices/ and display/ (they never import the server)."""
    try:
        from devices.agent.cli import agent_command

        cli.add_command(agent_command, "agent")
    except ImportError as exc:  # pragma: no cover - reported, not hidden
        logger.debug("agent command unavailable: %s", exc)

    @cli.group()
    def sim() -> None:
        """Simulated devices over pseudo-terminals / TCP, with faults on command."""

    for module, names in (
        ("devices.printing.cli", {"printer": "printer_sim_command"}),
        ("devices.serial.simhall", {"hall": "hall_command"}),
        (
            "devices.serial.cli",
            {
                "ratingpad": "ratingpad_command",
                "keypad": "keypad_command",
                "ledboard": "ledboard_command",
            },
        ),
        ("devices.scanner.sim", {"scanner": "scanner_command"}),
        ("display.voice.cli", {"voice": "voice_command"}),
    ):
        try:
            mod = __import__(module, fromlist=["_"])
        except ImportError as exc:  # pragma: no cover - a test checks every command exists
            logger.warning("commands of %s unavailable: %s", module, exc)
            continue
        for name, attr in names.items():
            (cli if name == "voice" else sim).add_command(getattr(mod, attr), name)


_mount_device_commands()

from server.hub.cli import hub_group  # noqa: E402  (a plain click group: no app needed)

cli.add_command(hub_group)

from server.sync.cli import sync_group  # noqa: E402

cli.add_command(sync_group)

from server.notify.cli import notify_group  # noqa: E402

cli.add_command(notify_group)


def main() -> None:
    cli(prog_name="tthcc")


if __name__ == "__main__":
    main()
