"""Inventory Adjustment Journal use cases: save, read back, the GLH listing, reverse.

A save is one database transaction: load the facts the transaction names, apply the
defaults and every rule (`prepare`; warnings go back to the caller, errors refuse it),
insert the header to get its Transaction Id, stamp the user and date posted, post through
the one engine (`server.domain.posting.post`) and write the result with the shared
adapter (stock, serials, average costs, inventory and GL history; postings to bins frozen
by a count in process are refused there), then the lines and the job history. Nothing is
written unless all of it is.

No edits, no deletes: `reverse_transaction` saves the opposite transaction, linked to the
original; a transaction can be reversed once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from server.domain.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from server.domain.journal import (
    JOURNAL,
    JournalSettings,
    JournalTransaction,
    JournalWarning,
    LineOrigin,
    change_settings,
    check_origins,
    job_history,
    location_to_location,
    posting_document,
    prepare,
    return_to_location,
    reverse,
    stamp,
)
from server.domain.posting import DocumentKind, post
from server.journal.ports import (
    GlHistoryRecord,
    InventoryHistoryFilters,
    InventoryHistoryRecord,
    JobHistoryRecord,
    JournalUnitOfWork,
    StoredTransaction,
    TransactionFilters,
    TransactionSummaryRecord,
    WorkOrderCostRecord,
)
from server.ports import FrozenBinsJudged, PostingContext


@dataclass(frozen=True, slots=True)
class SavedTransaction:
    id: int
    transaction: JournalTransaction  # as saved: defaulted and stamped
    warnings: tuple[JournalWarning, ...]


@dataclass(frozen=True, slots=True)
class TransactionView:
    stored: StoredTransaction
    gl: Sequence[GlHistoryRecord]
    job_history: Sequence[JobHistoryRecord]


async def save_transaction(
    uow: JournalUnitOfWork,
    draft: JournalTransaction,
    user_id: int,
    username: str,
    now: datetime,
) -> SavedTransaction:
    """Save a client's transaction: manual lines, or the lines of a Fill Lines draft,
    whose job values must be those of the job history (see `check_origins`)."""

    async def lock_check_and_save() -> SavedTransaction:
        await _lock(uow, draft)
        wizard_jobs = {
            x.from_side.job
            for x in draft.lines
            if x.origin is LineOrigin.WIZARD and x.from_side.job
        }
        check_origins(draft, await uow.journal.history.job_cost_rows(wizard_jobs))
        return await _save(uow, draft, user_id, username, now, None)

    async with uow:
        # Every read and write of the save sent together, and the COMMIT (SQLite: one
        # hand-over to the connection's thread); the unit of work's commit ends it.
        saved = await uow.journal.together(lock_check_and_save, commit=True)
        await uow.commit()
    return saved


async def _save(
    uow: JournalUnitOfWork,
    draft: JournalTransaction,
    user_id: int,
    username: str,
    now: datetime,
    reverses_id: int | None,
) -> SavedTransaction:
    """Save `draft`, its costs locked by the caller (`_lock`) before anything was read."""
    facts = await uow.journal.facts(draft)
    prepared = prepare(draft, facts)
    transaction = prepared.transaction
    # The frozen bins among those the save posts to; a location side that names no bin
    # is judged against every frozen bin of its location (`post`'s rule).
    placed = [s for x in transaction.lines for _, s in x.sides() if s.location]
    bins = {(s.location, s.bin) for s in placed if s.bin}
    whole = {s.location for s in placed if not s.bin}
    frozen = await uow.postings.frozen_bins_at(bins, whole) if placed else {}
    tx_id, number = await uow.journal.add_transaction(transaction, user_id, now, reverses_id)
    stamped = stamp(transaction, number, username, now)
    result = post(posting_document(stamped, facts.settings), facts.positions, frozen_bins=frozen)
    context = PostingContext(
        document_kind=DocumentKind.JOURNAL_TRANSACTION.value,
        document_id=tx_id,
        document_number=number,
        posted_at=now,
        posting_date=stamped.effective_date,
        journal_name=JOURNAL,
        period=stamped.period,
        # `post` refused the frozen bins it posts to, read above in this transaction:
        # the writer does not read them again.
        frozen_bins_judged=FrozenBinsJudged(None),
    )
    await uow.postings.apply(result, context)
    await uow.journal.add_lines(tx_id, stamped)
    await uow.journal.add_job_history(tx_id, stamped, job_history(stamped), now)
    return SavedTransaction(tx_id, stamped, prepared.warnings)


async def _lock(uow: JournalUnitOfWork, draft: JournalTransaction) -> None:
    """Average costs are computed from the figures read next: lock them first, so two
    saves of the same item and location never both compute from the same stale figures.
    Each save locks once, before its first read (locking twice in one transaction sends
    nothing, but costs the keys again)."""
    keys = {
        (line.item, side.location)
        for line in draft.lines
        for _, side in line.sides()
        if side.location
    }
    await uow.journal.history.lock_costs(keys)


async def fill_return_to_location(
    uow: JournalUnitOfWork,
    job: str,
    location: str,
    bin: str,
    effective_date: date,
    work_order: str | None = None,
) -> JournalTransaction:
    """The Job-to-Loc Fill Lines wizard: a draft (not saved) returning what is still on
    the job, or on one of its work orders, with the job history's costs and revenue."""
    async with uow:
        rows = await uow.journal.history.job_cost_rows({job})
        settings = await uow.journal.settings()
        if work_order is not None:
            found = await uow.journal.history.work_order_costs(work_order)
            if found is None:
                raise NotFound(f"no work order {work_order}")
            if found[0] != job:
                raise ValidationFailed(
                    "the work order is not on this job",
                    [FieldProblem("work_order", f"work order {work_order} is on job {found[0]}")],
                )
    if not rows and await _no_job(uow, job):
        raise NotFound(f"no job {job}")
    return return_to_location(
        rows,
        location,
        effective_date,
        bin,
        work_order,
        bill_quantity=settings.wizard_defaults_quantity_billable,
    )


