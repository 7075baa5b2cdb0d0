"""Benchmark: import 1,000,000 serials with the real importer, beside the driver's floor.

    .venv/bin/python bench/import_serials.py [--serials N] [--bins N] [--items N] [--no-postgres]

Generates one location with 10,000 bins, serial-tracked items and the serials as CSV files,
imports them with `server.bootstrap.import_into_database` (the code
`stockcount import` runs) into a fresh
migrated SQLite file, and into a fresh PostgreSQL database when one is reachable at
STOCKCOUNT_BENCH_PG_URL (default postgresql://postgres@127.0.0.1:5432/test; the benchmark
creates and drops its own database). Beside each import it measures, in the same run:

- floor: the same rows (already parsed, ids resolved) written by the raw driver's
  executemany into a table of the same shape (unique (item, serial number), index on bin),
  in one transaction: what no importer can beat on that database;
- COPY (PostgreSQL): the same rows through asyncpg's copy_records_to_table, which the
  importer uses on PostgreSQL;
- Core: the same rows through SQLAlchemy Core `insert(serial)` executemany, the
  alternative the importer does not use for serials.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
import time
from collections.abc import Callable, Coroutine
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
from scratch_pg import create_scratch, drop_scratch, sqlalchemy_url
from sqlalchemy import insert

from server.bootstrap import import_into_database, open_runtime
from server.db import migrate
from server.db.tables import Base
from server.masterdata.usecases.importer import Source

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
SHAPE = (
    "CREATE TABLE {name} (id {id} PRIMARY KEY, item_id BIGINT NOT NULL, "
    "serial_number VARCHAR(128) NOT NULL, bin_id BIGINT, actual_cost BIGINT NOT NULL, "
    "UNIQUE (item_id, serial_number)); CREATE INDEX ix_{name}_bin ON {name} (bin_id)"
)


def generate(folder: Path, serials: int, bins: int, items: int) -> list[Source]:
    (folder / "companies.csv").write_text("code,name\nACME,Acme Ltd\n")
    (folder / "locations.csv").write_text("code,name,company\nMAIN,Main warehouse,ACME\n")
    with (folder / "bins.csv").open("w") as f:
        f.write("location,label,zone\n")
        f.writelines(f"MAIN,B{n:05},Z{n // 1000}\n" for n in range(bins))
    with (folder / "items.csv").open("w") as f:
        f.write("code,name,tracking\n")
        f.writelines(f"I{n:04},Item {n},serial\n" for n in range(items))
    with (folder / "serials.csv").open("w") as f:
        f.write("item,serial_number,location,bin,actual_cost\n")
        f.writelines(
            f"I{n % items:04},SN{n:09},MAIN,B{n % bins:05},{10 + n % 997}.{n % 1000:03}\n"
            for n in range(serials)
        )
    names = ["companies.csv", "locations.csv", "bins.csv", "items.csv", "serials.csv"]
    return [Source(name, folder / name) for name in names]


def floor_rows(serials: int, bins: int, items: int) -> list[tuple[int, str, int, int]]:
    """The rows the importer writes, as the driver gets them (ids 1.., cost scaled 1e6)."""
    return [
        (n % items + 1, f"SN{n:09}", n % bins + 1, (10 + n % 997) * 1_000_000 + (n % 1000) * 1000)
        for n in range(serials)
    ]


def sqlite_floor(path: Path, rows: list[tuple[int, str, int, int]]) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=FULL"):
        conn.execute(f"PRAGMA {pragma}")
    conn.executescript(SHAPE.format(name="floor", id="INTEGER"))
    started = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO floor (item_id, serial_number, bin_id, actual_cost) VALUES (?, ?, ?, ?)",
        rows,
    )
    conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    conn.close()
    return seconds


async def core_insert(url: str, rows: list[tuple[int, str, int, int]]) -> float:
    """SQLAlchemy Core executemany of the same rows into a same-shaped copy of `serial`."""
    table = Base.metadata.tables["serial"]
    async with open_runtime(url) as runtime:
        async with runtime.engine.begin() as conn:
            await conn.exec_driver_sql("DELETE FROM serial")
        started = time.perf_counter()
        async with runtime.engine.begin() as conn:
            for start in range(0, len(rows), 50_000):
                await conn.execute(
                    insert(table),
                    [
                        {
                            "item_id": i,
                            "serial_number": s,
                            "bin_id": b,
                            "actual_cost": Decimal(c).scaleb(-6),
                        }
                        for i, s, b, c in rows[start : start + 50_000]
                    ],
                )
        return time.perf_counter() - started


async def pg_floor(dsn: str, rows: list[tuple[int, str, int, int]]) -> tuple[float, float]:
    conn = await asyncpg.connect(dsn)
    try:
        times = []
        for name, copy in (("floor_many", False), ("floor_copy", True)):
            await conn.execute(SHAPE.format(name=name, id="BIGSERIAL"))
            started = time.perf_counter()
            async with conn.transaction():
                columns = ["item_id", "serial_number", "bin_id", "actual_cost"]
                if copy:
                    await conn.copy_records_to_table(name, records=rows, columns=columns)
                else:
                    await conn.executemany(
                        f"INSERT INTO {name} ({', '.join(columns)}) VALUES ($1, $2, $3, $4)",
                        rows,
                    )
            times.append(time.perf_counter() - started)
        return times[0], times[1]
    finally:
        await conn.close()


async def timed(make: Callable[[], Coroutine[Any, Any, Any]]) -> float:
    started = time.perf_counter()
    await make()
    return time.perf_counter() - started


def line(label: str, rows: int, seconds: float) -> str:
    return f"  {label:<52} {seconds:>8.2f} s {rows / seconds:>12,.0f} rows/s"


def run_import(url: str, sources: list[Source]) -> tuple[float, dict[str, int]]:
    summary = asyncio.run(import_into_database(url, sources))
    return summary.seconds, summary.rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serials", type=int, default=1_000_000)
    parser.add_argument("--bins", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=1_000)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--pg-url", default=PG_URL)
    args = parser.parse_args()
    n = args.serials
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        sources = generate(folder, n, args.bins, args.items)
        size = (folder / "serials.csv").stat().st_size / 1e6
        print(
            f"generated {n:,} serials, {args.bins:,} bins, {args.items:,} items "
            f"({size:.0f} MB of CSV) in {time.perf_counter() - started:.1f} s"
        )
        rows = floor_rows(n, args.bins, args.items)
        results: list[str] = []

        db = folder / "import.sqlite3"
        url = f"sqlite+aiosqlite:///{db}"
        migrate.upgrade(url)
        seconds, counted = run_import(url, sources)
        assert counted["serials"] == n, counted
        results.append("SQLite (WAL, synchronous=FULL)")
        results.append(line("importer: parse, check, resolve, write, commit", n, seconds))
        results.append(
            line(
                "floor: sqlite3 executemany, same rows and shape",
                n,
                sqlite_floor(folder / "floor.sqlite3", rows),
            )
        )
        results.append(
            line(
                "SQLAlchemy Core insert() executemany, same rows",
                n,
                asyncio.run(core_insert(url, rows)),
            )
        )

        if not args.no_postgres:
            results += bench_postgres(args.pg_url, sources, rows)
    print()
    print(f"{n:,} serials (total time includes the 11,002 other rows and the commit)")
    print("\n".join(results))


def bench_postgres(admin_url: str, sources: list[Source], rows: list[Any]) -> list[str]:
    n = len(rows)
    try:
        dsn = create_scratch(admin_url, "bench_import")
    except (OSError, asyncpg.PostgresError) as exc:
        return [f"PostgreSQL: skipped ({type(exc).__name__}: {exc})"]
    try:
        url = sqlalchemy_url(dsn)
        seconds, counted = run_import(url, sources)
        assert counted["serials"] == n, counted
        many, copy = asyncio.run(pg_floor(dsn, rows))
        return [
            "PostgreSQL",
            line("importer: parse, check, resolve, write (COPY), commit", n, seconds),
            line("floor: asyncpg executemany, same rows and shape", n, many),
            line("floor: asyncpg COPY, same rows and shape", n, copy),
            line(
                "SQLAlchemy Core insert() executemany, same rows",
                n,
                asyncio.run(core_insert(url, rows)),
            ),
        ]
    finally:
        drop_scratch(admin_url, dsn)


if __name__ == "__main__":
    main()
