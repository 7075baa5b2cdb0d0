"""sync_pull_mark: the last pull cursor (change_seq) this database handed each device

A device's pull cursor above its mark names changes this database never sent it (it was
restored from an older backup, or the device is faulty): that device, and only it, gets a
reset. No device can any longer make the server's epoch new for every device. Existing
devices have no mark yet: their first pull after the upgrade is a reset, once.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 00:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sync_pull_mark",
        sa.Column("device_id", _ID, nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["device.id"], name=op.f("fk_sync_pull_mark_device_id_device")
        ),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_sync_pull_mark")),
    )


def downgrade() -> None:
    op.drop_table("sync_pull_mark")
