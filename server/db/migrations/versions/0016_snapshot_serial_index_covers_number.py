"""count snapshot serials indexed by (count, bin, item, serial number)

The reconciliation's matching statement walks each counted bin's snapshot serials and
probes them for each scan of the bin: with the serial number in the index, both read the
index alone, never the table row (SQLite, a million serials: the statement 1.33 s ->
1.00 s). It replaces the (count, bin, item) index, whose ranges it still serves.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 18:20:00
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_count_snapshot_serial_count_id_bin_id_item_id_serial_number",
        "count_snapshot_serial",
        ["count_id", "bin_id", "item_id", "serial_number"],
    )
    op.drop_index(
        "ix_count_snapshot_serial_count_id_bin_id_item_id", table_name="count_snapshot_serial"
    )


def downgrade() -> None:
    op.create_index(
        "ix_count_snapshot_serial_count_id_bin_id_item_id",
        "count_snapshot_serial",
        ["count_id", "bin_id", "item_id"],
    )
    op.drop_index(
        "ix_count_snapshot_serial_count_id_bin_id_item_id_serial_number",
        table_name="count_snapshot_serial",
    )
