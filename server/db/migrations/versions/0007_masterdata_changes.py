"""masterdata_change: the log of fields that update imports changed

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "masterdata_change",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=128), nullable=False),
        sa.Column("parent_code", sa.String(length=128), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("changed_by", sa.String(length=200), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("import_id", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=400), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_masterdata_change")),
    )
    op.create_index(
        "ix_masterdata_change_kind_code", "masterdata_change", ["kind", "code"], unique=False
    )
    op.create_index(
        "ix_masterdata_change_changed_at", "masterdata_change", ["changed_at"], unique=False
    )
    op.create_index(
        op.f("ix_masterdata_change_import_id"), "masterdata_change", ["import_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_masterdata_change_import_id"), table_name="masterdata_change")
    op.drop_index("ix_masterdata_change_changed_at", table_name="masterdata_change")
    op.drop_index("ix_masterdata_change_kind_code", table_name="masterdata_change")
    op.drop_table("masterdata_change")
