"""audit_entry.caller: who acted when it was no user (the CLI's cli:LOGIN or --by NAME)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_entry") as batch:
        batch.add_column(
            sa.Column("caller", sa.String(length=200), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_entry") as batch:
        batch.drop_column("caller")
