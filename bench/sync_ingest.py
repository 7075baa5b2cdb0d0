"""Sync ingest: N devices push M scan events each, all at once, to one real `stockcount
serve` process on loopback; events/s and p99 batch latency, beside the raw insert rate of
the same rows into a table of the same shape (no HTTP, no protocol) measured in the same run,
by two raw statements (each into a fresh empty table, best of three runs): an executemany
INSERT and a multi-row `INSERT ... VALUES (...), (...)` as the server writes; the ratio is
against the faster. On SQLite the floors run on a plain sqlite3 connection, as the server's
group writer does (no aiosqlite thread hop); on PostgreSQL on the app's asyncpg engine.

Fairness (issue 16), beside its targets: the push latency's p99 against its median (at
most 2: no push waits behind more than one round of the others) and each device's whole
sync, the slowest against the fastest (at most 1.2). The clock starts once every device
has made one status push (no events) and the bench's own garbage collector is off while
the devices push, so the figures are the server's, not the bench process's pauses.

    PYTHONPATH=. .venv/bin/python bench/sync_ingest.py --backend sqlite
    PYTHONPATH=. .venv/bin/python bench/sync_ingest.py --backend postgres   # STOCKCOUNT_TEST_PG_URL
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import gzip
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import cache
from operator import itemgetter
from pathlib import Path
from typing import Any, Protocol

import httpx
import msgspec
from sqlalchemy import Constraint, Engine, Index, MetaData, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import conv

from schemas.sync import MAX_PUSH_EVENTS, Event, PushRequest, SerialScanned
from server.db import migrate
from server.db.blocking import BlockingConnection, make_blocking_engine
from server.db.engine import make_engine
from server.db.tables import Base
from server.sync.tables import SyncEvent
from tests.conftest import PG_ADMIN_URL, pg_admin, pg_url
from tests.e2e.conftest import BIN, ServerProcess, free_port
from tests.helpers import PASSWORD
from tests.integration.counts_setup import seed

Row = dict[str, Any]


def batches(device_id: int, install: str, count: str, events: int) -> list[bytes]:
    now = datetime.now(UTC)
    out: list[bytes] = []
    for first in range(1, events + 1, MAX_PUSH_EVENTS):
        seqs = range(first, min(first + MAX_PUSH_EVENTS, events + 1))
        request = PushRequest(
            protocol_version=1,
            device_id=device_id,
            install_id=install,
            device_time=now,
            events=[
                Event(
                    seq=s,
                    device_time=now,
                    body=SerialScanned(
                        count=count,
                        bin="A-01",
                        bin_seq=1,
                        item="SER",
                        serial=f"D{device_id}-{s}",
                        raw=f"D{device_id}-{s}",
                    ),
                )
                for s in seqs
            ],
        )
        out.append(gzip.compress(msgspec.json.encode(request), compresslevel=5))
    return out


class FloorConnection(Protocol):
    """What a floor statement needs of its connection: an AsyncConnection (PostgreSQL) or
    the SQLite writer's BlockingConnection."""

    dialect: Dialect

    async def execute(self, statement: Any, parameters: Any = None) -> Any: ...
    async def exec_driver_sql(self, statement: str, parameters: Any = None) -> Any: ...


def floor_table() -> tuple[MetaData, Table]:
    """A copy of `sync_event` under another name: the same columns, the same unique
    constraint, the same two secondary indexes and the same foreign key to `device`."""
    metadata = MetaData(naming_convention=Base.metadata.naming_convention)
    Base.metadata.tables["device"].to_metadata(metadata)
    table = Base.metadata.tables[SyncEvent.__tablename__].to_metadata(
        metadata, name="bench_raw_event"
    )
    named: list[Index | Constraint] = [*table.indexes, *table.constraints]
    for item in named:  # index and constraint names are global on PostgreSQL
        item.name = conv(str(item.name).replace("sync_event", "bench_raw_event"))
    return metadata, table


async def executemany_floor(conn: FloorConnection, table: Table, rows: list[Row]) -> None:
    """Floor (a): one executemany INSERT of the rows."""
    await conn.execute(table.insert(), rows)


