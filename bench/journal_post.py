"""Benchmark: post journal lines through the real journal service, beside the raw floor.

    .venv/bin/python bench/journal_post.py [--transactions 10000] [--lines 10] [--no-postgres]

Per database (a fresh migrated SQLite file in WAL with synchronous=FULL, and a fresh
PostgreSQL database when one is reachable at --pg-url): master data through the importer
(two locations of another GL entity each, 100 bins each, 200 untracked items with opening
stock, a period), then `server.journal.usecases.journal.save_transaction` for every transaction,
one after the other, each its own database transaction as the API runs it: half are
Adjustments (+1 into a bin at a changing cost, with GL: adjustment account against
inventory), half Loc-to-Loc transfers between the locations (with GL between the two
entities). Every line moves stock, recomputes an average cost and posts GL.

The floor, in the same run and the same database: the rows one saved transaction wrote
(journal_transaction, journal_line, journal_line_side, stock_movement, gl_posting), read
back and written again with new ids by the raw driver (sqlite3 executemany; asyncpg
executemany), one commit per transaction, for the same number of transactions. It is
what writing those rows costs with nothing computed, checked or looked up.

The two alternate in blocks of --block transactions (the service's block, then the
floor's, and so on), each block timed and the blocks of each summed: a machine whose speed
drifts over the run (a shared host) slows both alike, so the ratio is the code's, not the
minute's. Run one after the other, the service first, the ratio of one commit of code
ranged 0.27-0.35 on such a machine.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scratch_pg import create_scratch, drop_scratch, sqlalchemy_url

from server.auth import usecases as auth
from server.bootstrap import import_into_database
from server.db import migrate
from server.db.engine import make_engine, make_sessionmaker
from server.domain.journal import (
    JournalLine,
    JournalSide,
    JournalTransaction,
    TransactionType,
)
from server.domain.masterdata import Role
from server.journal.usecases import journal
from server.uow import SqlUnitOfWork

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
ITEMS, BINS = 200, 100
DAY = date(2026, 11, 23)
TABLES = (
    "journal_transaction",
    "journal_line",
    "journal_line_side",
    "stock_movement",
    "gl_posting",
)


def master_data() -> dict[str, list[dict[str, Any]]]:
    locations = ("SRC", "DST")
    return {
        "companies": [{"code": "C1", "name": "Company"}],
        "gl_accounts": [{"code": "10150", "name": "Inventory"}, {"code": "50111", "name": "Adj"}],
        "gl_entities": [{"code": f"E-{loc}", "name": loc, "company": "C1"} for loc in locations],
        "inventory_groups": [
            {
                "code": "STD",
                "name": "Standard",
                "inventory_account": "10150",
                "adjustment_account": "50111",
                "gl_entity": "E-SRC",
            }
        ],
        "locations": [
            {"code": loc, "name": loc, "company": "C1", "gl_entity": f"E-{loc}"}
            for loc in locations
        ],
        "bins": [
            {"location": loc, "label": f"{loc}-{b:03d}"} for loc in locations for b in range(BINS)
        ],
        "items": [
            {
                "code": f"I{i:04d}",
                "name": f"Item {i}",
                "tracking": "none",
                "last_cost": "10",
                "inventory_group": "STD",
            }
            for i in range(ITEMS)
        ],
        "opening_stock": [
            {
                "item": f"I{i:04d}",
                "location": "SRC",
                "bin": f"SRC-{i % BINS:03d}",
                "quantity": "1000000",
                "unit_cost": "10",
            }
            for i in range(ITEMS)
        ],
        "accounting_periods": [{"code": "2026-11", "starts": "2026-11-01", "ends": "2026-11-30"}],
    }


def draft(number: int, lines: int) -> JournalTransaction:
    made = []
    for n in range(lines):
        i = (number * lines + n) % ITEMS
        source = JournalSide("SRC", f"SRC-{i % BINS:03d}")
        if number % 2 == 0:
            made.append(
                JournalLine(
                    n + 1,
                    f"I{i:04d}",
                    Decimal(1),
                    source,
                    JournalSide("SRC", f"SRC-{i % BINS:03d}"),
                    unit_cost=Decimal(10 + number % 7),
                )
            )
        else:
            target = JournalSide("DST", f"DST-{i % BINS:03d}")
            made.append(JournalLine(n + 1, f"I{i:04d}", Decimal(1), source, target))
    kind = TransactionType.ADJUSTMENT if number % 2 == 0 else TransactionType.LOC_TO_LOC
    return JournalTransaction(DAY, kind, tuple(made), period="2026-11")


class SqliteFloor:
    """The floor's transactions on SQLite: the rows of saved transactions 1 and 2 (an
    adjustment and a transfer) written again with new ids, one commit each."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=FULL"):
            self.db.execute(f"PRAGMA {pragma}")
        self.templates = _templates_sqlite(self.db)
        self.sql = {
            name: f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
            for name, (cols, _) in self.templates.items()
        }
        self.done = 0

    async def run(self, transactions: int) -> float:
        """`transactions` more of the floor's; the seconds they took (blocking: a bench)."""
        db = self.db
        # The service wrote rows since the last block: new ids go after them.
        next_id = {n: int(db.execute(f"SELECT MAX(id) FROM {n}").fetchone()[0]) for n in TABLES
                   if n != "journal_line_side"}  # fmt: skip
        started = time.perf_counter()
        for _ in range(transactions):
            rows = _copy(self.templates, self.done, next_id)
            db.execute("BEGIN")
            for name in TABLES:
                db.executemany(self.sql[name], rows[name])
            db.execute("COMMIT")
            self.done += 1
        return time.perf_counter() - started

    async def close(self) -> None:
        self.db.close()


