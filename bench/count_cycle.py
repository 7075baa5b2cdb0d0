"""Benchmark: a whole stock count of 1,000,000 serials, beside the database's read floor.

    .venv/bin/python bench/count_cycle.py [--serials N] [--bins N] [--no-postgres]

One location with 10,000 bins, 1,000 serial-tracked items with 1,000,000 serials (100 per
bin) and 200 untracked items with 20,000 item-bin balances (2 per bin). Master data goes
through the importer; the serials, balances and average costs are loaded by the raw
driver (sqlite3 executemany, asyncpg COPY): the importer has its own benchmark
(bench/import_serials.py) and is not what this one measures.

A count over every bin, through the service layer (server.counts.usecases.counting and
count_review, no HTTP): start (the snapshot), 10,000 bin counts submitted with
`record_bin_counts`, 500 per call and transaction, where 1% of the serials are found in
the next bin, 0.5% are missing, 0.5% of the bins hold one serial the system does not know,
and a quarter of the untracked balances differ; then the reconciliation (first, cold: the
snapshot is loaded; then recomputed after one more bin count), one review action, counted,
and finalize (tolerances wide enough that every line is approved automatically).

Beside each step the floor, measured in the same run, and the target where there is one:
- start: the raw driver reading the serial and balance rows of the scope's bins (what the
  snapshot copies);
- bin counts: the raw driver inserting the same rows (headers, serials, quantities) into
  the same tables, lot by lot just before the service writes the lot, one transaction
  each, committed, on a connection with the app's PRAGMAs (sqlite3 executemany, asyncpg
  COPY), then deleted untimed; target: the service at least half that rate (at most 2x);
- reconcile: the raw driver reading the snapshot's serial rows and the bin counts' serial
  rows, read just before and just after each reconcile and the two averaged (a drifting
  host slows both sides alike); target at most 1.5x;
- finalize: the raw driver reading the location's serial rows, plus (finalize also writes)
  the raw write of what it wrote: its document lines, stock movements, GL lines and new
  serials inserted again, the serials, balances and average costs it changed updated by
  key, committed (see Raw.finalize_write_floor); target at most 2x.
The floors read their rows 10,000 at a time and keep none, so that the peak memory is the
service's, printed after each step.

Each database runs in its own child process, so the peak memory (ru_maxrss) is its own.
PostgreSQL runs when reachable at --pg-url; the benchmark creates and drops its database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from scratch_pg import create_scratch, drop_scratch, sqlalchemy_url
from sqlalchemy import select

from server.auth import usecases as auth
from server.bootstrap import open_runtime
from server.counts.usecases import counting as counts
from server.counts.usecases import review as count_review
from server.db import migrate
from server.db.engine import sqlite_pragmas
from server.db.tables import Bin, Item, Location, User
from server.domain.auth import Caller, CallerKind
from server.domain.counting import CountStatus, SubmittedBinCount, ToleranceRules
from server.domain.masterdata import Role
from server.masterdata.usecases.importer import import_sources
from server.masterdata.usecases.sources import Source

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
ITEMS = 1_000
UNTRACKED = 200
PER_BIN = 100
BATCH = 500
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
COST = 1_000_000  # cost columns hold 1/1,000,000
QTY = 10_000  # quantity columns hold 1/10,000
T = TypeVar("T")


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- the warehouse and the count, as arithmetic on the serial's index n ---------------


@dataclass(frozen=True)
class Shape:
    serials: int
    bins: int

    def serial(self, n: int) -> tuple[str, str]:
        return f"I{n % ITEMS:04}", f"SN{n:09}"

    def bin_of(self, n: int) -> int:
        return n // PER_BIN

    @staticmethod
    def missing(n: int) -> bool:
        return n % 200 == 7  # 0.5%

    @staticmethod
    def misplaced(n: int) -> bool:
        return n % 100 == 13  # 1%: found in the next bin

    def label(self, b: int) -> str:
        return f"B{b:05}"

    def balances(self, b: int) -> list[tuple[str, int, int]]:
        """(item, system quantity, counted quantity) of bin b's untracked items."""
        first, second = b % UNTRACKED, (b + UNTRACKED // 2) % UNTRACKED
        q1, q2 = 10 + b % 7, 13 + b % 5
        return [
            (f"U{first:03}", q1, q1 + 2 if b % 4 == 0 else q1),
            (f"U{second:03}", q2, q2 - 1 if b % 4 == 1 else q2),
        ]

    def counted(self, b: int) -> SubmittedBinCount:
        found = [
            self.serial(n)
            for n in range(b * PER_BIN, (b + 1) * PER_BIN)
            if n < self.serials and not self.missing(n) and not self.misplaced(n)
        ]
        before = (b - 1) % self.bins
        found += [
            self.serial(n)
            for n in range(before * PER_BIN, (before + 1) * PER_BIN)
            if n < self.serials and self.misplaced(n)
        ]
        if b % 2 == 0:  # 0.5% of the serials: one the system does not know, in every other bin
            found.append((f"I{b % ITEMS:04}", f"UNK{b:06}"))
        started = T0 + timedelta(seconds=b)
        return SubmittedBinCount(
            bin=self.label(b),
            started_at=started,
            finished_at=started + timedelta(minutes=3),
            serials=found,
            quantities=[(i, "", Decimal(c)) for i, _, c in self.balances(b)],
        )


def master_data(shape: Shape) -> dict[str, list[dict[str, Any]]]:
    return {
        "companies": [{"code": "ACME", "name": "Acme"}],
        "gl_accounts": [
            {"code": "1400", "name": "Inventory"},
            {"code": "5100", "name": "Inventory adjustment"},
        ],
        "gl_entities": [{"code": "E1", "name": "Entity", "company": "ACME"}],
        "inventory_groups": [
            {"code": "G", "name": "Group", "inventory_account": "1400",
             "adjustment_account": "5100"}
        ],
        "locations": [{"code": "MAIN", "name": "Main", "company": "ACME", "gl_entity": "E1"}],
        "bins": [
            {"location": "MAIN", "label": shape.label(b), "kind": "stock", "zone": f"Z{b // 1000}"}
            for b in range(shape.bins)
        ],
        "items": [
            {"code": f"I{i:04}", "name": f"Serial item {i}", "tracking": "serial",
             "last_cost": "50", "inventory_group": "G"}
            for i in range(ITEMS)
        ]
        + [
            {"code": f"U{i:03}", "name": f"Untracked item {i}", "tracking": "none",
             "last_cost": "3", "inventory_group": "G"}
            for i in range(UNTRACKED)
        ],
    }  # fmt: skip


# -- the raw driver: bulk load and floors ----------------------------------------------


def _sqlite_value(v: Any) -> Any:
    # The app stores UTC datetimes as ISO text on SQLite.
    return v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else v


class Raw:
    """The raw driver of one database: sqlite3 on a file, or an asyncpg DSN."""

    def __init__(self, url: str) -> None:
        self.sqlite = url.startswith("sqlite")
        self.target = url.split("///", 1)[1] if self.sqlite else url.replace("+asyncpg", "")

    async def fetch(self, sql: str) -> list[Any]:
        if self.sqlite:
            conn = sqlite3.connect(self.target)
            try:
                return conn.execute(sql.replace("$1", "?")).fetchall()
            finally:
                conn.close()
        pg = await asyncpg.connect(self.target)
        try:
            return list(await pg.fetch(sql))
        finally:
            await pg.close()

    async def checkpoint(self) -> None:
        """SQLite: the WAL copied into the database and emptied (not timed), so that the
        floor and the service each start from an empty WAL: otherwise the floor's
        untimed delete pays the automatic checkpoint its own rows call for, and the
        service's commit pays it for both."""
        if self.sqlite:
            conn = sqlite3.connect(self.target)
            try:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                conn.close()

    async def read(self, sql: str) -> int:
        """A floor: the driver reads every row of `sql`, 10,000 at a time (rows are read,
        not kept: the benchmark's peak memory is the service's); the number of rows."""
        n = 0
        if self.sqlite:
            conn = sqlite3.connect(self.target)
            try:
                cur = conn.execute(sql)
                while part := cur.fetchmany(10_000):
                    n += len(part)
            finally:
                conn.close()
            return n
        pg = await asyncpg.connect(self.target)
        try:
            async with pg.transaction():
                cursor = await pg.cursor(sql)
                while part := await cursor.fetch(10_000):
                    n += len(part)
        finally:
            await pg.close()
        return n

    async def load(
        self, table: str, columns: list[str], rows: list[tuple[Any, ...]], analyze: bool = True
    ) -> None:
        if self.sqlite:
            conn = sqlite3.connect(self.target, isolation_level=None)
            try:
                conn.execute("BEGIN")
                marks = ", ".join("?" for _ in columns)
                conn.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
                )
                conn.execute("COMMIT")
            finally:
                conn.close()
            return
        pg = await asyncpg.connect(self.target)
        try:
            await pg.copy_records_to_table(table, records=rows, columns=columns)
            if analyze:
                await pg.execute(f"ANALYZE {table}")
        finally:
            await pg.close()

    async def insert_bin_count_rows(self, rows: BinCountRows) -> float:
        """The raw insert floor of bin counts' rows: one transaction of the driver's fastest
        insert per table (sqlite3 executemany on a connection with the app's PRAGMAs,
        asyncpg COPY), committed as the service commits; seconds. The rows are deleted
        again afterwards (not timed)."""
        ids = [r[0] for r in rows[0]]
        lo, hi = min(ids), max(ids)
        if self.sqlite:
            conn = sqlite3.connect(self.target, isolation_level=None)
            try:
                sqlite_pragmas(conn, None)
                started = time.perf_counter()
                conn.execute("BEGIN")
                for (table, columns), part in zip(_BIN_COUNT_COLUMNS, rows, strict=True):
                    marks = ", ".join("?" for _ in columns)
                    conn.executemany(
                        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", part
                    )
                conn.execute("COMMIT")
                seconds = time.perf_counter() - started
                conn.execute("BEGIN")
                for table, _ in reversed(_BIN_COUNT_COLUMNS[1:]):
                    conn.execute(
                        f"DELETE FROM {table} WHERE bin_count_id BETWEEN ? AND ?", (lo, hi)
                    )
                conn.execute("DELETE FROM bin_count WHERE id BETWEEN ? AND ?", (lo, hi))
                conn.execute("COMMIT")
            finally:
                conn.close()
            return seconds
        pg = await asyncpg.connect(self.target)
        try:
            started = time.perf_counter()
            async with pg.transaction():
                for (table, columns), part in zip(_BIN_COUNT_COLUMNS, rows, strict=True):
                    await pg.copy_records_to_table(table, records=part, columns=columns)
            seconds = time.perf_counter() - started
            async with pg.transaction():
                for table, _ in reversed(_BIN_COUNT_COLUMNS[1:]):
                    await pg.execute(
                        f"DELETE FROM {table} WHERE bin_count_id BETWEEN $1 AND $2", lo, hi
                    )
                await pg.execute("DELETE FROM bin_count WHERE id BETWEEN $1 AND $2", lo, hi)
        finally:
            await pg.close()
        return seconds

    def prepared(self, rows: BinCountRows) -> BinCountRows:
        """The rows as the driver takes them (SQLite: datetimes as the app's text)."""
        if not self.sqlite:
            return rows
        h, s, q = rows
        return [tuple(_sqlite_value(v) for v in r) for r in h], s, q

    async def finalize_write_floor(self, count_id: int, serials_before: int) -> tuple[float, int]:
        """The raw write floor of what finalize wrote (seconds, rows), in one transaction on
        a connection with the app's PRAGMAs: its documents' lines, stock movements and GL
        lines and the serials it created are deleted (not timed) and inserted again as they
        were by the driver's fastest insert (sqlite3 executemany, asyncpg COPY); each serial
        its documents name and each item-bin balance and item average cost they change is
        updated by key (executemany, to the same value); then the commit (timed)."""
        docs = f"SELECT id FROM count_document WHERE count_id = {count_id}"
        kinds = "('quantity_adjustment', 'stock_transfer')"
        moved = f"document_kind IN {kinds} AND document_id IN ({docs})"
        tables = [
            ("count_document_line", f"document_id IN ({docs})"),
            ("stock_movement", moved),
            ("gl_posting", moved),
            ("serial", f"id > {serials_before}"),
        ]
        lines = f"SELECT * FROM count_document_line WHERE document_id IN ({docs})"
        updates = [
            (
                "UPDATE serial SET bin_id = bin_id WHERE item_id = $1 AND serial_number = $2",
                f"SELECT DISTINCT item_id, serial_number FROM ({lines}) x "
                "WHERE serial_number <> ''",
            ),
            (
                "UPDATE stock_balance SET quantity = quantity "
                "WHERE item_id = $1 AND bin_id = $2 AND lot = $3",
                f"SELECT DISTINCT item_id, bin_id, lot FROM ({lines}) x WHERE serial_number = ''",
            ),
            (
                "UPDATE item_location_cost SET average_cost = average_cost "
                "WHERE item_id = $1 AND location_id = $2",
                f"SELECT DISTINCT x.item_id, d.location_id FROM ({lines}) x "
                "JOIN count_document d ON d.id = x.document_id",
            ),
        ]
        written = 0
        if self.sqlite:
            conn = sqlite3.connect(self.target, isolation_level=None)
            try:
                sqlite_pragmas(conn, None)
                conn.execute("BEGIN")
                saved = []
                for table, where in tables:
                    cur = conn.execute(f"SELECT * FROM {table} WHERE {where}")
                    columns = [d[0] for d in cur.description]
                    saved.append((table, columns, cur.fetchall()))
                keys = [(sql, conn.execute(q).fetchall()) for sql, q in updates]
                for table, where in reversed(tables):
                    conn.execute(f"DELETE FROM {table} WHERE {where}")
                started = time.perf_counter()
                for table, columns, rows in saved:
                    marks = ", ".join("?" for _ in columns)
                    conn.executemany(
                        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
                    )
                    written += len(rows)
                for sql, rows in keys:
                    conn.executemany(re.sub(r"\$\d", "?", sql), rows)
                    written += len(rows)
                conn.execute("COMMIT")  # the same rows as before: finalize's, put back
                seconds = time.perf_counter() - started
            finally:
                conn.close()
            return seconds, written
        pg = await asyncpg.connect(self.target)
        try:
            tx = pg.transaction()
            await tx.start()
            saved_pg = []
            for table, where in tables:
                rows = await pg.fetch(f"SELECT * FROM {table} WHERE {where}")
                columns = list(rows[0].keys()) if rows else []
                saved_pg.append((table, columns, [tuple(r) for r in rows]))
            keys_pg = [(sql, [tuple(r) for r in await pg.fetch(q)]) for sql, q in updates]
            for table, where in reversed(tables):
                await pg.execute(f"DELETE FROM {table} WHERE {where}")
            started = time.perf_counter()
            for table, columns, rows in saved_pg:
                if rows:
                    await pg.copy_records_to_table(table, records=rows, columns=columns)
                written += len(rows)
            for sql, rows in keys_pg:
                await pg.executemany(sql, rows)
                written += len(rows)
            await tx.commit()  # the same rows as before: finalize's, put back
            seconds = time.perf_counter() - started
        finally:
            await pg.close()
        return seconds, written


