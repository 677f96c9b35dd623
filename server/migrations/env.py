"""Alembic environment: run against the engine handed over by server.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from server.models import Base

# A fixed key: every process upgrading the same PostgreSQL database waits for the others.
MIGRATION_LOCK_KEY = 7_270_001


def run_migrations_online() -> None:
    connectable = context.config.attributes["engine"]
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            # SQLite can roll back DDL: one transaction (opened with BEGIN IMMEDIATE by our
            # engine) makes concurrent upgrades wait for each other instead of colliding.
            transactional_ddl=True,
        )
        with context.begin_transaction():
            # SQLite: our engine opens transactions with BEGIN IMMEDIATE, so concurrent
            # upgrades already serialise. PostgreSQL: take an advisory lock first.
            if connection.dialect.name == "postgresql":
                connection.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"))
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `tthcc db upgrade`")
run_migrations_online()
