"""The demo's second count, left in Counting in Process for a supervisor to pick up.

Two simulated handhelds count it through the real sync: each is a real device store
(`handheld_sync.store`), enrolled with a one-time code, counting offline through
`handheld_sync.counting` and docking through the `SyncEngine`, against the app served on
a loopback port of its own for the time it takes. Bins of NORTH are chosen from the sample
document; the devices find the system's contents except:

- a serial of a second bin is found in the first (a serial transfer proposal);
- the released serial of an OUT bin is found in a third bin (an exception), and the OUT
  bin is confirmed empty;
- an untracked item has 2 fewer than the system (a quantity variance);
- a bin is counted by both devices, the second finding 1 more of an item (a conflict
  between bin counts, to resolve by picking one or ordering a recount);
- some bins are not counted yet.

The device stores stay under `demo-devices/` beside the database, pointed at the address
the demo serves on, so `stockcount-handheld COMMAND --store FILE` can go on counting.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import shutil
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from handheld_sync.counters import SignIn
from handheld_sync.counting import CountingSession
from handheld_sync.scan.text import parse_scanner_text
from handheld_sync.store import Store
from handheld_sync.sync import SERVER_URL, SyncEngine, auth_headers, enroll
from server.auth import usecases as auth
from server.bootstrap import open_runtime
from server.counts.usecases import counting as counts
from server.counts.usecases import review as count_review
from server.domain.auth import Caller, CallerKind
from server.domain.counting.model import status_label
from server.domain.masterdata import Role
from server.settings import Settings
from server.uow import SqlUnitOfWork

Say = Callable[[str], None]
LOCATION = "NORTH"
DEVICE_NAMES = ("hh-north-1", "hh-north-2")
APP_VERSION = "demo"
COUNTER = "counter"  # the demo's counter (server.demo.main.DEMO_USERS)
UNCOUNTED_BINS = 3


@dataclass
class _Bin:
    """What a device finds in one bin: serials as (item, serial), quantities per (item, lot)."""

    label: str
    serials: list[tuple[str, str]] = field(default_factory=list)
    quantities: dict[tuple[str, str], Decimal] = field(default_factory=dict)


@dataclass
class DevicePlan:
    """The count's bins and what each device counts (device index -> bins in order)."""

    bins: list[str]
    work: dict[int, list[_Bin]]
    barcodes: dict[str, str]
    uncounted: list[str]
    conflict_bin: str


def plan_device_count(sample: Mapping[str, Any]) -> DevicePlan:
    kinds = {b["label"]: b["kind"] for b in sample["bins"] if b["location"] == LOCATION}
    barcodes = {i["code"]: i["barcodes"][0] for i in sample["items"] if i["barcodes"]}
    serials: dict[str, list[tuple[str, str]]] = {}
    released: list[tuple[str, str, str]] = []
    for s in sample["serials"]:
        if s["location"] != LOCATION:
            continue
        key = (s["item"], s["serial_number"])
        if kinds[s["bin"]] == "out":
            released.append((s["bin"], *key))
        else:
            serials.setdefault(s["bin"], []).append(key)
    quantities: dict[str, dict[tuple[str, str], Decimal]] = {}
    for o in sample["opening_stock"]:
        if o["location"] == LOCATION:
            where = quantities.setdefault(o["bin"], {})
            key = (o["item"], o.get("lot", ""))
            where[key] = where.get(key, Decimal(0)) + Decimal(o["quantity"])

    # Bins holding serials only, so each discrepancy stands alone in its bin.
    serial_bins = sorted(
        (label for label in serials if label not in quantities),
        key=lambda label: (-len(serials[label]), label),
    )
    first, second, third = serial_bins[:3]
    out_bin, out_item, out_serial = sorted(released)[0]
    untracked = sorted(
        label
        for label, found in quantities.items()
        if label not in serials and all(not lot for _, lot in found)
    )
    variance_bin, conflict_bin = untracked[:2]
    later = [label for label in sorted(quantities) if label not in (variance_bin, conflict_bin)]
    uncounted = later[:UNCOUNTED_BINS]

    def as_found(label: str) -> _Bin:
        return _Bin(label, sorted(serials.get(label, [])), dict(quantities.get(label, {})))

    moved = serials[second][0]
    b_first, b_second, b_third = as_found(first), as_found(second), as_found(third)
    b_second.serials.remove(moved)
    b_first.serials.append(moved)
    b_third.serials.append((out_item, out_serial))
    b_out = _Bin(out_bin)
    b_variance = as_found(variance_bin)
    short = sorted(b_variance.quantities)[0]
    b_variance.quantities[short] -= 2
    b_conflict, b_conflict_again = as_found(conflict_bin), as_found(conflict_bin)
    more = sorted(b_conflict_again.quantities)[0]
    b_conflict_again.quantities[more] += 1

    counted = [first, second, third, out_bin, variance_bin, conflict_bin]
    return DevicePlan(
        bins=sorted({*counted, *uncounted}),
        work={
            0: [b_first, b_second, b_out, b_conflict],
            1: [b_third, b_variance, b_conflict_again],
        },
        barcodes=barcodes,
        uncounted=uncounted,
        conflict_bin=conflict_bin,
    )


