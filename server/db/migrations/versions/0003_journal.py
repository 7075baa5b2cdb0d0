"""journal: accounting periods, jobs, cost codes and categories, work orders, equipment,
price levels, rate schedules, journal settings and attributes, journal transactions and
lines, job history

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 15:52:06.285054
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounting_period",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("starts", sa.Date(), nullable=False),
        sa.Column("ends", sa.Date(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.CheckConstraint("starts <= ends", name=op.f("ck_accounting_period_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounting_period")),
        sa.UniqueConstraint("code", name=op.f("uq_accounting_period_code")),
    )
    op.create_table(
        "equipment",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment")),
        sa.UniqueConstraint("code", name=op.f("uq_equipment_code")),
    )
    op.create_table(
        "price_level",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_level")),
        sa.UniqueConstraint("code", name=op.f("uq_price_level_code")),
    )
    op.create_table(
        "rate_schedule",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("material_markup", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_schedule")),
        sa.UniqueConstraint("code", name=op.f("uq_rate_schedule_code")),
    )
    op.create_table(
        "cost_category",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("selection_cost_type", sa.String(length=16), nullable=False),
        sa.Column(
            "expense_account_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.CheckConstraint(
            "selection_cost_type IN ('material', 'equipment', 'labor', 'subcontract', 'other')",
            name=op.f("ck_cost_category_selection_cost_type"),
        ),
        sa.ForeignKeyConstraint(
            ["expense_account_id"],
            ["gl_account.id"],
            name=op.f("fk_cost_category_expense_account_id_gl_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cost_category")),
        sa.UniqueConstraint("code", name=op.f("uq_cost_category_code")),
    )
    op.create_table(
        "job",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("billing_type", sa.String(length=24), nullable=False),
        sa.Column(
            "price_level_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "rate_schedule_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("date_closed", sa.Date(), nullable=True),
        sa.Column("use_tax_rate", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "billing_type IN ('time_and_materials', 'fixed_fee', 'allow_extra_billing')",
            name=op.f("ck_job_billing_type"),
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_job_company_id_company")
        ),
        sa.ForeignKeyConstraint(
            ["price_level_id"], ["price_level.id"], name=op.f("fk_job_price_level_id_price_level")
        ),
        sa.ForeignKeyConstraint(
            ["rate_schedule_id"],
            ["rate_schedule.id"],
            name=op.f("fk_job_rate_schedule_id_rate_schedule"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
        sa.UniqueConstraint("code", name=op.f("uq_job_code")),
    )
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_company_id"), ["company_id"], unique=False)

    op.create_table(
        "journal_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serialized_additions_allowed", sa.Boolean(), nullable=False),
        sa.Column("wizard_defaults_quantity_billable", sa.Boolean(), nullable=False),
        sa.Column(
            "burden_income_account_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "use_tax_liability_account_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.CheckConstraint("id = 1", name=op.f("ck_journal_settings_single_row")),
        sa.ForeignKeyConstraint(
            ["burden_income_account_id"],
            ["gl_account.id"],
            name=op.f("fk_journal_settings_burden_income_account_id_gl_account"),
        ),
        sa.ForeignKeyConstraint(
            ["use_tax_liability_account_id"],
            ["gl_account.id"],
            name=op.f("fk_journal_settings_use_tax_liability_account_id_gl_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_settings")),
    )
    op.create_table(
        "journal_transaction",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("period_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("transaction_type", sa.String(length=16), nullable=True),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "reverses_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.CheckConstraint(
            "transaction_type IN ('loc_to_loc', 'loc_to_job', 'job_to_job', 'job_to_loc', 'adjustment')",
            name=op.f("ck_journal_transaction_transaction_type"),
        ),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["accounting_period.id"],
            name=op.f("fk_journal_transaction_period_id_accounting_period"),
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["journal_transaction.id"],
            name=op.f("fk_journal_transaction_reverses_id_journal_transaction"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_journal_transaction_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_transaction")),
        sa.UniqueConstraint("number", name=op.f("uq_journal_transaction_number")),
        sa.UniqueConstraint("reverses_id", name=op.f("uq_journal_transaction_reverses_id")),
    )
    op.create_table(
        "cost_code",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("job_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "gl_entity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["gl_entity_id"], ["gl_entity.id"], name=op.f("fk_cost_code_gl_entity_id_gl_entity")
        ),
        sa.ForeignKeyConstraint(["job_id"], ["job.id"], name=op.f("fk_cost_code_job_id_job")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cost_code")),
        sa.UniqueConstraint("job_id", "code", name=op.f("uq_cost_code_job_id_code")),
    )
    op.create_table(
        "cost_code_category",
        sa.Column(
            "cost_code_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "cost_category_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["cost_category_id"],
            ["cost_category.id"],
            name=op.f("fk_cost_code_category_cost_category_id_cost_category"),
        ),
        sa.ForeignKeyConstraint(
            ["cost_code_id"],
            ["cost_code.id"],
            name=op.f("fk_cost_code_category_cost_code_id_cost_code"),
        ),
        sa.PrimaryKeyConstraint(
            "cost_code_id", "cost_category_id", name=op.f("pk_cost_code_category")
        ),
    )
    op.create_table(
        "inventory_group_journal",
        sa.Column(
            "inventory_group_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("apply_location_burden", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["inventory_group_id"],
            ["inventory_group.id"],
            name=op.f("fk_inventory_group_journal_inventory_group_id_inventory_group"),
        ),
        sa.PrimaryKeyConstraint("inventory_group_id", name=op.f("pk_inventory_group_journal")),
    )
    op.create_table(
        "location_journal",
        sa.Column(
            "location_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("burden_rate", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_location_journal_location_id_location")
        ),
        sa.PrimaryKeyConstraint("location_id", name=op.f("pk_location_journal")),
    )
    op.create_table(
        "work_order",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("job_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "equipment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "cost_code_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "cost_category_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["cost_category_id"],
            ["cost_category.id"],
            name=op.f("fk_work_order_cost_category_id_cost_category"),
        ),
        sa.ForeignKeyConstraint(
            ["cost_code_id"], ["cost_code.id"], name=op.f("fk_work_order_cost_code_id_cost_code")
        ),
        sa.ForeignKeyConstraint(
            ["equipment_id"], ["equipment.id"], name=op.f("fk_work_order_equipment_id_equipment")
        ),
        sa.ForeignKeyConstraint(["job_id"], ["job.id"], name=op.f("fk_work_order_job_id_job")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_order")),
        sa.UniqueConstraint("code", name=op.f("uq_work_order_code")),
    )
    with op.batch_alter_table("work_order", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_order_job_id"), ["job_id"], unique=False)

    op.create_table(
        "item_journal",
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("use_unit_prices", sa.Boolean(), nullable=False),
        sa.Column("burden_rate", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["item.id"], name=op.f("fk_item_journal_item_id_item")
        ),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_item_journal")),
    )
    op.create_table(
        "job_history",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "transaction_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("job_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "cost_code_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "cost_category_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("bill_item", sa.String(length=64), nullable=False),
        sa.Column(
            "work_order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "equipment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("lot", sa.String(length=128), nullable=False),
        sa.Column("serial_number", sa.String(length=128), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("quantity_billable", sa.BigInteger(), nullable=False),
        sa.Column("unit_cost", sa.BigInteger(), nullable=False),
        sa.Column("burden_unit_cost", sa.BigInteger(), nullable=False),
        sa.Column("burden", sa.BigInteger(), nullable=False),
        sa.Column("use_tax", sa.BigInteger(), nullable=False),
        sa.Column("material_cost", sa.BigInteger(), nullable=False),
        sa.Column("billing_rate", sa.String(length=16), nullable=True),
        sa.Column("revenue_rate", sa.BigInteger(), nullable=False),
        sa.Column("unit_price", sa.BigInteger(), nullable=False),
        sa.Column("amount_revenue", sa.BigInteger(), nullable=False),
        sa.Column("extra", sa.Boolean(), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cost_category_id"],
            ["cost_category.id"],
            name=op.f("fk_job_history_cost_category_id_cost_category"),
        ),
        sa.ForeignKeyConstraint(
            ["cost_code_id"], ["cost_code.id"], name=op.f("fk_job_history_cost_code_id_cost_code")
        ),
        sa.ForeignKeyConstraint(
            ["equipment_id"], ["equipment.id"], name=op.f("fk_job_history_equipment_id_equipment")
        ),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"], name=op.f("fk_job_history_item_id_item")),
        sa.ForeignKeyConstraint(["job_id"], ["job.id"], name=op.f("fk_job_history_job_id_job")),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["journal_transaction.id"],
            name=op.f("fk_job_history_transaction_id_journal_transaction"),
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_order.id"],
            name=op.f("fk_job_history_work_order_id_work_order"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_history")),
    )
    with op.batch_alter_table("job_history", schema=None) as batch_op:
        batch_op.create_index(
            "ix_job_history_job_id_cost_code_id", ["job_id", "cost_code_id"], unique=False
        )
        batch_op.create_index("ix_job_history_transaction_id", ["transaction_id"], unique=False)
        batch_op.create_index("ix_job_history_work_order_id", ["work_order_id"], unique=False)

    op.create_table(
        "journal_line",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "transaction_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("serial_number", sa.String(length=128), nullable=False),
        sa.Column("lot", sa.String(length=128), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("unit_cost", sa.BigInteger(), nullable=False),
        sa.Column("uom", sa.String(length=16), nullable=False),
        sa.Column("burden_unit_cost", sa.BigInteger(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "origin IN ('manual', 'wizard', 'reversal')", name=op.f("ck_journal_line_origin")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["item.id"], name=op.f("fk_journal_line_item_id_item")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["journal_transaction.id"],
            name=op.f("fk_journal_line_transaction_id_journal_transaction"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_line")),
        sa.UniqueConstraint(
            "transaction_id", "line_no", name=op.f("uq_journal_line_transaction_id_line_no")
        ),
    )
    with op.batch_alter_table("journal_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_journal_line_item_id"), ["item_id"], unique=False)

    op.create_table(
        "price_level_item",
        sa.Column(
            "price_level_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("unit_price", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["item.id"], name=op.f("fk_price_level_item_item_id_item")
        ),
        sa.ForeignKeyConstraint(
            ["price_level_id"],
            ["price_level.id"],
            name=op.f("fk_price_level_item_price_level_id_price_level"),
        ),
        sa.PrimaryKeyConstraint("price_level_id", "item_id", name=op.f("pk_price_level_item")),
    )
    op.create_table(
        "journal_line_side",
        sa.Column("line_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column(
            "location_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("bin_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("job_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "cost_code_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("bill_item", sa.String(length=64), nullable=False),
        sa.Column(
            "cost_category_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "work_order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "equipment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "gl_account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "gl_entity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("quantity_billable", sa.BigInteger(), nullable=True),
        sa.Column("extra", sa.Boolean(), nullable=False),
        sa.Column("billing_rate", sa.String(length=16), nullable=True),
        sa.Column("revenue_rate", sa.BigInteger(), nullable=True),
        sa.Column("unit_price", sa.BigInteger(), nullable=True),
        sa.Column("amount_revenue", sa.BigInteger(), nullable=True),
        sa.Column("use_tax_rate", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "billing_rate IS NULL OR billing_rate IN ('unit_price', 'markup')",
            name=op.f("ck_journal_line_side_billing_rate"),
        ),
        sa.CheckConstraint("side IN ('from', 'to')", name=op.f("ck_journal_line_side_side")),
        sa.CheckConstraint(
            "location_id IS NULL OR job_id IS NULL",
            name=op.f("ck_journal_line_side_location_or_job"),
        ),
        sa.ForeignKeyConstraint(
            ["bin_id"], ["bin.id"], name=op.f("fk_journal_line_side_bin_id_bin")
        ),
        sa.ForeignKeyConstraint(
            ["cost_category_id"],
            ["cost_category.id"],
            name=op.f("fk_journal_line_side_cost_category_id_cost_category"),
        ),
        sa.ForeignKeyConstraint(
            ["cost_code_id"],
            ["cost_code.id"],
            name=op.f("fk_journal_line_side_cost_code_id_cost_code"),
        ),
        sa.ForeignKeyConstraint(
            ["equipment_id"],
            ["equipment.id"],
            name=op.f("fk_journal_line_side_equipment_id_equipment"),
        ),
        sa.ForeignKeyConstraint(
            ["gl_account_id"],
            ["gl_account.id"],
            name=op.f("fk_journal_line_side_gl_account_id_gl_account"),
        ),
        sa.ForeignKeyConstraint(
            ["gl_entity_id"],
            ["gl_entity.id"],
            name=op.f("fk_journal_line_side_gl_entity_id_gl_entity"),
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["job.id"], name=op.f("fk_journal_line_side_job_id_job")
        ),
        sa.ForeignKeyConstraint(
            ["line_id"], ["journal_line.id"], name=op.f("fk_journal_line_side_line_id_journal_line")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_journal_line_side_location_id_location")
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_order.id"],
            name=op.f("fk_journal_line_side_work_order_id_work_order"),
        ),
        sa.PrimaryKeyConstraint("line_id", "side", name=op.f("pk_journal_line_side")),
    )

    # The registry entries start off, as the seed's registry ships them.
    op.execute(
        "INSERT INTO journal_settings (id, serialized_additions_allowed, "
        "wizard_defaults_quantity_billable) VALUES (1, false, false)"
    )


def downgrade() -> None:
    op.drop_table("journal_line_side")
    op.drop_table("price_level_item")
    with op.batch_alter_table("journal_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journal_line_item_id"))

    op.drop_table("journal_line")
    with op.batch_alter_table("job_history", schema=None) as batch_op:
        batch_op.drop_index("ix_job_history_work_order_id")
        batch_op.drop_index("ix_job_history_transaction_id")
        batch_op.drop_index("ix_job_history_job_id_cost_code_id")

    op.drop_table("job_history")
    op.drop_table("item_journal")
    with op.batch_alter_table("work_order", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_order_job_id"))

    op.drop_table("work_order")
    op.drop_table("location_journal")
    op.drop_table("inventory_group_journal")
    op.drop_table("cost_code_category")
    op.drop_table("cost_code")
    op.drop_table("journal_transaction")
    op.drop_table("journal_settings")
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_company_id"))

    op.drop_table("job")
    op.drop_table("cost_category")
    op.drop_table("rate_schedule")
    op.drop_table("price_level")
    op.drop_table("equipment")
    op.drop_table("accounting_period")
