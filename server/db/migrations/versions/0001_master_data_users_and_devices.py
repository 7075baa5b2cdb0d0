"""master data, users and devices

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-23 15:26:15.890126
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "app_user",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('admin', 'supervisor', 'counter')", name=op.f("ck_app_user_role")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("username", name=op.f("uq_app_user_username")),
    )
    op.create_table(
        "company",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("intercompany", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company")),
        sa.UniqueConstraint("code", name=op.f("uq_company_code")),
    )
    op.create_table(
        "gl_account",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gl_account")),
        sa.UniqueConstraint("code", name=op.f("uq_gl_account_code")),
    )
    op.create_table(
        "api_token",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_api_token_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_token_user_id"), ["user_id"], unique=False)

    op.create_table(
        "gl_entity",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_gl_entity_company_id_company")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gl_entity")),
        sa.UniqueConstraint("code", name=op.f("uq_gl_entity_code")),
    )
    with op.batch_alter_table("gl_entity", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gl_entity_company_id"), ["company_id"], unique=False)

    op.create_table(
        "inventory_group",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "inventory_account_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "adjustment_account_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "gl_entity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["adjustment_account_id"],
            ["gl_account.id"],
            name=op.f("fk_inventory_group_adjustment_account_id_gl_account"),
        ),
        sa.ForeignKeyConstraint(
            ["gl_entity_id"],
            ["gl_entity.id"],
            name=op.f("fk_inventory_group_gl_entity_id_gl_entity"),
        ),
        sa.ForeignKeyConstraint(
            ["inventory_account_id"],
            ["gl_account.id"],
            name=op.f("fk_inventory_group_inventory_account_id_gl_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_group")),
        sa.UniqueConstraint("code", name=op.f("uq_inventory_group_code")),
    )
    op.create_table(
        "location",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "gl_entity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_location_company_id_company")
        ),
        sa.ForeignKeyConstraint(
            ["gl_entity_id"], ["gl_entity.id"], name=op.f("fk_location_gl_entity_id_gl_entity")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_location")),
        sa.UniqueConstraint("code", name=op.f("uq_location_code")),
    )
    with op.batch_alter_table("location", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_location_company_id"), ["company_id"], unique=False)

    op.create_table(
        "bin",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "location_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("label", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.CheckConstraint("kind IN ('stock', 'out')", name=op.f("ck_bin_kind")),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_bin_location_id_location")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bin")),
        sa.UniqueConstraint("location_id", "label", name=op.f("uq_bin_location_id_label")),
    )
    op.create_table(
        "device",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "location_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("credential_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("app_version", sa.String(length=64), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('active', 'revoked')", name=op.f("ck_device_status")),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_device_location_id_location")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device")),
        sa.UniqueConstraint("credential_hash", name=op.f("uq_device_credential_hash")),
    )
    with op.batch_alter_table("device", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_device_location_id"), ["location_id"], unique=False)

    op.create_table(
        "item",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("tracking", sa.String(length=8), nullable=False),
        sa.Column("auto_serialized", sa.Boolean(), nullable=False),
        sa.Column("uom", sa.String(length=16), nullable=False),
        sa.Column("last_cost", sa.BigInteger(), nullable=False),
        sa.Column(
            "inventory_group_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.CheckConstraint(
            "NOT auto_serialized OR tracking = 'serial'", name=op.f("ck_item_auto_serial")
        ),
        sa.CheckConstraint("tracking IN ('none', 'lot', 'serial')", name=op.f("ck_item_tracking")),
        sa.ForeignKeyConstraint(
            ["inventory_group_id"],
            ["inventory_group.id"],
            name=op.f("fk_item_inventory_group_id_inventory_group"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item")),
        sa.UniqueConstraint("code", name=op.f("uq_item_code")),
    )
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_item_inventory_group_id"), ["inventory_group_id"], unique=False
        )

    op.create_table(
        "enrollment_code",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "location_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("device_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["app_user.id"], name=op.f("fk_enrollment_code_created_by_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["device.id"], name=op.f("fk_enrollment_code_device_id_device")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_enrollment_code_location_id_location")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollment_code")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_enrollment_code_code_hash")),
    )
    op.create_table(
        "item_barcode",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("barcode", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["item.id"], name=op.f("fk_item_barcode_item_id_item")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_barcode")),
        sa.UniqueConstraint("barcode", name=op.f("uq_item_barcode_barcode")),
    )
    with op.batch_alter_table("item_barcode", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_item_barcode_item_id"), ["item_id"], unique=False)

    op.create_table(
        "item_location_cost",
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "location_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("average_cost", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["item.id"], name=op.f("fk_item_location_cost_item_id_item")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["location.id"],
            name=op.f("fk_item_location_cost_location_id_location"),
        ),
        sa.PrimaryKeyConstraint("item_id", "location_id", name=op.f("pk_item_location_cost")),
    )
    op.create_table(
        "serial",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("serial_number", sa.String(length=128), nullable=False),
        sa.Column("bin_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("actual_cost", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["bin_id"], ["bin.id"], name=op.f("fk_serial_bin_id_bin")),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"], name=op.f("fk_serial_item_id_item")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_serial")),
        sa.UniqueConstraint(
            "item_id", "serial_number", name=op.f("uq_serial_item_id_serial_number")
        ),
    )
    with op.batch_alter_table("serial", schema=None) as batch_op:
        batch_op.create_index("ix_serial_bin_id", ["bin_id"], unique=False)

    op.create_table(
        "stock_balance",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("bin_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("lot", sa.String(length=128), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["bin_id"], ["bin.id"], name=op.f("fk_stock_balance_bin_id_bin")),
        sa.ForeignKeyConstraint(
            ["item_id"], ["item.id"], name=op.f("fk_stock_balance_item_id_item")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_balance")),
        sa.UniqueConstraint(
            "item_id", "bin_id", "lot", name=op.f("uq_stock_balance_item_id_bin_id_lot")
        ),
    )
    with op.batch_alter_table("stock_balance", schema=None) as batch_op:
        batch_op.create_index("ix_stock_balance_bin_id", ["bin_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("stock_balance", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_balance_bin_id")

    op.drop_table("stock_balance")
    with op.batch_alter_table("serial", schema=None) as batch_op:
        batch_op.drop_index("ix_serial_bin_id")

    op.drop_table("serial")
    op.drop_table("item_location_cost")
    with op.batch_alter_table("item_barcode", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_item_barcode_item_id"))

    op.drop_table("item_barcode")
    op.drop_table("enrollment_code")
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_item_inventory_group_id"))

    op.drop_table("item")
    with op.batch_alter_table("device", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_location_id"))

    op.drop_table("device")
    op.drop_table("bin")
    with op.batch_alter_table("location", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_location_company_id"))

    op.drop_table("location")
    op.drop_table("inventory_group")
    with op.batch_alter_table("gl_entity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gl_entity_company_id"))

    op.drop_table("gl_entity")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_token_user_id"))

    op.drop_table("api_token")
    op.drop_table("gl_account")
    op.drop_table("company")
    op.drop_table("app_user")
