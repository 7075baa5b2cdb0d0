"""The master data importer: CSV and JSON, several sources, all or nothing.

docs/IMPORT_FORMAT.md is the spec. An import runs in four steps, each on whole sets:

1. read: every source is parsed into typed rows (server.domain.masterdata.imports);
2. check: duplicates within the import, found in Python with dicts;
3. resolve: the codes the import defines or names are looked up once per kind, then every
   reference, duplicate against the database, serial tracking and opening-stock rule is
   checked row by row against those dicts (no query per row);
4. write: kind by kind in the documented order, in bulk, in ONE transaction.

Any problem in steps 1 to 3 raises before anything is written: `ValidationFailed` (or
`Conflict` when every problem is a record that already exists), whose details name the
file, the row (and CSV line) and the field of each problem, the first 100 of them.

Entry points (stable; the CLI, the HTTP API and the demo use them):

    await import_sources(uow, sources, say=None) -> dict[str, int]
        Imports and commits; answers rows stored per kind, in the order applied.
        `uow` is a MasterDataUnitOfWork (server.uow.SqlUnitOfWork(sessionmaker)); a source is a
        `Source(name, path | bytes | records, kind | None)` or that as a plain tuple.

Opening a database by URL for scripts, the CLI and the demo is an adapter's job:
server.bootstrap.import_into_database; `stockcount import` is
server.cli.import_files.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar

from server.domain.errors import Conflict, FieldProblem, ValidationFailed
from server.domain.masterdata import Tracking
from server.domain.masterdata.imports import (
    JOURNAL_SPECS,
    KINDS,
    SINGULAR,
    BinRow,
    CompanyRow,
    FieldError,
    GlAccountRow,
    GlEntityRow,
    InventoryGroupRow,
    ItemRow,
    LocationRow,
    OpeningStockRow,
    ReasonCodeRow,
    Row,
    RowParser,
    SerialRow,
    check_opening_stock,
    check_serial_item,
    describe_key,
    key_of,
    opening_average,
)
from server.domain.masterdata.updates import UPDATABLE_KINDS
from server.masterdata.ports import MasterDataRepository, MasterDataUnitOfWork
from server.masterdata.usecases.journal_kinds import JournalResolver
from server.masterdata.usecases.sources import (
    Batch,
    Problems,
    Say,
    Source,
    SourceLike,
    as_source,
    read_sources,
    rows_of,
)
from server.masterdata.usecases.updates import Updater, Updating
from server.ports import Actor, AuditAction, AuditEntry, NewBalance, NewSerial

if TYPE_CHECKING:
    pass

R = TypeVar("R", bound=Row)
# The kinds identified by a code alone (items are looked up with their tracking).
_CODED = ("companies", "gl_accounts", "gl_entities", "inventory_groups", "locations")
NOTHING_IMPORTED = "nothing was imported"
# A duplicate against the database is a conflict; the code lets the API answer 409.
_EXISTS = "already exists in the database"


@dataclass(frozen=True, slots=True)
class ImportSummary:
    rows: dict[str, int]
    seconds: float
    # An update import: records changed and rows that changed nothing, per kind.
    updated: dict[str, int] | None = None
    unchanged: dict[str, int] | None = None


@dataclass(frozen=True, slots=True)
class Stored:
    """What one import stored: rows created per kind, and each row of a single-record
    import; an update import also the records it changed and left as they were, per kind."""

    rows: dict[str, int]
    records: list[tuple[str, Row]]
    updated: dict[str, int] = dataclasses.field(default_factory=dict)
    unchanged: dict[str, int] = dataclasses.field(default_factory=dict)


async def import_sources(
    uow: MasterDataUnitOfWork,
    sources: Sequence[SourceLike],
    say: Say | None = None,
    update: Updating | None = None,
) -> dict[str, int]:
    """Import every source in one transaction and commit; rows stored per kind.

    Raises ValidationFailed (or Conflict) naming file, row and field; nothing is stored then.
    """
    return (await run_import(uow, sources, say, update)).rows


async def run_import(
    uow: MasterDataUnitOfWork,
    sources: Sequence[SourceLike],
    say: Say | None = None,
    update: Updating | None = None,
    audit_as: Actor | None = None,
) -> Stored:
    """import_sources, answering what it stored, updated and left unchanged. With
    `audit_as` (who, when) the import is in the audit trail, in its transaction."""
    async with uow:
        given = [as_source(s) for s in sources]
        stored = await store(uow, given, say, update=update)
        if audit_as is not None:
            counts = [f"{k} {n} created" for k, n in stored.rows.items() if n]
            counts += [f"{k} {n} updated" for k, n in stored.updated.items() if n]
            await uow.audit.record(
                AuditEntry(
                    AuditAction.UPDATE if update is not None else AuditAction.IMPORT,
                    audit_as.user_id,
                    audit_as.at,
                    subject=", ".join(s.name for s in given),
                    detail=", ".join(counts) or "nothing changed",
                    caller=audit_as.caller,
                )
            )
        await uow.commit()
    return stored


async def store(
    uow: MasterDataUnitOfWork,
    sources: Sequence[Source],
    say: Say | None = None,
    refused: str = NOTHING_IMPORTED,
    update: Updating | None = None,
) -> Stored:
    """Read, check, resolve and write inside the caller's open unit of work (no commit).

    `update`: rows whose key exists update that record (server.masterdata.usecases.updates);
    None: they are conflicts.
    """
    problems = Problems()
    batches = read_sources(sources, RowParser(), problems, say)
    _raise_if(problems, refused)
    _duplicates_within(batches, problems)
    _raise_if(problems, refused)
    resolver = await Resolver.load(uow.masterdata, batches, update=update is not None)
    resolver.check(problems)
    _raise_if(problems, refused)
    updater = await Updater.load(uow, resolver, update, refused) if update else None
    await _refuse_frozen_bins(uow, resolver, refused)
    if updater is not None:
        await updater.release_barcodes()
    rows = await resolver.write(say)
    if updater is not None:
        await updater.write()
    records = [(b.kind, r) for b in batches for r in b.rows] if len(sources) == 1 else []
    if updater is None:
        return Stored(rows, records)
    return Stored(rows, records, updater.updated, updater.unchanged)


async def _refuse_frozen_bins(uow: MasterDataUnitOfWork, resolver: Resolver, refused: str) -> None:
    """Serials and opening stock change stock: not in bins a stock count has frozen."""
    locations = resolver.ids.get("locations", {})
    targets: dict[int, str] = {}
    for kind in ("serials", "opening_stock"):
        existing = resolver.existing.get(kind, set())
        for _, _, r in rows_of(resolver.batches, kind):
            assert isinstance(r, SerialRow | OpeningStockRow)
            if existing and key_of(kind, r) in existing:
                continue  # an update of a stored serial: it changes no stock
            bin_id = resolver.bins.get((locations.get(r.location, -1), r.bin))
            if bin_id is not None:
                targets[bin_id] = f"{r.location}/{r.bin}"
    frozen = await uow.postings.frozen_bin_ids(targets) if targets else {}
    if frozen:
        raise Conflict(
            f"{refused}: bin {targets[min(frozen)]} is being counted by stock count "
            f"{frozen[min(frozen)]}; import into it after the count is completed or cancelled",
            [
                FieldProblem(f"bins/{targets[b]}", f"frozen by stock count {n}")
                for b, n in sorted(frozen.items())
            ][:100],
            code="bins-frozen",
        )


def _raise_if(problems: Problems, refused: str) -> None:
    if not problems:
        return
    details = [FieldProblem(p.location, p.message) for p in problems.items]
    if all(p.message.startswith(_EXISTS) for p in details):
        raise Conflict(refused, details)
    raise ValidationFailed(refused, details)


def _duplicates_within(batches: Sequence[Batch], problems: Problems) -> None:
    for kind in KINDS:
        keys = [key_of(kind, row) for _, _, row in rows_of(batches, kind)]
        if len(set(keys)) == len(keys):
            continue  # no duplicates: the common case, checked at C speed
        first: dict[tuple[str, ...], tuple[Batch, int]] = {}
        for batch, index, row in rows_of(batches, kind):
            key = key_of(kind, row)
            seen = first.setdefault(key, (batch, index))
            if seen != (batch, index):
                problems.add(
                    batch.where(index, _key_field(kind)),
                    f"{describe_key(kind, key)} is also at {seen[0].where(seen[1])}",
                )
    owners: dict[str, tuple[Batch, int]] = {}
    for batch, index, row in rows_of(batches, "items"):
        assert isinstance(row, ItemRow)
        for barcode in row.barcodes:
            seen = owners.setdefault(barcode, (batch, index))
            if seen[0] is not batch or seen[1] != index:
                problems.add(
                    batch.where(index, "barcodes"),
                    f"barcode {barcode!r} is also at {seen[0].where(seen[1])}",
                )


def _key_field(kind: str) -> str:
    if kind in JOURNAL_SPECS:
        return (JOURNAL_SPECS[kind].key or ("kind",))[-1]
    return {"bins": "label", "serials": "serial_number", "opening_stock": "bin"}.get(kind, "code")


def _typed(batches: Sequence[Batch], kind: str, cls: type[R]) -> Iterator[tuple[Batch, int, R]]:
    for batch, index, row in rows_of(batches, kind):
        assert isinstance(row, cls)
        yield batch, index, row


class Resolver:
    """The import's rows beside the database ids of every code they define or name."""

    def __init__(
        self, repo: MasterDataRepository, batches: Sequence[Batch], update: bool = False
    ) -> None:
        self.repo = repo
        self.batches = batches
        # An update import: rows whose key exists update the record (import_updates).
        self.update = update
        self.existing: dict[str, set[tuple[str, ...]]] = defaultdict(set)
        # Codes defined by this import, per kind.
        self.defined: dict[str, set[str]] = {
            k: {key_of(k, r)[0] for _, _, r in rows_of(batches, k)} for k in KINDS
        }
        self.ids: dict[str, dict[str, int]] = {k: {} for k in _CODED}
        self.items: dict[str, tuple[int, Tracking]] = {}
        self.item_tracking: dict[str, Tracking] = {}
        self.bins: dict[tuple[int, str], int] = {}
        self.new_bins: set[tuple[str, str]] = set()
        self.barcodes: dict[str, str] = {}
        self.serials: set[tuple[int, str]] = set()
        self.balances: set[tuple[int, int, str]] = set()
        self.journal = JournalResolver(repo, batches, self.defined)
        self.reason_codes: dict[str, int] = {}  # codes of this import already stored

    @classmethod
    async def load(
        cls, repo: MasterDataRepository, batches: Sequence[Batch], update: bool = False
    ) -> Resolver:
        self = cls(repo, batches, update)
        named: dict[str, set[str]] = defaultdict(set)
        for kind in _CODED:
            named[kind] |= self.defined[kind]
        for _, _, e in _typed(batches, "gl_entities", GlEntityRow):
            named["companies"].add(e.company)
        for _, _, g in _typed(batches, "inventory_groups", InventoryGroupRow):
            for account in (g.inventory_account, g.adjustment_account):
                if account:
                    named["gl_accounts"].add(account)
            if g.gl_entity:
                named["gl_entities"].add(g.gl_entity)
        for _, _, loc in _typed(batches, "locations", LocationRow):
            named["companies"].add(loc.company)
            if loc.gl_entity:
                named["gl_entities"].add(loc.gl_entity)
        items = set(self.defined["items"])
        for _, _, i in _typed(batches, "items", ItemRow):
            if i.inventory_group:
                named["inventory_groups"].add(i.inventory_group)
            self.item_tracking[i.code] = i.tracking
        for kind in ("bins", "serials", "opening_stock"):
            for _, _, r in rows_of(batches, kind):
                assert isinstance(r, BinRow | SerialRow | OpeningStockRow)
                named["locations"].add(r.location)
                if not isinstance(r, BinRow):
                    items.add(r.item)
        for kind, codes in named.items():
            if codes:
                self.ids[kind] = await repo.ids_by_code(kind, codes)
        self.items = await repo.items_by_code(items) if items else {}
        for code, (_, tracking) in self.items.items():
            self.item_tracking.setdefault(code, tracking)
        locations = self.ids.get("locations", {})
        if locations:
            self.bins = await repo.bins_in(set(locations.values()))
        self.new_bins = {(b.location, b.label) for _, _, b in _typed(batches, "bins", BinRow)}
        barcodes = {b for _, _, i in _typed(batches, "items", ItemRow) for b in i.barcodes}
        if barcodes:
            self.barcodes = await repo.barcode_owners(barcodes)
        serial_items = {
            self.items[s.item][0]
            for _, _, s in _typed(batches, "serials", SerialRow)
            if s.item in self.items
        }
        if serial_items:
            self.serials = await repo.serial_numbers_of(serial_items)
        opening_items = {
            self.items[o.item][0]
            for _, _, o in _typed(batches, "opening_stock", OpeningStockRow)
            if o.item in self.items
        }
        if opening_items:
            self.balances = await repo.balance_keys_of(opening_items)
        self.journal = await JournalResolver.load(repo, batches, self.defined)
        if self.defined["reason_codes"]:
            self.reason_codes = await repo.ids_by_code("reason_codes", self.defined["reason_codes"])
        return self

    # -- checks ----------------------------------------------------------------------

    def _known(self, kind: str, code: str) -> bool:
        return code in self.defined[kind] or code in self.ids.get(kind, {})

    def _reference(
        self, problems: Problems, batch: Batch, index: int, field: str, kind: str, code: str | None
    ) -> None:
        if code is not None and not self._known(kind, code):
            problems.add(
                batch.where(index, field),
                f"unknown {SINGULAR[kind]} {code!r}: it is neither in this import "
                "nor in the database",
            )

    def _bin_known(self, location: str, label: str) -> bool:
        if (location, label) in self.new_bins:
            return True
        location_id = self.ids["locations"].get(location)
        return location_id is not None and (location_id, label) in self.bins

    def _exists(
        self, problems: Problems, batch: Batch, index: int, field: str, kind: str, row: Row
    ) -> None:
        """A row whose key is stored: an update of that record, or else a conflict."""
        key = key_of(kind, row)
        if self.update and kind in UPDATABLE_KINDS:
            self.existing[kind].add(key)
        else:
            problems.add(batch.where(index, field), f"{_EXISTS}: {describe_key(kind, key)}")

    def check(self, problems: Problems) -> None:
        for kind in _CODED:
            existing = self.ids[kind]
            for batch, index, row in rows_of(self.batches, kind):
                if key_of(kind, row)[0] in existing:
                    self._exists(problems, batch, index, "code", kind, row)
        for batch, index, e in _typed(self.batches, "gl_entities", GlEntityRow):
            self._reference(problems, batch, index, "company", "companies", e.company)
        for batch, index, g in _typed(self.batches, "inventory_groups", InventoryGroupRow):
            for field in ("inventory_account", "adjustment_account"):
                self._reference(problems, batch, index, field, "gl_accounts", getattr(g, field))
            self._reference(problems, batch, index, "gl_entity", "gl_entities", g.gl_entity)
        for batch, index, loc in _typed(self.batches, "locations", LocationRow):
            self._reference(problems, batch, index, "company", "companies", loc.company)
            self._reference(problems, batch, index, "gl_entity", "gl_entities", loc.gl_entity)
        self._check_bins(problems)
        self._check_items(problems)
        self._check_serials(problems)
        self._check_opening_stock(problems)
        self.journal.check(problems)
        for batch, index, r in _typed(self.batches, "reason_codes", ReasonCodeRow):
            if r.code in self.reason_codes:
                self._exists(problems, batch, index, "code", "reason_codes", r)

    def _check_bins(self, problems: Problems) -> None:
        locations = self.ids["locations"]
        for batch, index, b in _typed(self.batches, "bins", BinRow):
            self._reference(problems, batch, index, "location", "locations", b.location)
            location_id = locations.get(b.location)
            if location_id is not None and (location_id, b.label) in self.bins:
                self._exists(problems, batch, index, "label", "bins", b)

    def _check_items(self, problems: Problems) -> None:
        released = self._released_barcodes() if self.update else set()
        for batch, index, i in _typed(self.batches, "items", ItemRow):
            if i.code in self.items:
                self._exists(problems, batch, index, "code", "items", i)
            self._reference(
                problems, batch, index, "inventory_group", "inventory_groups", i.inventory_group
            )
            for barcode in i.barcodes:
                owner = self.barcodes.get(barcode)
                if owner is not None and not (
                    self.update and (owner == i.code or barcode in released)
                ):
                    problems.add(
                        batch.where(index, "barcodes"),
                        f"{_EXISTS}: barcode {barcode!r} belongs to item {owner!r}",
                    )

    def _released_barcodes(self) -> set[str]:
        """Barcodes whose stored owner is updated in this import to a set without them."""
        given: dict[str, set[str]] = {}
        for batch, index, i in _typed(self.batches, "items", ItemRow):
            if i.code in self.items and "barcodes" in batch.fields_given(index):
                given[i.code] = set(i.barcodes)
        return {b for b, owner in self.barcodes.items() if b not in given.get(owner, {b})}

    def _check_place(
        self, problems: Problems, batch: Batch, index: int, row: SerialRow | OpeningStockRow
    ) -> Tracking | None:
        """Checks item, location and bin of a serial or opening row; the item's tracking."""
        tracking = self.item_tracking.get(row.item)
        if tracking is None:
            self._reference(problems, batch, index, "item", "items", row.item)
        if not self._known("locations", row.location):
            self._reference(problems, batch, index, "location", "locations", row.location)
        elif not self._bin_known(row.location, row.bin):
            problems.add(
                batch.where(index, "bin"),
                f"location {row.location!r} has no bin {row.bin!r} (neither in this import "
                "nor in the database)",
            )
        return tracking

    def _check_serials(self, problems: Problems) -> None:
        for batch, index, s in _typed(self.batches, "serials", SerialRow):
            tracking = self._check_place(problems, batch, index, s)
            if tracking is not None:
                try:
                    check_serial_item(tracking, s.item)
                except FieldError as exc:
                    problems.add(batch.where(index, exc.field), exc.message)
            known = self.items.get(s.item)
            if known is not None and (known[0], s.serial_number) in self.serials:
                self._exists(problems, batch, index, "serial_number", "serials", s)
            if problems.full:
                return

    def _check_opening_stock(self, problems: Problems) -> None:
        locations = self.ids["locations"]
        for batch, index, o in _typed(self.batches, "opening_stock", OpeningStockRow):
            tracking = self._check_place(problems, batch, index, o)
            if tracking is not None:
                try:
                    check_opening_stock(tracking, o)
                except FieldError as exc:
                    problems.add(batch.where(index, exc.field), exc.message)
            known = self.items.get(o.item)
            location_id = locations.get(o.location)
            bin_id = self.bins.get((location_id, o.bin)) if location_id is not None else None
            if (
                known is not None
                and bin_id is not None
                and ((known[0], bin_id, o.lot) in self.balances)
            ):
                problems.add(
                    batch.where(index, "bin"),
                    f"{_EXISTS}: {describe_key('opening_stock', key_of('opening_stock', o))}",
                )

    # -- writes ----------------------------------------------------------------------

    async def write(self, say: Say | None) -> dict[str, int]:
        repo, ids, b = self.repo, self.ids, self.batches
        counts: dict[str, int] = {}

        def rows(kind: str, cls: type[R]) -> list[R]:
            found = [r for _, _, r in _typed(b, kind, cls)]
            if kind in self.existing:  # an update import: those rows update (import_updates)
                found = [r for r in found if key_of(kind, r) not in self.existing[kind]]
            if found:
                counts[kind] = len(found)
            return found

        def new_ids(kind: str, added: dict[str, int]) -> None:
            ids.setdefault(kind, {}).update(added)

        def opt(kind: str, code: str | None) -> int | None:
            return None if code is None else ids[kind][code]

        if companies := rows("companies", CompanyRow):
            new_ids("companies", await repo.add_companies(companies))
        if accounts := rows("gl_accounts", GlAccountRow):
            new_ids("gl_accounts", await repo.add_gl_accounts(accounts))
        if entities := rows("gl_entities", GlEntityRow):
            new_ids(
                "gl_entities",
                await repo.add_gl_entities([(e, ids["companies"][e.company]) for e in entities]),
            )
        if groups := rows("inventory_groups", InventoryGroupRow):
            new_ids(
                "inventory_groups",
                await repo.add_inventory_groups(
                    [
                        (
                            g,
                            opt("gl_accounts", g.inventory_account),
                            opt("gl_accounts", g.adjustment_account),
                            opt("gl_entities", g.gl_entity),
                        )
                        for g in groups
                    ]
                ),
            )
        if locations := rows("locations", LocationRow):
            new_ids(
                "locations",
                await repo.add_locations(
                    [
                        (loc, ids["companies"][loc.company], opt("gl_entities", loc.gl_entity))
                        for loc in locations
                    ]
                ),
            )
        location_ids = ids.get("locations", {})
        if bins := rows("bins", BinRow):
            self.bins.update(
                await repo.add_bins([(bin_, location_ids[bin_.location]) for bin_ in bins])
            )
        if items := rows("items", ItemRow):
            added = await repo.add_items(
                [(i, opt("inventory_groups", i.inventory_group)) for i in items]
            )
            self.items.update((i.code, (added[i.code], i.tracking)) for i in items)
        serial_total = sum(len(batch.rows) for batch in b if batch.kind == "serials")
        serial_total -= len(self.existing.get("serials", ()))
        if serial_total:
            counts["serials"] = await repo.add_serials(
                self._new_serials(location_ids), _serial_progress(say, serial_total)
            )
        if opening := rows("opening_stock", OpeningStockRow):
            await self._write_opening_stock(opening, location_ids)
        counts.update(await self.journal.write())
        if reasons := rows("reason_codes", ReasonCodeRow):
            await repo.add_reason_codes(reasons)
        return {k: counts[k] for k in KINDS if k in counts}

    def _new_serials(self, location_ids: dict[str, int]) -> Iterator[NewSerial]:
        items, bins = self.items, self.bins
        existing = self.existing.get("serials", set())
        for _, _, s in _typed(self.batches, "serials", SerialRow):
            if existing and (s.item, s.serial_number) in existing:
                continue
            yield (
                items[s.item][0],
                s.serial_number,
                bins[(location_ids[s.location], s.bin)],
                s.actual_cost,
            )

    async def _write_opening_stock(
        self, opening: list[OpeningStockRow], location_ids: dict[str, int]
    ) -> None:
        balances: list[NewBalance] = []
        per_location: dict[tuple[int, int], list[tuple[Decimal, Decimal]]] = defaultdict(list)
        for o in opening:
            item_id = self.items[o.item][0]
            location_id = location_ids[o.location]
            balances.append((item_id, self.bins[(location_id, o.bin)], o.lot, o.quantity))
            per_location[(item_id, location_id)].append((o.quantity, o.unit_cost))
        existing = await self.repo.location_costs({i for i, _ in per_location})
        await self.repo.add_balances(balances)
        await self.repo.set_location_costs(
            {key: opening_average(existing.get(key), rows) for key, rows in per_location.items()}
        )


