"""Printer simulators: ``sim://DIR`` (in process) and a TCP 9100 network printer.

Both save every job into a folder as ``<name>.bin`` (the raw ESC/POS bytes) and
``<name>.png`` (the job decoded and rendered), and both take faults on command from a
flag file, so a person can break the printer from a shell::

    echo paper_out > DIR/fault     # or: paper_near_end, cover_open, offline, slow
    rm DIR/fault                   # printer fixed
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from datetime import datetime
from pathlib import Path

from escpos.printer import Dummy

from devices.errors import PrinterFault
from devices.printing.decode import EscposStream, decode_blocks
from devices.printing.preview import png_bytes, render_blocks_image
from devices.printing.status import DLE_EOT, PrinterState, status_answer

logger = logging.getLogger(__name__)

FAULT_FILE = "fault"
FAULTS = ("paper_out", "paper_near_end", "cover_open", "offline", "slow")
#: How long a "slow" printer takes per job (sim://) or per received chunk (TCP).
SLOW_SECONDS = 2.0


class FaultFlag:
    """The fault of a simulated printer, kept in ``DIR/fault`` so a shell can toggle it."""

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / FAULT_FILE

    def get(self) -> str | None:
        """The current fault name, or None; an unknown word in the file is ignored."""
        try:
            word = self.path.read_text().strip()
        except FileNotFoundError:
            return None
        if word and word not in FAULTS:
            logger.warning("ignoring unknown fault %r in %s (known: %s)", word, self.path, FAULTS)
            return None
        return word or None

    def set(self, fault: str | None) -> None:
        """Set a fault (one of :data:`FAULTS`) or clear it with None."""
        if fault is None:
            self.path.unlink(missing_ok=True)
            return
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; choose one of {', '.join(FAULTS)}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(fault + "\n")

    def state(self) -> PrinterState:
        """The printer state this fault shows (``slow`` prints, it is just slow)."""
        fault = self.get()
        if fault in (None, "slow"):
            return PrinterState.READY
        return PrinterState(fault)


def save_job(directory: Path, name: str, data: bytes) -> Path:
    """Write ``name.bin`` and, when the bytes decode, ``name.png``; return the .bin path."""
    directory.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "job"
    bin_path = directory / f"{safe}.bin"
    tmp = bin_path.with_suffix(".bin.tmp")
    tmp.write_bytes(data)
    tmp.replace(bin_path)  # a watcher never sees half a job
    try:
        image = render_blocks_image(decode_blocks(data))
        (directory / f"{safe}.png").write_bytes(png_bytes(image))
    except Exception:  # the bytes are the record; a preview is a courtesy
        logger.exception("could not render a preview of job %s", safe)
    return bin_path


def _timestamp_name() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S-%f")


class SimPrinter(Dummy):
    """A printer that saves each job to a folder (``sim://DIR``).

    Bytes are collected like python-escpos's ``Dummy``; ``cut()`` or ``flush()`` ends the
    job and saves it as ``<job_name or timestamp>.bin/.png``. Status queries are answered
    from the fault flag; with a fault set, ending a job raises :class:`PrinterFault` and
    nothing is saved, as nothing would come out of a real printer.
    """

    def __init__(self, directory: str | Path, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.directory = Path(directory)
        self.faults = FaultFlag(self.directory)
        self.job_name: str | None = None
        self._answer = b""
        self.saved: list[Path] = []

    def set_fault(self, fault: str | None) -> None:
        """Break (``"paper_out"``, ``"offline"``, ``"slow"``…) or fix (None) the printer."""
        self.faults.set(fault)

    def _raw(self, msg: bytes) -> None:
        # python-escpos sends each status query as its own _raw call, then _read()s.
        if len(msg) == 3 and msg.startswith(DLE_EOT):
            self._answer = status_answer(self.faults.state(), msg[2])
            return
        super()._raw(msg)

    def _read(self) -> bytes:
        answer, self._answer = self._answer, b""
        return answer

    def cut(self, mode: str = "FULL", feed: bool = True) -> None:
        """Cut (the bytes go into the job), then end the job."""
        super().cut(mode, feed)
        self.flush()

    def flush(self) -> None:
        """End the job: save it, or raise :class:`PrinterFault` when the printer is broken."""
        data = self.output
        self.clear()
        if not data:
            return
        fault = self.faults.get()
        if fault == "slow":
            time.sleep(SLOW_SECONDS)
        state = self.faults.state()
        if not state.can_print:
            raise PrinterFault(state)
        self.saved.append(save_job(self.directory, self.job_name or _timestamp_name(), data))
        self.job_name = None


class PrinterSimulator:
    """A network ticket printer on TCP (port 9100 by default) that saves what it prints.

    Each connection may carry status queries (DLE EOT n, answered at once) and print data;
    a cut or the end of the connection ends a job. With ``paper_out``/``cover_open`` set,
    received jobs are dropped (not printed); with ``offline`` the status queries get no
    answer and jobs are dropped; ``slow`` delays every received chunk.
    """

    def __init__(self, directory: str | Path, host: str = "127.0.0.1", port: int = 9100):
        self.directory = Path(directory)
        self.faults = FaultFlag(self.directory)
        self.host = host
        self.port = port
        self.saved: list[Path] = []
        self._server: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._jobs = 0
        self._lock = threading.Lock()

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) actually bound; use port 0 to get a free one."""
        assert self._server is not None, "start() first"
        return self._server.getsockname()[:2]

    def start(self) -> None:
        """Bind and accept connections in a background thread."""
        self.directory.mkdir(parents=True, exist_ok=True)
        server = socket.create_server((self.host, self.port), reuse_port=False)
        server.settimeout(0.2)  # so close() is noticed promptly
        self._server = server
        self._thread = threading.Thread(
            target=self._accept_loop, name=f"printer-sim:{self.address[1]}", daemon=True
        )
        self._thread.start()
        logger.info("printer simulator on %s:%s saving to %s", *self.address, self.directory)

    def close(self) -> None:
        """Stop accepting; idempotent."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        if self._server is not None:
            self._server.close()
            self._server = None

    def _accept_loop(self) -> None:
        assert self._server is not None
        while not self._stopping.is_set():
            try:
                conn, peer = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(
                target=self._serve, args=(conn,), name=f"printer-sim-conn:{peer[1]}", daemon=True
            ).start()

    def _serve(self, conn: socket.socket) -> None:
        stream = EscposStream()
        job = bytearray()
        with conn:
            if self.faults.state() is PrinterState.OFFLINE:
                return  # an offline printer: the connection dies, queries get nothing
            conn.settimeout(0.5)
            while not self._stopping.is_set():
                try:
                    chunk = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    break
                if not chunk:
                    break
                if self.faults.get() == "slow":
                    time.sleep(SLOW_SECONDS)
                for command in stream.feed(chunk):
                    if command.name == "status":
                        self._answer_status(conn, command.args[0])
                        continue
                    job += command.raw
                    if command.name == "cut":
                        self._end_job(bytes(job))
                        job.clear()
            self._end_job(bytes(job))

    def _answer_status(self, conn: socket.socket, query: int) -> None:
        answer = status_answer(self.faults.state(), query)
        try:
            if answer:
                conn.sendall(answer)
        except OSError:
            pass  # the client went away; the receive loop will notice

    def _end_job(self, job: bytes) -> None:
        if job in (b"", b"\x1b@"):
            return  # nothing but status queries or an init
        state = self.faults.state()
        if not state.can_print:
            logger.info("dropped a %d-byte job: printer %s", len(job), state.value)
            return
        with self._lock:
            self._jobs += 1
            name = f"{_timestamp_name()}-{self._jobs:04d}"
        path = save_job(self.directory, name, job)
        self.saved.append(path)
        logger.info("saved a %d-byte job to %s", len(job), path)