async def load_stock(raw: Raw, shape: Shape) -> None:
    items = {str(c): int(i) for c, i in await raw.fetch("SELECT code, id FROM item")}
    bins = {str(lbl): int(i) for lbl, i in await raw.fetch("SELECT label, id FROM bin")}
    (location_id,) = (await raw.fetch("SELECT id FROM location"))[0]
    # In parts of 100,000: the benchmark's own rows are not what its peak memory measures.
    for part in batches(shape.serials, 100_000):
        serials = [
            (items[f"I{n % ITEMS:04}"], f"SN{n:09}", bins[shape.label(shape.bin_of(n))],
             (10 + n % 997) * COST + (n % 1000) * 1000)
            for n in part
        ]  # fmt: skip
        columns = ["item_id", "serial_number", "bin_id", "actual_cost"]
        await raw.load("serial", columns, serials, analyze=part.stop == shape.serials)
        del serials
    balances = [
        (items[item], bins[shape.label(b)], "", q * QTY)
        for b in range(shape.bins)
        for item, q, _ in shape.balances(b)
    ]
    await raw.load("stock_balance", ["item_id", "bin_id", "lot", "quantity"], balances)
    costs = [(items[f"I{i:04}"], int(location_id), 510 * COST) for i in range(ITEMS)]
    costs += [(items[f"U{i:03}"], int(location_id), 3 * COST + i * 1000) for i in range(UNTRACKED)]
    await raw.load("item_location_cost", ["item_id", "location_id", "average_cost"], costs)


