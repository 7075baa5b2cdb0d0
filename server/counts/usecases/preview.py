"""The preview of what finalize will post: both draft documents with their lines, values
and GL lines, whole (the API) or a page of lines with the whole draft's totals (the
pages), and the totals alone (the review page).

The draft is what finalize builds (`draft_documents`, the same domain function), from the
same facts but two: the stock positions and the serial numbers generated serials must not
take. Neither reaches a document. Every cost on a line comes from the count's snapshot
(through the reconciliation), GL amounts are quantity x that cost, and refusals come from
the lines, the review and the frozen bins; positions only feed the average costs finalize
writes, and the numbers only name the generated serials finalize writes. Summing them
would read every serial of the location (a million) per preview. The test
tests/integration/test_counts_preview.py holds the preview's documents equal to those
finalize then writes, on both databases.

Drafting 20,000 lines through the posting engine takes about a second, so each process
keeps the last drafts, keyed by everything they are built from: the reconciliation
object itself (the process's cache makes a new one for every version of the count: a bin
count, pick or recount bumps it) and, by value, the supervisor's review, the tolerances,
the GL setup and the bins frozen by other counts, all read afresh from the database on
every request. The draft is a pure function of that key, so an entry can never show a
figure that finalize would not post now; a change to any input is a new key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal

from server.counts.ports import CountRecord, FinalizeUnitOfWork
from server.counts.usecases.counting import load_count, reconciliation_of, under_review
from server.counts.usecases.review import FinalizeResult
from server.domain.counting import (
    CountDocument,
    FinalizeFacts,
    GlSetup,
    Reconciliation,
    Review,
    ToleranceRules,
    decide_finalize,
    draft_documents,
)
from server.domain.counting.documents import DocumentLine
from server.domain.errors import StockcountError
from server.domain.money import ZERO
from server.domain.posting import GlLine, gl_totals

_DRAFTED_AT = datetime(1970, 1, 1, tzinfo=UTC)  # replaced by the request's time


@dataclass(frozen=True, slots=True)
class DocumentTotals:
    kind: str
    lines: int
    total_value: Decimal


@dataclass(frozen=True, slots=True)
class DraftPage:
    """One draft document: its header and totals over all its lines, one page of lines
    with their GL lines, and the GL netted per account and entity over the whole draft."""

    document: CountDocument  # whole (its `lines` and `gl_lines` are not shown whole)
    offset: int
    lines: Sequence[DocumentLine]
    gl_lines: Sequence[GlLine]  # of the lines on this page
    gl_totals: Sequence[GlLine]  # line_no 0: per account and entity, whole document

    @property
    def line_count(self) -> int:
        return len(self.document.lines)


@dataclass(frozen=True, slots=True)
class PreviewPage:
    count: CountRecord
    warning: str | None
    documents: Sequence[DraftPage]
    not_counted_bins: Sequence[str]


# -- the drafts of this process ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _DraftKey:
    recon: Reconciliation  # compared by identity: one object per version of the count
    count: str
    location: str
    review: Review
    rules: ToleranceRules
    gl: GlSetup
    frozen_bins: Mapping[tuple[str, str], str]

    def same(self, other: _DraftKey) -> bool:
        return (
            self.recon is other.recon
            and self.count == other.count
            and self.location == other.location
            and self.review == other.review
            and self.rules == other.rules
            and self.gl == other.gl
            and self.frozen_bins == other.frozen_bins
        )


@dataclass(frozen=True, slots=True)
class _Draft:
    key: _DraftKey
    documents: tuple[CountDocument, ...] = ()
    gl_totals: tuple[tuple[GlLine, ...], ...] = ()
    refused: StockcountError | None = None  # the draft refused (kept: it costs the same)

    def raise_refusal(self) -> None:
        if self.refused is not None:
            # a fresh traceback each time: the kept exception's would grow with every raise
            raise self.refused.with_traceback(None)


class _DraftMemo:
    """The last few drafts of the process, most recent first. A draft is made in a worker
    thread: a second of pure Python would otherwise hold every other request of the
    process. A race at worst drafts one twice."""

    def __init__(self, size: int = 2) -> None:
        self._size = size
        self._entries: list[_Draft] = []

    async def get(self, key: _DraftKey) -> _Draft:
        for entry in self._entries:
            if entry.key.same(key):
                return entry
        entry = await asyncio.to_thread(_draft, key)
        self._entries = [entry, *[e for e in self._entries if e is not entry][: self._size - 1]]
        return entry

    def clear(self) -> None:
        """Forget every draft (a benchmark's cold start; tests)."""
        self._entries = []


DRAFTS = _DraftMemo()


class _AdjustedItems:
    """The items of a reconciliation's adjustable lines (whose GL accounts the draft
    reads), for the last reconciliation asked: one pass over its lines per version."""

    def __init__(self) -> None:
        self._last: tuple[Reconciliation, frozenset[str]] | None = None

    def of(self, recon: Reconciliation) -> frozenset[str]:
        last = self._last
        if last is not None and last[0] is recon:
            return last[1]
        codes = frozenset(x.item for x in recon.lines if x.adjustable)
        self._last = (recon, codes)
        return codes


_ITEMS = _AdjustedItems()


def _draft(key: _DraftKey) -> _Draft:
    facts = FinalizeFacts(
        count=key.count,
        location=key.location,
        recon=key.recon,
        review=key.review,
        rules=key.rules,
        gl=key.gl,
        positions={},  # reach no document: see the module's docstring
        frozen_bins=key.frozen_bins,
    )
    try:
        documents = draft_documents(facts).documents("", _DRAFTED_AT)
    except StockcountError as exc:
        return _Draft(key, refused=exc)
    totals = tuple(
        tuple(
            GlLine(0, account, entity, amount)
            for (account, entity), amount in sorted(
                gl_totals(d.gl_lines).items(), key=lambda x: (x[0][0], x[0][1] or "")
            )
            if amount != ZERO
        )
        for d in documents
    )
    return _Draft(key, documents, totals)


async def _drafted(
    uow: FinalizeUnitOfWork, number: str
) -> tuple[CountRecord, Reconciliation, _Draft]:
    """The count and its draft now, in one read transaction: the facts the draft is built
    from are read afresh (small: the review, tolerances, accounts of the lines' items, bins
    frozen by other counts); the reconciliation comes from the process's cache."""
    async with uow:
        count = await load_count(uow, number)
        under_review(count.status)
        recon = await reconciliation_of(uow, count)
        codes = _ITEMS.of(recon)
        key = _DraftKey(
            recon=recon,
            count=count.number,
            location=count.location,
            review=await uow.reviews.review(count.id),
            rules=await uow.reviews.tolerances(count.location_id),
            gl=await uow.count_documents.gl_setup(count.location_id, codes),
            frozen_bins=await uow.postings.frozen_bins([count.location], count.id),
        )
    return count, recon, await DRAFTS.get(key)


def _stamped(documents: Sequence[CountDocument], now: datetime) -> list[CountDocument]:
    return [replace(d, created_at=now) for d in documents]


async def preview(uow: FinalizeUnitOfWork, number: str, now: datetime) -> FinalizeResult:
    """The draft documents whole, with their lines, values and GL lines; nothing is
    written. Raises what finalize would raise on the same facts (a line above tolerance
    neither approved nor cleared, a frozen bin, ...)."""
    count, recon, drafted = await _drafted(uow, number)
    drafted.raise_refusal()
    warning = decide_finalize(count.status, confirmed=True).warning
    return FinalizeResult(count, warning, _stamped(drafted.documents, now), recon.not_counted_bins)


async def preview_page(
    uow: FinalizeUnitOfWork,
    number: str,
    now: datetime,
    offsets: Mapping[str, int],
    limit: int,
) -> PreviewPage:
    """The draft documents, each with a page of `limit` lines from its offset (`offsets`
    by document kind, 0 when absent), the GL lines of those lines, and the totals of the
    whole document (lines, value, GL per account and entity)."""
    count, recon, drafted = await _drafted(uow, number)
    drafted.raise_refusal()
    warning = decide_finalize(count.status, confirmed=True).warning
    pages = []
    for document, totals in zip(_stamped(drafted.documents, now), drafted.gl_totals, strict=True):
        start = max(0, offsets.get(document.kind, 0))
        shown = document.lines[start : start + limit]
        numbers = {x.line_no for x in shown}
        pages.append(
            DraftPage(
                document,
                start,
                shown,
                [g for g in document.gl_lines if g.line_no in numbers],
                totals,
            )
        )
    return PreviewPage(count, warning, pages, recon.not_counted_bins)


async def preview_totals(uow: FinalizeUnitOfWork, number: str) -> Sequence[DocumentTotals]:
    """Lines and value of each document finalize would post now (the review page's
    totals); raises what the preview raises."""
    _, _, drafted = await _drafted(uow, number)
    drafted.raise_refusal()
    return [DocumentTotals(d.kind, len(d.lines), d.total_value) for d in drafted.documents]
