"""numbering rows: a version of the line's waiting count, bumped by the same triggers

`queue.updated` carries every line's waiting count; with several processes behind Redis two
updates can arrive at a screen out of order and it would keep the older count. Each
(service, day) row now carries `waiting_version`, incremented by the triggers of migration
d5e6f7a8b9c0 whenever they move `waiting` (in the writing transaction, under the row's lock,
so the versions of a line are in the order its counts were written). The event carries the
versions (`stamps`) and the pages ignore a line's count older than one they have shown.

Revision ID: a9c4e6f1d2b8
Revises: a9c4e2f7b318
Create Date: 2026-12-05 18:10:00
"""

from __future__ import annotations

import importlib

import sqlalchemy as sa
from alembic import op

revision = "a9c4e6f1d2b8"
down_revision = "a9c4e2f7b318"
branch_labels = None
depends_on = None

_counts = importlib.import_module(
    "server.migrations.versions.20261205_d5e6f7a8b9c0_line_waiting_counts"
)

SQLITE_TRIGGERS = {
    name: body.replace(
        "UPDATE number_sequences SET waiting = waiting + (",
        "UPDATE number_sequences SET waiting_version = waiting_version + 1, waiting = waiting + (",
    )
    for name, body in _counts.SQLITE_TRIGGERS.items()
}

PG_ADD = """
CREATE OR REPLACE FUNCTION line_waiting_add(p_service integer, p_day date, p_delta integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE number_sequences
    SET waiting = waiting + p_delta, waiting_version = waiting_version + 1
    WHERE service_id = p_service AND day = p_day;
    IF NOT FOUND THEN
        INSERT INTO number_sequences (service_id, day, cycle, issued, waiting, waiting_version)
        VALUES (p_service, p_day, 0, 0, p_delta, 1)
        ON CONFLICT (service_id, day)
        DO UPDATE SET waiting = number_sequences.waiting + EXCLUDED.waiting,
                      waiting_version = number_sequences.waiting_version + 1;
    END IF;
END $$
"""


def _sqlite_triggers(triggers: dict[str, str]) -> None:
    for name, body in triggers.items():
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute(f"CREATE TRIGGER {name} {body}")


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy, which would drop the tables' triggers on SQLite).
    op.add_column(
        "number_sequences",
        sa.Column("waiting_version", sa.BigInteger(), nullable=False, server_default="0"),
    )
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_triggers(SQLITE_TRIGGERS)
    else:
        op.execute(PG_ADD)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_triggers(_counts.SQLITE_TRIGGERS)
    else:
        op.execute(_counts.PG_FUNCTIONS[0].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"))
    op.drop_column("number_sequences", "waiting_version")
