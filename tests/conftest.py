"""Shared fixtures: an app on a fresh database (SQLite, or PostgreSQL with --db=postgres).

Each PostgreSQL run creates and drops its own database, so runs never depend on leftovers.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

# The suite runs at any wall-clock time: the demo centre it loads (here and in the servers
# the e2e and deploy tests start) has no opening hours, cut-offs or caps. Tests of hours
# set their own, with the app's clock (server.runtime.now) fixed.
os.environ.setdefault("TTHCC_DEMO_HOURS", "0")
# Password hashes at a test cost (werkzeug's pbkdf2, 1,000 rounds) instead of scrypt: the
# same code path, ~200 ms less per user made or logged in (here and in the servers the e2e
# and deploy tests start, which inherit the environment). test_auth_hashing.py checks the
# production default.
os.environ.setdefault("TTHCC_PASSWORD_HASH", "pbkdf2:sha256:1000")
# The issuing limits per kiosk and per address (docs/security.md) would throttle the e2e
# servers' bursts, which all come from 127.0.0.1: lifted for the suite; the tests of the
# limits set their own (test_station_least_privilege.py).
os.environ.setdefault("TTHCC_ISSUE_RATE_LIMIT", "100000 per minute")
os.environ.setdefault("TTHCC_KIOSK_ISSUE_RATE_LIMIT", "100000 per minute")
os.environ.setdefault("TTHCC_BOOKING_RATE_LIMIT", "100000 per minute")

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


@functools.cache
def _pg_available() -> bool:
    """Whether PostgreSQL answers; asked once per test process (a connection each time
    was ~30 ms of every PostgreSQL test's set-up)."""
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
    # Tests that take `backend` run on SQLite, and on PostgreSQL when --pg is given; those
    # marked `postgres` (what they check is PostgreSQL's) only on PostgreSQL.
    if "backend" in metafunc.fixturenames:
        backends = ["sqlite"]
        if metafunc.config.getoption("--pg"):
            backends.append("postgres")
        if metafunc.definition.get_closest_marker("postgres"):
            backends.remove("sqlite")
        metafunc.parametrize("backend", backends, scope="function")


@pytest.fixture
def empty_database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of this test's own (for tests of migrating it)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    with _pg_database() as url:
        yield url


@contextmanager
def _pg_database(template: str | None = None) -> Iterator[str]:
    """A PostgreSQL database of this test's own (a copy of `template` if given), dropped
    afterwards whatever happened."""
    if not _pg_available():
        pytest.fail(f"--pg was given but PostgreSQL is not reachable at {PG_ADMIN_URL}")
    from sqlalchemy import create_engine, text

    name = f"tthcc_test_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class _MigratedTemplates:
    """A database at the migrations' head, made once per test process and copied for each
    test (a file copy on SQLite, CREATE DATABASE … TEMPLATE on PostgreSQL): the same schema
    the migrations make, without running them a thousand times."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.sqlite_file: Path | None = None
        self.pg_name: str | None = None

    @staticmethod
    def _migrate(url: str) -> None:
        from server.db import Database
        from server.migrate import upgrade

        database = Database(url)
        try:
            upgrade(database.engine)
        finally:
            database.dispose()

    def sqlite(self) -> Path:
        if self.sqlite_file is None:
            path = self.folder / "template.sqlite3"
            self._migrate(f"sqlite:///{path}")
            self.sqlite_file = path
        return self.sqlite_file

    def postgres(self) -> str:
        if self.pg_name is None:
            from sqlalchemy import create_engine, text

            name = f"tthcc_tmpl_{uuid.uuid4().hex[:12]}"
            admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            admin.dispose()
            self.pg_name = name  # dropped at the end even if the migration fails
            self._migrate(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
        return self.pg_name

    def drop(self) -> None:
        if self.pg_name is None:
            return
        from sqlalchemy import create_engine, text

        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_MigratedTemplates]:
    templates = _MigratedTemplates(tmp_path_factory.mktemp("db-template"))
    yield templates
    templates.drop()


@pytest.fixture
def database_url(
    backend: str, tmp_path: Path, migrated_templates: _MigratedTemplates
) -> Iterator[str]:
    """A fresh database of this test's own, already at the migrations' head."""
    if backend == "sqlite":
        import shutil

        target = tmp_path / "test.sqlite3"
        shutil.copyfile(migrated_templates.sqlite(), target)
        yield f"sqlite:///{target}"
        return
    with _pg_database(template=migrated_templates.postgres()) as url:
        yield url


@pytest.fixture
def app(database_url: str, tmp_path: Path):
    """The app on this test's database (already at the migrations' head: a copy of the
    migrated template, so no upgrade here)."""
    from server.app import create_app
    from server.config import Config

    config = Config.from_env(
        {},
        instance_path=tmp_path / "instance",
        database_url=database_url,
        secret_key="test-secret",
        testing=True,
        async_mode="threading",
    )
    application = create_app(config)
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
def clock(app, now: datetime):
    """The app's clock (server.runtime.now), fixed at `now`; `clock.set(moment)` moves it."""

    class Clock:
        moment = now

        def set(self, moment: datetime) -> None:
            self.moment = moment

    fixed = Clock()
    app.extensions["tthcc_clock"] = lambda: fixed.moment
    return fixed


@pytest.fixture
def admin(client, admin_token):
    """Call /api/v1 as the demo's administrator: admin("POST", "/path", json=…)."""

    def call(method: str, path: str, **kw):
        headers = {"Authorization": f"Bearer {admin_token}"}
        return client.open("/api/v1" + path, method=method, headers=headers, **kw)

    return call


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


# --- the browser: one definition for tests/e2e and tests/deploy -----------------------------
# A second session fixture of the same name (imported into another conftest) would start a
# second Playwright in the same test process, which fails inside the first one's event loop
# ("using Playwright Sync API inside the asyncio loop") for every later browser test there.


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium (never a downloaded browser), one per test process."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, CspTolerantBrowser

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run the README set-up (apt chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield CspTolerantBrowser(b)
        b.close()


@pytest.fixture
def artifacts() -> Path:
    """test-artifacts/: screenshots and figures the tests keep."""
    from tests.e2e.conftest import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
