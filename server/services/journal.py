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

from server.domain.errors import Conflict, NotFound
from server.domain.journal import (
    JOURNAL,
    JournalTransaction,
    JournalWarning,
    job_history,
    posting_document,
    prepare,
    reverse,
    stamp,
)
from server.domain.posting import DocumentKind, post
from server.services.journal_ports import (
    GlHistoryRow,
    JobHistoryRecord,
    JournalUnitOfWork,
    StoredTransaction,
)
from server.services.ports import PostingContext


@dataclass(frozen=True, slots=True)
class SavedTransaction:
    id: int
    transaction: JournalTransaction  # as saved: defaulted and stamped
    warnings: tuple[JournalWarning, ...]


@dataclass(frozen=True, slots=True)
class TransactionView:
    stored: StoredTransaction
    gl: Sequence[GlHistoryRow]
    job_history: Sequence[JobHistoryRecord]


async def save_transaction(
    uow: JournalUnitOfWork,
    draft: JournalTransaction,
    user_id: int,
    username: str,
    now: datetime,
) -> SavedTransaction:
    async with uow:
        saved = await _save(uow, draft, user_id, username, now, None)
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
    facts = await uow.journal.facts(draft)
    prepared = prepare(draft, facts)
    transaction = prepared.transaction
    locations = {s.location for x in transaction.lines for _, s in x.sides() if s.location}
    frozen = await uow.postings.frozen_bins(locations) if locations else {}
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
    )
    await uow.postings.apply(result, context)
    await uow.journal.add_lines(tx_id, stamped)
    await uow.journal.add_job_history(tx_id, stamped, job_history(stamped), now)
    return SavedTransaction(tx_id, stamped, prepared.warnings)


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
        saved = await _save(uow, draft, user_id, username, now, stored.id)
        await uow.commit()
    return saved
