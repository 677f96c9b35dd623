"""sd_notify against a real AF_UNIX datagram socket, as systemd would bind it."""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

import pytest

from devices.agent import sdnotify


@pytest.fixture
def notify_socket(tmp_path: Path, monkeypatch):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = tmp_path / "notify"
    sock.bind(str(path))
    sock.settimeout(2)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    yield sock
    sock.close()


def test_ready_watchdog_and_status_reach_the_socket(notify_socket) -> None:
    assert sdnotify.ready()
    assert notify_socket.recv(256) == b"READY=1"
    assert sdnotify.watchdog_ping()
    assert notify_socket.recv(256) == b"WATCHDOG=1"
    assert sdnotify.status("connected\nto server")
    assert notify_socket.recv(256) == b"STATUS=connected to server"


def test_abstract_namespace_socket(monkeypatch) -> None:
    name = f"tthcc-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(b"\0" + name.encode())
        sock.settimeout(2)
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        assert sdnotify.ready()
        assert sock.recv(256) == b"READY=1"


def test_without_systemd_everything_is_a_quiet_no_op(monkeypatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert sdnotify.ready() is False
    assert sdnotify.watchdog_ping() is False


def test_unreachable_socket_is_not_fatal(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone"))
    assert sdnotify.ready() is False


def test_watchdog_interval_is_half_of_watchdog_usec(monkeypatch) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "20000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert sdnotify.watchdog_interval() == 10.0
    monkeypatch.setenv("WATCHDOG_PID", "1")  # meant for another process
    assert sdnotify.watchdog_interval() is None
