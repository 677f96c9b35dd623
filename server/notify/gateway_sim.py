"""A local SMS/Zalo gateway speaking the documented protocol (docs/notifications.md), with
faults on command: refuse (422), break (503), stall (answer after the client gave up).

Tests start it in-process (`GatewaySimulator().start()`); a developer runs
`tthcc notify gateway-sim --port 8025` and points TTHCC_SMS_GATEWAY_URL at it. Faults:
`sim.fault("error", times=2)` in Python, or ``POST /_sim/fault {"mode", "times"}``.
It keeps what it accepted in memory (`sim.accepted`), once per reference (the
Idempotency-Key): a retried message is answered 409 "duplicate", not stored twice.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

logger = logging.getLogger(__name__)

MODES = ("ok", "fail", "error", "stall")


class GatewaySimulator:
    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, token: str = "sim-token", stall: float = 3.0
    ) -> None:
        self.token = token
        self.stall_seconds = stall
        self.accepted: dict[str, dict[str, Any]] = {}
        #: Every request as (reference, mode answered), in order.
        self.requests: list[tuple[str, str]] = []
        self._faults: list[str] = []
        self._lock = threading.Condition()
        self._release = threading.Event()
        self.server = ThreadingHTTPServer((host, port), self._handler())
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> GatewaySimulator:
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="gateway-sim", daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()

    def fault(self, mode: str, times: int = 1) -> None:
        """The next `times` messages meet `mode` (fail, error, stall); then "ok" again."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        with self._lock:
            self._faults.extend([mode] * times)

    def wait_for(self, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        """The accepted messages once there are `count` of them (AssertionError if not)."""
        with self._lock:
            self._lock.wait_for(lambda: len(self.accepted) >= count, timeout)
            assert len(self.accepted) >= count, f"{len(self.accepted)} message(s), wanted {count}"
            return list(self.accepted.values())

    def _next_mode(self) -> str:
        with self._lock:
            return self._faults.pop(0) if self._faults else "ok"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        sim = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                logger.debug("gateway-sim: " + format, *args)

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                raw = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                # A stalled answer: the client may have given up waiting.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(raw)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    return self._answer(400, {"error": "invalid_json"})
                if self.path == "/_sim/fault":
                    sim.fault(str(body.get("mode")), int(body.get("times") or 1))
                    return self._answer(200, {"ok": True})
                if self.path != "/messages":
                    return self._answer(404, {"error": "not_found"})
                if self.headers.get("Authorization") != f"Bearer {sim.token}":
                    return self._answer(401, {"error": "unauthorized"})
                reference = self.headers.get("Idempotency-Key") or str(body.get("reference"))
                missing = [k for k in ("to", "channel", "text", "reference") if not body.get(k)]
                if missing:
                    return self._answer(422, {"error": "invalid", "missing": missing})
                mode = sim._next_mode()
                sim.requests.append((reference, mode))
                if mode == "fail":
                    return self._answer(422, {"error": "rejected", "message": "number blocked"})
                if mode == "error":
                    return self._answer(503, {"error": "unavailable"})
                if mode == "stall":  # it takes the message, but answers after the client gave up
                    sim._release.wait(sim.stall_seconds)
                with sim._lock:
                    if reference in sim.accepted and mode != "stall":
                        ident = sim.accepted[reference]["id"]
                        return self._answer(409, {"id": ident, "status": "duplicate"})
                    sim.accepted.setdefault(
                        reference, {**body, "id": f"sim-{len(sim.accepted) + 1}"}
                    )
                    ident = sim.accepted[reference]["id"]
                    sim._lock.notify_all()
                return self._answer(202, {"id": ident, "status": "accepted"})

        return Handler
