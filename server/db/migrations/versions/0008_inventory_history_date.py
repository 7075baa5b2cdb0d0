"""stock movements carry their posting date (Inventory History)

Inventory History lists and filters movements by their date: a journal transaction's
effective date, a count document's posting date (the day of finalize, UTC), the date the
GL postings of the same document carry. Rows written before this revision get it from
their journal transaction, or from the day they were posted. The job filter of the
history gets an index.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stock_movement", schema=None) as batch_op:
        batch_op.add_column(sa.Column("posting_date", sa.Date(), nullable=True))
    op.execute(
        "UPDATE stock_movement SET posting_date = (SELECT t.effective_date "
        "FROM journal_transaction t WHERE t.id = stock_movement.document_id) "
        "WHERE document_kind = 'journal_transaction'"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE stock_movement SET posting_date = CAST(posted_at AT TIME ZONE 'UTC' AS DATE) "
            "WHERE posting_date IS NULL"
        )
    else:
        op.execute(
            "UPDATE stock_movement SET posting_date = date(posted_at) WHERE posting_date IS NULL"
        )
    with op.batch_alter_table("stock_movement", schema=None) as batch_op:
        batch_op.alter_column("posting_date", existing_type=sa.Date(), nullable=False)
        batch_op.create_index("ix_stock_movement_job", ["job"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("stock_movement", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_movement_job")
        batch_op.drop_column("posting_date")
