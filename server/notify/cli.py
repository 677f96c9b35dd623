"""`tthcc notify`: the VAPID key, the delivery worker, the report, the gateway simulator."""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup

logger = logging.getLogger(__name__)


@click.group("notify", cls=AppGroup)
def notify_group() -> None:
    """Notifications to citizens: Web Push, SMS/Zalo (docs/notifications.md)."""


@notify_group.command("vapid")
@click.option("--rotate", is_flag=True, help="Replace the key: every subscription is lost.")
def vapid_command(rotate: bool) -> None:
    """Make the VAPID key pair once (kept in the instance folder); print the public key."""
    from server.notify.keys import VapidKeyExists, generate_vapid_key, load_vapid_key, public_key_of

    path = current_app.config["TTHCC"].vapid_key_path
    try:
        public = generate_vapid_key(path, rotate=rotate)
        click.echo(f"{path}: new key", err=True)
    except VapidKeyExists:
        public = public_key_of(load_vapid_key(path))
        click.echo(f"{path}: kept (use --rotate to replace it)", err=True)
    click.echo(public)


def ensure_vapid_key(config) -> None:
    """Make the key at first start (`tthcc run`); never touch one that exists."""
    from server.notify.keys import generate_vapid_key

    if not config.vapid_key_path.exists():
        generate_vapid_key(config.vapid_key_path)
        logger.info("notifications: VAPID key made in %s", config.vapid_key_path)


@notify_group.command("run")
@click.option("--loop", is_flag=True, help="Keep going every TTHCC_NOTIFY_INTERVAL_SECONDS.")
def run_command(loop: bool) -> None:
    """Send what is due (and queue "your turn is near"); with --loop, forever."""
    from server.notify.delivery import NotifyWorker, channels_from_config

    config = current_app.config["TTHCC"]
    worker = NotifyWorker(
        current_app.extensions["tthcc_db"],
        channels_from_config(config),
        current_app.config["SECRET_KEY"],
        reminder_minutes=config.booking_reminder_minutes,
    )
    if loop:
        worker.run_forever(float(config.notify_interval_seconds))
        return
    click.echo(json.dumps(worker.run_once()))


@notify_group.command("report")
@click.option("--hours", default=24, show_default=True, type=int)
def report_command(hours: int) -> None:
    """Messages sent, failed and pending (all centres) as JSON."""
    from sqlalchemy import select

    from server.domain.clock import utcnow
    from server.models import Centre
    from server.notify.store import report

    with current_app.extensions["tthcc_db"].transaction() as session:
        ids = list(session.scalars(select(Centre.id)))
        click.echo(
            json.dumps(report(session, ids, utcnow() - timedelta(hours=hours)), ensure_ascii=False)
        )


@notify_group.command("gateway-sim")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8025, show_default=True, type=int)
@click.option("--token", default="sim-token", show_default=True)
def gateway_sim_command(host: str, port: int, token: str) -> None:
    """A local SMS/Zalo gateway for development (faults: POST /_sim/fault)."""
    from server.notify.gateway_sim import GatewaySimulator

    sim = GatewaySimulator(host, port, token).start()
    click.echo(f"gateway simulator on {sim.url} (token {token}); Ctrl+C to stop")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        sim.close()
