"""How the database finds a count's snapshot serials for the reconciliation
(server.counts.sql.snapshot, `serial_differences`).

- A first reconciliation reads the location's bins once (loading the snapshot and
  matching its serials both name bins by label).
- The matching statement walks each counted bin's snapshot serials and probes them for
  each scan of the bin in the (count, bin, item, serial number) index alone (SQLite, a
  million serials: 1.33 s with the table rows read, 1.00 s without).
- The snapshot rows of serials scanned outside their snapshot bin are found by one probe
  of the primary key per key, also on a PostgreSQL snapshot whose statistics have not been
  gathered yet: it is inserted at start, and until autovacuum's ANALYZE the planner
  guesses a few hundred rows for the count; a join then hashes every serial of the count
  instead (0.39 s for 15,000 keys at a million serials, against 0.01 s).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from server.app import create_app
from server.counts.sql.snapshot import _snapshot_rows_of
from server.db.engine import make_engine
from server.db.writes import keys_table
from server.settings import Settings
from tests.conftest import fresh_database
from tests.integration.counts_setup import count_the_scenario, headers, lines, seed

SERIALS = 50_000
KEY = (("item_id", "BIGINT"), ("number", "TEXT"))


@pytest.fixture
def sqlite_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from fresh_database(request, "sqlite", tmp_path)


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from fresh_database(request, "postgres", tmp_path)


async def test_unanalyzed_snapshot_is_probed_per_key(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    try:
        async with engine.begin() as conn:
            # Synthetic rows only: the foreign keys' triggers are off for this transaction.
            await conn.execute(text("SET LOCAL session_replication_role = replica"))
            await conn.execute(
                text(
                    "INSERT INTO count_snapshot_serial "
                    "(count_id, item_id, serial_number, bin_id, actual_cost, bin_kind) "
                    "SELECT 1, n % 100, 'SN' || n, n / 100, 1000000, 'stock' "
                    f"FROM generate_series(1, {SERIALS}) AS n"
                )
            )
            asked = [(n % 100, f"SN{n}") for n in range(7, SERIALS, 25)]
            asked += [(1, "not in the snapshot"), (999, "SN7")]
            keys = keys_table("postgresql", "k", KEY, asked)
            statement = _snapshot_rows_of("postgresql", 1, keys)
            compiled = statement.compile(dialect=conn.dialect)
            params: tuple[Any, ...] = tuple(compiled.params[p] for p in compiled.positiontup or [])
            plan = "\n".join(
                str(row[0]) for row in await conn.exec_driver_sql(f"EXPLAIN {compiled}", params)
            )
            found = {
                (int(i), str(n)): (int(b), int(c), str(k))
                for i, n, b, c, k in await conn.exec_driver_sql(str(compiled), params)
                if b is not None  # a key not in the snapshot: no row, or NULLs
            }
        assert "Hash" not in plan, plan
        assert "pk_count_snapshot_serial" in plan, plan
        expected = {
            (n % 100, f"SN{n}"): (n // 100, 1_000_000, "stock") for n in range(7, SERIALS, 25)
        }
        assert found == expected
    finally:
        await engine.dispose()


async def test_matching_reads_the_snapshot_index_alone(sqlite_url: str) -> None:
    await seed(sqlite_url)
    statements: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "counted" in statement and "bin_count_serial" in statement:
            statements.append((statement, params))

    app: Litestar = create_app(Settings(database_url=sqlite_url, log_level="WARNING"))
    event.listen(Engine, "before_cursor_execute", seen)
    try:
        async with AsyncTestClient(app=app) as client:
            hs = await headers(client)
            number = await count_the_scenario(client, hs["super"], hs["counter"])
            assert await lines(client, hs["super"], number)
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
    assert statements
    statement, params = statements[-1]
    conn = sqlite3.connect(sqlite_url.split("///", 1)[1])
    try:
        plan = [str(row[3]) for row in conn.execute(f"EXPLAIN QUERY PLAN {statement}", params)]
    finally:
        conn.close()
    index = "ix_count_snapshot_serial_count_id_bin_id_item_id_serial_number"
    # Each counted bin's serials: a range of the index; each scan: a probe of it, covered.
    assert any(
        step.startswith("SEARCH count_snapshot_serial USING INDEX " + index)
        and "(count_id=? AND bin_id=?)" in step
        for step in plan
    ), plan
    assert f"SEARCH held USING COVERING INDEX {index} (count_id=? AND bin_id=? AND item_id=?)" in (
        plan
    ), plan


async def test_a_first_reconciliation_reads_the_bins_once(database_url: str) -> None:
    await seed(database_url)
    settings = Settings(database_url=database_url, log_level="WARNING")
    async with AsyncTestClient(app=create_app(settings)) as client:
        hs = await headers(client)
        number = await count_the_scenario(client, hs["super"], hs["counter"])
    reads: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if " ".join(statement.split()).startswith("SELECT bin.id, bin.label, bin.kind FROM bin"):
            reads.append(statement)

    # Another process: its cache empty, so it loads the snapshot and matches the serials.
    event.listen(Engine, "before_cursor_execute", seen)
    try:
        async with AsyncTestClient(app=create_app(settings)) as other:
            assert await lines(other, hs["super"], number)
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
    assert len(reads) == 1, reads
