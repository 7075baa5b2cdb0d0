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

The review page needs only the totals, and each review decision (a clearing, a selection,
an approval) is a new key. So its totals are not drafted whole: the domain drafts every
adjustable line once per reconciliation, GL setup and frozen bins (`draft_lines`: the
same `build_documents` and `post`), and a review's totals are sums over the lines
`lines_to_adjust` chooses (`draft_totals`), a few tens of milliseconds at 22,500 lines.
When posting refuses a chosen line the whole draft is made, for its refusal exactly.

The preview page after a decision is made the same way: the lines' drafts keep each
line's document line and GL lines, and `draft_chosen` lays the chosen lines out in
finalize's order, numbered as finalize numbers them, with each document's value and GL
per account and entity summed over them; the page numbers only its own lines. The API's
preview is made the same way, every chosen line numbered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Generic, Protocol, Self, TypeVar

from server.counts.ports import CountRecord, FinalizeUnitOfWork
from server.counts.usecases.counting import load_count, reconciliation_of, under_review
from server.counts.usecases.review import FinalizeResult
from server.domain.counting import (
    ChosenLines,
    CountDocument,
    DraftTotals,
    FinalizeFacts,
    GlSetup,
    LineDrafts,
    Reconciliation,
    Review,
    ToleranceRules,
    decide_finalize,
    draft_chosen,
    draft_documents,
    draft_lines,
    draft_totals,
    lines_needing_approval,
    lines_to_adjust,
)
from server.domain.counting.documents import DocumentLine, document_number
from server.domain.counting.reconciliation import DiscrepancyLine
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

    document: CountDocument  # its header and total value (`lines`: not all of them)
    offset: int
    lines: Sequence[DocumentLine]
    gl_lines: Sequence[GlLine]  # of the lines on this page
    gl_totals: Sequence[GlLine]  # line_no 0: per account and entity, whole document
    line_count: int  # of the whole document


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

    def facts(self) -> FinalizeFacts:
        return FinalizeFacts(
            count=self.count,
            location=self.location,
            recon=self.recon,
            review=self.review,
            rules=self.rules,
            gl=self.gl,
            positions={},  # reach no document: see the module's docstring
            frozen_bins=self.frozen_bins,
        )


@dataclass(frozen=True, slots=True)
class _LinesKey:
    """What a reconciliation's line drafts are built from: the draft's key but the review
    and the tolerances."""

    recon: Reconciliation  # by identity, as in _DraftKey
    count: str
    location: str
    gl: GlSetup
    frozen_bins: Mapping[tuple[str, str], str]

    @classmethod
    def of(cls, key: _DraftKey) -> _LinesKey:
        return cls(key.recon, key.count, key.location, key.gl, key.frozen_bins)

    def same(self, other: _LinesKey) -> bool:
        return (
            self.recon is other.recon
            and self.count == other.count
            and self.location == other.location
            and self.gl == other.gl
            and self.frozen_bins == other.frozen_bins
        )


@dataclass(frozen=True, slots=True)
class _NeedKey:
    """What the lines needing approval depend on: the reconciliation and the tolerances."""

    recon: Reconciliation  # by identity
    rules: ToleranceRules

    def same(self, other: _NeedKey) -> bool:
        return self.recon is other.recon and self.rules == other.rules


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


class _Key(Protocol):
    def same(self, other: Self) -> bool: ...


K = TypeVar("K", bound=_Key)
V = TypeVar("V")


class _Memo(Generic[K, V]):
    """The last few values of a pure function of K in this process, most recent first.
    A value is made in a worker thread (a second of pure Python would otherwise hold
    every other request of the process), once: requests of the same event loop asking a
    key being made wait for it (another loop, as in tests, makes its own). `make` (the
    value of the key asked, made only when no value of a key the same is kept or being
    made) never raises what a request should see (it keeps refusals in its value); if it
    raises anyway, nothing is kept."""

    def __init__(self, size: int = 2) -> None:
        self._size = size
        self._entries: list[tuple[K, V]] = []
        self._making: list[tuple[K, asyncio.AbstractEventLoop, asyncio.Future[V]]] = []

    async def get(self, key: K, make: Callable[[], V]) -> V:
        for known, value in self._entries:
            if known.same(key):
                return value
        loop = asyncio.get_running_loop()
        for known, its_loop, made in self._making:
            if its_loop is loop and known.same(key):
                return await asyncio.shield(made)
        making = loop.create_task(asyncio.to_thread(make))
        entry = (key, loop, making)
        self._making.append(entry)
        making.add_done_callback(lambda done: self._made(entry, done))
        return await asyncio.shield(making)

    def _made(
        self,
        entry: tuple[K, asyncio.AbstractEventLoop, asyncio.Future[V]],
        done: asyncio.Future[V],
    ) -> None:
        self._making = [e for e in self._making if e is not entry]
        if done.cancelled() or done.exception() is not None:
            return
        key = entry[0]
        kept = [e for e in self._entries if not e[0].same(key)]
        self._entries = [(key, done.result()), *kept[: self._size - 1]]

    def clear(self) -> None:
        """Forget every value (a benchmark's cold start; tests)."""
        self._entries = []


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


