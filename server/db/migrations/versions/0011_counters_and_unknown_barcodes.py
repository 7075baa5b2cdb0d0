"""counters sign in on devices; unknown barcodes; device settings per site; count modes

`counter_pin`: the verifier of a counter's PIN (scrypt, salt and parameters; never the
PIN), pulled by the devices of the counter's sites (`counter_site`).
`app_user.deactivated_at`: a device's scans by a user after it are refused.
`unknown_barcode`: scans that matched nothing, kept for the supervisor of the count.
`device_settings`: per location, what its devices are told in the pull.
`item.count_mode`: "measure" items are counted by a keyed quantity, not per scan (the
importer checks its values: a CHECK constraint would make SQLite rebuild `item`, which
the rows that reference it forbid).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 23:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deactivated_at", sa.DateTime(timezone=True)))
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("count_mode", sa.String(length=8), nullable=False, server_default="unit")
        )
    op.create_table(
        "counter_pin",
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("salt", sa.String(length=128), nullable=False),
        sa.Column("hash", sa.String(length=128), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("r", sa.Integer(), nullable=False),
        sa.Column("p", sa.Integer(), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("set_by", _ID, nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["set_by"], ["app_user.id"], name=op.f("fk_counter_pin_set_by_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_counter_pin_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_counter_pin")),
    )
    op.create_table(
        "counter_site",
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("location_id", _ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_counter_site_location_id_location")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_counter_site_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("user_id", "location_id", name=op.f("pk_counter_site")),
    )
    op.create_table(
        "device_settings",
        sa.Column("location_id", _ID, nullable=False),
        sa.Column("bin_pattern", sa.String(length=200), nullable=False),
        sa.Column("gs_replacement", sa.String(length=8), nullable=False),
        sa.Column("aim_prefixes", sa.Boolean(), nullable=False),
        sa.Column("idle_sign_out_minutes", sa.Integer(), nullable=False),
        sa.Column("pin_attempts", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", _ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_device_settings_location_id_location")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["app_user.id"], name=op.f("fk_device_settings_updated_by_app_user")
        ),
        sa.PrimaryKeyConstraint("location_id", name=op.f("pk_device_settings")),
    )
    op.create_table(
        "unknown_barcode",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("count_id", _ID, nullable=False),
        sa.Column("device_id", _ID, nullable=False),
        sa.Column("install_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("bin", sa.String(length=128), nullable=False),
        sa.Column("counter", sa.String(length=64), nullable=False),
        sa.Column("raw", sa.String(length=4096), nullable=False),
        sa.Column("symbology", sa.String(length=32), nullable=False),
        sa.Column("problem", sa.String(length=16), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["count_id"], ["stock_count.id"], name=op.f("fk_unknown_barcode_count_id_stock_count")
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["device.id"], name=op.f("fk_unknown_barcode_device_id_device")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unknown_barcode")),
        sa.UniqueConstraint(
            "device_id",
            "install_id",
            "seq",
            name=op.f("uq_unknown_barcode_device_id_install_id_seq"),
        ),
    )
    with op.batch_alter_table("unknown_barcode", schema=None) as batch_op:
        batch_op.create_index("ix_unknown_barcode_count_id_id", ["count_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("unknown_barcode", schema=None) as batch_op:
        batch_op.drop_index("ix_unknown_barcode_count_id_id")
    op.drop_table("unknown_barcode")
    op.drop_table("device_settings")
    op.drop_table("counter_site")
    op.drop_table("counter_pin")
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.drop_column("count_mode")
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("deactivated_at")