def _serial_progress(say: Say | None, total: int) -> Callable[[int], None] | None:
    if say is None or total < 100_000:
        return None

    def progress(done: int) -> None:
        if done % 200_000 < 50_000 or done == total:
            say(f"serials: {done:,} of {total:,} stored")

    return progress


def format_summary(summary: ImportSummary) -> str:
    """A readable table: rows per kind, the total and the time."""
    if summary.updated is not None and summary.unchanged is not None:
        return _format_update_summary(summary, summary.updated, summary.unchanged)
    width = max([len(k) for k in summary.rows] + [len("total")])
    lines = [f"{'kind':<{width}}  {'rows':>10}"]
    lines += [f"{kind:<{width}}  {count:>10,}" for kind, count in summary.rows.items()]
    total = sum(summary.rows.values())
    lines.append(f"{'total':<{width}}  {total:>10,}")
    rate = f", {total / summary.seconds:,.0f} rows/s" if summary.seconds > 0 and total else ""
    lines.append(f"imported in {summary.seconds:.2f} s{rate}")
    return "\n".join(lines)


def _format_update_summary(
    summary: ImportSummary, updated: dict[str, int], unchanged: dict[str, int]
) -> str:
    """Per kind: records created, updated and left unchanged; the totals and the time."""
    kinds = [k for k in KINDS if k in summary.rows or k in updated or k in unchanged]
    width = max([len(k) for k in kinds] + [len("total")])
    columns = (summary.rows, updated, unchanged)
    lines = [f"{'kind':<{width}}  {'created':>10}  {'updated':>10}  {'unchanged':>10}"]
    for kind in [*kinds, "total"]:
        n = [sum(c.values()) if kind == "total" else c.get(kind, 0) for c in columns]
        lines.append(f"{kind:<{width}}  {n[0]:>10,}  {n[1]:>10,}  {n[2]:>10,}")
    lines.append(f"imported in {summary.seconds:.2f} s")
    return "\n".join(lines)


__all__ = [
    "ImportSummary",
    "Source",
    "Updating",
    "format_summary",
    "import_sources",
    "run_import",
    "store",
]
