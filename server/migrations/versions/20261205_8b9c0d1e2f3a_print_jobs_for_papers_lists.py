"""print jobs for papers lists: print_jobs.procedure_id, kind 'papers'

A kiosk prints a procedure's papers list ("what to bring") on its ticket printer through
the same jobs as tickets and dossier slips.

Revision ID: 8b9c0d1e2f3a
Revises: 7a2c9e41d0b3
Create Date: 2026-12-05 07:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "8b9c0d1e2f3a"
down_revision = "7a2c9e41d0b3"
branch_labels = None
depends_on = None

_OWNER_BEFORE = (
    "(kind = 'ticket' AND ticket_id IS NOT NULL)"
    " OR (kind = 'dossier_slip' AND dossier_id IS NOT NULL)"
)
_OWNER = _OWNER_BEFORE + " OR (kind = 'papers' AND procedure_id IS NOT NULL)"


def upgrade() -> None:
    # SQLite rebuilds print_jobs (copy and move): nothing refers to it, so that is safe.
    with op.batch_alter_table("print_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("procedure_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_print_jobs_procedure_id_procedures"),
            "procedures",
            ["procedure_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.drop_constraint(batch_op.f("ck_print_jobs_owner"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_print_jobs_owner"), _OWNER)


def downgrade() -> None:
    # The old schema has no place for papers lists: their jobs go.
    op.execute("DELETE FROM print_jobs WHERE kind = 'papers'")
    with op.batch_alter_table("print_jobs", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_print_jobs_owner"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_print_jobs_owner"), _OWNER_BEFORE)
        batch_op.drop_constraint(
            batch_op.f("fk_print_jobs_procedure_id_procedures"), type_="foreignkey"
        )
        batch_op.drop_column("procedure_id")