BinCountRows = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]


def bin_count_rows(
    submitted: list[SubmittedBinCount],
    count_id: int,
    user_id: int,
    items: dict[str, int],
    bins: dict[str, int],
) -> BinCountRows:
    """The rows the service writes for these bin counts (headers with ids far above the
    service's, their serials, their quantities), for the raw insert floor."""
    now = datetime.now(UTC)
    headers: list[tuple[Any, ...]] = []
    serials: list[tuple[Any, ...]] = []
    quantities: list[tuple[Any, ...]] = []
    for n, s in enumerate(submitted):
        bc = 10**9 + n
        headers.append(
            (bc, count_id, bins[s.bin], user_id, "bench", s.started_at, s.finished_at, now)
        )
        serials += [(bc, items[i], sn) for i, sn in s.serials]
        quantities += [(bc, items[i], lot, int(q) * QTY) for i, lot, q in s.quantities]
    return headers, serials, quantities


_BIN_COUNT_COLUMNS = (
    ("bin_count", ["id", "count_id", "bin_id", "counter_id", "counter", "started_at",
                   "finished_at", "submitted_at"]),
    ("bin_count_serial", ["bin_count_id", "item_id", "serial_number"]),
    ("bin_count_quantity", ["bin_count_id", "item_id", "lot", "quantity"]),
)  # fmt: skip


