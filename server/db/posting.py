"""THE shared entry point that writes a posted document to the database.

The domain's `server.domain.posting.post` turns a document (a Quantity Adjustment, a
Stock Transfer, a Journal Transaction) into a `PostingResult`; `SqlPostings.apply` writes
that result inside the caller's open transaction, set-based, and nothing else writes stock:

- refuses the whole result when a bin it touches is frozen by a stock count in process
  (Counting in Process or Counted), with a Conflict (code "bins-frozen") naming the count.
  The counts answer which bins are frozen (a `FrozenBins` reader, server.counts.sql.frozen).
  A finalize has judged them already (`PostingContext.frozen_bins_judged`: the domain's
  `post` refused the bins frozen by other counts, read in the same transaction), so they
  are not read again for it;
- stock_balance: one upsert per (item, bin, lot) of untracked and lot items;
- serial: moved between bins, written off (bin NULL), gained or generated (inserted, or
  back into stock when the serial exists out of stock); a serial that is not where the
  effect says it is refuses the result;
- item_location_cost: the final average cost of every (item, location) the result touched;
- stock_movement and gl_posting: the inventory and GL history, one executemany each.

Serials are looked up and moved by joining a VALUES list of their (item, serial number)
keys against the unique index: one probe per key on both databases.

Codes are resolved to ids once per kind for the whole result (`resolve`: a caller that
writes more than one result, or rows of its own beside them, resolves once and passes the
`PostingIds` on); writes are executemany per chunk (on SQLite all of a result's writes go
to the driver in one hand-over, server.db.direct.Writes). A location side without a bin cannot
hold stock here (stock_balance is per bin): such a movement is refused (code "bin-required").

The rules are the domain's (server.domain.posting: `require_bins`, `refuse_frozen_bins`,
`refuse_misplaced_serials`); this module reads the facts they judge, and writes.

The journal calls it as `await uow.postings.apply(result, PostingContext(...))`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, and_, cast, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from server.db.direct import Writes, connection
from server.db.ids import known_ids
from server.db.session import Session
from server.db.tables import (
    Bin,
    Company,
    GlEntity,
    Item,
    Location,
    Serial,
)
from server.db.writes import (
    LOOKUP_CHUNK,
    SERIAL_CHUNK,
    WRITE_CHUNK,
    chunks,
    keys_table,
    scaled,
    table,
)
from server.domain.errors import FieldProblem, ValidationFailed
from server.domain.masterdata import Tracking
from server.domain.money import COST_PLACES
from server.domain.posting import (
    LocationSide,
    PostingResult,
    refuse_frozen_bins,
    refuse_misplaced_serials,
    require_bins,
)
from server.ports import FrozenBins, PostingContext, PostingIds

_SERIAL_KEY = (("item_id", "BIGINT"), ("number", "TEXT"))
_SERIAL_MOVE = (*_SERIAL_KEY, ("bin_id", "BIGINT"), ("actual_cost", "BIGINT"))


def _writes(dialect: str) -> dict[str, Any]:
    """The writer's statements for a dialect, built once per process: each execution
    reuses their compiled form (building and compiling one per write was a good part
    of a journal save)."""
    found = _WRITES.get(dialect)
    if found is None:
        insert_of = postgresql.insert if dialect == "postgresql" else sqlite.insert
        balance = table("stock_balance")
        balances = insert_of(balance)
        cost = table("item_location_cost")
        costs = insert_of(cost)
        found = _WRITES[dialect] = {
            "balances": balances.on_conflict_do_update(
                index_elements=["item_id", "bin_id", "lot"],
                set_={"quantity": balance.c.quantity + balances.excluded.quantity},
            ),
            # An unchanged average (the issuing side of a transfer, say) is not written
            # again: no new row version on PostgreSQL, no page written on SQLite.
            "costs": costs.on_conflict_do_update(
                index_elements=["item_id", "location_id"],
                set_={"average_cost": costs.excluded.average_cost},
                where=cost.c.average_cost != costs.excluded.average_cost,
            ),
            "serials": insert(table("serial")),
            "movements": insert(table("stock_movement")),
            "gl": insert(table("gl_posting")),
        }
    return found


_WRITES: dict[str, dict[str, Any]] = {}

# The columns of a movement's and a GL line's row, in the order their tuples give them.
_MOVEMENT_KEYS = (
    "item_id", "location_id", "bin_id", "lot", "serial_number", "quantity", "unit_cost",
    "value", "document_kind", "document_id", "document_number", "line_no", "job",
    "work_order", "cost_code", "cost_category", "posted_at", "posting_date",
)  # fmt: skip
_GL_KEYS = (
    "account_code", "entity_code", "company_code", "period", "intercompany", "journal_name",
    "document_kind", "document_id", "document_number", "line_no", "amount", "posting_date",
    "posted_at",
)  # fmt: skip


class SqlPostings:
    def __init__(self, session: Session, frozen: FrozenBins) -> None:
        self.session = session
        self.frozen = frozen

    # -- frozen bins: read by the counts' SQL (server.counts.sql.frozen) ------------------

    async def frozen_bins(
        self, location_codes: Collection[str], exempt_count: int | None = None
    ) -> dict[tuple[str, str], str]:
        return await self.frozen.frozen_bins(location_codes, exempt_count)

    async def frozen_bins_at(
        self, bins: Collection[tuple[str, str]], locations: Collection[str] = ()
    ) -> dict[tuple[str, str], str]:
        return await self.frozen.frozen_bins_at(bins, locations)

    async def frozen_bin_ids(self, bin_ids: Collection[int]) -> dict[int, str]:
        return await self.frozen.frozen_bin_ids(bin_ids)

    # -- apply -----------------------------------------------------------------------

    async def resolve(
        self,
        results: Sequence[PostingResult],
        *,
        items: Collection[str] = (),
        bins: Collection[tuple[str, str]] = (),
    ) -> PostingIds:
        return await _resolve(self.session, results, items, bins)

    async def apply(
        self, result: PostingResult, context: PostingContext, ids: PostingIds | None = None
    ) -> None:
        """Write `result` in the caller's transaction (no commit). All or nothing: raises
        Conflict or ValidationFailed before writing when the result cannot be applied.
        `ids`: the codes already resolved (`resolve`) for this result."""
        if ids is None:
            ids = await _resolve(self.session, [result])
        if context.frozen_bins_judged is None:
            await self._refuse_frozen(ids, result)
        serials = await self._check_serials(ids, result)
        # On SQLite the writes below go to the driver together (server.db.direct); on
        # PostgreSQL a small result's writes are one statement (_CombinedWrites).
        conn = await connection(self.session)
        writes = batched_writes(conn)
        await self._write_balances(ids, result, writes)
        await self._write_serials(ids, result, serials, writes)
        await self._write_costs(ids, result, writes)
        await self._write_movements(ids, result, context, writes)
        await self._write_gl(ids, result, context, writes)
        await writes.flush()

    async def _refuse_frozen(self, ids: PostingIds, result: PostingResult) -> None:
        sides = [m.place for m in result.movements if isinstance(m.place, LocationSide)]
        sides += [s for e in result.serial_effects for s in (e.source, e.target) if s is not None]
        bins = {ids.bin_of(s) for s in sides if s.bin is not None}
        frozen = await self.frozen.frozen_bin_ids(bins) if bins else {}
        labels = {v: label for (_, label), v in ids.bins.items()}
        refuse_frozen_bins([(labels[b], n) for b, n in sorted(frozen.items())])

    async def _check_serials(
        self, ids: PostingIds, result: PostingResult
    ) -> dict[tuple[int, str], int | None]:
        """Current bin of every serial the result touches; refuses effects that do not fit."""
        keys = {(ids.items[e.item], e.serial) for e in result.serial_effects}
        current: dict[tuple[int, str], int | None] = {}
        conn = await connection(self.session)
        for batch in chunks(keys, SERIAL_CHUNK):
            k = keys_table(self.session.get_bind().dialect.name, "k", _SERIAL_KEY, batch)
            rows = await conn.execute(
                select(Serial.item_id, Serial.serial_number, Serial.bin_id).join(
                    k, and_(Serial.item_id == k.c.item_id, Serial.serial_number == k.c.number)
                )
            )
            for i, s, b in rows:
                current[(int(i), str(s))] = None if b is None else int(b)
        codes = {v: k for k, v in ids.items.items()}
        refuse_misplaced_serials(
            result.serial_effects, {(codes[i], s): b for (i, s), b in current.items()}, ids.bin_of
        )
        return current

    async def _write_balances(
        self, ids: PostingIds, result: PostingResult, writes: Writes | _CombinedWrites
    ) -> None:
        deltas: dict[tuple[int, int, str], Decimal] = {}
        for m in result.movements:
            if not isinstance(m.place, LocationSide) or ids.tracking[m.item] is Tracking.SERIAL:
                continue
            key = (ids.items[m.item], ids.bin_of(m.place), m.lot)
            deltas[key] = deltas.get(key, Decimal(0)) + m.quantity
        rows = [
            {"item_id": i, "bin_id": b, "lot": lot, "quantity": q}
            for (i, b, lot), q in deltas.items()
            if q != 0
        ]
        if not rows:
            return
        stmt = _writes(writes.dialect_name)["balances"]
        for batch in chunks(rows, WRITE_CHUNK):
            await writes.add(stmt, batch)

    async def _write_serials(
        self,
        ids: PostingIds,
        result: PostingResult,
        current: Mapping[tuple[int, str], int | None],
        writes: Writes | _CombinedWrites,
    ) -> None:
        # Keyed by serial: should a result move one serial twice, the last effect wins, as
        # it did when the updates ran one by one.
        moves: dict[tuple[int, str], tuple[int, str, int | None, int]] = {}
        inserts: list[dict[str, Any]] = []
        for e in result.serial_effects:
            key = (ids.items[e.item], e.serial)
            target = None if e.target is None else ids.bin_of(e.target)
            if e.source is None and key not in current:
                inserts.append(
                    {"item_id": key[0], "serial_number": e.serial, "bin_id": target,
                     "actual_cost": e.actual_cost}
                )  # fmt: skip
            else:
                moves[key] = (key[0], e.serial, target, scaled(e.actual_cost, COST_PLACES))
        if moves:
            await writes.flush()  # in order: the balances before the serials
            # A serial back into stock takes the effect's cost; a move keeps its own cost
            # (the effect carries the serial's actual cost, so the value is the same).
            # One UPDATE ... FROM (VALUES ...) per chunk: each key one probe of the unique
            # (item, serial number) index, no statement per row.
            serial = table("serial")
            for part in chunks(moves.values(), SERIAL_CHUNK):
                k = keys_table(writes.dialect_name, "k", _SERIAL_MOVE, part)
                await self.session.execute(
                    update(serial)
                    .where(serial.c.item_id == k.c.item_id, serial.c.serial_number == k.c.number)
                    # Cast: a chunk of write-offs has only NULL bins, which PostgreSQL
                    # would type as text.
                    .values(
                        bin_id=cast(k.c.bin_id, BigInteger),
                        actual_cost=cast(k.c.actual_cost, BigInteger),
                    )
                )
        if inserts:
            stmt = _writes(writes.dialect_name)["serials"]
            for batch in chunks(inserts, WRITE_CHUNK):
                await writes.add(stmt, batch)

    async def _write_costs(
        self, ids: PostingIds, result: PostingResult, writes: Writes | _CombinedWrites
    ) -> None:
        rows = [
            {"item_id": ids.items[item], "location_id": ids.locations[loc],
             "average_cost": p.average_cost}
            for (item, loc), p in result.positions.items()
        ]  # fmt: skip
        if not rows:
            return
        stmt = _writes(writes.dialect_name)["costs"]
        for batch in chunks(rows, WRITE_CHUNK):
            await writes.add(stmt, batch)

    async def _write_movements(
        self,
        ids: PostingIds,
        result: PostingResult,
        context: PostingContext,
        writes: Writes | _CombinedWrites,
    ) -> None:
        if not result.movements:
            return
        kind, number = context.document_kind, context.document_number
        document, at, day = context.document_id, context.posted_at, context.posting_date
        rows: list[tuple[Any, ...]] = []
        for m in result.movements:
            place = m.place
            location_id: int | None
            bin_id: int | None
            if isinstance(place, LocationSide):
                location_id, bin_id = ids.locations[place.location], ids.bin_of(place)
                job = work_order = cost_code = cost_category = None
            else:
                location_id = bin_id = None
                job = place.job
                work_order = place.work_order or None
                cost_code = place.cost_code or None
                cost_category = place.cost_category or None
            rows.append(
                (ids.items[m.item], location_id, bin_id, m.lot, m.serial, m.quantity,
                 m.unit_cost, m.value, kind, document, number, m.line_no, job, work_order,
                 cost_code, cost_category, at, day)
            )  # fmt: skip
        stmt = _writes(writes.dialect_name)["movements"]
        for batch in chunks(rows, WRITE_CHUNK):
            await writes.add_tuples(stmt, _MOVEMENT_KEYS, batch)

    async def _write_gl(
        self,
        ids: PostingIds,
        result: PostingResult,
        context: PostingContext,
        writes: Writes | _CombinedWrites,
    ) -> None:
        if not result.gl_lines:
            return
        entities = {g.entity for g in result.gl_lines if g.entity is not None}
        # The companies of entities a journal save read with its facts are known already.
        known = known_ids(self.session).entity_companies
        companies = {e: known[e] for e in entities if e in known}
        if entities - companies.keys():
            rows = await self.session.execute(
                select(GlEntity.code, Company.code)
                .join(Company, Company.id == GlEntity.company_id)
                .where(GlEntity.code.in_(entities - companies.keys()))
            )
            companies.update((str(e), str(c)) for e, c in rows)
        # A document whose GL lines reach more than one company is intercompany.
        reached = {companies[e] for e in entities if e in companies}
        intercompany = len(reached) > 1
        period, journal, kind = context.period, context.journal_name, context.document_kind
        document, number = context.document_id, context.document_number
        day, at = context.posting_date, context.posted_at
        values = [
            (g.account, g.entity, companies.get(g.entity) if g.entity is not None else None,
             period, intercompany, journal, kind, document, number, g.line_no, g.amount, day, at)
            for g in result.gl_lines
        ]  # fmt: skip
        stmt = _writes(writes.dialect_name)["gl"]
        for batch in chunks(values, WRITE_CHUNK):
            await writes.add_tuples(stmt, _GL_KEYS, batch)


# Rows a PostgreSQL result writes in one statement at most (a journal save writes a few
# dozen); a count's finalize, with thousands, keeps its executemany per table.
_COMBINED_ROWS = 2_000


class _CombinedWrites:
    """The posting writer's INSERTs on PostgreSQL, sent together at `flush` as one
    statement of data-modifying CTEs (`WITH w0 AS (INSERT ... SELECT FROM unnest(...)),
    ... INSERT ...`): one round trip for balances, costs, movements and GL instead of one
    each. Each INSERT keeps its own row order (the unnest's), so the rows and their ids
    are those the separate executemany wrote; the tables differ and none reads another,
    so the sub-statements' order does not matter. A statement alone is one INSERT ...
    SELECT FROM unnest(...), not an executemany (a statement a row in the pipeline: 20
    rows of a journal's line sides took ~1 ms). More rows than `_COMBINED_ROWS`, or a
    statement not registered (`_COMBINED`, `register_combined`), go as before
    (executemany, one per statement)."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self.dialect_name: str = conn.dialect.name
        # (statement, keys, rows): rows as mappings, or as tuples in the order of keys
        self._pending: list[tuple[Any, tuple[str, ...], list[Any]]] = []
        self._rows = 0

    async def add(self, statement: Any, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            self._pending.append((statement, tuple(rows[0]), list(rows)))
            self._rows += len(rows)

    async def add_tuples(
        self, statement: Any, keys: tuple[str, ...], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        if rows:
            self._pending.append((statement, keys, list(rows)))
            self._rows += len(rows)

    async def flush(self) -> None:
        work, self._pending, rows, self._rows = self._pending, [], self._rows, 0
        if not work:
            return
        parts = [_COMBINED.get(id(statement)) for statement, _, _ in work]
        if rows > _COMBINED_ROWS or None in parts:
            for statement, keys, batch in work:
                if not isinstance(batch[0], Mapping):
                    batch = [dict(zip(keys, row, strict=True)) for row in batch]
                await self._conn.execute(statement, batch)
            return
        dialect = self._conn.dialect
        shape = tuple((id(statement), keys) for statement, keys, _ in work)
        built = _COMBINED_SQL.get(shape)
        if built is None:
            built = _COMBINED_SQL[shape] = _combined(dialect, work)
        sql, processors = built
        params: dict[str, Any] = {}
        for n, ((_, keys, batch), columns) in enumerate(zip(work, processors, strict=True)):
            by_key: list[Any] = (
                [[row[name] for row in batch] for name in keys]
                if isinstance(batch[0], Mapping)
                else list(zip(*batch, strict=True))
            )
            for k, process in enumerate(columns):
                params[f"p{n}_{k}"] = list(
                    by_key[k] if process is None else map(process, by_key[k])
                )
        await self._conn.execute(sql, params)


def _combined(dialect: Any, work: Sequence[tuple[Any, tuple[str, ...], Any]]) -> Any:
    """The one statement for `work`'s statements and columns (in the order of each
    one's keys), and each column's bind processor (the scaled decimals' integers, UTC
    timestamps)."""
    ctes: list[str] = []
    processors: list[list[Any]] = []
    for n, (statement, keys, _) in enumerate(work):
        name, conflict = _COMBINED[id(statement)]
        columns = table(name).c
        names = list(keys)
        arrays = ", ".join(
            f"CAST(:p{n}_{k} AS {columns[c].type.compile(dialect=dialect)}[])"
            for k, c in enumerate(names)
        )
        ctes.append(
            f"INSERT INTO {name} ({', '.join(names)}) SELECT * FROM unnest({arrays}){conflict}"  # noqa: S608
        )
        processors.append([columns[c].type._cached_bind_processor(dialect) for c in names])
    if len(ctes) == 1:
        return text(ctes[0]), processors
    head = ", ".join(f"w{n} AS ({sql})" for n, sql in enumerate(ctes[:-1]))
    return text(f"WITH {head} {ctes[-1]}"), processors


def _combined_parts() -> dict[int, tuple[str, str]]:
    pg = _writes("postgresql")
    return {
        id(pg["balances"]): (
            "stock_balance",
            " ON CONFLICT (item_id, bin_id, lot) "
            "DO UPDATE SET quantity = stock_balance.quantity + excluded.quantity",
        ),
        id(pg["costs"]): (
            "item_location_cost",
            " ON CONFLICT (item_id, location_id) "
            "DO UPDATE SET average_cost = excluded.average_cost "
            "WHERE item_location_cost.average_cost <> excluded.average_cost",
        ),
        id(pg["serials"]): ("serial", ""),
        id(pg["movements"]): ("stock_movement", ""),
        id(pg["gl"]): ("gl_posting", ""),
    }


_COMBINED = _combined_parts()
_COMBINED_SQL: dict[tuple[Any, ...], Any] = {}


def register_combined(statement: Any, table_name: str) -> None:
    """Let `batched_writes` send `statement` (a module-level plain INSERT into
    `table_name`, no conflict clause) with others as one statement on PostgreSQL."""
    _COMBINED[id(statement)] = (table_name, "")


def batched_writes(conn: Any) -> Writes | _CombinedWrites:
    """The writes for `conn`: on PostgreSQL sent together as one statement at `flush`
    (registered statements), on SQLite's driver in one hand-over (server.db.direct)."""
    return _CombinedWrites(conn) if conn.dialect.name == "postgresql" else Writes(conn)


async def _resolve(
    session: Session,
    results: Sequence[PostingResult],
    more_items: Collection[str] = (),
    more_bins: Collection[tuple[str, str]] = (),
) -> PostingIds:
    """The database ids of every code the results name (and of `more_items` and
    `more_bins`), looked up once per kind."""
    sides: list[LocationSide] = []
    item_codes = set(more_items)
    location_codes = {loc for loc, _ in more_bins}
    for result in results:
        require_bins(result)
        sides += [m.place for m in result.movements if isinstance(m.place, LocationSide)]
        for e in result.serial_effects:
            sides.extend(s for s in (e.source, e.target) if s is not None)
        item_codes |= {m.item for m in result.movements} | {e.item for e in result.serial_effects}
        item_codes |= {item for item, _ in result.positions}
        location_codes |= {loc for _, loc in result.positions}
    location_codes |= {s.location for s in sides}
    # Codes a journal save has read with its facts in this transaction are not read again
    # (server.db.ids); the others are looked up here, once per kind.
    known = known_ids(session)
    items = {c: known.items[c] for c in item_codes if c in known.items and c in known.tracking}
    tracking = {c: known.tracking[c] for c in items}
    for batch in chunks(item_codes - items.keys(), LOOKUP_CHUNK):
        rows = await session.execute(
            select(Item.code, Item.id, Item.tracking).where(Item.code.in_(batch))
        )
        for code, id_, track in rows:
            items[str(code)] = int(id_)
            tracking[str(code)] = Tracking(track)
    locations = {c: known.locations[c] for c in location_codes if c in known.locations}
    if location_codes - locations.keys():
        found = await session.execute(
            select(Location.code, Location.id).where(
                Location.code.in_(location_codes - locations.keys())
            )
        )
        locations.update((str(c), int(i)) for c, i in found)
    wanted = {(s.location, s.bin) for s in sides if s.bin is not None} | set(more_bins)
    bins = {b: known.bins[b] for b in wanted if b in known.bins}
    for places in chunks(wanted - bins.keys(), LOOKUP_CHUNK):
        # Location and label IN lists, exact pairs kept here: a row-value IN over the
        # pairs compared every bin with every pair on PostgreSQL.
        asked = set(places)
        labelled = await session.execute(
            select(Location.code, Bin.label, Bin.id)
            .join(Location, Location.id == Bin.location_id)
            .where(
                Location.code.in_({loc for loc, _ in asked}),
                Bin.label.in_({label for _, label in asked}),
            )
        )
        for loc, label, i in labelled:
            if (loc, label) in asked:
                bins[(str(loc), str(label))] = int(i)
    problems = [FieldProblem("items", f"unknown item {c!r}") for c in item_codes - set(items)]
    problems += [
        FieldProblem("locations", f"unknown location {c!r}")
        for c in location_codes - set(locations)
    ]
    problems += [
        FieldProblem("bins", f"unknown bin {b!r} in {loc!r}") for loc, b in wanted - set(bins)
    ]
    if problems:
        raise ValidationFailed("the document names unknown master data", problems[:100])
    return PostingIds(items, tracking, locations, bins)