def run_device_count(
    settings: Settings, sample: Mapping[str, Any], stores: Path, served_at: str, say: Say
) -> str:
    """Create and start the count, let the devices count and sync it; its number."""
    plan = plan_device_count(sample)
    # The counter signs in on each device with a PIN the admin set for this site; the
    # devices pull its verifier and check it offline, and every scan names the counter.
    pin = f"{secrets.randbelow(10**6):06d}"
    number, codes = asyncio.run(_open_count(settings, plan, pin))
    say("")
    say(f"stock count {number} at {LOCATION} over {len(plan.bins)} bins, counted by "
        f"{len(DEVICE_NAMES)} handhelds through the sync:")  # fmt: skip
    shutil.rmtree(stores, ignore_errors=True)
    stores.mkdir(parents=True)
    with _served(settings) as url:
        for index, name in enumerate(DEVICE_NAMES):
            path = stores / f"{name}.sqlite3"
            with Store.create(path) as store:
                _count_on_device(store, url, codes[index], name, number, plan, index, pin, say)
                # From now on the device docks at the address the demo serves on.
                store.set_setting(SERVER_URL, served_at)
    summary = asyncio.run(_summarize(settings, number))
    say(f"  count {number} left {summary} for the supervisor; not counted yet: "
        + ", ".join(plan.uncounted))  # fmt: skip
    say(f"  the device stores: {stores}/ (stockcount-handheld status --store FILE); "
        f"{COUNTER} signs in on them with PIN {pin}")  # fmt: skip
    return number


async def _open_count(settings: Settings, plan: DevicePlan, pin: str) -> tuple[str, list[str]]:
    async with open_runtime(settings) as runtime:
        uow = runtime.uow()
        supervisor = await _caller(uow, "supervisor", Role.SUPERVISOR)
        admin = await _caller(uow, "admin", Role.ADMIN)
        now = datetime.now(UTC)
        view = await counts.create_count(
            uow, supervisor, counts.NewCount(LOCATION, "bins", bins=plan.bins), now
        )
        number = view.count.number
        await counts.start_count(uow, supervisor, number, now)
        await auth.set_counter_pin(uow, admin, COUNTER, pin, [LOCATION], now)
        ttl = timedelta(minutes=settings.enrollment_ttl_minutes)
        codes = []
        for _ in DEVICE_NAMES:
            issued = await auth.create_enrollment_code(uow, admin, LOCATION, now, ttl)
            codes.append(issued.code)
    return number, codes


def _count_on_device(
    store: Store,
    url: str,
    code: str,
    name: str,
    number: str,
    plan: DevicePlan,
    index: int,
    pin: str,
    say: Say,
) -> None:
    with httpx.Client(base_url=url, timeout=30) as plain:
        device_id = enroll(plain, store, code, name, APP_VERSION)
    with httpx.Client(base_url=url, headers=auth_headers(store), timeout=30) as client:
        engine = SyncEngine(store, client, app_version=APP_VERSION)
        engine.sync()  # the first pull: the count, its bins and items
        signed_in = SignIn(store)
        signed_in.sign_in(COUNTER, pin)
        session = CountingSession(store, sign_in=signed_in)
        session.open(number)
        for found in plan.work[index]:
            session.scan(parse_scanner_text(found.label))
            for item, serial in found.serials:
                # The item's label, then its serial label: how a serial is scanned that
                # the device does not expect in this bin.
                session.scan(parse_scanner_text(plan.barcodes[item]))
                session.scan(parse_scanner_text(serial))
            for (item, lot), quantity in sorted(found.quantities.items()):
                session.key_quantity(item, quantity, lot=lot)
            session.close_bin(empty=not (found.serials or found.quantities))
        report = engine.sync()
    bins = ", ".join(b.label for b in plan.work[index])
    say(f"  device {device_id} {name} counted {bins}: sent {report.sent} events, "
        f"{report.applied} applied, {report.rejected} rejected")  # fmt: skip


async def _summarize(settings: Settings, number: str) -> str:
    async with open_runtime(settings) as runtime:
        uow = runtime.uow()
        supervisor = await _caller(uow, "supervisor", Role.SUPERVISOR)
        status = (await counts.get_count(uow, supervisor, number)).count.status
        reviewed = await count_review.reviewed_reconciliation(uow, number)
    kinds: dict[str, int] = {}
    for x in reviewed.lines:
        kinds[x.line.kind.value] = kinds.get(x.line.kind.value, 0) + 1
    found = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
    return f"{status_label(status)} with {found}"


async def _caller(uow: SqlUnitOfWork, name: str, role: Role) -> Caller:
    async with uow:
        user = await uow.users.by_username(name)
    assert user is not None, f"the demo creates the user {name} first"
    return Caller(CallerKind.USER, name, user_id=user.id, role=role)


@contextmanager
def _served(settings: Settings) -> Iterator[str]:
    """The app on a free loopback port, in a thread, for as long as the block runs."""
    import uvicorn

    from server.app import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # The demo migrated the file moments ago; each device's requests are printed by it.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    app = create_app(settings, check_migrations=False)
    # X-Forwarded-* are the app's own (STOCKCOUNT_TRUSTED_PROXIES), not uvicorn's
    config = uvicorn.Config(app, log_level="warning", lifespan="on", proxy_headers=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the demo's device server did not start")
            threading.Event().wait(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
