"""ticket outcomes: tickets, ticket_events and report facts say how a ticket ended

A done ticket says how it ended; reports and scorecards count from it. Tickets finished
before outcomes existed were counted as served, and stay so.

Revision ID: 4c1d2e3f5a6b
Revises: b9fe4aa63d9f
Create Date: 2026-12-05 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "4c1d2e3f5a6b"
down_revision = "b9fe4aa63d9f"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tickets", sa.Column("outcome", sa.String(length=20), nullable=True))
    op.add_column("ticket_events", sa.Column("outcome", sa.String(length=20), nullable=True))
    op.add_column(
        "report_ticket_facts", sa.Column("fin_outcome", sa.String(length=20), nullable=True)
    )
    op.execute("UPDATE tickets SET outcome = 'served' WHERE status = 'done'")
    op.execute("UPDATE ticket_events SET outcome = 'served' WHERE kind = 'finish'")


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite ≥ 3.35): a batch rebuild of `tickets` would drop a table
    # that ticket_events, print_jobs and counters refer to.
    for table, column in (
        ("report_ticket_facts", "fin_outcome"),
        ("ticket_events", "outcome"),
        ("tickets", "outcome"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