async def _no_job(uow: JournalUnitOfWork, job: str) -> bool:
    async with uow:
        return await uow.journal.master_get("jobs", (job,)) is None


async def fill_location_to_location(
    uow: JournalUnitOfWork, source: str, target: str, target_bin: str, effective_date: date
) -> JournalTransaction:
    """The Loc-to-Loc Fill Lines wizard: a draft (not saved) moving all stock of `source`."""
    async with uow:
        stock = await uow.journal.history.stock_rows(source)
    return location_to_location(stock, source, target, effective_date, target_bin)


async def get_settings(uow: JournalUnitOfWork) -> JournalSettings:
    """The journal's registry settings."""
    async with uow:
        return await uow.journal.settings()


async def update_settings(uow: JournalUnitOfWork, changes: dict[str, object]) -> JournalSettings:
    """Change the settings named in `changes` (see domain.journal.settings); the others
    stay as they are. Refused as a whole, naming each field, when one is wrong."""
    async with uow:
        named = {v for v in changes.values() if isinstance(v, str) and v.strip()}
        known = await uow.journal.known_accounts({v.strip() for v in named})
        settings = change_settings(await uow.journal.settings(), changes, known)
        await uow.journal.save_settings(settings)
        await uow.commit()
    return settings


async def work_order_costs(
    uow: JournalUnitOfWork, code: str
) -> tuple[str, Sequence[WorkOrderCostRecord]]:
    """A work order's Get Costs: its job and its journal lines from job history."""
    async with uow:
        found = await uow.journal.history.work_order_costs(code)
    if found is None:
        raise NotFound(f"no work order {code}")
    return found


async def list_transactions(
    uow: JournalUnitOfWork, after: int, limit: int, filters: TransactionFilters
) -> Sequence[TransactionSummaryRecord]:
    """A keyset page of saved transactions (headers), oldest first."""
    async with uow:
        return await uow.journal.history.page(after, limit, filters)


async def inventory_history(
    uow: JournalUnitOfWork, after: int, limit: int, filters: InventoryHistoryFilters
) -> Sequence[InventoryHistoryRecord]:
    """A keyset page of Inventory History (stock movements), in posting order."""
    async with uow:
        return await uow.journal.history.inventory_history(after, limit, filters)


async def all_inventory_history(
    uow: JournalUnitOfWork, filters: InventoryHistoryFilters, page: int = 1000
) -> list[InventoryHistoryRecord]:
    """Every movement that matches (the CSV export), read page by page in one transaction."""
    found: list[InventoryHistoryRecord] = []
    async with uow:
        while True:
            after = found[-1].id if found else 0
            rows = await uow.journal.history.inventory_history(after, page, filters)
            found.extend(rows)
            if len(rows) < page:
                return found


async def get_transaction(uow: JournalUnitOfWork, number: str) -> TransactionView:
    async with uow:
        stored = await uow.journal.get(number)
        if stored is None:
            raise NotFound(f"no journal transaction {number}")
        gl = await uow.journal.gl_history(stored.id)
        history = await uow.journal.job_history(stored.id)
    return TransactionView(stored, gl, history)


async def reverse_transaction(
    uow: JournalUnitOfWork,
    number: str,
    effective_date: date,
    user_id: int,
    username: str,
    now: datetime,
    period: str | None = None,
    description: str | None = None,
) -> SavedTransaction:
    """Save the opposite of transaction `number` (see domain.journal.reverse)."""
    async with uow:
        stored = await uow.journal.get(number)
        if stored is None:
            raise NotFound(f"no journal transaction {number}")
        if stored.reversed_by is not None:
            raise Conflict(
                f"transaction {number} is already reversed by {stored.reversed_by}",
                code="already-reversed",
            )
        draft = reverse(stored.transaction, effective_date, period, description)

        async def lock_and_save() -> SavedTransaction:
            await _lock(uow, draft)
            return await _save(uow, draft, user_id, username, now, stored.id)

        saved = await uow.journal.together(lock_and_save, commit=True)
        await uow.commit()
    return saved
