"""count events; a count bin's recount order and whether it waits for a count

`count_bin.recount_ordered_at`: when the supervisor last ordered the bin's recount (bin
counts started before it are replaced). `count_bin.awaiting_count`: the bin has no bin
count that stands (none yet, or none since its recount order), so that "is every bin
counted?" is one index probe per bin count. `bin_count.superseded` goes: which counts
stand is the domain's decision (server.domain.counting.bincounts), made from the headers.
`count_event`: what happened to a count (started, counted by itself or by a supervisor,
recounts, picks, reopened by a conflict, cancelled, completed), for supervisors.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("count_bin", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recount_ordered_at", sa.DateTime(timezone=True)))
        batch_op.add_column(
            sa.Column("awaiting_count", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.create_index(
            "ix_count_bin_count_id_awaiting_count", ["count_id", "awaiting_count"], unique=False
        )
    op.execute(
        "UPDATE count_bin SET recount_ordered_at = (SELECT MAX(r.ordered_at) FROM recount_order r"
        " WHERE r.count_id = count_bin.count_id AND r.bin_id = count_bin.bin_id)"
    )
    op.execute(
        "UPDATE count_bin SET awaiting_count = NOT EXISTS (SELECT 1 FROM bin_count b"
        " WHERE b.count_id = count_bin.count_id AND b.bin_id = count_bin.bin_id"
        " AND (count_bin.recount_ordered_at IS NULL"
        " OR b.started_at >= count_bin.recount_ordered_at))"
    )
    with op.batch_alter_table("bin_count", schema=None) as batch_op:
        batch_op.drop_column("superseded")
    op.create_table(
        "count_event",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("count_id", _ID, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.Column("user_id", _ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["count_id"], ["stock_count.id"], name=op.f("fk_count_event_count_id_stock_count")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_count_event_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_count_event")),
    )
    with op.batch_alter_table("count_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_count_event_count_id"), ["count_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("count_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_count_event_count_id"))
    op.drop_table("count_event")
    with op.batch_alter_table("bin_count", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("superseded", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("count_bin", schema=None) as batch_op:
        batch_op.drop_index("ix_count_bin_count_id_awaiting_count")
        batch_op.drop_column("awaiting_count")
        batch_op.drop_column("recount_ordered_at")
