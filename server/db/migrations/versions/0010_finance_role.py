"""the read-only role `finance`: users may have it (documents, GL, Inventory History)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_app_user_role"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_app_user_role"), "role IN ('admin', 'supervisor', 'counter', 'finance')"
        )


def downgrade() -> None:
    finance = op.get_bind().execute(sa.text("SELECT COUNT(*) FROM app_user WHERE role = 'finance'"))
    if finance.scalar_one():
        raise RuntimeError(
            "users with the role finance exist: give them another role before downgrading"
        )
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_app_user_role"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_app_user_role"), "role IN ('admin', 'supervisor', 'counter')"
        )
