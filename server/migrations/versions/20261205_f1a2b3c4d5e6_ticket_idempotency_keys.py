"""tickets: idempotency keys scoped to the caller and the day, with the request's digest

`tickets.request_id` held the kiosk's key as sent, unique across every centre and day: a
key another station sent answered that station's ticket. It now holds
sha256(caller, local day, key) (server.services.issue_keys), under the same unique
constraint; `request_fingerprint` is the digest of what the keyed request asked, so the
same key with another request is refused. Keys stored before (raw) never match a digest:
they simply expire. No table rebuild (SQLite would drop the triggers on tickets).

Revision ID: f1a2b3c4d5e6
Revises: d5e6f7a8b9c0
Create Date: 2026-12-05 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "f1a2b3c4d5e6"
down_revision = "d5e6f7a8b9c0"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tickets", sa.Column("request_fingerprint", sa.String(length=32), nullable=True))


def downgrade() -> None:
    op.drop_column("tickets", "request_fingerprint")
