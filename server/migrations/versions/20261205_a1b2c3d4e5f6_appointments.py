"""appointments: services.appointments / appointment_minutes, appointments, centre_closures,
appointment_notices

Revision ID: a1b2c3d4e5f6
Revises: c8e2f4a61b07
Create Date: 2026-12-05 10:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a1b2c3d4e5f6"
down_revision = "c8e2f4a61b07"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "services",
        sa.Column("appointments", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("services", sa.Column("appointment_minutes", sa.Integer(), nullable=True))
    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("slot_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("slot_minutes", sa.Integer(), nullable=False),
        sa.Column("seat", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("hold_token", sa.String(length=32), nullable=True),
        sa.Column("hold_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("code", sa.String(length=12), nullable=True),
        sa.Column("phone_hash", sa.String(length=64), nullable=True),
        sa.Column("phone_masked", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("booked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=16), nullable=True),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("arrival", sa.String(length=8), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["centre_id"],
            ["centres.id"],
            name=op.f("fk_appointments_centre_id_centres"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_appointments_service_id_services"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_appointments_ticket_id_tickets"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
        sa.UniqueConstraint(
            "service_id",
            "slot_start",
            "seat",
            name=op.f("uq_appointments_service_id_slot_start_seat"),
        ),
        sa.UniqueConstraint("hold_token", name=op.f("uq_appointments_hold_token")),
        sa.UniqueConstraint("code", name=op.f("uq_appointments_code")),
    )
    op.create_index("ix_appointments_centre_day", "appointments", ["centre_id", "day"])
    op.create_index("ix_appointments_phone", "appointments", ["centre_id", "phone_hash"])
    op.create_table(
        "centre_closures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["centre_id"],
            ["centres.id"],
            name=op.f("fk_centre_closures_centre_id_centres"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_centre_closures")),
        sa.UniqueConstraint("centre_id", "day", name=op.f("uq_centre_closures_centre_id_day")),
    )
    op.create_table(
        "appointment_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("message_vi", sa.String(length=500), nullable=False),
        sa.Column("message_en", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_appointment_notices_appointment_id_appointments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_notices")),
    )
    op.create_index("ix_appointment_notices_unsent", "appointment_notices", ["sent_at", "id"])
    op.create_index(
        op.f("ix_appointment_notices_appointment_id"), "appointment_notices", ["appointment_id"]
    )


def downgrade() -> None:
    op.drop_table("appointment_notices")
    op.drop_table("centre_closures")
    op.drop_index("ix_appointments_phone", table_name="appointments")
    op.drop_index("ix_appointments_centre_day", table_name="appointments")
    op.drop_table("appointments")
    for column in ("appointment_minutes", "appointments"):
        op.execute(f"ALTER TABLE services DROP COLUMN {column}")