async def multirow_floor(conn: FloorConnection, table: Table, rows: list[Row]) -> None:
    """Floor (b): the rows as multi-row `INSERT ... VALUES (...), (...)` through the driver,
    built as the server builds its event insert (server/sync/sql.py `insert_events`): the
    datetimes through the columns' own bind processors, every value bound, as few
    statements as the driver's parameter limit allows (500 rows of 12 columns: one)."""
    dialect = conn.dialect
    names = tuple(c.name for c in table.c if c.name != "id")
    device_time, received_at = (
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) or same
        for name in ("device_time", "received_at")
    )
    before = itemgetter(*names[: names.index("device_time")])
    after = itemgetter(*names[names.index("received_at") + 1 :])
    received: dict[datetime, Any] = {}  # as the server: a batch's rows share received_at
    values: list[Any] = []
    for row in rows:
        at = received.get(row["received_at"])
        if at is None:
            at = received[row["received_at"]] = received_at(row["received_at"])
        values.extend(before(row))
        values.append(device_time(row["device_time"]))
        values.append(at)
        values.extend(after(row))
    width = len(names)
    step = max_parameters(dialect.name) // width
    for first in range(0, len(rows), step):
        count = min(step, len(rows) - first)
        await conn.exec_driver_sql(
            multirow_sql(table.name, names, dialect.paramstyle, count),
            tuple(values[first * width : (first + count) * width]),
        )


def same(value: Any) -> Any:
    return value


def max_parameters(dialect: str) -> int:
    """As the server: PostgreSQL 32,767; SQLite 32,766 since 3.32 (999 before)."""
    if dialect == "sqlite" and sqlite3.sqlite_version_info < (3, 32, 0):
        return 999
    return 32_766


@cache
def multirow_sql(table: str, names: tuple[str, ...], style: str, rows: int) -> str:
    width = len(names)
    if style == "qmark":
        groups = ["(" + ", ".join("?" * width) + ")"] * rows
    elif style == "numeric_dollar":
        groups = [
            "(" + ", ".join(f"${r * width + i + 1}" for i in range(width)) + ")"
            for r in range(rows)
        ]
    else:
        raise RuntimeError(f"no multi-row insert for paramstyle {style}")
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES {', '.join(groups)}"


Floor = Callable[[FloorConnection, Table, list[Row]], Awaitable[None]]
FLOORS: dict[str, Floor] = {"executemany": executemany_floor, "multi-row": multirow_floor}


@asynccontextmanager
async def transaction(engine: AsyncEngine | Engine) -> AsyncIterator[Any]:
    """One transaction on the floor's connection: SQLite's is a plain sqlite3 connection,
    the server's group writer's own (server/db/blocking.py), so that no thread hop of
    aiosqlite's slows the floor; PostgreSQL's is the app's asyncpg engine."""
    if isinstance(engine, AsyncEngine):
        async with engine.begin() as conn:
            yield conn
    else:
        with engine.begin() as conn:
            yield BlockingConnection(conn)


async def raw_rates(url: str, rows: list[Row], runs: int) -> dict[str, float]:
    """The same rows into a table of sync_event's shape (its constraints and indexes too),
    one transaction per 500 rows as the server's batches, per floor statement: each run
    into a freshly created, empty table, set up as the app's (same PRAGMAs). The best of
    `runs`: one run alone varied from 85,000 to 130,000 rows/s on SQLite within an hour,
    and the best is the stricter floor."""
    metadata, table = floor_table()
    engine: AsyncEngine | Engine = (
        make_blocking_engine(url) if url.startswith("sqlite") else make_engine(url)
    )

    async def recreate(drop_only: bool = False) -> None:
        def ddl(sync: Any) -> None:
            metadata.drop_all(sync, tables=[table])
            if not drop_only:
                metadata.create_all(sync, tables=[table])

        if isinstance(engine, AsyncEngine):
            async with engine.begin() as conn:
                await conn.run_sync(ddl)
        else:
            with engine.begin() as blocking:
                ddl(blocking)

    rates: dict[str, float] = {}
    try:
        for run in range(runs):
            for name, insert in FLOORS.items():
                await recreate()
                started = time.perf_counter()
                for i in range(0, len(rows), MAX_PUSH_EVENTS):
                    async with transaction(engine) as conn:
                        await insert(conn, table, rows[i : i + MAX_PUSH_EVENTS])
                rate = len(rows) / (time.perf_counter() - started)
                rates[name] = max(rates.get(name, 0.0), rate)
                print(f"  floor run {run + 1}/{runs} {name:<12} {rate:10,.0f} rows/s", flush=True)
        await recreate(drop_only=True)
        return rates
    finally:
        if isinstance(engine, AsyncEngine):
            await engine.dispose()
        else:
            engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--devices", type=int, default=20)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--floor-runs", type=int, default=3, help="raw floors: best of N (0: none)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sync-bench-"))
    pg_name = None
    if args.backend == "sqlite":
        url = f"sqlite+aiosqlite:///{work / 'bench.sqlite3'}"
        env_url = f"sqlite:///{work / 'bench.sqlite3'}"
    else:
        pg_name = f"sc_bench_{uuid.uuid4().hex[:8]}"
        pg_admin(f'CREATE DATABASE "{pg_name}"')
        url = pg_url(pg_name)
        env_url = url
    try:
        migrate.upgrade(url)
        asyncio.run(seed(url))
        port = free_port()
        env = {
            **os.environ,
            "STOCKCOUNT_DATABASE_URL": env_url,
            "STOCKCOUNT_PORT": str(port),
            "STOCKCOUNT_LOG_LEVEL": "WARNING",
            # The server runs in `work`: a relative PYTHONPATH (`PYTHONPATH=.`) would have
            # it import the installed tree's code instead of this one's.
            "PYTHONPATH": os.pathsep.join(
                str(Path(p).resolve())
                for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
                if p
            ),
        }
        server = ServerProcess([str(BIN / "stockcount"), "serve"], port, work, env)
        try:
            server.wait_healthy()
            code = run(server.url, url, args)
            if code:
                print(server.output[-3000:], file=sys.stderr)
            return code
        finally:
            server.stop()
    finally:
        if pg_name:
            pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        shutil.rmtree(work, ignore_errors=True)  # the SQLite file of a run: about 170 MB


