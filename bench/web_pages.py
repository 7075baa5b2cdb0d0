"""Benchmark: the web pages' time on a count of 1,000,000 serials in 10,000 bins, beside
the API's own time for the same data.

    PYTHONPATH=. .venv/bin/python bench/web_pages.py [--serials N] [--bins N] [--repeat N]

The data is built the way bench/count_cycle.py builds it (its functions): master data
through the importer, serials and balances by the raw driver, then two counts through the
service layer:
- count A over the first zone (Z0), every bin counted, finalized: the documents;
- count B over every bin, every bin counted (1% of the serials found in the next bin, 0.5%
  missing, unknown serials, a quarter of the balances differ), and one bin counted by a
  second counter who disagrees (a conflict), resolved by picking one bin count.
The SQLite file is kept under var/ keyed by the size and reused by the next run (delete it
to rebuild); a build that did not finish is rebuilt.

A real server process on 127.0.0.1 serves it. The benchmark signs in as a supervisor
through the sign-in page (the session cookie) and through the API (a bearer token), and
times each page over --repeat requests after two warm-ups, beside the API's request for
the same data. Target: each page under 300 ms at p95.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import httpx
from count_cycle import BATCH, Raw, Shape, batches, load_stock, master_data, say
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import select

from server.auth import usecases as auth
from server.bootstrap import open_runtime
from server.counts.usecases import counting as counts
from server.counts.usecases import review as count_review
from server.db import migrate
from server.db.tables import User
from server.domain.auth import Caller, CallerKind
from server.domain.counting import SubmittedBinCount, ToleranceRules
from server.domain.masterdata import Role
from server.masterdata.usecases.importer import import_sources
from server.masterdata.usecases.sources import Source
from tests.e2e.conftest import BIN, ServerProcess, free_port

ROOT = Path(__file__).resolve().parent.parent
USER, PASSWORD = "bench", "bench-password"
TARGET_MS = 300.0
ZONE_BINS = 1000  # bins of a zone (count_cycle's master data: Z{b // 1000})


@dataclass(frozen=True)
class Built:
    finalized: str  # count A's number
    counted: str  # count B's number
    documents: list[tuple[str, str]]  # (kind, number) of count A's documents


# -- the data -------------------------------------------------------------------------


async def _caller(engine: object, username: str, role: Role) -> Caller:
    async with engine.connect() as conn:  # type: ignore[attr-defined]
        user_id = (await conn.execute(select(User.id).where(User.username == username))).scalar()
    return Caller(CallerKind.USER, username, user_id=int(user_id), role=role)


async def _count_bins(
    uow: object, me: Caller, number: str, bins: range, shape: Shape, progress: Progress, what: str
) -> None:
    task = progress.add_task(what, total=len(bins))
    for part in batches(len(bins), BATCH):
        async with uow:  # type: ignore[attr-defined]
            for i in part:
                await counts.record_bin_count(
                    uow,  # type: ignore[arg-type]
                    me,
                    number,
                    _in_scope(shape.counted(bins[i]), shape, bins),
                    datetime.now(UTC),
                )
            await uow.commit()  # type: ignore[attr-defined]
        progress.update(task, advance=len(part))


def _in_scope(found: SubmittedBinCount, shape: Shape, bins: range) -> SubmittedBinCount:
    """Count A covers one zone: its bin 0 does not report the serials misplaced from the
    location's last bin (outside its scope; count B finds them)."""
    if len(bins) == shape.bins or bins[0] != found_index(found):
        return found
    last = (shape.bins - 1) * 100
    kept = [s for s in found.serials if not (s[1].startswith("SN") and int(s[1][2:]) >= last)]
    return SubmittedBinCount(found.bin, found.started_at, found.finished_at, kept, found.quantities)


def found_index(found: SubmittedBinCount) -> int:
    return int(found.bin[1:])


