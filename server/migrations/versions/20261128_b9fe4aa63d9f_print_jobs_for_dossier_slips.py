"""print jobs for dossier slips: print_jobs.kind and dossier_id, counters.station_id

Revision ID: b9fe4aa63d9f
Revises: e5bab8754d93
Create Date: 2026-11-28 00:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "b9fe4aa63d9f"
down_revision = "e5bab8754d93"
branch_labels = None
depends_on = None

_OWNER = (
    "(kind = 'ticket' AND ticket_id IS NOT NULL)"
    " OR (kind = 'dossier_slip' AND dossier_id IS NOT NULL)"
)


def upgrade() -> None:
    # SQLite rebuilds print_jobs (copy and move): nothing refers to it, so that is safe.
    with op.batch_alter_table("print_jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=20), server_default="ticket", nullable=False)
        )
        batch_op.add_column(sa.Column("dossier_id", sa.Integer(), nullable=True))
        batch_op.alter_column("ticket_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f("ix_print_jobs_dossier_id"), ["dossier_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_print_jobs_dossier_id_dossiers"),
            "dossiers",
            ["dossier_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_check_constraint(batch_op.f("ck_print_jobs_owner"), _OWNER)

    if op.get_bind().dialect.name == "sqlite":
        # Never rebuild `counters` on SQLite: with foreign keys on, dropping the old table
        # would cascade to counter_services and be refused by tickets. ADD COLUMN with an
        # inline, named REFERENCES clause gives the same constraint without a rebuild.
        op.execute(
            "ALTER TABLE counters ADD COLUMN station_id INTEGER "
            "CONSTRAINT fk_counters_station_id_stations "
            "REFERENCES stations (id)"
        )
    else:
        op.add_column("counters", sa.Column("station_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f("fk_counters_station_id_stations"),
            "counters",
            "stations",
            ["station_id"],
            ["id"],
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE counters DROP COLUMN station_id")  # SQLite >= 3.35
    else:
        op.drop_constraint(op.f("fk_counters_station_id_stations"), "counters", type_="foreignkey")
        op.drop_column("counters", "station_id")

    # The old schema has no place for dossier slips: their jobs go.
    op.execute("DELETE FROM print_jobs WHERE kind <> 'ticket'")
    with op.batch_alter_table("print_jobs", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_print_jobs_owner"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_print_jobs_dossier_id_dossiers"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_print_jobs_dossier_id"))
        batch_op.alter_column("ticket_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("dossier_id")
        batch_op.drop_column("kind")
