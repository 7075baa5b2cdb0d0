"""The device's local SQLite database: reference data, scans, and the outbox of events.

Durability: WAL with synchronous=FULL, so a COMMIT is on disk (the WAL fsynced) when it
returns. Each event, the local rows derived from it (a scan, a bin count) and its outbox
entry are written in ONE transaction: `append` returns the event's seq only after the
COMMIT, and that return is the counter's beep. A power cut after the beep loses nothing;
a crash before it leaves nothing half-written.

Seq: one counter per install, kept in `meta` and advanced inside the event's transaction,
so a seq is never reused (not even after a rollback, which rolls the counter back too and
so reuses nothing that was ever stored).

Outbox: an entry is `pending` until the server acknowledges it as `applied`, `duplicate`
or `rejected` (rejected entries stay, with the server's reason, for the counter to see).
Acknowledged entries are kept: a server restored from an older backup may ask for them
again (`resend_lost_from`). Only `prune_acknowledged` deletes, and only acknowledged entries.

Caching: the device's settings (open count, open bin, ...) and the reference look-ups the
scan path asks (count, bin count, item, barcode, bin, expected serial) are kept in memory
once read, so a scan runs only the statements that write it. They are dropped whenever
they could be stale: when this store writes what they hold, on every ROLLBACK, and when
another connection (another process: a CLI command, a sync) has committed anything, which
`PRAGMA data_version` tells for the price of one statement (asked before a run of reads,
and again after BEGIN IMMEDIATE, so a write never rests on a stale copy). Writes made
through the raw `connection` bypass this: call `forget_cached()` after them.

Migrations: `MIGRATIONS[n-1]` takes the database from user_version n-1 to n, in one
transaction; a device upgraded in the field migrates on open and keeps its data.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Literal, TypeVar, cast

import msgspec

from handheld_sync.errors import StoreError, StoreExists, StoreMissing, StoreTooNew
from handheld_sync.scan.classify import ItemInfo, Tracking
from handheld_sync.scan.gs1 import gtin14
from schemas.sync import (
    BarcodeUnknown,
    BinClosed,
    BinOpened,
    CounterRef,
    DeviceSettings,
    Event,
    EventAck,
    EventBody,
    PinVerifier,
    PullCursor,
    PullResponse,
    QuantityKeyed,
    ScanUndone,
    SerialScanned,
)

_T = TypeVar("_T")
_CACHE_LIMIT = 10_000  # reference look-ups kept in memory at most
OutboxState = Literal["pending", "applied", "duplicate", "rejected"]
OUTBOX_STATES: tuple[OutboxState, ...] = ("pending", "applied", "duplicate", "rejected")
DEFAULT_STORE_PATH = Path("~/.stockcount-handheld/store.sqlite3")

_BODY_ENCODER = msgspec.json.Encoder()
_BODY_DECODER: msgspec.json.Decoder[EventBody] = msgspec.json.Decoder(EventBody)
_VERIFIER_ENCODER = msgspec.json.Encoder()
_VERIFIER_DECODER: msgspec.json.Decoder[PinVerifier] = msgspec.json.Decoder(PinVerifier)
_SETTINGS_ENCODER = msgspec.json.Encoder()
_SETTINGS_DECODER: msgspec.json.Decoder[DeviceSettings] = msgspec.json.Decoder(DeviceSettings)
SITE_SETTINGS = "site_settings"  # the meta key of the site's DeviceSettings, as pulled

# Each migration is a list of statements run in one transaction. Never edit a released
# one: add the next.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: the first release.
    (
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            device_time TEXT NOT NULL,
            body BLOB NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'applied', 'duplicate', 'rejected')),
            reason TEXT NOT NULL DEFAULT '',
            detail TEXT NOT NULL DEFAULT '',
            acked_at TEXT
        )""",
        "CREATE INDEX outbox_state ON outbox (state, seq)",
        """CREATE TABLE bin_counts (
            opened_seq INTEGER PRIMARY KEY,
            count TEXT NOT NULL,
            bin TEXT NOT NULL,
            closed_seq INTEGER,
            confirmed_empty INTEGER NOT NULL DEFAULT 0
        )""",
        """CREATE TABLE scans (
            seq INTEGER PRIMARY KEY,
            bin_seq INTEGER NOT NULL REFERENCES bin_counts (opened_seq),
            count TEXT NOT NULL,
            bin TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('serial', 'quantity')),
            item TEXT NOT NULL,
            serial TEXT,
            lot TEXT NOT NULL DEFAULT '',
            quantity TEXT,
            raw TEXT NOT NULL DEFAULT '',
            undone_seq INTEGER
        )""",
        "CREATE INDEX scans_serial ON scans (count, item, serial)",
        "CREATE INDEX scans_bin ON scans (bin_seq, seq)",
        """CREATE TABLE ref_counts (
            count TEXT PRIMARY KEY,
            location TEXT NOT NULL,
            status TEXT NOT NULL,
            blind INTEGER NOT NULL,
            description TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE TABLE ref_count_bins (count TEXT NOT NULL, bin TEXT NOT NULL, "
        "PRIMARY KEY (count, bin))",
        "CREATE TABLE ref_bins (location TEXT NOT NULL, label TEXT NOT NULL, kind TEXT NOT NULL, "
        "PRIMARY KEY (location, label))",
        "CREATE INDEX ref_bins_label ON ref_bins (label)",
        "CREATE TABLE ref_items (code TEXT PRIMARY KEY, name TEXT NOT NULL, "
        "tracking TEXT NOT NULL, auto_serialized INTEGER NOT NULL, uom TEXT NOT NULL)",
        "CREATE TABLE ref_barcodes (barcode TEXT PRIMARY KEY, gtin14 TEXT, item TEXT NOT NULL)",
        "CREATE INDEX ref_barcodes_gtin ON ref_barcodes (gtin14)",
        "CREATE TABLE ref_expected_serials (count TEXT NOT NULL, item TEXT NOT NULL, "
        "serial TEXT NOT NULL, bin TEXT NOT NULL, PRIMARY KEY (count, serial, item))",
        "CREATE TABLE ref_expected_quantities (count TEXT NOT NULL, item TEXT NOT NULL, "
        "bin TEXT NOT NULL, lot TEXT NOT NULL, quantity TEXT NOT NULL)",
    ),
    # 2: recount orders; the epoch an entry was acknowledged in (a restored server).
    (
        "CREATE TABLE ref_recounts (order_id INTEGER PRIMARY KEY, count TEXT NOT NULL, "
        "bin TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '')",
        "ALTER TABLE outbox ADD COLUMN acked_epoch TEXT NOT NULL DEFAULT ''",
    ),
    # 3: counters (who scanned, their PIN verifiers), set quantities, unknown barcodes,
    # count modes and the site's device settings (in meta, as JSON).
    (
        "ALTER TABLE scans ADD COLUMN mode TEXT NOT NULL DEFAULT 'add'",
        "ALTER TABLE scans ADD COLUMN counter TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE bin_counts ADD COLUMN counter TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE ref_items ADD COLUMN count_mode TEXT NOT NULL DEFAULT 'unit'",
        "CREATE INDEX scans_bin_item ON scans (bin_seq, item, lot, seq)",
        """CREATE TABLE unknown_scans (
            seq INTEGER PRIMARY KEY,
            count TEXT NOT NULL,
            bin TEXT NOT NULL DEFAULT '',
            bin_seq INTEGER NOT NULL DEFAULT 0,
            raw TEXT NOT NULL,
            problem TEXT NOT NULL,
            message TEXT NOT NULL DEFAULT '',
            counter TEXT NOT NULL DEFAULT ''
        )""",
        """CREATE TABLE ref_counters (
            username TEXT PRIMARY KEY,
            verifier TEXT NOT NULL,
            failures INTEGER NOT NULL DEFAULT 0
        )""",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    seq: int
    kind: str
    device_time: datetime
    body: bytes  # the event body as JSON, in schemas.sync shapes
    state: OutboxState
    reason: str
    detail: str

    def event(self) -> Event:
        return Event(
            seq=self.seq, device_time=self.device_time, body=_BODY_DECODER.decode(self.body)
        )


@dataclass(frozen=True, slots=True)
class CountInfo:
    count: str
    location: str
    status: str
    blind: bool
    description: str
    bins: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BinCountInfo:
    opened_seq: int
    count: str
    bin: str
    closed_seq: int | None
    confirmed_empty: bool


@dataclass(frozen=True, slots=True)
class ScanRecord:
    seq: int
    bin_seq: int
    count: str
    bin: str
    kind: Literal["serial", "quantity"]
    item: str
    serial: str | None
    lot: str
    quantity: Decimal | None
    undone_seq: int | None
    mode: Literal["add", "set"] = "add"
    counter: str = ""


@dataclass(frozen=True, slots=True)
class UnknownScan:
    seq: int
    count: str
    bin: str
    raw: str
    problem: str
    message: str
    counter: str
    device_time: datetime | None


@dataclass(frozen=True, slots=True)
class RecountInfo:
    order_id: int
    count: str
    bin: str
    reason: str


def default_store_path() -> Path:
    configured = os.environ.get("STOCKCOUNT_HANDHELD_STORE")
    return Path(configured) if configured else DEFAULT_STORE_PATH.expanduser()


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=True)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring the database up to `target`, one migration per transaction. Returns it."""
    current = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if current > SCHEMA_VERSION:
        raise StoreTooNew(
            f"the local store is at version {current}, this app knows {SCHEMA_VERSION}: "
            "install the newer app (the store is left as it is)"
        )
    for version in range(current + 1, target + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[version - 1]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return max(current, target)


class Store:
    """One open local store. Not shared between threads."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._depth = 0
        # In-memory copies (see "Caching" above); _version: the data_version they match.
        self._settings: dict[str, str | None] = {}
        self._cache: dict[tuple[str, object], object] = {}
        self._version = -1
        self._pinned = 0  # inside `checked_once()`: the copies were checked on entry
        self.install_id = self._identity()

    # --- life cycle ------------------------------------------------------------------------

    @classmethod
    def create(cls, path: Path) -> Store:
        """A new store: new install id, seq starts at 1. Refuses an existing file."""
        if path.exists():
            raise StoreExists(f"{path} already holds a store: use it, or choose another --store")
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = _connect(path)
        migrate(conn)
        return cls(conn, path)

    @classmethod
    def open(cls, path: Path) -> Store:
        """Open and migrate an existing store."""
        if not path.is_file():
            raise StoreMissing(f"no local store at {path}: run 'stockcount-handheld init' first")
        try:
            conn = _connect(path)
            migrate(conn)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path} is not a usable store ({exc})") from None
        return cls(conn, path)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def connection(self) -> sqlite3.Connection:
        """The raw connection, for tests and benchmarks that inspect the file."""
        return self._conn

    @property
    def schema_version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def _identity(self) -> str:
        with self.transaction():
            row = self._conn.execute("SELECT value FROM meta WHERE key = 'install_id'").fetchone()
            if row is not None:
                return str(row[0])
            install_id = uuid.uuid4().hex
            self._conn.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)",
                [
                    ("install_id", install_id),
                    ("created_at", datetime.now(UTC).isoformat()),
                    ("last_seq", "0"),
                ],
            )
            return install_id

    # --- the in-memory copies -------------------------------------------------------------

    def forget_cached(self) -> None:
        """Drop every in-memory copy: the next read goes to the database."""
        self._settings.clear()
        self._cache.clear()

    @contextmanager
    def checked_once(self) -> Iterator[None]:
        """A run of reads (one scan) that checks the copies once, on entry, not per read.
        What another process commits meanwhile is seen by the next run, as before when
        every read went to the database outside the scan's transaction."""
        self._fresh()
        self._pinned += 1
        try:
            yield
        finally:
            self._pinned -= 1

    def _fresh(self) -> None:
        """Drop the copies if another connection has committed since they were read."""
        if not self._pinned:
            self._check_version()

    def _check_version(self) -> None:
        version = int(self._conn.execute("PRAGMA data_version").fetchone()[0])
        if version != self._version:
            self.forget_cached()
            self._version = version

    def _cached(self, key: tuple[str, object], read: Callable[[], _T]) -> _T:
        self._fresh()
        if key in self._cache:
            return cast(_T, self._cache[key])
        value = read()
        if len(self._cache) >= _CACHE_LIMIT:  # every plain serial scanned adds its look-ups
            self._cache.clear()
        self._cache[key] = value
        return value

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE ... COMMIT (nested calls join the outer transaction)."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._conn.execute("BEGIN IMMEDIATE")
        self._depth = 1
        # Holding the write lock now: what the transaction reads from the copies (a setting
        # it leaves alone if unchanged) must be what the database holds, pinned or not.
        self._check_version()
        try:
            yield
        except BaseException:
            self._depth = 0
            self.forget_cached()  # they may hold what the rolled-back statements wrote
            self._conn.execute("ROLLBACK")
            raise
        self._depth = 0
        self._conn.execute("COMMIT")

    # --- settings (the device's own state: open count, open bin, ...) ---------------------

    def setting(self, key: str) -> str | None:
        self._fresh()
        if key in self._settings:
            return self._settings[key]
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        value = None if row is None else str(row[0])
        self._settings[key] = value
        return value

    def set_setting(self, key: str, value: str | None) -> None:
        """Store a setting (None deletes it); no statement when it already has that value."""
        if self.setting(key) == value:
            return
        with self.transaction():
            self._settings[key] = value  # forgotten again if the transaction rolls back
            if value is None:
                self._conn.execute("DELETE FROM meta WHERE key = ?", (key,))
            else:
                self._conn.execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (key, value),
                )

    # --- events ----------------------------------------------------------------------------

    def append(self, body: EventBody, *, device_time: datetime | None = None) -> int:
        """Store one event, its derived rows and its outbox entry in one transaction.

        Returns the event's seq once the transaction is committed (durable), or, inside an
        outer `transaction()`, once that one commits.
        """
        when = device_time or datetime.now(UTC)
        with self.transaction():
            row = self._conn.execute(
                "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'last_seq' "
                "RETURNING value"
            ).fetchone()
            seq = int(row[0])
            self._settings["last_seq"] = str(seq)
            self._derive(seq, body)
            self._conn.execute(
                "INSERT INTO outbox (seq, kind, device_time, body) VALUES (?, ?, ?, ?)",
                (seq, body.__struct_config__.tag, when.isoformat(), _BODY_ENCODER.encode(body)),
            )
        return seq

    def _derive(self, seq: int, body: EventBody) -> None:
        c = self._conn
        if isinstance(body, BinOpened):
            c.execute(
                "INSERT INTO bin_counts (opened_seq, count, bin, counter) VALUES (?, ?, ?, ?)",
                (seq, body.count, body.bin, body.counter),
            )
        elif isinstance(body, BarcodeUnknown):
            c.execute(
                "INSERT INTO unknown_scans (seq, count, bin, bin_seq, raw, problem, message, "
                "counter) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    seq,
                    body.count,
                    body.bin,
                    body.bin_seq,
                    body.raw,
                    body.problem,
                    body.message,
                    body.counter,
                ),
            )
        elif isinstance(body, SerialScanned | QuantityKeyed):
            serial = body.serial if isinstance(body, SerialScanned) else None
            lot = body.lot if isinstance(body, QuantityKeyed) else ""
            quantity = str(body.quantity) if isinstance(body, QuantityKeyed) else None
            mode = body.mode if isinstance(body, QuantityKeyed) else "add"
            c.execute(
                "INSERT INTO scans (seq, bin_seq, count, bin, kind, item, serial, lot, quantity, "
                "raw, mode, counter)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    seq,
                    body.bin_seq,
                    body.count,
                    body.bin,
                    "serial" if serial is not None else "quantity",
                    body.item,
                    serial,
                    lot,
                    quantity,
                    body.raw,
                    mode,
                    body.counter,
                ),
            )
        elif isinstance(body, ScanUndone):
            done = c.execute(
                "UPDATE scans SET undone_seq = ? WHERE seq = ? AND undone_seq IS NULL",
                (seq, body.target_seq),
            )
            if done.rowcount != 1:
                raise StoreError(f"scan {body.target_seq} cannot be undone: no such live scan")
        elif isinstance(body, BinClosed):
            self._cache.pop(("bin_count", body.bin_seq), None)
            done = c.execute(
                "UPDATE bin_counts SET closed_seq = ?, confirmed_empty = ? "
                "WHERE opened_seq = ? AND closed_seq IS NULL",
                (seq, int(body.confirmed_empty), body.bin_seq),
            )
            if done.rowcount != 1:
                raise StoreError(f"bin count {body.bin_seq} is not open")

    def last_seq(self) -> int:
        return int(self.setting("last_seq") or 0)

    def outbox(
        self, *, state: OutboxState | None = None, after_seq: int = 0, limit: int = 1_000
    ) -> list[OutboxEntry]:
        sql = "SELECT seq, kind, device_time, body, state, reason, detail FROM outbox WHERE seq > ?"
        params: list[object] = [after_seq]
        if state is not None:
            sql += " AND state = ?"
            params.append(state)
        rows = self._conn.execute(sql + " ORDER BY seq LIMIT ?", (*params, limit)).fetchall()
        return [
            OutboxEntry(
                seq=r[0],
                kind=r[1],
                device_time=datetime.fromisoformat(r[2]),
                body=bytes(r[3]),
                state=r[4],
                reason=r[5],
                detail=r[6],
            )
            for r in rows
        ]

    def pending_batch(self, *, max_events: int, max_bytes: int) -> list[OutboxEntry]:
        """The oldest pending entries, at most `max_events`, their bodies at most
        `max_bytes` together (always at least one, so a large event cannot block the queue)."""
        batch: list[OutboxEntry] = []
        size = 0
        for entry in self.outbox(state="pending", limit=max_events):
            size += len(entry.body) + 64  # seq, time and framing
            if batch and size > max_bytes:
                break
            batch.append(entry)
        return batch

    def acknowledge(self, acks: Sequence[EventAck], *, epoch: str = "") -> int:
        """Record the server's answers. Only pending entries change; returns how many did."""
        now = datetime.now(UTC).isoformat()
        with self.transaction():
            before = self._conn.total_changes
            self._conn.executemany(
                "UPDATE outbox SET state = ?, reason = ?, detail = ?, acked_at = ?, "
                "acked_epoch = ? WHERE seq = ? AND state = 'pending'",
                [(a.outcome, a.reason, a.detail, now, epoch, a.seq) for a in acks],
            )
            return self._conn.total_changes - before

    def resend_lost_from(self, seq: int) -> int:
        """The server no longer holds the events from `seq` on (restored from a backup, or
        a gap it asks to fill): make every entry from `seq` pending again, whatever the
        server had answered. Rejected ones too: their rejection was lost with the rest, and
        the server judges them again. Returns how many entries changed."""
        with self.transaction():
            return self._conn.execute(
                "UPDATE outbox SET state = 'pending', reason = '', detail = '', acked_at = NULL, "
                "acked_epoch = '' WHERE seq >= ? AND state != 'pending'",
                (seq,),
            ).rowcount

    def prune_acknowledged(self, *, up_to_seq: int) -> int:
        """Delete applied and duplicate outbox entries up to a seq; pending and rejected
        entries stay, and so do the local scans (the count's history on this device)."""
        with self.transaction():
            return self._conn.execute(
                "DELETE FROM outbox WHERE seq <= ? AND state IN ('applied', 'duplicate')",
                (up_to_seq,),
            ).rowcount

    def outbox_summary(self) -> dict[OutboxState, int]:
        found = dict(self._conn.execute("SELECT state, count(*) FROM outbox GROUP BY state"))
        return {state: int(found.get(state, 0)) for state in OUTBOX_STATES}

    # --- reference data (pulled) -----------------------------------------------------------

    def pull_cursor(self) -> PullCursor | None:
        epoch = self.setting("pull_epoch")
        change = self.setting("pull_change_seq")
        if epoch is None or change is None:
            return None
        return PullCursor(epoch=epoch, change_seq=int(change))

    def apply_pull(self, page: PullResponse) -> None:
        """Apply one pull page and store its cursor, in one transaction. A cursor never
        moves back within an epoch; `reset` (or a new epoch) replaces all reference data."""
        self.forget_cached()
        with self.transaction():
            current = self.pull_cursor()
            new_epoch = current is not None and current.epoch != page.cursor.epoch
            if (
                current is not None
                and not new_epoch
                and not page.reset
                and page.cursor.change_seq < current.change_seq
            ):
                raise StoreError(
                    f"pull page at change {page.cursor.change_seq} is older than the stored "
                    f"cursor {current.change_seq}: ignored"
                )
            if new_epoch and not page.reset:
                raise StoreError(
                    "the server's epoch changed but the page is not a reset: pull again"
                )
            if page.reset:
                for table in (
                    "ref_counts",
                    "ref_count_bins",
                    "ref_bins",
                    "ref_items",
                    "ref_barcodes",
                    "ref_expected_serials",
                    "ref_expected_quantities",
                    "ref_recounts",
                    "ref_counters",
                ):
                    self._conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
            self._apply_counts(page)
            self._apply_items(page)
            c = self._conn
            c.executemany(
                "INSERT OR REPLACE INTO ref_bins (location, label, kind) VALUES (?, ?, ?)",
                [(b.location, b.label, b.kind) for b in page.bins],
            )
            c.executemany(
                "DELETE FROM ref_recounts WHERE order_id = ?",
                [(r.order_id,) for r in page.recounts],
            )
            c.executemany(
                "INSERT INTO ref_recounts (order_id, count, bin, reason) VALUES (?, ?, ?, ?)",
                [(r.order_id, r.count, r.bin, r.reason) for r in page.recounts if r.active],
            )
            if page.counters is not None:
                self._apply_counters(page.counters)
            if page.settings is not None:
                self.set_setting(SITE_SETTINGS, _SETTINGS_ENCODER.encode(page.settings).decode())
            self.set_setting("pull_epoch", page.cursor.epoch)
            self.set_setting("pull_change_seq", str(page.cursor.change_seq))
            self._cache.clear()  # the reference data changed under the copies

    def _apply_counts(self, page: PullResponse) -> None:
        c = self._conn
        codes = [(a.count,) for a in page.counts]
        for table in ("ref_counts", "ref_count_bins", "ref_expected_serials"):
            c.executemany(f"DELETE FROM {table} WHERE count = ?", codes)  # noqa: S608
        c.executemany("DELETE FROM ref_expected_quantities WHERE count = ?", codes)
        live = [a for a in page.counts if a.active]
        c.executemany(
            "INSERT INTO ref_counts (count, location, status, blind, description) "
            "VALUES (?, ?, ?, ?, ?)",
            [(a.count, a.location, a.status, int(a.blind), a.description) for a in live],
        )
        c.executemany(
            "INSERT OR IGNORE INTO ref_count_bins (count, bin) VALUES (?, ?)",
            [(a.count, label) for a in live for label in a.bins],
        )
        c.executemany(
            "INSERT OR REPLACE INTO ref_expected_serials (count, item, serial, bin) "
            "VALUES (?, ?, ?, ?)",
            [(a.count, s.item, s.serial, s.bin) for a in live for s in a.expected_serials],
        )
        c.executemany(
            "INSERT INTO ref_expected_quantities (count, item, bin, lot, quantity) "
            "VALUES (?, ?, ?, ?, ?)",
            [
                (a.count, q.item, q.bin, q.lot, str(q.quantity))
                for a in live
                for q in a.expected_quantities
            ],
        )

    def _apply_counters(self, counters: Sequence[CounterRef]) -> None:
        """The site's counters, whole: those not listed go. A counter's wrong-PIN count
        (and so a lock) stays until their verifier changes: a supervisor set a new PIN."""
        c = self._conn
        rows = [(r.username, _VERIFIER_ENCODER.encode(r.verifier).decode()) for r in counters]
        names = _VERIFIER_ENCODER.encode([r[0] for r in rows]).decode()
        c.execute(
            "DELETE FROM ref_counters WHERE username NOT IN (SELECT value FROM json_each(?))",
            (names,),
        )
        c.executemany(
            "INSERT INTO ref_counters (username, verifier) VALUES (?, ?) "
            "ON CONFLICT (username) DO UPDATE SET verifier = excluded.verifier, failures = "
            "CASE WHEN verifier = excluded.verifier THEN failures ELSE 0 END",
            rows,
        )

    def _apply_items(self, page: PullResponse) -> None:
        c = self._conn
        c.executemany(
            "INSERT OR REPLACE INTO ref_items (code, name, tracking, auto_serialized, uom, "
            "count_mode) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (i.code, i.name, i.tracking, int(i.auto_serialized), i.uom, i.count_mode)
                for i in page.items
            ],
        )
        c.executemany("DELETE FROM ref_barcodes WHERE item = ?", [(i.code,) for i in page.items])
        c.executemany(
            "INSERT OR REPLACE INTO ref_barcodes (barcode, gtin14, item) VALUES (?, ?, ?)",
            [(code, gtin14(code), i.code) for i in page.items for code in i.barcodes],
        )

    # --- queries the counting workflow asks ------------------------------------------------

    def counts(self) -> list[CountInfo]:
        rows = self._conn.execute(
            "SELECT count, location, status, blind, description FROM ref_counts ORDER BY count"
        ).fetchall()
        return [self._count_info(r) for r in rows]

    def count(self, code: str) -> CountInfo | None:
        return self._cached(("count", code), lambda: self._read_count(code))

    def _read_count(self, code: str) -> CountInfo | None:
        row = self._conn.execute(
            "SELECT count, location, status, blind, description FROM ref_counts WHERE count = ?",
            (code,),
        ).fetchone()
        return None if row is None else self._count_info(row)

    def _count_info(self, row: tuple[str, str, str, int, str]) -> CountInfo:
        bins = self._conn.execute(
            "SELECT bin FROM ref_count_bins WHERE count = ? ORDER BY bin", (row[0],)
        ).fetchall()
        return CountInfo(row[0], row[1], row[2], bool(row[3]), row[4], tuple(b[0] for b in bins))

    def bin_known(self, label: str) -> bool:
        return self._cached(("bin_known", label), lambda: self._read_bin_known(label))

    def _read_bin_known(self, label: str) -> bool:
        found = self._conn.execute("SELECT 1 FROM ref_bins WHERE label = ?", (label,))
        return found.fetchone() is not None

    def item(self, code: str) -> ItemInfo | None:
        return self._cached(("item", code), lambda: self._read_item(code))

    def _read_item(self, code: str) -> ItemInfo | None:
        row = self._conn.execute(
            "SELECT code, name, tracking, auto_serialized, count_mode FROM ref_items "
            "WHERE code = ?",
            (code,),
        ).fetchone()
        return None if row is None else _item_info(row)

    def item_by_barcode(self, barcode: str) -> ItemInfo | None:
        return self._cached(("barcode", barcode), lambda: self._read_item_by_barcode(barcode))

    def _read_item_by_barcode(self, barcode: str) -> ItemInfo | None:
        normal = gtin14(barcode)
        row = self._conn.execute(
            "SELECT i.code, i.name, i.tracking, i.auto_serialized, i.count_mode "
            "FROM ref_barcodes b JOIN ref_items i ON i.code = b.item "
            "WHERE b.barcode = ? OR b.gtin14 = ? LIMIT 1",
            (barcode, normal),
        ).fetchone()
        return None if row is None else _item_info(row)

    def expected_serial_item(self, count: str, serial: str) -> str | None:
        return self._cached(
            ("expected_serial", (count, serial)),
            lambda: self._read_expected_serial_item(count, serial),
        )

    def _read_expected_serial_item(self, count: str, serial: str) -> str | None:
        row = self._conn.execute(
            "SELECT item FROM ref_expected_serials WHERE count = ? AND serial = ? LIMIT 1",
            (count, serial),
        ).fetchone()
        return None if row is None else str(row[0])

    def recounts(self, count: str | None = None) -> list[RecountInfo]:
        sql = "SELECT order_id, count, bin, reason FROM ref_recounts"
        params: tuple[str, ...] = ()
        if count is not None:
            sql += " WHERE count = ?"
            params = (count,)
        rows = self._conn.execute(sql + " ORDER BY order_id", params).fetchall()
        return [RecountInfo(*r) for r in rows]

    def bin_count(self, opened_seq: int) -> BinCountInfo | None:
        return self._cached(("bin_count", opened_seq), lambda: self._read_bin_count(opened_seq))

    def _read_bin_count(self, opened_seq: int) -> BinCountInfo | None:
        row = self._conn.execute(
            "SELECT opened_seq, count, bin, closed_seq, confirmed_empty FROM bin_counts "
            "WHERE opened_seq = ?",
            (opened_seq,),
        ).fetchone()
        return None if row is None else BinCountInfo(row[0], row[1], row[2], row[3], bool(row[4]))

    def scans(self, *, bin_seq: int | None = None, count: str | None = None) -> list[ScanRecord]:
        sql = (
            "SELECT seq, bin_seq, count, bin, kind, item, serial, lot, quantity, undone_seq, "
            "mode, counter FROM scans WHERE 1 = 1"
        )
        params: list[object] = []
        if bin_seq is not None:
            sql += " AND bin_seq = ?"
            params.append(bin_seq)
        if count is not None:
            sql += " AND count = ?"
            params.append(count)
        rows = self._conn.execute(sql + " ORDER BY seq", params).fetchall()
        return [
            ScanRecord(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                r[6],
                r[7],
                Decimal(r[8]) if r[8] is not None else None,
                r[9],
                "set" if r[10] == "set" else "add",
                r[11],
            )
            for r in rows
        ]

    def item_total(self, bin_seq: int, item: str, lot: str) -> tuple[Decimal, int]:
        """The live scans of one item (and lot) in a bin count: the quantity they add up to
        (from its last "set" on) and how many serials. One indexed statement, so a bin of
        thousands of scans answers as fast as one of ten."""
        rows = self._conn.execute(
            "WITH live AS (SELECT seq, serial, quantity, mode FROM scans "
            "WHERE bin_seq = ? AND item = ? AND lot = ? AND undone_seq IS NULL) "
            "SELECT (SELECT count(*) FROM live WHERE serial IS NOT NULL), quantity FROM live "
            "WHERE serial IS NULL AND seq >= coalesce("
            "(SELECT max(seq) FROM live WHERE mode = 'set'), 0) "
            "UNION ALL SELECT (SELECT count(*) FROM live WHERE serial IS NOT NULL), NULL",
            (bin_seq, item, lot),
        ).fetchall()
        serials = int(rows[-1][0])
        return sum((Decimal(r[1]) for r in rows if r[1] is not None), Decimal(0)), serials

    def unknown_scans(self, count: str | None = None) -> list[UnknownScan]:
        """The scans that matched nothing, oldest first (kept, synced, never counted)."""
        sql = (
            "SELECT u.seq, u.count, u.bin, u.raw, u.problem, u.message, u.counter, "
            "o.device_time FROM unknown_scans u LEFT JOIN outbox o ON o.seq = u.seq"
        )
        params: tuple[str, ...] = ()
        if count is not None:
            sql += " WHERE u.count = ?"
            params = (count,)
        rows = self._conn.execute(sql + " ORDER BY u.seq", params).fetchall()
        return [
            UnknownScan(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                r[6],
                datetime.fromisoformat(r[7]) if r[7] else None,
            )
            for r in rows
        ]

    # --- counters and the site's settings (pulled) ----------------------------------------

    def has_counters(self) -> bool:
        return self._cached(("has_counters", None), self._read_has_counters)

    def _read_has_counters(self) -> bool:
        return self._conn.execute("SELECT 1 FROM ref_counters LIMIT 1").fetchone() is not None

    def counter_verifier(self, username: str) -> tuple[PinVerifier, int] | None:
        """The counter's PIN verifier and how many wrong PINs in a row were keyed."""
        row = self._conn.execute(
            "SELECT verifier, failures FROM ref_counters WHERE username = ?", (username,)
        ).fetchone()
        return None if row is None else (_VERIFIER_DECODER.decode(row[0]), int(row[1]))

    def set_counter_failures(self, username: str, failures: int) -> None:
        with self.transaction():
            self._conn.execute(
                "UPDATE ref_counters SET failures = ? WHERE username = ?", (failures, username)
            )

    def site_settings(self) -> DeviceSettings | None:
        text = self.setting(SITE_SETTINGS)
        return None if text is None else _SETTINGS_DECODER.decode(text)

    def live_serial_bins(self, count: str, item: str, serial: str) -> list[tuple[int, str]]:
        """(bin_seq, bin) of every live scan of this serial in the count."""
        rows = self._conn.execute(
            "SELECT bin_seq, bin FROM scans WHERE count = ? AND item = ? AND serial = ? "
            "AND undone_seq IS NULL ORDER BY seq",
            (count, item, serial),
        ).fetchall()
        return [(int(r[0]), str(r[1])) for r in rows]


def _item_info(row: tuple[str, str, str, int, str]) -> ItemInfo:
    mode: Literal["unit", "measure"] = "measure" if row[4] == "measure" else "unit"
    return ItemInfo(row[0], row[1], cast(Tracking, row[2]), bool(row[3]), mode)


def open_or_create(path: Path) -> Store:
    return Store.open(path) if path.exists() else Store.create(path)


def iter_states(summary: dict[OutboxState, int]) -> Iterable[tuple[OutboxState, int]]:
    return ((state, summary[state]) for state in OUTBOX_STATES)
