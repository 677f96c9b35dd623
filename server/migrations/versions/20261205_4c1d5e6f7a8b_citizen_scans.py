"""ID-card check-in: citizen_scans; dossiers.applicant_birth_date / applicant_address

Revision ID: 4c1d5e6f7a8b
Revises: a1b2c3d4e5f6
Create Date: 2026-12-05 10:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "4c1d5e6f7a8b"
down_revision = "a1b2c3d4e5f6"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "citizen_scans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("print_name", sa.Boolean(), nullable=False),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("purge_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["centre_id"],
            ["centres.id"],
            name=op.f("fk_citizen_scans_centre_id_centres"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["stations.id"],
            name=op.f("fk_citizen_scans_station_id_stations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_citizen_scans_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizen_scans")),
        sa.UniqueConstraint("token", name=op.f("uq_citizen_scans_token")),
        sa.UniqueConstraint("ticket_id", name=op.f("uq_citizen_scans_ticket_id")),
    )
    op.create_index("ix_citizen_scans_purge_after", "citizen_scans", ["purge_after"])
    op.create_index(op.f("ix_citizen_scans_id_hash"), "citizen_scans", ["id_hash"])
    with op.batch_alter_table("dossiers") as batch:
        batch.add_column(sa.Column("applicant_birth_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("applicant_address", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dossiers") as batch:
        batch.drop_column("applicant_address")
        batch.drop_column("applicant_birth_date")
    op.drop_index(op.f("ix_citizen_scans_id_hash"), table_name="citizen_scans")
    op.drop_index("ix_citizen_scans_purge_after", table_name="citizen_scans")
    op.drop_table("citizen_scans")
