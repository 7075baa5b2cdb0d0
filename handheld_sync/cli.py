"""`stockcount-handheld`: the device's command line.

    stockcount-handheld version           app version and wire protocol version
    stockcount-handheld decode IMAGE...   barcodes in image files: one line per barcode,
                                          SYMBOLOGY <tab> gs1|- <tab> DATA
    stockcount-handheld init              create the local store
    stockcount-handheld load-reference FILE   apply a pull page saved as JSON (until `sync`)
    stockcount-handheld counts            the counts assigned to this device
    stockcount-handheld open COUNT        open a count
    stockcount-handheld scan TEXT         scanner text (AIM prefix, GS or its replacement)
    stockcount-handheld scan --image FILE a camera frame, through the decoder chain
    stockcount-handheld qty ITEM N|+N [--lot LOT]   N sets the bin's total of the item, +N adds
    stockcount-handheld sign-in USER [--pin PIN]     a counter signs in (PIN asked when not given)
    stockcount-handheld sign-out
    stockcount-handheld undo              take back the last scan of the open bin
    stockcount-handheld close-bin [--empty]
    stockcount-handheld recounts          recount orders for the open count
    stockcount-handheld status            the open count and bin; what waits to sync
    stockcount-handheld enroll URL CODE --name N   enroll with the server (one-time code)
    stockcount-handheld sync [--msgpack]  push the outbox, pull reference data (progress
                                          bar on stderr)
    stockcount-handheld docked [--interval S]  sync whenever the server can be reached;
                                          stops cleanly on SIGTERM or SIGINT
    stockcount-handheld app [--interval S]  the full-screen counting app (wedge scanners);
                                          syncs in the background every S seconds

The store is --store PATH, else $STOCKCOUNT_HANDHELD_STORE, else
~/.stockcount-handheld/store.sqlite3. $STOCKCOUNT_HANDHELD_GS is the scanner's replacement
for the GS1 separator; $STOCKCOUNT_HANDHELD_BIN_PATTERN the bin label pattern (regex);
$STOCKCOUNT_HANDHELD_AIM (0: the scanners send no AIM prefix);
$STOCKCOUNT_HANDHELD_IDLE_MINUTES the idle time after which a counter is signed out.
Each overrides the site's setting pulled from the server.
$STOCKCOUNT_HANDHELD_DECODER the decoder backend for --image (chain, pyzbar, zxing, or
module:factory), run in a worker process so a native crash cannot take the app down.

Errors print one line that says what to do next and exit 1; 2 is a usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

import schemas
from handheld_sync.errors import HandheldError
from handheld_sync.scan import DecodedBarcode

if TYPE_CHECKING:
    import httpx

    from handheld_sync.counting import CountingSession
    from handheld_sync.store import Store
    from handheld_sync.sync import SyncEngine, SyncReport

GS = "\x1d"


def app_version() -> str:
    try:
        return metadata.version("stockcount")
    except metadata.PackageNotFoundError:
        return "unknown"


def format_barcode(found: DecodedBarcode) -> str:
    # GS separates GS1 elements; shown as <GS> so the line stays printable.
    data = found.text.replace(GS, "<GS>").replace("\n", "\\n").replace("\t", "\\t")
    return f"{found.symbology}\t{'gs1' if found.gs1 else '-'}\t{data}"


def cmd_version(_: argparse.Namespace) -> int:
    print(f"stockcount-handheld {app_version()}, wire protocol {schemas.PROTOCOL_VERSION}")
    return 0


def cmd_decode(args: argparse.Namespace) -> int:
    from handheld_sync.scan.pyzbar_backend import PyzbarDecoder

    decoder = PyzbarDecoder()
    status = 0
    for name in args.images:
        found = decoder.decode_file(Path(name))
        if not found:
            print(f"stockcount-handheld: {name}: no barcode found", file=sys.stderr)
            status = 1
        for barcode in found:
            print(format_barcode(barcode))
    return status


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain text table: columns padded to their widest cell."""
    cells = [[str(c) for c in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def store_path(args: argparse.Namespace) -> Path:
    from handheld_sync.store import default_store_path

    return Path(args.store).expanduser() if args.store else default_store_path()


def open_session(args: argparse.Namespace) -> CountingSession:
    from handheld_sync.counting import CountingWorkflow
    from handheld_sync.store import Store

    return CountingWorkflow(Store.open(store_path(args))).session


def cmd_sign_in(args: argparse.Namespace) -> int:
    import getpass

    session = open_session(args)
    pin = args.pin if args.pin is not None else getpass.getpass(f"PIN for {args.user}: ")
    with session.store:
        who = session.sign_in.sign_in(args.user, pin)
    print(f"signed in: {who}")
    return 0


def cmd_sign_out(args: argparse.Namespace) -> int:
    session = open_session(args)
    with session.store:
        who = session.sign_in.sign_out()
    print(f"{who} signed out" if who else "nobody was signed in")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from handheld_sync.store import Store

    path = store_path(args)
    with Store.create(path) as store:
        print(f"created {path}: install {store.install_id}, schema {store.schema_version}")
    return 0


def cmd_load_reference(args: argparse.Namespace) -> int:
    from schemas.sync import PullResponse

    try:
        page = msgspec.json.decode(Path(args.file).read_bytes(), type=PullResponse)
    except OSError as exc:
        raise HandheldError(f"{args.file}: cannot read it ({exc.strerror})") from None
    except msgspec.ValidationError as exc:
        raise HandheldError(f"{args.file}: not a pull page ({exc})") from None
    except msgspec.DecodeError as exc:
        raise HandheldError(f"{args.file}: not JSON ({exc})") from None
    session = open_session(args)
    with session.store:
        session.store.apply_pull(page)
    print(
        f"applied: {len(page.counts)} counts, {len(page.bins)} bins, {len(page.items)} items, "
        f"{len(page.recounts)} recount orders; cursor {page.cursor.epoch}:{page.cursor.change_seq}"
    )
    return 0


def cmd_counts(args: argparse.Namespace) -> int:
    session = open_session(args)
    with session.store:
        counts = session.counts()
        current = session.open_count
        if not counts:
            print("no counts assigned to this device yet: sync when docked")
            return 0
        rows = [
            (
                "*" if current and current.count == c.count else "",
                c.count,
                c.location,
                c.status.replace("_", " "),
                "blind" if c.blind else "-",
                len(c.bins),
                c.description,
            )
            for c in counts
        ]
    print(table(["", "COUNT", "LOCATION", "STATUS", "BLIND", "BINS", "DESCRIPTION"], rows))
    return 0


def cmd_open(args: argparse.Namespace) -> int:
    session = open_session(args)
    with session.store:
        count = session.open(args.count)
        recounts = session.recounts()
    blind = ", blind" if count.blind else ""
    print(f"count {count.count} open ({len(count.bins)} bins{blind}): scan a bin label")
    if recounts:
        print(f"{len(recounts)} recount order(s): 'recounts' lists them")
    return 0


def cmd_scan(args: argparse.Namespace) -> int:
    from handheld_sync.scan.text import from_decoded

    if (args.text is None) == (args.image is None):
        raise HandheldError("give scanner TEXT or --image FILE, not both")
    raw = None
    if args.image is not None:
        from handheld_sync.scan import load_image
        from handheld_sync.scan.chain import IsolatedDecoder

        image = load_image(Path(args.image))
        backend = os.environ.get("STOCKCOUNT_HANDHELD_DECODER") or "chain"
        with IsolatedDecoder(backend) as decoder:
            found = decoder.decode_image(image)
        if not found:
            raise HandheldError(f"{args.image}: no barcode found: scan again, or type the code")
        if len(found) > 1:
            raise HandheldError(
                f"{args.image}: {len(found)} barcodes in view: aim at one label and scan again"
            )
        raw = from_decoded(found[0])
    from handheld_sync.counting import CountingWorkflow
    from handheld_sync.store import Store

    flow = CountingWorkflow(Store.open(store_path(args)))
    with flow.store:
        if raw is not None:
            result = flow.session.scan(raw)
        else:
            result = flow.session.scan_text(
                args.text,
                gs_replacement=flow.settings.gs_replacement,
                aim_prefixes=flow.settings.aim_prefixes,
            )
    if result.outcome == "unknown":  # kept for the supervisor, but nothing was counted
        print(f"stockcount-handheld: stored #{result.seq}: {result.message}", file=sys.stderr)
        return 1
    print(f"stored #{result.seq}: {result.message}" if result.recorded else result.message)
    return 0


def cmd_qty(args: argparse.Namespace) -> int:
    session = open_session(args)
    adding = args.quantity.startswith("+")
    with session.store:
        result = session.key_quantity(
            args.item, args.quantity.lstrip("+"), lot=args.lot or "", set_total=not adding
        )
    print(f"stored #{result.seq}: {result.message}")
    return 0


def cmd_undo(args: argparse.Namespace) -> int:
    session = open_session(args)
    with session.store:
        result = session.undo()
    print(f"stored #{result.seq}: {result.message}")
    return 0


def cmd_close_bin(args: argparse.Namespace) -> int:
    session = open_session(args)
    with session.store:
        result = session.close_bin(empty=args.empty)
    print(f"stored #{result.seq}: {result.message}")
    return 0


def cmd_recounts(args: argparse.Namespace) -> int:
    session = open_session(args)
    with session.store:
        orders = session.recounts()
    if not orders:
        print("no recount orders")
        return 0
    print(
        table(
            ["ORDER", "COUNT", "BIN", "REASON"],
            [(o.order_id, o.count, o.bin, o.reason) for o in orders],
        )
    )
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    session = open_session(args)
    with session.store:
        store = session.store
        count, bin_count = session.open_count, session.open_bin
        scans = session.bin_scans()
        summary = store.outbox_summary()
        rejected = store.outbox(state="rejected", limit=20)
        cursor = store.pull_cursor()
        print(f"store {store.path}: install {store.install_id}, last seq {store.last_seq()}")
        counter = session.sign_in.current()
        print(
            f"count: {count.count if count else '-'}   bin: {bin_count.bin if bin_count else '-'}"
            + (f" ({len(scans)} scans)" if bin_count else "")
        )
        if counter is not None or session.sign_in.required:
            print(f"counter: {counter or '- (sign in to scan)'}")
        pulled = f"cursor {cursor.epoch}:{cursor.change_seq}" if cursor else "never pulled"
        print(f"reference data: {pulled}")
        print(table(["OUTBOX", "EVENTS"], [(state, n) for state, n in summary.items()]))
        if rejected:
            print(
                table(
                    ["REJECTED", "KIND", "REASON"],
                    [
                        (e.seq, e.kind, e.reason + (": " + e.detail if e.detail else ""))
                        for e in rejected
                    ],
                )
            )
    return 0


def cmd_enroll(args: argparse.Namespace) -> int:
    import httpx

    from handheld_sync.store import open_or_create
    from handheld_sync.sync import enroll

    with (
        open_or_create(store_path(args)) as store,
        httpx.Client(base_url=args.url, timeout=30) as client,
    ):
        device_id = enroll(client, store, args.code, args.name, app_version())
    print(f"enrolled as device {device_id} with {args.url}: 'sync' when docked")
    return 0


class PushProgress:
    """The push's progress on stderr, drawn by rich: a bar, events sent of events to send.

    On a terminal it redraws in place; piped (`sync --progress`), it prints its last state
    when the push ends."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._progress = Progress(
            TextColumn("push"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("events"),
            console=Console(stderr=True),
            transient=False,
        )
        self._task = self._progress.add_task("push", total=None)

    def __call__(self, done: int, total: int) -> None:
        self._progress.update(self._task, completed=done, total=total)

    def __enter__(self) -> PushProgress:
        self._progress.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._progress.stop()


def _engine(
    store: Store,
    client: httpx.Client,
    args: argparse.Namespace,
    *,
    progress: PushProgress | None = None,
) -> SyncEngine:
    from handheld_sync.sync import SyncEngine

    return SyncEngine(
        store, client, msgpack=args.msgpack, app_version=app_version(), progress=progress
    )


def _client(store: Store) -> httpx.Client:
    import httpx

    from handheld_sync.sync import SERVER_URL, auth_headers

    url = store.setting(SERVER_URL)
    if not url:
        raise HandheldError("this device is not enrolled: run 'stockcount-handheld enroll' first")
    return httpx.Client(base_url=url, headers=auth_headers(store), timeout=60)


def _summary(report: SyncReport) -> str:
    again = f", {report.requeued} sent again (server restored)" if report.requeued else ""
    reset = ", reference data replaced" if report.reset else ""
    return (
        f"synced: {report.applied} applied, {report.duplicate} duplicate, "
        f"{report.rejected} rejected{again}; {report.pages} pull page(s){reset}"
    )


def cmd_sync(args: argparse.Namespace) -> int:
    from handheld_sync.store import Store

    shown = sys.stderr.isatty() or args.progress
    with Store.open(store_path(args)) as store, _client(store) as client:
        if shown:
            with PushProgress() as progress:
                report = _engine(store, client, args, progress=progress).sync()
        else:
            report = _engine(store, client, args).sync()
    print(_summary(report))
    return 0


def cmd_docked(args: argparse.Namespace) -> int:
    import signal
    import threading

    from handheld_sync.errors import SyncError
    from handheld_sync.store import Store

    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print(f"docked: syncing every {args.interval} s until stopped", flush=True)
    with Store.open(store_path(args)) as store:
        while not stop.is_set():
            try:
                with _client(store) as client:
                    engine = _engine(store, client, args)
                    engine.retries = 1
                    print(_summary(engine.sync()), flush=True)
            except SyncError as exc:
                print(f"not synced: {exc}", file=sys.stderr, flush=True)
            stop.wait(args.interval)
    print("docked: stopped", flush=True)
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    from functools import partial

    from handheld_sync.app.background import enrolled_engine
    from handheld_sync.app.counting_app import CountingApp
    from handheld_sync.store import Store

    path = store_path(args)
    Store.open(path).close()  # a missing store is one line here, not a screen
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise HandheldError("the app needs a terminal: run it on the device's screen")
    CountingApp(  # settings: the site's from the pull, under STOCKCOUNT_HANDHELD_*
        path,
        open_engine=partial(enrolled_engine, app_version=app_version()),
        sync_interval=args.interval,
    ).run()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stockcount-handheld", description="stockcount device")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("version", help="app and protocol version")
    p.set_defaults(func=cmd_version)
    p = sub.add_parser("decode", help="decode the barcodes in image files (PNG, JPEG, ...)")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.set_defaults(func=cmd_decode)

    def with_store(name: str, func: object, help_text: str) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=help_text)
        command.add_argument("--store", metavar="PATH", help="the local store (see above)")
        command.set_defaults(func=func)
        return command

    with_store("init", cmd_init, "create the local store")
    p = with_store("load-reference", cmd_load_reference, "apply a pull page saved as JSON")
    p.add_argument("file", metavar="FILE")
    with_store("counts", cmd_counts, "counts assigned to this device")
    p = with_store("open", cmd_open, "open a count")
    p.add_argument("count", metavar="COUNT")
    p = with_store("scan", cmd_scan, "scanner text, or a camera frame with --image")
    p.add_argument("text", nargs="?", metavar="TEXT")
    p.add_argument("--image", metavar="FILE")
    p = with_store("qty", cmd_qty, "N: the bin's total of an item; +N: N more")
    p.add_argument("item", metavar="ITEM")
    p.add_argument("quantity", metavar="N|+N")
    p.add_argument("--lot", metavar="LOT")
    p = with_store("sign-in", cmd_sign_in, "a counter signs in with user name and PIN")
    p.add_argument("user", metavar="USER")
    p.add_argument("--pin", metavar="PIN", help="the PIN (asked when not given)")
    with_store("sign-out", cmd_sign_out, "the counter signs out")
    with_store("undo", cmd_undo, "take back the last scan of the open bin")
    p = with_store("close-bin", cmd_close_bin, "close the open bin")
    p.add_argument("--empty", action="store_true", help="confirm the bin is empty")
    with_store("recounts", cmd_recounts, "recount orders of the open count")
    with_store("status", cmd_status, "open count and bin, and what waits to sync")
    p = with_store("enroll", cmd_enroll, "enroll with the server with a one-time code")
    p.add_argument("url", metavar="URL")
    p.add_argument("code", metavar="CODE")
    p.add_argument("--name", required=True, metavar="N", help="this device's name")
    p = with_store("sync", cmd_sync, "push the outbox and pull reference data")
    p.add_argument("--msgpack", action="store_true", help="MessagePack instead of JSON")
    p.add_argument("--progress", action="store_true", help="a progress bar even when piped")
    p = with_store("docked", cmd_docked, "sync whenever the server can be reached")
    p.add_argument("--msgpack", action="store_true", help="MessagePack instead of JSON")
    p.add_argument("--interval", type=float, default=30.0, metavar="S", help="seconds between")
    p = with_store("app", cmd_app, "the full-screen counting app")
    p.add_argument(
        "--interval", type=float, default=30.0, metavar="S", help="seconds between syncs"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except HandheldError as exc:
        print(f"stockcount-handheld: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