class PgFloor:
    """The floor's transactions on PostgreSQL (asyncpg executemany), as SqliteFloor."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.templates: dict[str, tuple[list[str], list[list[Any]]]] = {}
        self.sql: dict[str, str] = {}
        self.done = 0

    async def load(self) -> None:
        conn = self.conn
        for name in TABLES:
            if name == "journal_line_side":
                records = await conn.fetch(
                    "SELECT s.* FROM journal_line_side s JOIN journal_line l ON l.id = s.line_id "
                    "WHERE l.transaction_id IN (1, 2)"
                )
            elif name == "journal_transaction":
                records = await conn.fetch("SELECT * FROM journal_transaction WHERE id IN (1, 2)")
            elif name == "journal_line":
                records = await conn.fetch(
                    "SELECT * FROM journal_line WHERE transaction_id IN (1, 2)"
                )
            else:
                records = await conn.fetch(
                    f"SELECT * FROM {name} WHERE document_kind = 'journal_transaction' "
                    "AND document_id IN (1, 2)"
                )
            self.templates[name] = (list(records[0].keys()), [list(r.values()) for r in records])
        self.sql = {
            name: f"INSERT INTO {name} ({', '.join(cols)}) VALUES "
            f"({', '.join(f'${i + 1}' for i in range(len(cols)))})"
            for name, (cols, _) in self.templates.items()
        }

    async def run(self, transactions: int) -> float:
        conn = self.conn
        next_id = {}
        for name in TABLES:
            if name != "journal_line_side":
                next_id[name] = int(await conn.fetchval(f"SELECT MAX(id) FROM {name}"))
        started = time.perf_counter()
        for _ in range(transactions):
            rows = _copy(self.templates, self.done, next_id)
            async with conn.transaction():
                for name in TABLES:
                    await conn.executemany(self.sql[name], rows[name])
            self.done += 1
        seconds = time.perf_counter() - started
        # Not timed: the service's ids come from the sequences, past the ids written here.
        for name in next_id:
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"(SELECT MAX(id) FROM {name}))"
            )
        return seconds

    async def close(self) -> None:
        """Nothing: the connection is its caller's."""


class Floor(Protocol):
    async def run(self, transactions: int) -> float: ...
    async def close(self) -> None: ...