def run(base: str, url: str, args: argparse.Namespace) -> int:
    api = httpx.Client(base_url=base, timeout=60)
    sup = api.post("/api/auth/token", json={"username": "super", "password": PASSWORD}).json()
    admin = api.post("/api/auth/token", json={"username": "admin", "password": PASSWORD}).json()
    sh = {"Authorization": f"Bearer {sup['token']}"}
    ah = {"Authorization": f"Bearer {admin['token']}"}
    body = {"location": "MAIN", "scope": "prefix", "prefix": "A-"}
    number = api.post("/api/counts", json=body, headers=sh).json()["number"]
    api.post(f"/api/counts/{number}/start", headers=sh).raise_for_status()
    devices = []
    for i in range(args.devices):
        code = api.post("/api/enrollment-codes", json={"location": "MAIN"}, headers=ah).json()
        enrolled = api.post("/api/devices/enroll", json={"code": code["code"], "name": f"b{i}"})
        devices.append(enrolled.json())
    api.close()
    install_of = {d["device_id"]: uuid.uuid4().hex for d in devices}
    payloads = {
        d["device_id"]: batches(d["device_id"], install_of[d["device_id"]], number, args.events)
        for d in devices
    }
    latencies: list[float] = []
    firsts: list[bool] = []  # beside each latency: the device's first push (all at once)
    # Each device's whole sync: from the common start to its last push's answer.
    synced: dict[int, float] = {}
    lock = threading.Lock()
    failures: list[str] = []

    # Each device's client made before the clock starts: an httpx.Client builds an SSL
    # context (about 20-50 ms of Python under the GIL), and twenty of them built inside the
    # timed threads slowed the first pushes of the others by up to a second (the bench's
    # own work, not the server's).
    clients = {int(str(d["device_id"])): httpx.Client(base_url=base, timeout=120) for d in devices}
    start = threading.Barrier(len(devices) + 1)
    now = datetime.now(UTC)
    empty = {
        d["device_id"]: gzip.compress(
            msgspec.json.encode(
                PushRequest(
                    protocol_version=1,
                    device_id=int(str(d["device_id"])),
                    install_id=install_of[d["device_id"]],
                    device_time=now,
                    events=[],
                )
            )
        )
        for d in devices
    }

    def push(device: dict[str, object]) -> None:
        headers = {
            "Authorization": f"Bearer {device['credential']}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
        }
        client = clients[int(str(device["device_id"]))]
        try:
            # Before the clock, one status push with no events from every device at once,
            # as a device with an empty outbox sends it: the figures are of a server that
            # has run (its connections open, its statements compiled), not of its first
            # second.
            warm = client.post(
                "/api/sync/push", content=empty[device["device_id"]], headers=headers
            )
            if warm.status_code != 200:
                failures.append(warm.text[:200])
            start.wait()
            for index, payload in enumerate(payloads[int(str(device["device_id"]))]):
                started = time.perf_counter()
                response = client.post("/api/sync/push", content=payload, headers=headers)
                elapsed = time.perf_counter() - started
                if response.status_code != 200:
                    failures.append(response.text[:200])
                    return
                with lock:
                    latencies.append(elapsed)
                    firsts.append(index == 0)
            with lock:
                synced[int(str(device["device_id"]))] = time.perf_counter() - begun
        finally:
            client.close()

    threads = [threading.Thread(target=push, args=(d,)) for d in devices]
    # The twenty devices are this one process: its garbage collector would stop all of
    # them at once (a full collection took 220-290 ms here, seen inside the timed run),
    # which is the bench's pause, not the server's. Off while they push.
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        for t in threads:
            t.start()
        start.wait()  # every device has made its status push
        begun = time.perf_counter()  # read by the threads once they are done
        for t in threads:
            t.join()
        wall = time.perf_counter() - begun
    finally:
        gc.enable()
        gc.unfreeze()
    if failures:
        print("failed:", failures[0], file=sys.stderr)
        return 1
    total = args.devices * args.events
    rate = total / wall
    p99 = statistics.quantiles(latencies, n=100)[98] if len(latencies) > 1 else latencies[0]
    median = statistics.median(latencies)
    # Where the tail is: the slowest 1% of the pushes, how many are the first round (every
    # device's first push, all sent at the same instant) and how many come later.
    tail = sorted(range(len(latencies)), key=latencies.__getitem__)[
        -max(len(latencies) // 100, 1) :
    ]
    tail_firsts = sum(firsts[i] for i in tail)
    slowest, fastest = max(synced.values()), min(synced.values())
    now = datetime.now(UTC)
    installs = {int(str(d["device_id"])): uuid.uuid4().hex for d in devices}
    rows: list[Row] = [
        {
            "device_id": int(str(d["device_id"])),
            "install_id": installs[int(str(d["device_id"]))],
            "seq": s,
            "kind": "serial_scanned",
            "count_number": number,
            "bin_seq": 1,
            "body": msgspec.json.encode(
                SerialScanned(
                    count=number, bin="A-01", bin_seq=1, item="SER", serial=f"X{s}", raw=f"X{s}"
                )
            ).decode(),
            "device_time": now,
            "received_at": now,
            "outcome": "applied",
            "reason": "",
            "detail": "",
        }
        for d in devices
        for s in range(1, args.events + 1)
    ]
    raws = asyncio.run(raw_rates(url, rows, args.floor_runs)) if args.floor_runs else {}
    print(
        f"{args.backend}: {args.devices} devices x {args.events} events = {total} events "
        f"in {wall:.1f} s"
    )
    print(
        f"  sync ingest      {rate:10,.0f} events/s   "
        f"p99 batch ({MAX_PUSH_EVENTS}) {p99 * 1000:.0f} ms"
    )
    # Fairness (issue 16): no push waits behind more than one round of the others, and
    # no device's whole sync takes much longer than another's.
    print(
        f"  push latency     median {median * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
        f"max {max(latencies) * 1000:.0f} ms: p99 / median {p99 / median:.2f} (target <= 2.00)"
    )
    print(
        f"  slowest 1%       {len(tail)} pushes: {tail_firsts} of the first round "
        f"(every device's first push at once), {len(tail) - tail_firsts} later"
    )
    print(
        f"  device sync      fastest {fastest:.2f} s, slowest {slowest:.2f} s: "
        f"slowest / fastest {slowest / fastest:.2f} (target <= 1.20)"
    )
    for name, raw in raws.items():
        print(
            f"  raw {name:<12} {raw:10,.0f} rows/s     (same rows, same table shape, empty; "
            f"best of {args.floor_runs})"
        )
    if not raws:  # --floor-runs 0: the fairness figures only, while working on them
        return 0
    fast = max(raws, key=raws.__getitem__)
    print(f"  ingest / raw     {rate / raws[fast]:10.2f}   against the faster floor ({fast})")
    for name, raw in raws.items():
        if name != fast:
            print(f"  ingest / raw     {rate / raw:10.2f}   against the {name} floor (reference)")
    return 0


if __name__ == "__main__":
    print(f"PostgreSQL admin URL: {PG_ADMIN_URL}", file=sys.stderr)
    sys.exit(main())
