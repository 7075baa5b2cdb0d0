"""count snapshot serials indexed by (count, bin, item)

The reconciliation matches serials in the database and counts the snapshot's serials
of an item in a bin for the lines it reports: one index range per (item, bin).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 09:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_count_snapshot_serial_count_id_bin_id_item_id",
        "count_snapshot_serial",
        ["count_id", "bin_id", "item_id"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_count_snapshot_serial_count_id_bin_id_item_id", table_name="count_snapshot_serial"
    )
