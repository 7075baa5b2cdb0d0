"""stock counts and postings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 15:46:29.540802
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gl_posting",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_code", sa.String(length=64), nullable=False),
        sa.Column("entity_code", sa.String(length=64), nullable=True),
        sa.Column("company_code", sa.String(length=64), nullable=True),
        sa.Column("period", sa.String(length=16), nullable=True),
        sa.Column("intercompany", sa.Boolean(), nullable=False),
        sa.Column("journal_name", sa.String(length=64), nullable=False),
        sa.Column("document_kind", sa.String(length=32), nullable=False),
        sa.Column("document_id", sa.BigInteger(), nullable=False),
        sa.Column("document_number", sa.String(length=40), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("posting_date", sa.Date(), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gl_posting")),
    )
    with op.batch_alter_table("gl_posting", schema=None) as batch_op:
        batch_op.create_index("ix_gl_posting_account_code", ["account_code"], unique=False)
        batch_op.create_index(
            "ix_gl_posting_document_kind_document_id",
            ["document_kind", "document_id"],
            unique=False,
        )

    op.create_table(
        "stock_count",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column(
            "location_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("scope_kind", sa.String(length=8), nullable=False),
        sa.Column("scope_spec", sa.String(length=128), nullable=False),
        sa.Column("blind", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("snapshot_token", sa.String(length=32), nullable=True),
        sa.Column(
            "created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("counted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "finalized_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.CheckConstraint(
            "scope_kind IN ('bins', 'prefix', 'zone', 'all')",
            name=op.f("ck_stock_count_scope_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'counting_in_process', 'counted', 'completed', 'cancelled')",
            name=op.f("ck_stock_count_status"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["app_user.id"], name=op.f("fk_stock_count_created_by_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["finalized_by"], ["app_user.id"], name=op.f("fk_stock_count_finalized_by_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_stock_count_location_id_location")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_count")),
        sa.UniqueConstraint("number", name=op.f("uq_stock_count_number")),
    )
    with op.batch_alter_table("stock_count", schema=None) as batch_op:
        batch_op.create_index(
            "ix_stock_count_location_id_status", ["location_id", "status"], unique=False
        )

    op.create_table(
        "tolerance_rule",
        sa.Column(
            "location_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("quantity", sa.BigInteger(), nullable=True),
        sa.Column("percent", sa.BigInteger(), nullable=True),
        sa.Column("value", sa.BigInteger(), nullable=True),
        sa.Column(
            "updated_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_tolerance_rule_location_id_location")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["app_user.id"], name=op.f("fk_tolerance_rule_updated_by_app_user")
        ),
        sa.PrimaryKeyConstraint("location_id", name=op.f("pk_tolerance_rule")),
    )
    op.create_table(
        "bin_count",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("count_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("bin_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "counter_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("device_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("counter", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("superseded", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["bin_id"], ["bin.id"], name=op.f("fk_bin_count_bin_id_bin")),
        sa.ForeignKeyConstraint(
            ["count_id"], ["stock_count.id"], name=op.f("fk_bin_count_count_id_stock_count")
        ),
        sa.ForeignKeyConstraint(
            ["counter_id"], ["app_user.id"], name=op.f("fk_bin_count_counter_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["device.id"], name=op.f("fk_bin_count_device_id_device")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bin_count")),
    )
    with op.batch_alter_table("bin_count", schema=None) as batch_op:
        batch_op.create_index("ix_bin_count_count_id_bin_id", ["count_id", "bin_id"], unique=False)

    op.create_table(
        "count_bin",
        sa.Column("count_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("bin_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("device_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "counter_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("picked_bin_count_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["bin_id"], ["bin.id"], name=op.f("fk_count_bin_bin_id_bin")),
        sa.ForeignKeyConstraint(
            ["count_id"], ["stock_count.id"], name=op.f("fk_count_bin_count_id_stock_count")
        ),
        sa.ForeignKeyConstraint(
            ["counter_id"], ["app_user.id"], name=op.f("fk_count_bin_counter_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["device.id"], name=op.f("fk_count_bin_device_id_device")
        ),
        sa.PrimaryKeyConstraint("count_id", "bin_id", name=op.f("pk_count_bin")),
    )
    with op.batch_alter_table("count_bin", schema=None) as batch_op:
        batch_op.create_index("ix_count_bin_bin_id", ["bin_id"], unique=False)

    op.create_table(
        "count_document",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("count_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column(
            "location_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("total_value", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('quantity_adjustment', 'stock_transfer')", name=op.f("ck_count_document_kind")
        ),
        sa.ForeignKeyConstraint(
            ["count_id"], ["stock_count.id"], name=op.f("fk_count_document_count_id_stock_count")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["app_user.id"], name=op.f("fk_count_document_created_by_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_count_document_location_id_location")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_count_document")),
        sa.UniqueConstraint("count_id", "kind", name=op.f("uq_count_document_count_id_kind")),
        sa.UniqueConstraint("number", name=op.f("uq_count_document_number")),
    )
    op.create_table(
        "count_line_review",
        sa.Column("count_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("line_id", sa.String(length=600), nullable=False),
        sa.Column("cleared", sa.Boolean(), nullable=False),
        sa.Column(
            "approved_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("reason_code", sa.String(length=64), nullable=True),
        sa.Column(
            "decided_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["approved_by"], ["app_user.id"], name=op.f("fk_count_line_review_approved_by_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["count_id"], ["stock_count.id"], name=op.f("fk_count_line_review_count_id_stock_count")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["app_user.id"], name=op.f("fk_count_line_review_decided_by_app_user")
        ),
        sa.PrimaryKeyConstraint("count_id", "line_id", name=op.f("pk_count_line_review")),
    )
    op.create_table(
        "count_snapshot_balance",
        sa.Column("count_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("bin_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("lot", sa.String(length=128), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("average_cost", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bin_id"], ["bin.id"], name=op.f("fk_count_snapshot_balance_bin_id_bin")
        ),
        sa.ForeignKeyConstraint(
            ["count_id"],
            ["stock_count.id"],
            name=op.f("fk_count_snapshot_balance_count_id_stock_count"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["item.id"], name=op.f("fk_count_snapshot_balance_item_id_item")
        ),
        sa.PrimaryKeyConstraint(
            "count_id", "item_id", "bin_id", "lot", name=op.f("pk_count_snapshot_balance")
        ),
    )
    op.create_table(
        "count_snapshot_item",
        sa.Column("count_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tracking", sa.String(length=8), nullable=False),
        sa.Column("auto_serialized", sa.Boolean(), nullable=False),
        sa.Column("average_cost", sa.BigInteger(), nullable=False),
        sa.Column("last_cost", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["count_id"],
            ["stock_count.id"],
            name=op.f("fk_count_snapshot_item_count_id_stock_count"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["item.id"], name=op.f("fk_count_snapshot_item_item_id_item")
        ),
        sa.PrimaryKeyConstraint("count_id", "item_id", name=op.f("pk_count_snapshot_item")),
    )
    op.create_table(
        "count_snapshot_serial",
        sa.Column("count_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("serial_number", sa.String(length=128), nullable=False),
        sa.Column("bin_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("actual_cost", sa.BigInteger(), nullable=False),
        sa.Column("bin_kind", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["bin_id"], ["bin.id"], name=op.f("fk_count_snapshot_serial_bin_id_bin")
        ),
        sa.ForeignKeyConstraint(
            ["count_id"],
            ["stock_count.id"],
            name=op.f("fk_count_snapshot_serial_count_id_stock_count"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["item.id"], name=op.f("fk_count_snapshot_serial_item_id_item")
        ),
        sa.PrimaryKeyConstraint(
            "count_id", "item_id", "serial_number", name=op.f("pk_count_snapshot_serial")
        ),
    )
    op.create_table(
        "recount_order",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("count_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("bin_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "ordered_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("ordered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["bin_id"], ["bin.id"], name=op.f("fk_recount_order_bin_id_bin")),
        sa.ForeignKeyConstraint(
            ["count_id"], ["stock_count.id"], name=op.f("fk_recount_order_count_id_stock_count")
        ),
        sa.ForeignKeyConstraint(
            ["ordered_by"], ["app_user.id"], name=op.f("fk_recount_order_ordered_by_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recount_order")),
    )
    with op.batch_alter_table("recount_order", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recount_order_count_id"), ["count_id"], unique=False)

    op.create_table(
        "stock_movement",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "location_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("bin_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("lot", sa.String(length=128), nullable=False),
        sa.Column("serial_number", sa.String(length=128), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("unit_cost", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("document_kind", sa.String(length=32), nullable=False),
        sa.Column("document_id", sa.BigInteger(), nullable=False),
        sa.Column("document_number", sa.String(length=40), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=64), nullable=True),
        sa.Column("work_order", sa.String(length=64), nullable=True),
        sa.Column("cost_code", sa.String(length=64), nullable=True),
        sa.Column("cost_category", sa.String(length=64), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["bin_id"], ["bin.id"], name=op.f("fk_stock_movement_bin_id_bin")),
        sa.ForeignKeyConstraint(
            ["item_id"], ["item.id"], name=op.f("fk_stock_movement_item_id_item")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_stock_movement_location_id_location")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_movement")),
    )
    with op.batch_alter_table("stock_movement", schema=None) as batch_op:
        batch_op.create_index(
            "ix_stock_movement_document_kind_document_id",
            ["document_kind", "document_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_stock_movement_item_id_location_id", ["item_id", "location_id"], unique=False
        )

    op.create_table(
        "bin_count_quantity",
        sa.Column(
            "bin_count_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("lot", sa.String(length=128), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bin_count_id"],
            ["bin_count.id"],
            name=op.f("fk_bin_count_quantity_bin_count_id_bin_count"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["item.id"], name=op.f("fk_bin_count_quantity_item_id_item")
        ),
        sa.PrimaryKeyConstraint(
            "bin_count_id", "item_id", "lot", name=op.f("pk_bin_count_quantity")
        ),
    )
    op.create_table(
        "bin_count_serial",
        sa.Column(
            "bin_count_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("serial_number", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["bin_count_id"],
            ["bin_count.id"],
            name=op.f("fk_bin_count_serial_bin_count_id_bin_count"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["item.id"], name=op.f("fk_bin_count_serial_item_id_item")
        ),
        sa.PrimaryKeyConstraint(
            "bin_count_id", "item_id", "serial_number", name=op.f("pk_bin_count_serial")
        ),
    )
    op.create_table(
        "count_document_line",
        sa.Column(
            "document_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("source_line_id", sa.String(length=600), nullable=False),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("bin_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "from_bin_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("lot", sa.String(length=128), nullable=False),
        sa.Column("serial_number", sa.String(length=128), nullable=False),
        sa.Column("generate_serials", sa.Boolean(), nullable=False),
        sa.Column("adjustment_quantity", sa.BigInteger(), nullable=False),
        sa.Column("stock_transfer_quantity", sa.BigInteger(), nullable=False),
        sa.Column("adjustment_cost", sa.BigInteger(), nullable=False),
        sa.Column("adjustment_value", sa.BigInteger(), nullable=False),
        sa.Column("stock_transfer_value", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bin_id"], ["bin.id"], name=op.f("fk_count_document_line_bin_id_bin")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["count_document.id"],
            name=op.f("fk_count_document_line_document_id_count_document"),
        ),
        sa.ForeignKeyConstraint(
            ["from_bin_id"], ["bin.id"], name=op.f("fk_count_document_line_from_bin_id_bin")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["item.id"], name=op.f("fk_count_document_line_item_id_item")
        ),
        sa.PrimaryKeyConstraint("document_id", "line_no", name=op.f("pk_count_document_line")),
    )


def downgrade() -> None:
    op.drop_table("count_document_line")
    op.drop_table("bin_count_serial")
    op.drop_table("bin_count_quantity")
    with op.batch_alter_table("stock_movement", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_movement_item_id_location_id")
        batch_op.drop_index("ix_stock_movement_document_kind_document_id")

    op.drop_table("stock_movement")
    with op.batch_alter_table("recount_order", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recount_order_count_id"))

    op.drop_table("recount_order")
    op.drop_table("count_snapshot_serial")
    op.drop_table("count_snapshot_item")
    op.drop_table("count_snapshot_balance")
    op.drop_table("count_line_review")
    op.drop_table("count_document")
    with op.batch_alter_table("count_bin", schema=None) as batch_op:
        batch_op.drop_index("ix_count_bin_bin_id")

    op.drop_table("count_bin")
    with op.batch_alter_table("bin_count", schema=None) as batch_op:
        batch_op.drop_index("ix_bin_count_count_id_bin_id")

    op.drop_table("bin_count")
    op.drop_table("tolerance_rule")
    with op.batch_alter_table("stock_count", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_count_location_id_status")

    op.drop_table("stock_count")
    with op.batch_alter_table("gl_posting", schema=None) as batch_op:
        batch_op.drop_index("ix_gl_posting_document_kind_document_id")
        batch_op.drop_index("ix_gl_posting_account_code")

    op.drop_table("gl_posting")
