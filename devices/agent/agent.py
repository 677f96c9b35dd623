"""The station agent: one Socket.IO connection to the server, and the station's devices.

Threads: ``agent-connection`` (connects, reconnects with capped back-off, and while
connected sends the heartbeat that measures the station's clock against the server's,
:mod:`devices.agent.heartbeat`), one per device runner, and the caller's, which runs the health loop (systemd watchdog) in :meth:`run`.
Print jobs arrive on the Socket.IO thread and are handed to the printer's own thread at
once, so a slow printer never stalls the connection.
"""

from __future__ import annotations

import importlib
import logging
import random
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
import socketio

from devices.agent import events, sdnotify
from devices.agent.heartbeat import ServerClock
from devices.agent.printed import Claim, PrintedJobs
from devices.agent.printer import JobDocument, job_document  # registers the printer factory
from devices.agent.runners import PLUGIN_MODULES, DeviceRunner, runner_factories
from devices.config import StationConfig
from devices.errors import DeviceError, DeviceTimeout, ProtocolError

logger = logging.getLogger(__name__)

#: How often a waiting call() looks whether the link dropped or the agent is stopping.
_CALL_POLL_SECONDS = 0.1

_TIMESTAMP_PARAM = re.compile(r"&t=[0-9.]+")


class Agent:
    """Connects a station's devices to the server (docs/station-protocol.md).

    ``start()`` returns at once; ``run()`` starts, then blocks in the health loop until
    ``stop()``; ``close()`` is idempotent.
    """

    def __init__(
        self,
        config: StationConfig,
        *,
        connect_timeout: float = 5.0,
        retry_initial: float = 1.0,
        retry_max: float = 30.0,
        heartbeat_interval: float = 30.0,
    ) -> None:
        self.config = config
        self.connect_timeout = connect_timeout
        self.heartbeat_interval = heartbeat_interval
        self.retry_initial = retry_initial
        self.retry_max = retry_max
        self.spool_dir = config.spool_dir
        self.runners: dict[str, DeviceRunner] = {}
        self.printed: PrintedJobs | None = None
        self.last_connect_error: str | None = None

        http = None
        if config.ca_file is not None:
            # Engine.IO takes the session's `verify` for its WebSocket too.
            http = requests.Session()
            http.verify = str(config.ca_file)
            # The configured CA wins: REQUESTS_CA_BUNDLE in the environment would replace it.
            http.trust_env = False
        self._sio = socketio.Client(
            reconnection=False,  # our own loop: one log line per outage, capped back-off
            handle_sigint=False,
            logger=False,
            engineio_logger=False,
            http_session=http,
        )
        self._sio.on("connect", self._on_connect_event, namespace=events.NAMESPACE)
        self._sio.on("disconnect", self._on_disconnect, namespace=events.NAMESPACE)
        self._sio.on("connect_error", self._on_connect_error, namespace=events.NAMESPACE)
        self._sio.on(events.PRINT_JOB, self._on_print_job, namespace=events.NAMESPACE)

        self._stop = threading.Event()
        self._connected = threading.Event()
        self._disconnected = threading.Event()
        #: Counts disconnections: a call waits only for an answer on the link it used.
        self._drops = 0
        self._connection_thread: threading.Thread | None = None
        self._connect_callbacks: list[Callable[[], None]] = []
        self._handlers: dict[str, list[Callable[[Any], None]]] = {}
        self._statuses: dict[str, dict[str, Any]] = {}
        self._status_lock = threading.Lock()
        self._inflight: set[str] = set()
        self._unsent_acks: dict[str, dict[str, Any]] = {}
        self._jobs_lock = threading.Lock()
        self._closed = False
        self.clock = ServerClock(self.call)

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Open the job record, start every device runner and the connection thread."""
        self.printed = PrintedJobs(self.spool_dir)
        for module in PLUGIN_MODULES:
            try:
                importlib.import_module(module)
            except ModuleNotFoundError as exc:
                if exc.name != module:
                    raise
        for name, factory in runner_factories().items():
            for runner in factory(self.config, self):
                logger.debug("runner %s (%s) from %s", runner.name, runner.kind, name)
                self.runners[runner.name] = runner
        for runner in self.runners.values():
            runner.start()
        self._warn_unhandled_devices()
        self._connection_thread = threading.Thread(
            target=self._connection_loop, name="agent-connection", daemon=True
        )
        self._connection_thread.start()

    def run(self) -> None:
        """Start, tell systemd we are ready, and run the health loop until :meth:`stop`."""
        try:
            self.start()
            sdnotify.ready()
            sdnotify.status(self.summary())
            interval = min(sdnotify.watchdog_interval() or 10.0, 10.0)
            while not self._stop.wait(interval):
                self.health_check()
        finally:
            sdnotify.stopping()
            self.close()

    def stop(self) -> None:
        """Ask :meth:`run` to return (safe from a signal handler)."""
        self._stop.set()

    def close(self) -> None:
        """Disconnect, stop the runners, close the job record. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        self._disconnected.set()
        self._disconnect()
        if self._connection_thread is not None:
            self._connection_thread.join(self.connect_timeout + 1)
        for runner in self.runners.values():
            try:
                runner.close()
            except Exception:
                logger.exception("%s: close failed", runner.name)
        if self.printed is not None:
            self.printed.close()

    # --- health -------------------------------------------------------------------------

    def health_check(self) -> bool:
        """Ping the systemd watchdog if every thread is alive; True when healthy.

        A dead thread means a device or the connection silently stopped working: not
        pinging lets systemd restart the agent, which is the only cure for that.
        """
        problems = []
        if self._connection_thread is None or not self._connection_thread.is_alive():
            problems.append("connection thread died")
        for runner in self.runners.values():
            # The printer runner has a healthy() method, the serial runners a property.
            healthy = getattr(runner, "healthy", True)
            if not (healthy() if callable(healthy) else healthy):
                problems.append(f"{runner.name} thread died")
        if problems:
            logger.error("unhealthy: %s", "; ".join(problems))
            sdnotify.status("unhealthy: " + "; ".join(problems))
            return False
        sdnotify.watchdog_ping()
        sdnotify.status(self.summary())
        return True

    def summary(self) -> str:
        """One line for ``systemctl status``."""
        link = "connected" if self.connected else "not connected"
        best = self.clock.best()
        if best is not None:
            link += f" (clock {best.offset:+.3f} s)"
        with self._status_lock:
            devices = [f"{n} {s['state']}" for n, s in sorted(self._statuses.items())]
        return f"{link} to {self.config.server_url}" + (
            "; " + ", ".join(devices) if devices else ""
        )

    # --- AgentContext (for runners) -----------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        """Block until connected to the server; False if ``timeout`` passed first."""
        return self._connected.wait(timeout)

    def emit(self, event: str, payload: dict[str, Any]) -> bool:
        """Send an event to the server; False (and dropped) when not connected."""
        # No check of self.connected: a job re-sent during the handshake may finish before
        # connect() returns, and its ack must go out; the namespace check is the truth.
        try:
            self._sio.emit(event, payload, namespace=events.NAMESPACE)
        except socketio.exceptions.SocketIOError as exc:
            logger.debug("emit %s failed: %s", event, exc)
            return False
        return True

    def call(self, event: str, payload: dict[str, Any], timeout: float = 5.0) -> Any:
        """Send an event and return the server's acknowledgement value.

        Gives up as soon as the link drops or the agent stops. python-socketio's own
        ``call()`` waits out its whole timeout after a disconnect (documented): a heartbeat
        in flight at SIGTERM held the stopping agent 5 s, and a rating sent just before a
        drop was re-sent only after the dead call had timed out.
        """
        answered = threading.Event()
        answers: list[tuple[Any, ...]] = []

        def on_answer(*args: Any) -> None:
            answers.append(args)
            answered.set()

        drops = self._drops
        try:
            self._sio.emit(event, payload, namespace=events.NAMESPACE, callback=on_answer)
        except socketio.exceptions.SocketIOError as exc:
            raise DeviceError(f"cannot send {event} (not connected?): {exc}") from exc
        deadline = time.monotonic() + timeout
        while not answered.wait(min(_CALL_POLL_SECONDS, max(0.0, deadline - time.monotonic()))):
            if self._stop.is_set() or self._disconnected.is_set() or self._drops != drops:
                raise DeviceError(f"no answer to {event}: the connection closed")
            if time.monotonic() >= deadline:
                raise DeviceTimeout(f"no answer to {event} within {timeout} s")
        args = answers[0]
        return args[0] if len(args) == 1 else (args or None)

    def clock_offset(self, timeout: float = 0.0) -> float | None:
        """Seconds to add to the station clock to get the server's; None until measured.

        ``timeout``: wait at most that long for the measurement made after a connect.
        """
        return self.clock.offset(timeout)

    def report_status(self, device: str, kind: str, state: str, reason: str | None) -> None:
        """Record a device's state and send it (again after every reconnect)."""
        payload = {"device": device, "kind": kind, "state": state, "reason": reason}
        with self._status_lock:
            self._statuses[device] = payload
        self.emit(events.DEVICE_STATUS, payload)

    def on(self, event: str, handler: Callable[[Any], None]) -> None:
        """Subscribe ``handler(payload)`` to a server event on ``/station``.

        Several runners may follow the same event (python-socketio keeps one handler per
        event, so the agent dispatches); a failing handler does not stop the others.
        """
        handlers = self._handlers.get(event)
        if handlers is None:
            handlers = self._handlers[event] = []

            def dispatch(data: Any = None) -> None:
                for subscriber in list(handlers):
                    try:
                        subscriber(data)
                    except Exception:
                        logger.exception("handler of %s failed", event)

            self._sio.on(event, dispatch, namespace=events.NAMESPACE)
        handlers.append(handler)

    def deliver(self, event: str, payload: Any) -> None:
        """Hand ``payload`` to this agent's own handlers of ``event``, as if the server had
        sent it (a runner telling another what happened locally)."""
        for handler in list(self._handlers.get(event, ())):
            try:
                handler(payload)
            except Exception:
                logger.exception("handler of %s failed", event)

    def on_connect(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` after every (re)connection."""
        self._connect_callbacks.append(callback)

    # --- connection ---------------------------------------------------------------------

    def _connection_loop(self) -> None:
        delay = self.retry_initial
        failures = 0
        last_reason = None
        next_beat = 0.0
        closing_since: float | None = None
        while not self._stop.is_set():
            if self._sio.connected:
                self._disconnected.wait(min(1.0, max(0.0, next_beat - time.monotonic())))
                if self._sio.connected and time.monotonic() >= next_beat:
                    self.clock.measure()
                    next_beat = time.monotonic() + self.heartbeat_interval
                continue
            if self._sio.eio.state != "disconnected":
                # The server closed our namespace: python-socketio marks the client
                # disconnected at once but closes the Engine.IO link on its read loop a
                # moment later, and connecting before that raises ValueError (which killed
                # this thread: no more reconnects until the watchdog restarted the agent).
                self._stop.wait(0.05)
                closing_since = closing_since or time.monotonic()
                if time.monotonic() - closing_since > self.connect_timeout:
                    logger.warning("the previous connection did not close; dropping it")
                    self._sio.eio.disconnect(abort=True)
                continue
            closing_since = None
            self.last_connect_error = None
            try:
                self._sio.connect(
                    self.config.server_url,
                    auth={"token": self.config.station_token},
                    namespaces=[events.NAMESPACE],
                    transports=list(self.config.transports),
                    wait_timeout=self.connect_timeout,
                )
            except socketio.exceptions.ConnectionError as exc:
                if self._stop.is_set():
                    break  # close() interrupted the attempt: not a failure worth a line
                failures += 1
                reason = self.last_connect_error or str(exc) or type(exc).__name__
                # Engine.IO puts a timestamp (t=…) into the URL of every attempt.
                reason = _TIMESTAMP_PARAM.sub("", reason)
                if reason == "Invalid transport" and self.config.transports[0] == "polling":
                    reason += ' (the server accepts WebSocket only: set transports = ["websocket"])'
                if reason != last_reason:  # one line per kind of failure, not per retry
                    logger.warning(
                        "cannot connect to %s: %s (retrying, at most every %g s)",
                        self.config.server_url,
                        reason,
                        self.retry_max,
                    )
                    last_reason = reason
                else:
                    logger.debug("connect attempt %d failed: %s", failures, reason)
                # Jitter: after a server restart, every station must not knock at once.
                self._stop.wait(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, self.retry_max)
                continue
            if self._stop.is_set():
                break
            logger.info(
                "connected to %s%s",
                self.config.server_url,
                f" after {failures} failed attempt(s)" if failures else "",
            )
            delay, failures, last_reason = self.retry_initial, 0, None
            self._after_connect()
            next_beat = time.monotonic() + self.heartbeat_interval
        if self._sio.connected:  # connect() won the race against close()
            self._disconnect()
        self._connected.clear()

    def _disconnect(self, timeout: float = 2.0) -> None:
        """Disconnect, waiting at most ``timeout`` seconds.

        python-engineio's client can race its own write loop on disconnect and then
        wait out a 30 s queue timeout; a stopping agent should not hang on that.
        """

        def disconnect() -> None:
            try:
                self._sio.disconnect()
            except Exception:  # already gone
                logger.debug("disconnect failed", exc_info=True)

        thread = threading.Thread(target=disconnect, name="agent-disconnect", daemon=True)
        thread.start()
        thread.join(timeout)
        if thread.is_alive():
            logger.debug("Socket.IO client still closing after %.0f s; not waiting", timeout)

    def _on_connect_event(self) -> None:
        self._disconnected.clear()
        self._connected.set()
        self._send_unsent_acks()

    def _after_connect(self) -> None:
        with self._status_lock:
            snapshot = list(self._statuses.values())
        for payload in snapshot:  # the server may have missed changes while we were away
            self.emit(events.DEVICE_STATUS, payload)
        for callback in self._connect_callbacks:
            try:
                callback()
            except Exception:
                logger.exception("on_connect callback failed")
        # Then the clock (a spooled press made before any measurement waits for it; a
        # server from before heartbeats costs one call timeout here, nothing else).
        self.clock.connected()

    def _on_disconnect(self, reason: Any = None) -> None:
        if self._connected.is_set():
            level = logging.INFO if self._stop.is_set() else logging.WARNING
            logger.log(level, "disconnected from %s (%s)", self.config.server_url, reason)
        self._connected.clear()
        self._drops += 1
        self._disconnected.set()
        self.clock.disconnected()

    def _on_connect_error(self, data: Any = None) -> None:
        message = data.get("message") if isinstance(data, dict) else data
        self.last_connect_error = str(message) if message else "connection refused"

    # --- print jobs ---------------------------------------------------------------------

    def _ack(self, job_id: str, status: str, reason: str | None = None) -> None:
        payload = {"job_id": job_id, "status": status, "reason": reason}
        if status == events.ACK_FAILED:
            logger.warning("print job %s failed: %s", job_id, reason)
        else:
            logger.info("print job %s printed", job_id)
        with self._jobs_lock:
            sent = self.emit(events.PRINT_ACK, payload)
            if not sent:
                self._unsent_acks[job_id] = payload
        if not sent:
            logger.info("ack of job %s not sent yet (not connected)", job_id)

    def _send_unsent_acks(self) -> None:
        """Send acks that found no connection: a job the server re-sent on connect can
        be handled before the client has processed the namespace's CONNECT packet."""
        with self._jobs_lock:
            unsent, self._unsent_acks = self._unsent_acks, {}
            for job_id, payload in unsent.items():
                if not self.emit(events.PRINT_ACK, payload):
                    self._unsent_acks[job_id] = payload

    def _on_print_job(self, data: Any) -> None:
        job_id = data.get("job_id") if isinstance(data, dict) else None
        if not isinstance(job_id, str) or not job_id:
            logger.warning("ignoring a print.job without a job_id")
            return
        try:  # a ticket or a dossier slip; an unknown kind is refused, never a crash
            document = job_document(data)
        except ProtocolError as exc:
            self._ack(job_id, events.ACK_FAILED, str(exc))
            return
        name = data.get("printer")
        try:
            printer_name = self.config.printer(name).name
        except KeyError:
            self._ack(job_id, events.ACK_FAILED, f"no printer named {name!r} at this station")
            return
        runner = self.runners.get(printer_name)
        if runner is None or not hasattr(runner, "submit"):
            self._ack(job_id, events.ACK_FAILED, f"printer {printer_name!r} is not running")
            return
        assert self.printed is not None
        with self._jobs_lock:
            if job_id in self._inflight:
                logger.debug("job %s is already being printed", job_id)
                return
            recorded = self.printed.lookup(job_id)
            if recorded is None:
                self._inflight.add(job_id)
        if recorded is Claim.PRINTED:
            self._ack(job_id, events.ACK_PRINTED)
        elif recorded is Claim.INTERRUPTED:
            self._ack(job_id, events.ACK_FAILED, "interrupted (may have printed)")
        else:
            runner.submit(lambda: self._print(runner, job_id, document))

    def _print(self, runner: Any, job_id: str, document: JobDocument) -> None:
        """On the printer thread: claim, print, record, acknowledge."""
        assert self.printed is not None
        try:
            if self.printed.claim(job_id) is not Claim.NEW:
                return self._ack(job_id, events.ACK_PRINTED)
            try:
                runner.print_document(job_id, document)
            except Exception as exc:
                self.printed.release(job_id)  # nothing usable came out: a re-send may print
                reason = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
                if not isinstance(exc, DeviceError):
                    logger.exception("job %s: unexpected error", job_id)
                return self._ack(job_id, events.ACK_FAILED, reason)
            self.printed.mark_printed(job_id)  # durable before the ack: at most once
            self._ack(job_id, events.ACK_PRINTED)
        finally:
            with self._jobs_lock:
                self._inflight.discard(job_id)

    def _warn_unhandled_devices(self) -> None:
        sections = {
            "ratingpads": self.config.ratingpads,
            "ledboards": self.config.ledboards,
            "keypads": self.config.keypads,
        }
        factories = runner_factories()
        for section, devices in sections.items():
            if devices and section not in factories:
                names = [d.name for d in devices]
                logger.warning("no driver registered for [[%s]]: %s ignored", section, names)