async def interleaved(
    url: str, transactions: int, lines: int, block: int, floor_for: Callable[[], Awaitable[Floor]]
) -> tuple[float, float]:
    """The service's saves and the floor's transactions, `block` at a time in turn; the
    seconds of each, summed over their blocks. `floor_for()` opens the floor once the
    service's first block has saved the floor's templates (transactions 1 and 2)."""
    await import_into_database(url, [("bench.json", master_data(), None)])
    engine = make_engine(url)
    floor: Floor | None = None
    try:
        maker = make_sessionmaker(engine)
        user = await auth.create_user(
            SqlUnitOfWork(maker), "bench", "bench-password", Role.ADMIN, datetime.now(UTC)
        )
        drafts = [draft(t, lines) for t in range(transactions)]
        service = floor_seconds = 0.0
        done = 0
        while done < transactions:
            part = drafts[done : done + block]
            started = time.perf_counter()
            for d in part:
                await journal.save_transaction(
                    SqlUnitOfWork(maker), d, user.id, "bench", datetime.now(UTC)
                )
            service += time.perf_counter() - started
            if floor is None:
                floor = await floor_for()
            floor_seconds += await floor.run(len(part))
            done += len(part)
            if done % 1000 < block or done == transactions:
                print(
                    f"  {done:,} of {transactions:,} transactions: service "
                    f"{done * lines / service:,.0f} lines/s, floor "
                    f"{done * lines / floor_seconds:,.0f} lines/s",
                    flush=True,
                )
        return service, floor_seconds
    finally:
        if floor is not None:
            await floor.close()
        await engine.dispose()


def _templates_sqlite(db: sqlite3.Connection) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """The rows transactions 1 (an adjustment) and 2 (a transfer) wrote, per table."""
    found: dict[str, tuple[list[str], list[list[Any]]]] = {}
    queries = {
        "journal_transaction": "SELECT * FROM journal_transaction WHERE id IN (1, 2)",
        "journal_line": "SELECT * FROM journal_line WHERE transaction_id IN (1, 2)",
        "journal_line_side": "SELECT s.* FROM journal_line_side s JOIN journal_line l "
        "ON l.id = s.line_id WHERE l.transaction_id IN (1, 2)",
        "stock_movement": "SELECT * FROM stock_movement WHERE document_kind = "
        "'journal_transaction' AND document_id IN (1, 2)",
        "gl_posting": "SELECT * FROM gl_posting WHERE document_id IN (1, 2)",
    }
    for name, sql in queries.items():
        cursor = db.execute(sql)
        found[name] = ([c[0] for c in cursor.description], [list(r) for r in cursor])
    return found


def _copy(
    templates: dict[str, tuple[list[str], list[list[Any]]]],
    t: int,
    next_id: dict[str, int],
) -> dict[str, list[list[Any]]]:
    """The rows of template transaction (t % 2 + 1) with new ids for transaction `t`."""
    source = t % 2 + 1
    out: dict[str, list[list[Any]]] = {}
    cols = {name: cols for name, (cols, _) in templates.items()}
    header_cols, headers = templates["journal_transaction"]
    header = next(h for h in headers if h[header_cols.index("id")] == source)
    tx_id = next_id["journal_transaction"] = next_id["journal_transaction"] + 1
    row = list(header)
    row[header_cols.index("id")] = tx_id
    row[header_cols.index("number")] = f"RAW-{tx_id:08d}"
    out["journal_transaction"] = [row]
    line_ids: dict[Any, int] = {}
    out["journal_line"] = []
    for line in templates["journal_line"][1]:
        if line[cols["journal_line"].index("transaction_id")] != source:
            continue
        new = list(line)
        next_id["journal_line"] += 1
        line_ids[line[cols["journal_line"].index("id")]] = next_id["journal_line"]
        new[cols["journal_line"].index("id")] = next_id["journal_line"]
        new[cols["journal_line"].index("transaction_id")] = tx_id
        out["journal_line"].append(new)
    out["journal_line_side"] = []
    for side in templates["journal_line_side"][1]:
        old = side[cols["journal_line_side"].index("line_id")]
        if old in line_ids:
            new = list(side)
            new[cols["journal_line_side"].index("line_id")] = line_ids[old]
            out["journal_line_side"].append(new)
    for name in ("stock_movement", "gl_posting"):
        c = cols[name]
        out[name] = []
        for r in templates[name][1]:
            if r[c.index("document_id")] != source:
                continue
            new = list(r)
            next_id[name] += 1
            new[c.index("id")] = next_id[name]
            new[c.index("document_id")] = tx_id
            new[c.index("document_number")] = f"RAW-{tx_id:08d}"
            out[name].append(new)
    return out


