"""the read-only role `finance`: users may have it (documents, GL, Inventory History)

The CHECK constraint on `app_user.role` gains 'finance'. PostgreSQL drops and adds it. On
SQLite a changed CHECK would mean rebuilding `app_user` (batch mode), whose DROP TABLE
fails while foreign keys are on and other tables' rows point at its users; a looser CHECK
changes nothing stored, so the table's definition is rewritten in place as SQLite's
documentation describes for such changes ("Making Other Kinds Of Table Schema Changes":
writable_schema, then a new schema_version so every connection reloads the schema).

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

_BEFORE = "role IN ('admin', 'supervisor', 'counter')"
_AFTER = "role IN ('admin', 'supervisor', 'counter', 'finance')"


def _sqlite_rewrite(old: str, new: str) -> None:
    bind = op.get_bind()
    sql = bind.execute(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'app_user'")
    ).scalar_one()
    if old not in sql:
        raise RuntimeError(f"app_user's definition has no {old!r}: {sql}")
    version = bind.execute(sa.text("PRAGMA schema_version")).scalar_one()
    bind.execute(sa.text("PRAGMA writable_schema = ON"))
    bind.execute(
        sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = 'app_user'"),
        {"sql": sql.replace(old, new)},
    )
    bind.execute(sa.text(f"PRAGMA schema_version = {int(version) + 1}"))
    bind.execute(sa.text("PRAGMA writable_schema = OFF"))


def _postgres_replace(check: str) -> None:
    op.drop_constraint(op.f("ck_app_user_role"), "app_user", type_="check")
    op.create_check_constraint(op.f("ck_app_user_role"), "app_user", check)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_rewrite(_BEFORE, _AFTER)
    else:
        _postgres_replace(_AFTER)


def downgrade() -> None:
    finance = op.get_bind().execute(sa.text("SELECT COUNT(*) FROM app_user WHERE role = 'finance'"))
    if finance.scalar_one():
        raise RuntimeError(
            "users with the role finance exist: give them another role before downgrading"
        )
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_rewrite(_AFTER, _BEFORE)
    else:
        _postgres_replace(_BEFORE)
