"""Gunicorn's own answers (before the app runs) are JSON like every other error of ours."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import requests


def _raw(url: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    host = urlsplit(url)
    with socket.create_connection((host.hostname, host.port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except ConnectionResetError:  # gunicorn closed with our unread bytes: an RST after
            assert data, "no answer before the connection was reset"
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


def test_a_request_line_over_gunicorns_limit_is_a_json_414(live_server):
    status, headers, body = _raw(
        live_server.url, b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    assert status == 414
    assert headers["Content-Type"] == "application/json"
    payload = json.loads(body)
    assert payload["error"] == "uri_too_long"
    assert payload["message"] == "Địa chỉ quá dài." and payload["message_en"]


def test_oversized_headers_and_garbage_are_json_too(live_server):
    status, headers, body = _raw(
        live_server.url,
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n",
    )
    assert status == 431 and json.loads(body)["error"] == "headers_too_large"
    status, headers, body = _raw(live_server.url, b"NOT A REQUEST\r\n\r\n")
    assert status == 400 and headers["Content-Type"] == "application/json"
    assert json.loads(body)["message_en"]
    # and the worker still serves ordinary requests afterwards
    assert requests.get(live_server.url + "/api/v1/centres", timeout=5).status_code == 200
