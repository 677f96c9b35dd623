"""``tthcc agent CONFIG``: run the station agent (mounted by the server's CLI)."""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path
from types import FrameType

import click


def _quiet_escpos(record: logging.LogRecord) -> bool:
    """Drop python-escpos's INFO lines ("Network printer enabled", "Closing …"): it logs
    through the root logger, and the agent opens the printer for every status poll."""
    return record.levelno >= logging.WARNING or f"{os.sep}escpos{os.sep}" not in record.pathname


@click.command("agent")
@click.argument("config", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--log-level",
    default="INFO",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
)
def agent_command(config: Path, log_level: str) -> None:
    """Run the station agent with the station TOML file CONFIG.

    Connects to the server (namespace /station), prints tickets, reports device states;
    stops cleanly on SIGTERM or Ctrl-C.
    """
    if not logging.getLogger().handlers:
        # systemd's journal adds its own timestamps; the level and logger name are enough.
        logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(log_level.upper())
    for handler in logging.getLogger().handlers:
        handler.addFilter(_quiet_escpos)

    from devices.agent.agent import Agent
    from devices.config import ConfigError, load_config

    try:
        station = load_config(config)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    agent = Agent(station)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        logging.getLogger(__name__).info("signal %d: stopping", signum)
        agent.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    agent.run()