async def build(url: str, shape: Shape) -> Built:
    raw = Raw(url)
    with Progress(transient=False) as progress:
        async with open_runtime(url) as runtime:
            engine, uow = runtime.engine, runtime.uow()
            step = progress.add_task("master data (importer)", total=1)
            await import_sources(uow, [Source("bench", master_data(shape))])
            progress.update(step, advance=1)
            step = progress.add_task(f"{shape.serials:,} serials (raw)", total=1)
            await load_stock(raw, shape)
            progress.update(step, advance=1)

            now = datetime.now(UTC)
            await auth.create_user(uow, USER, PASSWORD, Role.SUPERVISOR, now)
            await auth.create_user(uow, "counter2", PASSWORD, Role.COUNTER, now)
            me = await _caller(engine, USER, Role.SUPERVISOR)
            other = await _caller(engine, "counter2", Role.COUNTER)
            await count_review.set_tolerances(
                uow, me, "MAIN", ToleranceRules(quantity=Decimal(1000), value=Decimal(10**9)), now
            )

            zone = range(0, min(ZONE_BINS, shape.bins))
            a = await counts.create_count(uow, me, counts.NewCount("MAIN", "zone", zone="Z0"), now)
            await counts.start_count(uow, me, a.count.number, datetime.now(UTC))
            await _count_bins(uow, me, a.count.number, zone, shape, progress, "count A: Z0")
            done = await count_review.finalize(uow, me, a.count.number, True, datetime.now(UTC))
            documents = [(d.kind, d.number) for d in done.documents]

            b = await counts.create_count(uow, me, counts.NewCount("MAIN", "all"), now)
            await counts.start_count(uow, me, b.count.number, datetime.now(UTC))
            await _count_bins(
                uow, me, b.count.number, range(shape.bins), shape, progress, "count B: all"
            )
            # a second counter disagrees on bin 5: a conflict, resolved by picking the first
            theirs = shape.counted(5)
            started = datetime.now(UTC)
            await counts.submit_bin_count(
                uow,
                other,
                b.count.number,
                SubmittedBinCount(
                    theirs.bin, started, started + timedelta(minutes=2), theirs.serials[:-3],
                    theirs.quantities,
                ),
                started,
            )  # fmt: skip
            async with uow:
                headers = await uow.bin_counts.bin_count_headers(b.count.id)
            mine = min(h.id for h in headers if h.bin == theirs.bin)
            await counts.pick_bin_count(
                uow, me, b.count.number, theirs.bin, mine, datetime.now(UTC)
            )
    return Built(a.count.number, b.count.number, documents)


def built_data(shape: Shape) -> tuple[str, Built]:
    """The database of this size under var/, built once; its counts' numbers."""
    var = ROOT / "var"
    var.mkdir(exist_ok=True)
    path = var / f"bench-web-{shape.serials}x{shape.bins}.sqlite3"
    done = path.with_suffix(".json")
    url = f"sqlite:///{path}"
    if path.exists() and done.exists():
        say(f"reusing {path} (delete it to rebuild)")
        found = json.loads(done.read_text())
        return url, Built(
            found["finalized"], found["counted"], [tuple(d) for d in found["documents"]]
        )
    for stale in (path, done, Path(f"{path}-wal"), Path(f"{path}-shm")):
        stale.unlink(missing_ok=True)
    say(f"building {path}: {shape.serials:,} serials in {shape.bins:,} bins")
    async_url = f"sqlite+aiosqlite:///{path}"
    migrate.upgrade(async_url)
    started = time.perf_counter()
    data = asyncio.run(build(async_url, shape))
    say(f"built in {time.perf_counter() - started:.0f} s")
    done.write_text(json.dumps(data.__dict__))
    return url, data


# -- the timing -----------------------------------------------------------------------


def signed_in_pages(base: str) -> httpx.Client:
    """A browser's session: the sign-in page's form with its CSRF token, then the cookie."""
    client = httpx.Client(base_url=base, timeout=120)
    form = client.get("/signin")
    form.raise_for_status()
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
    assert token, "no CSRF field on the sign-in page"
    signed = client.post(
        "/signin",
        data={"_csrf_token": token.group(1), "username": USER, "password": PASSWORD},
    )
    assert signed.status_code == 303, f"sign-in answered {signed.status_code}: {signed.text[:300]}"
    return client


def api_client(base: str) -> httpx.Client:
    got = httpx.post(
        f"{base}/api/auth/token", json={"username": USER, "password": PASSWORD}, timeout=60
    )
    got.raise_for_status()
    return httpx.Client(
        base_url=base, timeout=120, headers={"Authorization": f"Bearer {got.json()['token']}"}
    )


def times(client: httpx.Client, path: str, repeat: int) -> list[float]:
    """Milliseconds of each request after two warm-ups; a failed answer stops the run."""
    for _ in range(2):
        answer = client.get(path)
        if answer.status_code != 200:
            raise SystemExit(f"GET {path}: {answer.status_code} {answer.text[:400]}")
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        answer = client.get(path)
        out.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, f"GET {path}: {answer.status_code}"
    return out


def decisions(number: str, lines: list[str]) -> list[tuple[str, str]]:
    """Review decisions alternating select and clear, each leaving a review no draft or
    total was made for: clear a, clear b, select a, clear c, select b, clear d, ... (each
    review clears one or two lines, never the same ones twice)."""
    out = [("clear", lines[0])]
    for i in range(1, len(lines)):
        out += [("clear", lines[i]), ("select", lines[i - 1])]
    return [(f"/api/counts/{number}/lines/{quote(line, safe='')}/{a}", line) for a, line in out]


