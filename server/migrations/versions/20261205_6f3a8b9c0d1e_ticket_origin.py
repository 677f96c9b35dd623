"""tickets.origin: where a ticket came from (appointment, remote; NULL for the kiosk)

Revision ID: 6f3a8b9c0d1e
Revises: 5e2f6a7b8c9d
Create Date: 2026-12-05 14:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "6f3a8b9c0d1e"
down_revision = "5e2f6a7b8c9d"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tickets", sa.Column("origin", sa.String(12), nullable=True))
    # Tickets already given by a booking's check-in or to a phone say so too.
    op.execute(
        "UPDATE tickets SET origin = 'appointment' WHERE id IN "
        "(SELECT ticket_id FROM appointments WHERE ticket_id IS NOT NULL)"
    )
    op.execute(
        "UPDATE tickets SET origin = 'remote' WHERE origin IS NULL AND id IN "
        "(SELECT ticket_id FROM remote_numbers)"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE tickets DROP COLUMN origin")
