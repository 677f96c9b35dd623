"""The printer runner: one thread per ticket printer that prints jobs and watches status.

Jobs and status polls share the thread, so the printer is never asked for its status in
the middle of a ticket, and jobs print in the order they came. The printer is opened per
job and per poll: a printer that was switched off, unplugged or rebooted is simply found
again next time, with no reconnect state to get wrong.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from devices.agent.runners import AgentContext, DeviceRunner, register_runner_factory
from devices.config import PrinterConfig, StationConfig
from devices.errors import DeviceError, DeviceNotFound, PrinterFault
from devices.printing.layout import draw_ticket
from devices.printing.sim import SimPrinter
from devices.printing.status import PrinterState
from devices.printing.ticket import TicketPrint
from devices.printing.transports import open_printer, parse_printer_url, printer_state

logger = logging.getLogger(__name__)

KIND = "printer"

Task = Callable[[], None]

#: Seconds to wait for the status after a ticket: the query queues behind the ticket.
AFTER_JOB_STATUS_TIMEOUT = 5.0


class PrinterRunner:
    """Drives one ticket printer from its :class:`PrinterConfig`."""

    kind = KIND

    def __init__(
        self,
        config: PrinterConfig,
        context: AgentContext,
        *,
        opener: Callable[[str, str | None], Any] = open_printer,
    ) -> None:
        parse_printer_url(config.url)  # fail at start-up, not in the thread
        self.config = config
        self.name = config.name
        self._context = context
        self._open = opener
        self._state: PrinterState | None = None  # None: never looked yet
        self._state_lock = threading.Lock()
        self._tasks: queue.Queue[Task | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._closed = threading.Event()

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Start the printer thread; it polls the status at once."""
        if self._thread is not None:
            raise RuntimeError(f"{self.name}: already started")
        self._thread = threading.Thread(target=self._run, name=f"printer:{self.name}", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        """Stop after the ticket being printed, if any; idempotent."""
        if self._closed.is_set():
            return
        self._closed.set()
        self._tasks.put(None)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                logger.warning("%s: printer thread still busy after %.0f s", self.name, timeout)

    def healthy(self) -> bool:
        """False when the thread died (the agent stops pinging the watchdog)."""
        return self._thread is not None and self._thread.is_alive()

    def submit(self, task: Task) -> None:
        """Run ``task`` on the printer thread, after the tasks already queued."""
        self._tasks.put(task)

    # --- state --------------------------------------------------------------------------

    @property
    def state(self) -> PrinterState | None:
        return self._state

    def set_state(self, new: PrinterState) -> None:
        """The one place the state changes: logs ``old -> new`` and reports it once."""
        with self._state_lock:
            old, self._state = self._state, new
        if old is new:
            return
        level = logging.INFO if new.can_print else logging.WARNING
        logger.log(level, "%s: %s -> %s", self.name, old.value if old else "not checked", new.value)
        self._context.report_status(self.name, KIND, new.wire_state, new.reason)

    # --- printing -----------------------------------------------------------------------

    def print_ticket(self, job_name: str, ticket: TicketPrint) -> None:
        """Print one ticket now (call on the printer thread, via :meth:`submit`).

        Raises :class:`PrinterFault` when the printer cannot print (nothing was sent) or
        reported a fault right after the ticket, and :class:`DeviceError` otherwise.
        """
        printer = self._open_or_offline()
        try:
            state = printer_state(printer)
            self.set_state(state)
            if not state.can_print:
                raise PrinterFault(state)
            if isinstance(printer, SimPrinter):
                printer.job_name = job_name
            draw_ticket(printer, ticket, self.config.mode, codepage=self.config.codepage)
            # A printer that ran out of paper mid-ticket says so now; the citizen is
            # better served by the on-screen ticket than by half a ticket. Silence is
            # not a fault here: a busy printer may answer late; the next poll decides.
            after = printer_state(printer, AFTER_JOB_STATUS_TIMEOUT)
            if after in (PrinterState.PAPER_OUT, PrinterState.COVER_OPEN):
                self.set_state(after)
                raise PrinterFault(after)
            if after is not PrinterState.OFFLINE:
                self.set_state(after)
        except OSError as exc:  # socket/serial/USB failure mid-job
            self.set_state(PrinterState.OFFLINE)
            raise PrinterFault(PrinterState.OFFLINE, f"offline: {exc}") from exc
        finally:
            _close_quietly(printer)

    def poll(self) -> PrinterState:
        """Ask the printer for its state now and report a change."""
        try:
            printer = self._open_or_offline()
        except PrinterFault as fault:
            return fault.state
        try:
            state = printer_state(printer)
        finally:
            _close_quietly(printer)
        self.set_state(state)
        return state

    def _open_or_offline(self) -> Any:
        try:
            return self._open(self.config.url, self.config.profile)
        except DeviceNotFound as exc:
            if self._state is not PrinterState.OFFLINE:
                logger.debug("%s: %s", self.name, exc)
            self.set_state(PrinterState.OFFLINE)
            raise PrinterFault(PrinterState.OFFLINE, f"offline: {exc}") from exc

    def _run(self) -> None:
        self._safe(self.poll)
        while not self._closed.is_set():
            try:
                task = self._tasks.get(timeout=self.config.status_interval)
            except queue.Empty:
                self._safe(self.poll)
                continue
            if task is None:
                break
            self._safe(task)

    def _safe(self, task: Task) -> None:
        # One bad job or poll must not kill the thread: the printer would go silent.
        try:
            task()
        except DeviceError as exc:
            logger.debug("%s: %s", self.name, exc)
        except Exception:
            logger.exception("%s: unexpected error", self.name)


def _close_quietly(printer: Any) -> None:
    try:
        printer.close()
    except Exception:  # closing a dead socket or unplugged USB device
        logger.debug("closing printer failed", exc_info=True)


def printer_runners(config: StationConfig, context: AgentContext) -> list[DeviceRunner]:
    """Runner factory for ``[[printers]]``."""
    return [PrinterRunner(printer, context) for printer in config.printers]


register_runner_factory("printers", printer_runners)
