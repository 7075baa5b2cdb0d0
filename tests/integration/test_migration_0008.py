"""Migration 0008 on SQLite and PostgreSQL: stock movements written before it get their
date, a journal transaction's effective date or the UTC day they were posted."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from server.db import migrate
from server.db.engine import make_engine
from tests.integration.test_migrations import empty_database_url

__all__ = ["empty_database_url"]  # the fixture, used by name


async def _execute(database_url: str, *statements: str) -> list[tuple[object, ...]]:
    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            found: list[tuple[object, ...]] = []
            for statement in statements:
                result = await conn.execute(text(statement))
                if result.returns_rows:
                    found = [tuple(r) for r in result]
            return found
    finally:
        await engine.dispose()


def test_movements_before_0008_get_their_posting_date(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url, "0005")
    postgres = empty_database_url.startswith("postgresql")
    # 23:30 UTC on the 31st: the day in UTC, whatever the server's time zone.
    late = "'2025-03-31 23:30:00+00'" if postgres else "'2025-03-31 23:30:00.000000'"
    movement = (
        "INSERT INTO stock_movement (id, item_id, lot, serial_number, quantity, unit_cost, "
        "value, document_kind, document_id, document_number, line_no, posted_at) VALUES "
    )
    asyncio.run(
        _execute(
            empty_database_url,
            "INSERT INTO app_user (id, username, password_hash, role, active, created_at) "
            f"VALUES (1, 'u', '-', 'admin', true, {late})",
            "INSERT INTO item (id, code, name, tracking, auto_serialized, uom, last_cost) "
            "VALUES (1, 'I', 'Item', 'none', false, 'EA', 0)",
            "INSERT INTO journal_transaction (id, number, effective_date, description, "
            f"user_id, posted_at) VALUES (7, 'IA-7', '2025-03-14', '', 1, {late})",
            movement + f"(1, 1, '', '', 10000, 0, 0, 'journal_transaction', 7, 'IA-7', 1, {late})",
            movement + f"(2, 1, '', '', 10000, 0, 0, 'quantity_adjustment', 3, 'QA-3', 1, {late})",
        )
    )
    migrate.upgrade(empty_database_url)
    dates = asyncio.run(
        _execute(empty_database_url, "SELECT id, posting_date FROM stock_movement ORDER BY id")
    )
    assert [(i, str(d)) for i, d in dates] == [(1, "2025-03-14"), (2, "2025-03-31")]
