"""sync protocol: events, installs, epoch, bin count sources, change log

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 16:01:19.770050
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_server",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("epoch", sa.String(length=32), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_sync_server_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_server")),
    )
    # The epoch is made with the database: a copy restored from a backup carries the epoch
    # of its time, and the first device that proves the data went back makes it anew.
    op.execute(
        sa.text("INSERT INTO sync_server (id, epoch, generation) VALUES (1, :epoch, 1)").bindparams(
            epoch=uuid.uuid4().hex
        )
    )
    op.create_table(
        "sync_ref",
        sa.Column(
            "location_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("ref_key", sa.String(length=200), nullable=False),
        sa.Column("digest", sa.String(length=32), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('count', 'bin', 'item', 'recount')", name=op.f("ck_sync_ref_kind")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_sync_ref_location_id_location")
        ),
        sa.PrimaryKeyConstraint("location_id", "kind", "ref_key", name=op.f("pk_sync_ref")),
    )
    with op.batch_alter_table("sync_ref", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sync_ref_location_id_change_seq", ["location_id", "change_seq"], unique=False
        )

    op.create_table(
        "sync_scope",
        sa.Column(
            "location_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_sync_scope_location_id_location")
        ),
        sa.PrimaryKeyConstraint("location_id", name=op.f("pk_sync_scope")),
    )
    op.create_table(
        "sync_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "device_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("install_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("count_number", sa.String(length=64), nullable=False),
        sa.Column("bin_seq", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("device_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('applied', 'rejected')", name=op.f("ck_sync_event_outcome")
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["device.id"], name=op.f("fk_sync_event_device_id_device")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_event")),
        sa.UniqueConstraint(
            "device_id", "install_id", "seq", name=op.f("uq_sync_event_device_id_install_id_seq")
        ),
    )
    with op.batch_alter_table("sync_event", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sync_event_device_id_install_id_bin_seq",
            ["device_id", "install_id", "bin_seq"],
            unique=False,
        )
        batch_op.create_index("ix_sync_event_outcome_id", ["outcome", "id"], unique=False)

    op.create_table(
        "sync_install",
        sa.Column(
            "device_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("install_id", sa.String(length=32), nullable=False),
        sa.Column("high_water", sa.BigInteger(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queue_depth", sa.BigInteger(), nullable=False),
        sa.Column("app_version", sa.String(length=64), nullable=False),
        sa.Column("clock_skew_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["device.id"], name=op.f("fk_sync_install_device_id_device")
        ),
        sa.PrimaryKeyConstraint("device_id", "install_id", name=op.f("pk_sync_install")),
    )
    op.create_table(
        "sync_bin_count",
        sa.Column(
            "device_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("install_id", sa.String(length=32), nullable=False),
        sa.Column("bin_seq", sa.BigInteger(), nullable=False),
        sa.Column(
            "bin_count_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["bin_count_id"],
            ["bin_count.id"],
            name=op.f("fk_sync_bin_count_bin_count_id_bin_count"),
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["device.id"], name=op.f("fk_sync_bin_count_device_id_device")
        ),
        sa.PrimaryKeyConstraint(
            "device_id", "install_id", "bin_seq", name=op.f("pk_sync_bin_count")
        ),
    )


def downgrade() -> None:
    op.drop_table("sync_bin_count")
    op.drop_table("sync_install")
    with op.batch_alter_table("sync_event", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_event_outcome_id")
        batch_op.drop_index("ix_sync_event_device_id_install_id_bin_seq")

    op.drop_table("sync_event")
    op.drop_table("sync_scope")
    with op.batch_alter_table("sync_ref", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_ref_location_id_change_seq")

    op.drop_table("sync_ref")
    op.drop_table("sync_server")
