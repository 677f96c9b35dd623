"""report live roll-ups: today's figures of finished tickets, folded in as they finish

The province report computed today's figures from every event of the day once a minute
per process (~0.8 s at province scale). Now a finished ticket is folded once into its
(centre, day, service) row (`report_live_rollups`), marked in `report_live_tickets`; the
report adds only the tickets not finished yet, the ratings and the dossiers live
(server/services/report_today.py, docs/province.md).

Revision ID: f3b8d2a6c417
Revises: f1a2b3c4d5e6
Create Date: 2026-12-05 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "f3b8d2a6c417"
down_revision = "f1a2b3c4d5e6"
branch_labels = None
depends_on = None

FIGURES = (
    "issued",
    "no_show",
    "transferred",
    "served",
    "supplement",
    "redirected",
    "left",
    "wait_count",
    "service_count",
    "r1",
    "r2",
    "r3",
    "r4",
    "r5",
    "dossiers_received",
    "dossiers_resolved",
    "dossiers_on_time",
    "dossiers_late",
)


def upgrade() -> None:
    op.create_table(
        "report_live_rollups",
        sa.Column("centre_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("service_id", sa.Integer(), autoincrement=False, nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in FIGURES],
        sa.Column("wait_sum", sa.Float(), nullable=False),
        sa.Column("service_sum", sa.Float(), nullable=False),
        sa.Column("wait_hist", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint(
            "centre_id", "day", "service_id", name=op.f("pk_report_live_rollups")
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "report_live_tickets",
        sa.Column("ticket_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("batch", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_report_live_tickets")),
    )
    op.create_index(
        "ix_report_live_tickets_centre_day", "report_live_tickets", ["centre_id", "day"]
    )
    op.create_index("ix_report_live_tickets_batch", "report_live_tickets", ["batch"])


def downgrade() -> None:
    op.drop_index("ix_report_live_tickets_batch", table_name="report_live_tickets")
    op.drop_index("ix_report_live_tickets_centre_day", table_name="report_live_tickets")
    op.drop_table("report_live_tickets")
    op.drop_table("report_live_rollups")
