"""Click commands of the printing package (mounted by the server as ``tthcc sim printer``)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import click


@click.command("printer")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=9100, show_default=True, type=int, help="TCP port (0 = any).")
@click.option(
    "--dir",
    "directory",
    default="var/sim/printer",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for received jobs (.bin + .png) and the fault flag file.",
)
def printer_sim_command(host: str, port: int, directory: Path) -> None:
    """Simulate a network ESC/POS ticket printer (TCP 9100).

    Jobs are saved as .bin (raw bytes) and .png (decoded) in DIR. Break the printer with
    `echo paper_out > DIR/fault` (or paper_near_end, cover_open, offline, slow); fix it
    with `rm DIR/fault`.
    """
    from devices.printing.sim import PrinterSimulator

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    simulator = PrinterSimulator(directory, host=host, port=port)
    try:
        simulator.start()
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc}") from exc
    bound_host, bound_port = simulator.address
    click.echo(f"printer simulator on tcp://{bound_host}:{bound_port} -> {directory}/")
    click.echo(f"faults: echo paper_out > {directory}/fault ; rm {directory}/fault")
    try:
        threading.Event().wait()  # until Ctrl-C / SIGTERM
    except KeyboardInterrupt:
        pass
    finally:
        simulator.close()
