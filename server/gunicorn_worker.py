"""The gunicorn worker TTHCC runs: gevent, with gunicorn's own error pages in JSON.

Gunicorn answers some requests itself, before the app sees them: a request line over
``limit_request_line`` (414), headers over ``limit_request_field_size`` or too many of
them (431), an unparsable request (400). Its body is a small HTML page; every other error
of ours is JSON (``{code, status, error, message, message_en}``). This worker lets gunicorn
decide the status exactly as it does, and rewrites only the page it writes on the socket.
Run it with ``--worker-class server.gunicorn_worker.GeventWorker``.

What no worker can change: a client that closes the connection mid-request gets nothing,
and a proxy in front (nginx) answers its own limits with its own pages.
"""

from __future__ import annotations

import json
import re
from typing import Any

from gunicorn.workers.ggevent import GeventWorker as _GunicornGeventWorker

_STATUS_LINE = re.compile(rb"^HTTP/1\.[01] (\d{3}) ([^\r\n]*)\r\n")

_MESSAGES = {
    400: ("bad_request", "Yêu cầu không hợp lệ.", "Bad request."),
    403: ("forbidden", "Yêu cầu bị từ chối.", "Request forbidden."),
    414: ("uri_too_long", "Địa chỉ quá dài.", "The URL is too long."),
    417: ("expectation_failed", "Yêu cầu không hợp lệ.", "Expectation failed."),
    431: (
        "headers_too_large",
        "Phần đầu yêu cầu quá lớn.",
        "Request header fields too large.",
    ),
    500: ("server_error", "Lỗi máy chủ, vui lòng thử lại.", "Server error, please try again."),
    501: ("not_implemented", "Không hỗ trợ kiểu truyền này.", "Transfer coding not supported."),
}


def json_error_page(page: bytes) -> bytes:
    """Gunicorn's HTML error response rewritten as our JSON error (same status)."""
    found = _STATUS_LINE.match(page)
    if found is None:
        return page
    status, reason = int(found.group(1)), found.group(2).decode("latin-1")
    error, vi, en = _MESSAGES.get(status, ("http_error", reason, reason))
    body = json.dumps(
        {"code": status, "status": reason, "error": error, "message": vi, "message_en": en},
        ensure_ascii=False,
    ).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "X-Content-Type-Options: nosniff\r\n\r\n"
    ).encode("latin-1")
    return head + body


class _JsonErrorSocket:
    """The client socket, except that the error page written on it becomes JSON."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock

    def sendall(self, data: bytes, *args: Any) -> Any:
        return self._sock.sendall(json_error_page(bytes(data)), *args)

    def send(self, data: bytes, *args: Any) -> Any:  # pragma: no cover - gunicorn uses sendall
        self.sendall(data)
        return len(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class GeventWorker(_GunicornGeventWorker):
    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        super().handle_error(req, _JsonErrorSocket(client), addr, exc)
