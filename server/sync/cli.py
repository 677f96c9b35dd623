"""`tthcc sync`: register boxes on the hub; enable, push and inspect on a centre box."""

from __future__ import annotations

import json
import logging
import time

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from server.config import Config

logger = logging.getLogger(__name__)


def _db():
    return current_app.extensions["tthcc_db"]


@click.group("sync", cls=AppGroup)
def sync_group() -> None:
    """Centre box → province hub delivery (docs/sync.md)."""


@sync_group.group("box")
def box_group() -> None:
    """On the hub: the centre boxes allowed to deliver."""


@box_group.command("add")
@click.argument("centre_code")
def box_add(centre_code: str) -> None:
    """Register a box for CENTRE_CODE and print its token (TTHCC_SYNC_TOKEN on the box)."""
    from server.domain.clock import utcnow
    from server.models import Centre
    from server.sync.ingest import add_box

    with _db().transaction() as session:
        centre = session.scalars(select(Centre).where(Centre.code == centre_code)).first()
        if centre is None:
            raise click.ClickException(f"no centre {centre_code!r}")
        _box, token = add_box(session, centre, utcnow())
    click.echo(token)


@sync_group.command("project")
@click.option("--replay", is_flag=True, help="From each box's first change (changes nothing).")
@click.argument("box_ids", nargs=-1)
def sync_project(replay: bool, box_ids: tuple[str, ...]) -> None:
    """On the hub: project what the boxes delivered into the hub's tables (docs/sync.md)."""
    from server.models import SyncBox
    from server.sync.project import project_pending

    with _db().transaction() as session:
        stmt = select(SyncBox).order_by(SyncBox.id)
        if box_ids:
            stmt = stmt.where(SyncBox.id.in_(box_ids))
        for box in session.scalars(stmt):
            if replay:
                box.projected_seq = 0
            done = project_pending(session, box)
            click.echo(
                json.dumps(
                    {
                        "box": box.id,
                        "projected": done,
                        "projected_seq": box.projected_seq,
                        "last_seq": box.last_seq,
                        "error": box.project_error,
                    }
                )
            )


@sync_group.command("prune")
@click.option(
    "--days",
    type=int,
    default=30,
    show_default=True,
    envvar="TTHCC_SYNC_RETENTION_DAYS",
    help="Keep what was delivered this many days (TTHCC_SYNC_RETENTION_DAYS).",
)
def sync_prune(days: int) -> None:
    """Delete what is delivered and older than --days: on a box, the outbox entries the hub
    acknowledged; on the hub, the inbox rows projected (docs/sync.md, "Retention")."""
    from server.domain.clock import utcnow
    from server.sync.prune import prune

    if days < 1:
        raise click.ClickException("--days must be at least 1")
    with _db().transaction() as session:
        click.echo(json.dumps(prune(session, utcnow(), days)))


def enable_from_config(
    config: Config, centre_code: str | None = None, *, backfill: bool = True
) -> tuple[str, int]:
    """Make this database the configured box (idempotent); returns the box id and how many
    rows of the centre's history were queued (only the first time, and with `backfill`)."""
    from sqlalchemy import select

    from server.domain.clock import utcnow
    from server.migrate import upgrade
    from server.models import SyncLink
    from server.sync.capture import box_id_of, enable, queue_history

    box_id = box_id_of(config.sync_token)
    code = centre_code or config.default_centre_code
    database = _db()
    upgrade(database.engine)
    with database.transaction() as session:
        first = session.scalars(select(SyncLink)).first() is None
        enable(session, box_id, code)
        queued = queue_history(session, code, utcnow()) if first and backfill else 0
    return box_id, queued


@sync_group.command("enable")
@click.option("--centre", "centre_code", default=None, help="Default: TTHCC_DEFAULT_CENTRE_CODE")
@click.option(
    "--no-backfill",
    is_flag=True,
    help="Deliver only what happens from now on, not the centre's history in this database",
)
def sync_enable(centre_code: str | None, no_backfill: bool) -> None:
    """Make this database a centre box: capture every change of the hall from now on, and
    (the first time) queue the centre's history already in this database for the hub."""
    from server.sync.capture import SyncConfigError

    config: Config = current_app.config["TTHCC"]
    try:
        box_id, queued = enable_from_config(config, centre_code, backfill=not no_backfill)
    except SyncConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    history = f"; {queued} earlier change(s) of the centre queued for the hub" if queued else ""
    click.echo(f"centre box {box_id}: capturing{history}")


@sync_group.command("status")
def sync_status() -> None:
    """The link state as JSON: last successful push, events pending, last error."""
    from server.sync.capture import link_state

    with _db().transaction() as session:
        click.echo(json.dumps(link_state(session), ensure_ascii=False))


@sync_group.command("pull")
def sync_pull() -> None:
    """Apply the hub's configuration of this centre when it changed (one cheap request if
    not), or when hub-owned configuration was edited here (the hub's wins)."""
    from server.sync.config import http_config_transport, pull
    from server.sync.push import HubRefused, HubUnreachable

    config: Config = current_app.config["TTHCC"]
    if not config.sync_hub_url or not config.sync_token:
        raise click.ClickException("set TTHCC_SYNC_HUB_URL and TTHCC_SYNC_TOKEN")
    try:
        result = pull(_db(), http_config_transport(config.sync_hub_url, config.sync_token))
    except (HubUnreachable, HubRefused) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(result))


@sync_group.command("push")
@click.option("--loop", is_flag=True, help="Keep pushing every TTHCC_SYNC_INTERVAL_SECONDS.")
@click.option("--batch", "batch_size", default=500, show_default=True, type=int)
def sync_push(loop: bool, batch_size: int) -> None:
    """Deliver everything pending to TTHCC_SYNC_HUB_URL (exactly once, in order); with
    --loop, also pull the hub's configuration each round (tthcc sync pull)."""
    from server.sync.config import http_config_transport, pull
    from server.sync.push import HubRefused, HubUnreachable, http_transport, push

    config: Config = current_app.config["TTHCC"]
    if not config.sync_hub_url or not config.sync_token:
        raise click.ClickException("set TTHCC_SYNC_HUB_URL and TTHCC_SYNC_TOKEN")
    transport = http_transport(config.sync_hub_url, config.sync_token)
    config_transport = http_config_transport(config.sync_hub_url, config.sync_token)
    database = _db()
    wait = 1.0
    failing = ""
    while True:
        started = time.monotonic()
        if loop:
            try:
                changed = pull(database, config_transport)
                if changed["changed"]:
                    logger.info("sync: the hub's configuration applied (%s)", changed)
            except (HubUnreachable, HubRefused) as exc:
                logger.debug("sync: configuration not pulled: %s", exc)
            except Exception:  # a document this box cannot apply: the hall goes on
                logger.exception("sync: the hub's configuration could not be applied")
        try:
            result = push(database, transport, batch_size=batch_size)
        except (HubUnreachable, HubRefused) as exc:
            if not loop:
                raise click.ClickException(str(exc)) from exc
            if str(exc) != failing:  # log a failure once, not every retry
                logger.warning("sync: %s (retrying)", exc)
                failing = str(exc)
            time.sleep(wait)
            wait = min(wait * 2, float(config.sync_interval_seconds))
            continue
        if failing:
            logger.info("sync: the hub answers again")
            failing = ""
        wait = 1.0
        if not loop:
            click.echo(
                json.dumps({**result.__dict__, "seconds": round(time.monotonic() - started, 3)})
            )
            return
        time.sleep(config.sync_interval_seconds)
