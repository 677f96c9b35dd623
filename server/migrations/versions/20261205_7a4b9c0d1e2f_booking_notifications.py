"""booking notifications: notify_subscriptions.appointment_id; ticket_id optional

A booking made with consent to SMS/Zalo keeps its sealed number in a subscription of its
own (no ticket yet), and its messages (confirmation, change, cancellation, closure) go
through the same outbox (docs/notifications.md).

Revision ID: 7a4b9c0d1e2f
Revises: 6f3a8b9c0d1e
Create Date: 2026-12-05 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "7a4b9c0d1e2f"
down_revision = "6f3a8b9c0d1e"
branch_labels = None
depends_on = None


def _rebuild(ticket_required: bool, with_appointment: bool) -> None:
    # SQLite rebuilds both tables (copy and move). Dropping the old notify_subscriptions
    # would cascade into notify_messages (foreign keys are on): the messages are kept aside
    # and put back.
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("CREATE TEMP TABLE _notify_messages_keep AS SELECT * FROM notify_messages")
    with op.batch_alter_table("notify_subscriptions", schema=None) as batch_op:
        batch_op.alter_column("ticket_id", existing_type=sa.Integer(), nullable=not ticket_required)
        if with_appointment:
            batch_op.add_column(sa.Column("appointment_id", sa.Integer(), nullable=True))
            batch_op.create_foreign_key(
                batch_op.f("fk_notify_subscriptions_appointment_id_appointments"),
                "appointments",
                ["appointment_id"],
                ["id"],
                ondelete="CASCADE",
            )
            batch_op.create_index("ix_notify_subscriptions_appointment", ["appointment_id"])
        else:
            batch_op.drop_index("ix_notify_subscriptions_appointment")
            batch_op.drop_constraint(
                batch_op.f("fk_notify_subscriptions_appointment_id_appointments"),
                type_="foreignkey",
            )
            batch_op.drop_column("appointment_id")
    with op.batch_alter_table("notify_messages", schema=None) as batch_op:
        batch_op.alter_column("ticket_id", existing_type=sa.Integer(), nullable=not ticket_required)
    if sqlite:
        op.execute("DELETE FROM notify_messages")
        op.execute("INSERT INTO notify_messages SELECT * FROM _notify_messages_keep")
        op.execute("DROP TABLE _notify_messages_keep")


def upgrade() -> None:
    _rebuild(ticket_required=False, with_appointment=True)


def downgrade() -> None:
    # The old schema has no place for a booking's subscription: those go, with their messages.
    op.execute("DELETE FROM notify_messages WHERE ticket_id IS NULL")
    op.execute("DELETE FROM notify_subscriptions WHERE ticket_id IS NULL")
    _rebuild(ticket_required=True, with_appointment=False)