TARGET = 0.3  # issue 16: the service at least 0.3 of the floor's lines/s, on both databases


def report(label: str, lines: int, seconds: float) -> str:
    return f"| {label} | {lines:,} | {seconds:.1f} | {lines / seconds:,.0f} | |"


def ratio(label: str, service: float, floor: float) -> str:
    """The service's lines/s over the floor's, measured in the same run, and the target."""
    x = floor / service
    verdict = "met" if x >= TARGET else "NOT met"
    return f"| {label}: service / floor | | | | {x:.2f} (target {TARGET}: {verdict}) |"


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--transactions", type=int, default=10_000)
    parser.add_argument("--lines", type=int, default=10)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument(
        "--block", type=int, default=50, help="transactions of each turn (service, floor)"
    )
    args = parser.parse_args()
    n, k, block = args.transactions, args.lines, max(2, args.block)
    total = n * k
    results = [
        "| database, what | lines | seconds | lines/s | x floor |",
        "|---|---:|---:|---:|---:|",
    ]
    loads = [load_average()]
    with tempfile.TemporaryDirectory(prefix="bench-journal-") as tmp:
        path = Path(tmp) / "journal.sqlite3"
        url = f"sqlite+aiosqlite:///{path}"
        migrate.upgrade(url)
        print(f"SQLite: {n:,} transactions of {k} lines, {block} at a time", flush=True)

        async def sqlite_floor() -> SqliteFloor:
            return SqliteFloor(path)

        service, floor = asyncio.run(interleaved(url, n, k, block, sqlite_floor))
        results.append(report("SQLite: journal service (save_transaction)", total, service))
        results.append(report("SQLite: floor, sqlite3 executemany, same rows", total, floor))
        results.append(ratio("SQLite", service, floor))
    loads.append(load_average())
    if not args.no_postgres:
        results += bench_postgres(args.pg_url, n, k, block)
        loads.append(load_average())
    print()
    print("\n".join(results))
    print(f"load average (1, 5, 15 min) at start, after SQLite, at end: {' / '.join(loads)}")


def bench_postgres(admin_url: str, n: int, k: int, block: int) -> list[str]:
    try:
        dsn = create_scratch(admin_url, "bench_journal")
    except (OSError, asyncpg.PostgresError) as exc:
        return [f"PostgreSQL: skipped ({type(exc).__name__}: {exc})"]
    try:
        url = sqlalchemy_url(dsn)
        print(f"PostgreSQL: {n:,} transactions of {k} lines, {block} at a time", flush=True)
        service, floor = asyncio.run(_pg_interleaved(url, dsn, n, k, block))
        return [
            report("PostgreSQL: journal service (save_transaction)", n * k, service),
            report("PostgreSQL: floor, asyncpg executemany, same rows", n * k, floor),
            ratio("PostgreSQL", service, floor),
        ]
    finally:
        drop_scratch(admin_url, dsn)


async def _pg_interleaved(url: str, dsn: str, n: int, k: int, block: int) -> tuple[float, float]:
    conn = await asyncpg.connect(dsn)
    try:

        async def pg_floor() -> PgFloor:
            floor = PgFloor(conn)
            await floor.load()
            return floor

        return await interleaved(url, n, k, block, pg_floor)
    finally:
        await conn.close()


if __name__ == "__main__":
    main()