def _need(key: _NeedKey) -> frozenset[str]:
    return lines_needing_approval(key.recon, key.rules)


NEEDS: _Memo[_NeedKey, frozenset[str]] = _Memo()


def _draft(key: _DraftKey, need: frozenset[str] | None = None) -> _Draft:
    try:
        documents = draft_documents(key.facts(), need).documents("", _DRAFTED_AT)
    except StockcountError as exc:
        return _Draft(key, refused=exc)
    totals = tuple(_netted(gl_totals(d.gl_lines)) for d in documents)
    return _Draft(key, documents, totals)


def _netted(totals: Mapping[tuple[str, str | None], Decimal]) -> tuple[GlLine, ...]:
    """GL per account and entity as the preview shows it: by account and entity, none
    that nets to zero."""
    return tuple(
        GlLine(0, account, entity, amount)
        for (account, entity), amount in sorted(
            totals.items(), key=lambda x: (x[0][0], x[0][1] or "")
        )
        if amount != ZERO
    )


DRAFTS: _Memo[_DraftKey, _Draft] = _Memo()


def _line_drafts(key: _LinesKey) -> LineDrafts:
    facts = FinalizeFacts(
        count=key.count,
        location=key.location,
        recon=key.recon,
        review=Review(),  # not read
        rules=ToleranceRules(),  # not read
        gl=key.gl,
        positions={},
        frozen_bins=key.frozen_bins,
    )
    return draft_lines(facts)


LINE_DRAFTS: _Memo[_LinesKey, LineDrafts] = _Memo()


@dataclass(frozen=True, slots=True)
class _Chosen(Generic[V]):
    """What a review's chosen lines make of the lines' drafts (their totals, or their
    documents); `made` None when the documents must be drafted to have them or their
    refusal (a chosen line that posting refuses)."""

    made: V | None = None
    refused: StockcountError | None = None  # lines_to_adjust's own refusal


async def _chosen(
    key: _DraftKey,
    memo: _Memo[_DraftKey, _Chosen[V]],
    fold: Callable[[LineDrafts, Sequence[DiscrepancyLine]], V | None],
) -> _Chosen[V]:
    """`fold` of the review's chosen lines and the lines' drafts: the drafts are made
    once per version of the count, GL setup and frozen bins, and the lines needing
    approval once per version and tolerances; a decision only chooses lines."""
    lines = _LinesKey.of(key)
    drafts = await LINE_DRAFTS.get(lines, partial(_line_drafts, lines))
    needed = _NeedKey(key.recon, key.rules)
    need = await NEEDS.get(needed, partial(_need, needed))

    def made() -> _Chosen[V]:
        try:
            chosen = lines_to_adjust(key.recon, key.review, key.rules, need)
        except StockcountError as exc:
            return _Chosen(refused=exc)
        return _Chosen(fold(drafts, chosen))

    return await memo.get(key, made)  # 22,500 lines: tens of ms, off the loop


# The last few folds of reviews in the process (a warm page re-reads them).
TOTALS: _Memo[_DraftKey, _Chosen[tuple[DraftTotals, ...]]] = _Memo(size=4)
CHOSEN: _Memo[_DraftKey, _Chosen[tuple[ChosenLines, ...]]] = _Memo(size=4)
_Documents = tuple[CountDocument, ...]
WHOLE: _Memo[_DraftKey, _Chosen[_Documents]] = _Memo()  # the API's: every line


async def _key(uow: FinalizeUnitOfWork, number: str) -> tuple[CountRecord, _DraftKey]:
    """The count and the key of its draft now, in one read transaction: the facts the
    draft is built from are read afresh (small: the review, tolerances, accounts of the
    lines' items, bins frozen by other counts); the reconciliation comes from the
    process's cache."""
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
    return count, key


