"""`stockcount demo`: a sample warehouse in a fresh SQLite file, served.

The demo is a list of steps, each a function of the `Demo` it fills in, so a later step
(e.g. run a whole count with simulated devices) is one more function in `STEPS`:

    fresh_database     delete and re-create the SQLite file, migrate it
    load_sample_data   write the sample warehouse (server.demo.data) as JSON, import it
    create_users       admin, supervisor and counter with passwords made for this run
    run_count          a whole stock count of some MAIN bins through the services: start,
                       bin counts with misplaced, missing, unknown and released serials and
                       quantity variances, the discrepancies, review, finalize, documents
    run_device_count   a second count, at NORTH, counted by two simulated handhelds through
                       the real sync and left in Counting in Process (server.demo.devices)
    print_summary      what was loaded, read back from the database, and how to reach it

then it serves the API unless --no-serve.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from server.bootstrap import open_runtime
from server.db import migrate
from server.db.tables import Bin, Item, ItemLocationCost, Location, Serial, StockBalance
from server.demo.data import DEFAULT_SEED, write_sample_warehouse
from server.domain.masterdata import Role
from server.domain.money import ZERO, extend
from server.settings import Settings

DEMO_USERS = (
    ("admin", Role.ADMIN),
    ("supervisor", Role.SUPERVISOR),
    ("counter", Role.COUNTER),
    ("finance", Role.FINANCE),  # reads the documents, the GL and Inventory History
)


@dataclass
class Demo:
    database: Path
    host: str
    port: int
    seed: int = DEFAULT_SEED
    passwords: dict[str, str] = field(default_factory=dict)
    data_file: Path | None = None
    count_in_progress: str = ""

    @property
    def settings(self) -> Settings:
        return Settings(
            database_url=f"sqlite+aiosqlite:///{self.database}", host=self.host, port=self.port
        )

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def say(text: str = "") -> None:
    # Flushed line by line: the demo is often read through a pipe (tests, `tee`).
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def fresh_database(demo: Demo) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{demo.database}{suffix}").unlink(missing_ok=True)
    demo.database.parent.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(demo.settings.database_url)
    say(f"database {demo.database} created at revision {migrate.head_revision()}")


def load_sample_data(demo: Demo) -> None:
    from server.bootstrap import import_into_database
    from server.masterdata.usecases.importer import Source, format_summary

    demo.data_file = demo.database.with_name("demo-data.json")
    write_sample_warehouse(demo.data_file, demo.seed)
    say(f"sample warehouse written to {demo.data_file} (seed {demo.seed}); importing it:")
    summary = asyncio.run(
        import_into_database(
            demo.settings.database_url, [Source(demo.data_file.name, demo.data_file, None)], say
        )
    )
    say(format_summary(summary))


def create_users(demo: Demo) -> None:
    for name, _ in DEMO_USERS:
        demo.passwords[name] = f"{name}-{secrets.token_hex(4)}"
    asyncio.run(_create_users(demo.settings, demo.passwords))


async def _create_users(settings: Settings, passwords: dict[str, str]) -> None:
    from server.auth import usecases as auth
    from server.bootstrap import open_runtime

    roles = dict(DEMO_USERS)
    async with open_runtime(settings) as runtime:
        for name, password in passwords.items():
            await auth.create_user(runtime.uow(), name, password, roles[name], datetime.now(UTC))


def run_device_count(demo: Demo) -> None:
    try:
        from server.demo.devices import run_device_count as run
    except ImportError as exc:  # a server-only install (deploy/Dockerfile) has no handheld
        say(f"\nno second count: the simulated handhelds need the handheld extra ({exc})")
        return

    assert demo.data_file is not None
    sample = json.loads(demo.data_file.read_text(encoding="utf-8"))
    stores = demo.database.with_name("demo-devices")
    demo.count_in_progress = run(demo.settings, sample, stores, demo.url, say)


def run_count(demo: Demo) -> None:
    from server.demo.count import run_demo_count

    assert demo.data_file is not None
    sample = json.loads(demo.data_file.read_text(encoding="utf-8"))
    asyncio.run(run_demo_count(demo.settings.database_url, sample, say))


@dataclass
class LocationSummary:
    code: str
    bins: int = 0
    out_bins: int = 0
    serials: int = 0
    value: Decimal = ZERO


async def _summarize(demo: Demo) -> tuple[list[LocationSummary], dict[str, int]]:
    async with open_runtime(demo.settings.database_url) as runtime:
        engine = runtime.engine
        async with engine.connect() as conn:
            by_code = {
                code: LocationSummary(code)
                for code in (await conn.scalars(select(Location.code).order_by(Location.code)))
            }
            bins = select(Location.code, Bin.kind, func.count()).join(Bin.__table__)
            for code, kind, count in await conn.execute(bins.group_by(Location.code, Bin.kind)):
                if kind == "out":
                    by_code[code].out_bins += count
                by_code[code].bins += count
            serials = (
                select(Location.code, Serial.actual_cost)
                .join(Bin, Bin.location_id == Location.id)
                .join(Serial, Serial.bin_id == Bin.id)
            )
            for code, cost in await conn.execute(serials):
                by_code[code].serials += 1
                by_code[code].value += extend(Decimal(1), cost)
            balances = (
                select(Location.code, StockBalance.quantity, ItemLocationCost.average_cost)
                .join(Bin, Bin.location_id == Location.id)
                .join(StockBalance, StockBalance.bin_id == Bin.id)
                .join(
                    ItemLocationCost,
                    (ItemLocationCost.item_id == StockBalance.item_id)
                    & (ItemLocationCost.location_id == Location.id),
                )
            )
            for code, quantity, cost in await conn.execute(balances):
                by_code[code].value += extend(quantity, cost)
            tracking = select(Item.tracking, Item.auto_serialized, func.count()).group_by(
                Item.tracking, Item.auto_serialized
            )
            items: dict[str, int] = {}
            for kind, auto, count in await conn.execute(tracking):
                key = "serial, auto-serialized" if auto else str(kind)
                items[key] = items.get(key, 0) + count
    return list(by_code.values()), items


def print_summary(demo: Demo) -> None:
    locations, items = asyncio.run(_summarize(demo))
    say()
    say(f"{'location':<10} {'bins':>6} {'OUT bins':>9} {'serials':>8} {'stock value':>14}")
    for loc in locations:
        say(f"{loc.code:<10} {loc.bins:>6} {loc.out_bins:>9} {loc.serials:>8} {loc.value:>14,}")
    total = sum((loc.value for loc in locations), ZERO)
    say(
        f"{'total':<10} {sum(loc.bins for loc in locations):>6} "
        f"{sum(loc.out_bins for loc in locations):>9} "
        f"{sum(loc.serials for loc in locations):>8} {total:>14,}"
    )
    say()
    say("items by tracking: " + ", ".join(f"{kind} {n}" for kind, n in sorted(items.items())))
    say()
    say("users (passwords made for this run):")
    for name, role in DEMO_USERS:
        say(f"  {name:<11} {role.value:<11} password: {demo.passwords[name]}")
    say()
    say(f"server:   {demo.url}")
    say(f"sign in:  {demo.url}/ as supervisor, password {demo.passwords['supervisor']}")
    if demo.count_in_progress:
        say(f"waiting:  count {demo.count_in_progress} at NORTH, counted by two handhelds, "
            "needs review")  # fmt: skip
    say(f"health:   {demo.url}/health")
    say(f"OpenAPI:  {demo.url}/schema  (Swagger UI at {demo.url}/schema/swagger)")
    say("log in:")
    say(
        f"  curl -s -X POST {demo.url}/api/auth/token -H 'content-type: application/json' "
        f"""-d '{{"username": "supervisor", "password": "{demo.passwords["supervisor"]}"}}'"""
    )
    say(f"  curl -s {demo.url}/api/me -H 'Authorization: Bearer <token>'")


STEPS: list[Callable[[Demo], None]] = [
    fresh_database,
    load_sample_data,
    create_users,
    run_count,
    run_device_count,
    print_summary,
]


def run_demo(args: argparse.Namespace) -> int:
    demo = Demo(database=Path(args.database).resolve(), host=args.host, port=args.port)
    started = datetime.now(UTC)
    for step in STEPS:
        step(demo)
    seconds = (datetime.now(UTC) - started).total_seconds()
    say(f"demo ready in {seconds:.1f} s")
    if args.no_serve:
        return 0
    say(f"serving on {demo.url} (Ctrl-C to stop)")
    from server.app import serve

    serve(demo.settings)
    return 0
