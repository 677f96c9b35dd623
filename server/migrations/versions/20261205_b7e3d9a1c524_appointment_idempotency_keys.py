"""appointments: the phone's Idempotency-Key of a booking, with the request's digest

POST /api/v1/appointments takes an Idempotency-Key (docs/appointments.md, "Retries"): the
booking row stores sha256("phone:<hash>", local day, key) in `request_id` (unique) and the
digest of what was asked (service, slot, phone) in `request_fingerprint`. Plain ADD COLUMN
and a unique index: no batch copy of the table (SQLite would drop a table's triggers).

Revision ID: b7e3d9a1c524
Revises: a9c4e6f1d2b8
Create Date: 2026-12-05 18:35:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "b7e3d9a1c524"
down_revision = "a9c4e6f1d2b8"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("appointments", sa.Column("request_id", sa.String(length=64), nullable=True))
    op.add_column(
        "appointments", sa.Column("request_fingerprint", sa.String(length=32), nullable=True)
    )
    op.create_index("uq_appointments_request_id", "appointments", ["request_id"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_appointments_request_id", table_name="appointments")
    op.drop_column("appointments", "request_fingerprint")
    op.drop_column("appointments", "request_id")
