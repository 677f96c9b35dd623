"""Shared fixtures: an app on a fresh database (SQLite, or PostgreSQL with --db=postgres).

Each PostgreSQL run creates and drops its own database, so runs never depend on leftovers.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

PG_ADMIN_URL = os.environ.get(
    "TTHCC_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--pg",
        action="store_true",
        default=os.environ.get("TTHCC_TEST_PG", "") == "1",
        help="also run the database tests on PostgreSQL (127.0.0.1:5432)",
    )


def _pg_available() -> bool:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(PG_ADMIN_URL)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Tests that take `backend` run on SQLite, and on PostgreSQL when --pg is given.
    if "backend" in metafunc.fixturenames:
        backends = ["sqlite"]
        if metafunc.config.getoption("--pg"):
            backends.append("postgres")
        metafunc.parametrize("backend", backends, scope="function")


@pytest.fixture
def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    if not _pg_available():
        pytest.fail(f"--pg was given but PostgreSQL is not reachable at {PG_ADMIN_URL}")
    from sqlalchemy import create_engine, text

    name = f"tthcc_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def app(database_url: str, tmp_path: Path):
    from server.app import create_app
    from server.config import Config
    from server.migrate import upgrade

    config = Config.from_env(
        {},
        instance_path=tmp_path / "instance",
        database_url=database_url,
        secret_key="test-secret",
        testing=True,
        async_mode="threading",
    )
    application = create_app(config)
    upgrade(application.extensions["tthcc_db"].engine)
    yield application
    application.extensions["tthcc_db"].dispose()


@pytest.fixture
def database(app):
    return app.extensions["tthcc_db"]


@pytest.fixture
def demo(app, database):
    """The demo centre loaded through the real loader."""
    from server.demo import load_demo

    with database.transaction() as session:
        return load_demo(session, issue_kiosk_token=True)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def now() -> datetime:
    """A fixed weekday morning in Hà Nội time (02:00 UTC = 09:00 local)."""
    return datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


@pytest.fixture
def staff_token(client, demo) -> str:
    response = client.post(
        "/api/v1/auth/token", json={"username": "canbo1", "password": "tthcc-canbo"}
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()["token"]


@pytest.fixture
def admin_token(client, demo) -> str:
    response = client.post(
        "/api/v1/auth/token", json={"username": "admin", "password": "tthcc-admin"}
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()["token"]