def after_decisions(
    pages: httpx.Client, api: httpx.Client, number: str, repeat: int
) -> tuple[list[float], list[float], list[float]]:
    """The review page, the preview page and the API's preview, each right after a review
    decision made through the API before each timed load: select and clear alternate
    (`decisions`), on lines of its own for each; every line is selected again after each.
    Milliseconds of the review page, the preview page and the API's preview."""
    found = api.get(f"/api/counts/{number}/review?kind=serial_transfer_proposal&limit={3 * repeat}")
    found.raise_for_status()
    lines = [row["lines"][0]["id"] for row in found.json()["rows"]]
    share = repeat // 2 + 1
    review_ms: list[float] = []
    preview_ms: list[float] = []
    api_ms: list[float] = []
    for i, (out, client, path, shown) in enumerate(
        (
            (review_ms, pages, f"/counts/{number}/review", "totals-table"),
            (preview_ms, pages, f"/counts/{number}/preview", "gl-totals"),
            (api_ms, api, f"/api/counts/{number}/preview", ""),
        )
    ):
        made = decisions(number, lines[i * share : (i + 1) * share])[:repeat]
        assert len(made) == repeat, "too few misplaced serials for the decisions"
        for decision, _ in made:
            assert api.put(decision).status_code == 200, decision
            started = time.perf_counter()
            answer = client.get(path)
            out.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200, f"GET {path}: {answer.status_code}"
            assert shown in answer.text, f"GET {path}: the documents were refused"
        for _, line in made:
            assert api.put(f"/api/counts/{number}/lines/{quote(line, safe='')}/select").is_success
    return review_ms, preview_ms, api_ms


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def measure(base: str, data: Built, shape: Shape, repeat: int) -> Table:
    pages, api = signed_in_pages(base), api_client(base)
    b, late = data.counted, str(max(0, shape.bins - 50))
    kind, number = data.documents[0]
    rows: list[tuple[str, str, str]] = [
        ("Counts list", "/counts/", "/api/counts/"),
        ("Count, first bins", f"/counts/{b}", f"/api/counts/{b}?limit=50"),
        (
            "Count, late bins",
            f"/counts/{b}?offset={late}",
            f"/api/counts/{b}?limit=50&cursor={late}",
        ),
        ("Review, first page", f"/counts/{b}/review", f"/api/counts/{b}/review?limit=50"),
        (
            "Review, misplaced",
            f"/counts/{b}/review?kind=serial_transfer_proposal",
            f"/api/counts/{b}/review?kind=serial_transfer_proposal&limit=50",
        ),
        (
            "Review, late page",
            f"/counts/{b}/review?offset=5000",
            f"/api/counts/{b}/review?limit=50&cursor=5000",
        ),
        ("Preview", f"/counts/{b}/preview", f"/api/counts/{b}/preview"),
        (
            "Preview, late lines",
            f"/counts/{b}/preview?quantity_adjustment=10000&stock_transfer=9000",
            f"/api/counts/{b}/preview",
        ),
        ("Documents list", "/documents/", f"/api/counts/{data.finalized}/documents"),
        ("A document", f"/documents/{kind}/{number}", f"/api/documents/{kind}/{number}"),
    ]  # fmt: skip
    table = Table(title=f"{shape.serials:,} serials in {shape.bins:,} bins, {repeat} requests each")
    for column in ("page", "p50 ms", "p95 ms", "API p95 ms", "x API", "target", "result"):
        table.add_column(column, justify="left" if column == "page" else "right")
    measured = []
    for name, page_path, api_path in rows:
        say(f"  {name}: {page_path}")
        measured.append((name, times(pages, page_path, repeat), times(api, api_path, repeat)))
    say("  Review and Preview after a decision: each load follows a select or a clear")
    review_ms, preview_ms, api_ms = after_decisions(pages, api, b, repeat)
    measured.append(("Review after a decision (API: its preview)", review_ms, api_ms))
    measured.append(("Preview after a decision (API: its preview)", preview_ms, api_ms))
    for name, page_ms, api_ms in measured:
        page95, api95 = p95(page_ms), p95(api_ms)
        table.add_row(
            name,
            f"{statistics.median(page_ms):.0f}",
            f"{page95:.0f}",
            f"{api95:.0f}",
            f"{page95 / api95:.1f}",
            f"{TARGET_MS:.0f}",
            "pass" if page95 < TARGET_MS else "FAIL",
        )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serials", type=int, default=1_000_000)
    parser.add_argument("--bins", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    shape = Shape(args.serials, args.bins)
    url, data = built_data(shape)
    port = free_port()
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "STOCKCOUNT_DATABASE_URL": url,
        "STOCKCOUNT_PORT": str(port),
        "STOCKCOUNT_LOG_LEVEL": "WARNING",
    }
    server = ServerProcess([str(BIN / "stockcount"), "serve"], port, ROOT, env)
    try:
        server.wait_healthy()
        with open("/proc/loadavg") as load:
            say(f"load average: {load.read().strip()}")
        Console().print(measure(server.url, data, shape, args.repeat))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
