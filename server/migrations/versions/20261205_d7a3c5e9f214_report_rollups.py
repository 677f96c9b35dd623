"""report roll-ups: a closed day's figures per centre and service (with a 1-minute wait
histogram), the days rolled, and closed months per centre — the province reports read
these instead of every ticket (docs/reports.md, "Roll-ups").

Revision ID: d7a3c5e9f214
Revises: 7a4b9c0d1e2f
Create Date: 2026-12-05 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.models.base

revision = "d7a3c5e9f214"
down_revision = "7a4b9c0d1e2f"
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


def _figures() -> list[sa.Column]:
    return [
        *[sa.Column(name, sa.Integer(), nullable=False) for name in FIGURES],
        sa.Column("wait_sum", sa.Float(), nullable=False),
        sa.Column("service_sum", sa.Float(), nullable=False),
        sa.Column("wait_hist", sa.JSON(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "report_rollups",
        sa.Column("centre_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("service_id", sa.Integer(), autoincrement=False, nullable=False),
        *_figures(),
        sa.PrimaryKeyConstraint("centre_id", "day", "service_id", name=op.f("pk_report_rollups")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "report_rollup_days",
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("rolled_at", server.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["centre_id"],
            ["centres.id"],
            name=op.f("fk_report_rollup_days_centre_id_centres"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("centre_id", "day", name=op.f("pk_report_rollup_days")),
    )
    op.create_table(
        "report_rollup_months",
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        *_figures(),
        sa.Column("rolled_at", server.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["centre_id"],
            ["centres.id"],
            name=op.f("fk_report_rollup_months_centre_id_centres"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("centre_id", "month", name=op.f("pk_report_rollup_months")),
    )


def downgrade() -> None:
    op.drop_table("report_rollup_months")
    op.drop_table("report_rollup_days")
    op.drop_table("report_rollups")