# -- one database --------------------------------------------------------------------


@dataclass
class Figures:
    database: str
    rows: list[tuple[str, float, float | None, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    peak_mb: float = 0.0

    def mark(self, step: str) -> None:
        """The process's peak memory so far, after the step."""
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.notes.append(f"peak memory after {step}: {peak:,.0f} MB")
        say(f"  peak memory after {step}: {peak:,.0f} MB")

    def add(self, what: str, seconds: float, floor: float | None = None, note: str = "") -> None:
        self.rows.append((what, seconds, floor, note))
        ratio = f" (floor {floor:.2f} s, x{seconds / floor:.1f})" if floor else ""
        say(f"  {what}: {seconds:.2f} s{ratio} {note}")


async def timed(work: Callable[[], Awaitable[T]]) -> tuple[float, T]:
    started = time.perf_counter()
    result = await work()
    return time.perf_counter() - started, result


def batches(total: int, size: int) -> Iterator[range]:
    for start in range(0, total, size):
        yield range(start, min(start + size, total))


async def count_cycle(url: str, shape: Shape, name: str) -> Figures:
    figures = Figures(name)
    raw = Raw(url)
    say(f"{name}: import master data ({shape.bins:,} bins, {ITEMS + UNTRACKED} items)")
    async with open_runtime(url) as runtime:
        engine, uow = runtime.engine, runtime.uow()
        seconds, _ = await timed(lambda: import_sources(uow, [Source("bench", master_data(shape))]))
        figures.add("import master data (importer)", seconds)
        say(f"{name}: load {shape.serials:,} serials and {2 * shape.bins:,} balances (raw)")
        seconds, _ = await timed(lambda: load_stock(raw, shape))
        how = "sqlite3 executemany" if raw.sqlite else "asyncpg COPY"
        figures.add(f"load serials, balances, costs ({how})", seconds)
        figures.mark("the raw load")

        now = datetime.now(UTC)
        await auth.create_user(uow, "bench", "bench-password", Role.SUPERVISOR, now)
        async with engine.connect() as conn:
            user_id = int((await conn.execute(select(User.id))).scalar_one())
        me = Caller(CallerKind.USER, "bench", user_id=user_id, role=Role.SUPERVISOR)
        await count_review.set_tolerances(
            uow, me, "MAIN", ToleranceRules(quantity=Decimal(1000), value=Decimal(10**9)), now
        )
        view = await counts.create_count(uow, me, counts.NewCount("MAIN", "all"), now)
        number = view.count.number
        count_id = view.count.id

        seconds, _ = await timed(lambda: counts.start_count(uow, me, number, datetime.now(UTC)))
        floor, _ = await timed(
            lambda: raw.read(
                "SELECT s.item_id, s.serial_number, s.bin_id, s.actual_cost FROM serial s "
                f"JOIN count_bin c ON c.bin_id = s.bin_id AND c.count_id = {count_id} "
                "UNION ALL SELECT b.item_id, b.lot, b.bin_id, b.quantity FROM stock_balance b "
                f"JOIN count_bin c ON c.bin_id = b.bin_id AND c.count_id = {count_id}"
            )
        )
        figures.add("start: snapshot (INSERT ... SELECT)", seconds, floor)
        figures.mark("start")

        say(f"{name}: submit {shape.bins:,} bin counts, {BATCH} per transaction")
        items = {str(c): int(i) for c, i in await raw.fetch("SELECT code, id FROM item")}
        bins = {str(lbl): int(i) for lbl, i in await raw.fetch("SELECT label, id FROM bin")}
        service = floor = 0.0
        rows = 0
        for part in batches(shape.bins, BATCH):
            submitted = [shape.counted(b) for b in part]
            written = raw.prepared(bin_count_rows(submitted, count_id, user_id, items, bins))
            rows += sum(len(r) for r in written)
            await raw.checkpoint()
            floor += await raw.insert_bin_count_rows(written)
            await raw.checkpoint()
            started = time.perf_counter()
            async with uow:
                await counts.record_bin_counts(uow, me, number, submitted, datetime.now(UTC))
                await uow.commit()
            service += time.perf_counter() - started
            say(f"  {part.stop:,}/{shape.bins:,} bin counts ({part.stop / service:,.0f}/s)")
        figures.add(
            f"submit bin counts (record_bin_counts, {rows:,} rows: {rows / service:,.0f} rows/s)",
            service,
            floor,
            f"raw insert of the same rows {rows / floor:,.0f} rows/s; target: at most 2x",
        )
        figures.mark("bin counts")

        floor_sql = (
            "SELECT item_id, serial_number, bin_id, actual_cost FROM count_snapshot_serial "
            f"WHERE count_id = {count_id} UNION ALL SELECT s.item_id, s.serial_number, "
            "h.bin_id, 0 FROM bin_count_serial s JOIN bin_count h ON h.id = s.bin_count_id "
            f"WHERE h.count_id = {count_id}"
        )

        # Each reconcile is set against the mean of its floor read just before and just
        # after it: on a shared host whose speed drifts, one read on one side of a
        # several-second step gave the same code 1.3-1.9x between rounds.
        async def beside_floor(what: str, before: float) -> tuple[Any, float, float]:
            """Reconcile as `what`, its floor read again after it and set against the
            mean with `before`; the reconciliation, the floor and the read after."""
            seconds, made = await timed(lambda: count_review.reviewed_reconciliation(uow, number))
            after, _ = await timed(lambda: raw.read(floor_sql))
            floor = (before + after) / 2
            note = f"floor before/after {before:.2f}/{after:.2f} s; target: at most 1.5x"
            figures.add(what, seconds, floor, note)
            return made, floor, after

        before, _ = await timed(lambda: raw.read(floor_sql))
        counts.forget_cached(uow)  # a process that has never seen this count
        first, floor, after = await beside_floor("reconcile, first (loads snapshot)", before)
        figures.mark("the first reconciliation")
        kinds: dict[str, int] = {}
        for line in first.reconciliation.lines:
            kinds[line.kind.value] = kinds.get(line.kind.value, 0) + 1
        figures.notes.append("lines: " + ", ".join(f"{k} {n:,}" for k, n in sorted(kinds.items())))

        await counts.submit_bin_count(uow, me, number, shape.counted(0), datetime.now(UTC))
        _, floor, _ = await beside_floor("reconcile, recomputed after a recount", after)

        target = next(x for x in first.reconciliation.lines if x.adjustable)
        seconds, _ = await timed(
            lambda: count_review.decide_line(uow, me, number, target.id, "clear", datetime.now(UTC))
        )
        figures.add("review: clear one line", seconds)
        seconds, _ = await timed(lambda: count_review.reviewed_reconciliation(uow, number))
        figures.add("reconcile, read after the review", seconds, floor)
        await count_review.decide_line(uow, me, number, target.id, "select", datetime.now(UTC))

        async with uow:
            status = (await counts.load_count(uow, number)).status
        if status is CountStatus.COUNTED:
            figures.notes.append("Counted by itself when its last bin was counted (no conflict)")
        else:
            seconds, _ = await timed(
                lambda: counts.mark_count_counted(uow, me, number, False, datetime.now(UTC))
            )
            figures.add("mark counted", seconds)
        (serials_before,) = (await raw.fetch("SELECT coalesce(max(id), 0) FROM serial"))[0]
        # Finalize and its write floor each start from an empty WAL, as the bin counts do:
        # otherwise finalize's commit pays the checkpoint of the reconciliations' and the
        # review's pages besides its own.
        await raw.checkpoint()
        seconds, result = await timed(
            lambda: count_review.finalize(uow, me, number, False, datetime.now(UTC))
        )
        floor, _ = await timed(
            lambda: raw.read(
                "SELECT s.item_id, s.serial_number, s.bin_id, s.actual_cost FROM serial s "
                "JOIN bin b ON b.id = s.bin_id JOIN location l ON l.id = b.location_id "
                "WHERE l.code = 'MAIN'"
            )
        )
        await raw.checkpoint()
        writes, rewritten = await raw.finalize_write_floor(count_id, int(serials_before))
        figures.add(
            "finalize: documents, postings, GL",
            seconds,
            floor + writes,
            f"floor: read {floor:.2f} s + write {writes:.2f} s ({rewritten:,} rows); "
            "target: at most 2x",
        )
        figures.mark("finalize")
        for doc in result.documents:
            figures.notes.append(
                f"{doc.number}: {len(doc.lines):,} lines, value {doc.total_value:,}, "
                f"{len(doc.gl_lines):,} GL lines"
            )
        async with engine.connect() as conn:
            left = await conn.scalar(select(Location.code))
            figures.notes.append(f"location {left}: count {number} {result.count.status}")
            assert (await conn.scalar(select(Item.id).limit(1))) is not None
            assert (await conn.scalar(select(Bin.id).limit(1))) is not None
    figures.peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


# -- the runs ------------------------------------------------------------------------


def child(args: argparse.Namespace) -> None:
    shape = Shape(args.serials, args.bins)
    if args.child == "sqlite":
        with tempfile.TemporaryDirectory(prefix="bench-count-") as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'count.sqlite3'}"
            migrate.upgrade(url)
            figures = asyncio.run(count_cycle(url, shape, "SQLite"))
    else:
        dsn = create_scratch(args.pg_url, "bench_count")
        try:
            figures = asyncio.run(count_cycle(sqlalchemy_url(dsn), shape, "PostgreSQL"))
        finally:
            drop_scratch(args.pg_url, dsn)
    print(json.dumps(figures.__dict__))


def table(all_figures: list[Figures]) -> str:
    out = [
        "| database | step | seconds | floor s | x floor |",
        "|---|---|---:|---:|---:|",
    ]
    for f in all_figures:
        for what, seconds, floor, _ in f.rows:
            ratio = f"{seconds / floor:.1f}" if floor else ""
            floor_text = f"{floor:.2f}" if floor else ""
            out.append(f"| {f.database} | {what} | {seconds:.2f} | {floor_text} | {ratio} |")
        out.append(f"| {f.database} | peak memory (ru_maxrss) | {f.peak_mb:,.0f} MB | | |")
    for f in all_figures:
        out += ["", f"{f.database}:"] + [f"- {note}" for note in f.notes]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serials", type=int, default=1_000_000)
    parser.add_argument("--bins", type=int, default=10_000)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--child", choices=("sqlite", "postgres"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    runs = ["sqlite"] + ([] if args.no_postgres else ["postgres"])
    results: list[Figures] = []
    for run in runs:
        command = [sys.executable, __file__, "--child", run, "--serials", str(args.serials)]
        command += ["--bins", str(args.bins), "--pg-url", args.pg_url]
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
        if done.returncode != 0:
            say(f"{run}: failed (exit {done.returncode})")
            continue
        results.append(Figures(**json.loads(done.stdout.strip().splitlines()[-1])))
    print(
        f"\n{args.serials:,} serials in {args.bins:,} bins, {2 * args.bins:,} untracked balances\n"
    )
    print(table(results))


if __name__ == "__main__":
    main()
