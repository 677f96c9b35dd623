"""opening hours, issuing cut-offs and daily caps

Centres and services get weekly opening hours (a service's own replace its centre's), a
service gets a cut-off time for issuing and a daily cap, and the per-(service, day)
numbering row counts the tickets issued that day, so the cap is checked on the row that
issuing already locks.

Revision ID: 7a8b9c0d1e2f
Revises: 4c1d2e3f5a6b
Create Date: 2026-12-05 07:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "7a8b9c0d1e2f"
down_revision = "4c1d2e3f5a6b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("centres", sa.Column("opening_hours", sa.JSON(), nullable=True))
    op.add_column("services", sa.Column("opening_hours", sa.JSON(), nullable=True))
    op.add_column("services", sa.Column("issue_cutoff", sa.String(length=5), nullable=True))
    op.add_column("services", sa.Column("daily_cap", sa.Integer(), nullable=True))
    op.add_column(
        "number_sequences",
        sa.Column("issued", sa.Integer(), nullable=False, server_default="0"),
    )
    # Days already under way count what they issued.
    op.execute(
        "UPDATE number_sequences SET issued = (SELECT count(*) FROM tickets"
        " WHERE tickets.issued_service_id = number_sequences.service_id"
        " AND tickets.day = number_sequences.day)"
    )


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite ≥ 3.35), as in 4c1d2e3f5a6b.
    for table, column in (
        ("number_sequences", "issued"),
        ("services", "daily_cap"),
        ("services", "issue_cutoff"),
        ("services", "opening_hours"),
        ("centres", "opening_hours"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
