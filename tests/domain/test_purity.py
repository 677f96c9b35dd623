"""The domain layer stays pure: no Flask, SQLAlchemy, Socket.IO or serial imports."""

import ast
from pathlib import Path

FORBIDDEN = ("flask", "flask_socketio", "socketio", "sqlalchemy", "serial", "escpos", "gevent")
DOMAIN = Path(__file__).resolve().parents[2] / "server" / "domain"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_domain_modules_import_no_framework():
    files = sorted(DOMAIN.rglob("*.py"))
    assert len(files) >= 5
    offenders = {
        f"{path.name}: {name}"
        for path in files
        for name in imported_modules(path)
        if name.split(".")[0] in FORBIDDEN
    }
    assert offenders == set()


def test_devices_never_import_the_server():
    devices = DOMAIN.parents[1] / "devices"
    offenders = {
        f"{path.relative_to(devices)}: {name}"
        for path in devices.rglob("*.py")
        for name in imported_modules(path)
        if name.split(".")[0] == "server"
    }
    assert offenders == set()
