"""master_data_version: one row, a new random value on every write of the master data a
journal save reads (SQLite triggers)

A journal save on SQLite keeps the master-data rows of its facts (items with their
inventory groups, locations with their bins, settings, GL entities, periods) between
saves while this value stays the same (server.journal.sql.kept). On SQLite each table
those rows come from gets a trigger for INSERT, UPDATE and DELETE that gives the value a
new random one, in the writing transaction, whatever wrote it. PostgreSQL has the table
but no triggers: nothing reads it there.

A later migration that rebuilds one of these tables on SQLite (`batch_alter_table` copies
it into a new table) drops its triggers: it must create them again
(tests/integration/test_journal_kept_facts.py checks them on a database at head).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08 00:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# The tables the kept rows are read from (server.journal.sql.facts: kinds i, l, s, e, r);
# tests/integration/test_journal_kept_facts.py checks this list against those statements.
TABLES = (
    "item",
    "inventory_group",
    "item_journal",
    "inventory_group_journal",
    "gl_account",
    "gl_entity",
    "company",
    "location",
    "location_journal",
    "bin",
    "journal_settings",
    "accounting_period",
)
EVENTS = ("insert", "update", "delete")


def upgrade() -> None:
    op.create_table(
        "master_data_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_master_data_version_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_master_data_version")),
    )
    if op.get_bind().dialect.name != "sqlite":
        op.execute(
            "INSERT INTO master_data_version (id, version) "
            "VALUES (1, floor(random() * 9e18)::bigint)"
        )
        return
    op.execute("INSERT INTO master_data_version (id, version) VALUES (1, random())")
    for table in TABLES:  # names of this file's own, not input
        for event in EVENTS:
            op.execute(
                f"CREATE TRIGGER master_data_version_{table}_{event} "  # noqa: S608
                f"AFTER {event.upper()} ON {table} "
                "BEGIN UPDATE master_data_version SET version = random() WHERE id = 1; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in TABLES:
            for event in EVENTS:
                op.execute(f"DROP TRIGGER IF EXISTS master_data_version_{table}_{event}")
    op.drop_table("master_data_version")