async def _drafted(
    uow: FinalizeUnitOfWork, number: str
) -> tuple[CountRecord, Reconciliation, _Draft]:
    """The count, its reconciliation and its draft now."""
    count, key = await _key(uow, number)
    return count, key.recon, await DRAFTS.get(key, partial(_draft, key))


def _stamped(documents: Sequence[CountDocument], now: datetime) -> list[CountDocument]:
    return [replace(d, created_at=now) for d in documents]


async def preview(uow: FinalizeUnitOfWork, number: str, now: datetime) -> FinalizeResult:
    """The draft documents whole, with their lines, values and GL lines; nothing is
    written. From the lines' drafts (`draft_chosen`, every chosen line numbered), the
    whole draft only when posting refuses a chosen line. Raises what finalize would raise
    on the same facts (a line above tolerance neither approved nor cleared, a frozen bin,
    ...)."""
    count, key = await _key(uow, number)

    def whole(drafts: LineDrafts, chosen: Sequence[DiscrepancyLine]) -> _Documents | None:
        made = draft_chosen(drafts, chosen)
        return None if made is None else tuple(_document(key, x) for x in made)

    found = await _chosen(key, WHOLE, whole)
    if found.refused is not None:
        raise found.refused.with_traceback(None)
    if found.made is None:  # posting refuses a chosen line: the draft says how
        drafted = await DRAFTS.get(key, partial(_draft, key))
        drafted.raise_refusal()
        raise AssertionError("the lines' drafts refuse a line the whole draft posts")
    warning = decide_finalize(count.status, confirmed=True).warning
    return FinalizeResult(count, warning, _stamped(found.made, now), key.recon.not_counted_bins)


def _document(key: _DraftKey, chosen: ChosenLines) -> CountDocument:
    lines, gl = chosen.page(0, len(chosen.lines))
    return CountDocument(
        chosen.kind, document_number(chosen.kind, key.count), key.count, key.location, "",
        _DRAFTED_AT, chosen.total_value, tuple(lines), tuple(gl),
    )  # fmt: skip


async def preview_page(
    uow: FinalizeUnitOfWork,
    number: str,
    now: datetime,
    offsets: Mapping[str, int],
    limit: int,
) -> PreviewPage:
    """The draft documents, each with a page of `limit` lines from its offset (`offsets`
    by document kind, 0 when absent), the GL lines of those lines, and the totals of the
    whole document (lines, value, GL per account and entity): from the lines' drafts
    (`draft_chosen`, see `_chosen`), the whole draft only when posting refuses a chosen
    line; raises what the preview raises."""
    count, key = await _key(uow, number)
    found = await _chosen(key, CHOSEN, draft_chosen)
    if found.refused is not None:
        raise found.refused.with_traceback(None)
    warning = decide_finalize(count.status, confirmed=True).warning
    if found.made is None:  # posting refuses a chosen line: the draft says how
        drafted = await DRAFTS.get(key, partial(_draft, key))
        drafted.raise_refusal()
        raise AssertionError("the lines' drafts refuse a line the whole draft posts")
    pages = []
    for chosen in found.made:
        start = max(0, offsets.get(chosen.kind, 0))
        shown, gl = chosen.page(start, limit)
        header = CountDocument(
            chosen.kind, document_number(chosen.kind, count.number), count.number,
            count.location, "", now, chosen.total_value, (), (),
        )  # fmt: skip
        pages.append(
            DraftPage(header, start, shown, gl, _netted(chosen.gl_totals), len(chosen.lines))
        )
    return PreviewPage(count, warning, pages, key.recon.not_counted_bins)


async def preview_totals(uow: FinalizeUnitOfWork, number: str) -> Sequence[DocumentTotals]:
    """Lines and value of each document finalize would post now (the review page's
    totals), without drafting the documents: sums over the chosen lines of the lines'
    own drafts (see `_chosen`); raises what the preview raises."""
    _, key = await _key(uow, number)
    found = await _chosen(key, TOTALS, draft_totals)
    if found.refused is not None:
        raise found.refused.with_traceback(None)
    if found.made is None:  # posting refuses a chosen line: the draft says how
        drafted = await DRAFTS.get(key, partial(_draft, key))
        drafted.raise_refusal()
        return [DocumentTotals(d.kind, len(d.lines), d.total_value) for d in drafted.documents]
    return [DocumentTotals(x.kind, x.lines, x.total_value) for x in found.made]
