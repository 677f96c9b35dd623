"""The printer runner: one thread per printer that prints jobs and watches status.

A job's document is a queue ticket, a dossier's receipt slip or a procedure's papers list
laid out like a slip (``kind`` of the
``print.job`` event, docs/station-protocol.md); :func:`job_document` reads it and says how
to draw it, so the runner prints any kind the same way.

Jobs and status polls share the thread, so the printer is never asked for its status in
the middle of a ticket, and jobs print in the order they came. The printer is opened per
job and per poll: a printer that was switched off, unplugged or rebooted is simply found
again next time, with no reconnect state to get wrong.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
from collections.abc import Callable, Mapping
from typing import Any

from devices.agent.runners import AgentContext, DeviceRunner, register_runner_factory
from devices.config import PrinterConfig, StationConfig
from devices.errors import DeviceError, DeviceNotFound, PrinterFault, ProtocolError
from devices.printing.layout import Mode, draw_ticket
from devices.printing.sim import SimPrinter
from devices.printing.slip import SlipPrint, draw_slip
from devices.printing.status import PrinterState
from devices.printing.ticket import TicketPrint
from devices.printing.transports import open_printer, parse_printer_url, printer_state

logger = logging.getLogger(__name__)

KIND = "printer"

Task = Callable[[], None]

#: Seconds to wait for the status after a ticket: the query queues behind the ticket.
AFTER_JOB_STATUS_TIMEOUT = 5.0

KIND_TICKET = "ticket"
KIND_DOSSIER_SLIP = "dossier_slip"
#: A procedure's papers list printed at a kiosk: laid out like a slip.
KIND_PAPERS = "papers"


class UnknownJobKind(ProtocolError):
    """A ``print.job`` of a kind this agent cannot print (a newer server?)."""


@dataclasses.dataclass(frozen=True)
class JobDocument:
    """What one print job prints, validated, and how to draw it."""

    kind: str
    document: TicketPrint | SlipPrint

    def draw(self, printer: Any, mode: Mode, *, codepage: int | None = None) -> None:
        """Draw onto a python-escpos printer object, ending with a cut."""
        if isinstance(self.document, SlipPrint):
            draw_slip(printer, self.document, mode, codepage=codepage)
        else:
            draw_ticket(printer, self.document, mode, codepage=codepage)


#: kind -> (the key of its document in the event, its parser).
_KINDS: dict[str, tuple[str, Callable[[Any], TicketPrint | SlipPrint]]] = {
    KIND_TICKET: ("ticket", TicketPrint.from_payload),
    KIND_DOSSIER_SLIP: ("slip", SlipPrint.from_payload),
    KIND_PAPERS: ("papers", SlipPrint.from_payload),
}


def job_document(job: Mapping[str, Any]) -> JobDocument:
    """The document of a ``print.job`` event.

    A job without ``kind`` is a ticket (servers from before dossier slips). Raises a
    :class:`ProtocolError` (an unknown kind, a missing or invalid document) whose
    message is the reason the job is acknowledged failed.
    """
    kind = job.get("kind") or KIND_TICKET
    if kind not in _KINDS:
        known = ", ".join(sorted(_KINDS))
        raise UnknownJobKind(f"unknown print job kind {kind!r} (this agent prints: {known})")
    key, parse = _KINDS[kind]
    return JobDocument(kind, parse(job.get(key)))


class PrinterRunner:
    """Drives one printer (tickets, dossier slips) from its :class:`PrinterConfig`."""

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
        """Print one ticket now (see :meth:`print_document`)."""
        self.print_document(job_name, JobDocument(KIND_TICKET, ticket))

    def print_document(self, job_name: str, document: JobDocument) -> None:
        """Print one ticket or slip now (call on the printer thread, via :meth:`submit`).

        Raises :class:`PrinterFault` when the printer cannot print (nothing was sent) or
        reported a fault right after the job, and :class:`DeviceError` otherwise.
        """
        printer = self._open_or_offline()
        try:
            state = printer_state(printer)
            self.set_state(state)
            if not state.can_print:
                raise PrinterFault(state)
            if isinstance(printer, SimPrinter):
                printer.job_name = job_name
            document.draw(printer, self.config.mode, codepage=self.config.codepage)
            # A printer that ran out of paper mid-job says so now; the citizen is better
            # served by the on-screen ticket (or the slip's PDF) than by half of it.
            # Silence is not a fault here: a busy printer may answer late; the next poll
            # decides.
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
