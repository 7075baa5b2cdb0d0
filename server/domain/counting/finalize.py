"""Finalize and Adjust Inventory (seed 000), as one pure step the service wraps in a
database transaction: pick the reviewed lines, build both documents, post them. Whether
the count may be finalized at all is decided before, once, on its status
(`decide_finalize`, server.domain.counting.model)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal

from server.domain.counting.documents import (
    DOCUMENT_KINDS,
    QUANTITY_ADJUSTMENT,
    STOCK_TRANSFER,
    CountDocument,
    DocumentLine,
    GlSetup,
    QuantityAdjustment,
    StockTransfer,
    build_documents,
    generated_serials,
    quantity_adjustment_posting,
    stock_transfer_posting,
)
from server.domain.counting.model import SerialKey
from server.domain.counting.reconciliation import DiscrepancyLine, LineKind, Reconciliation
from server.domain.counting.review import Review, ToleranceRules, lines_to_adjust
from server.domain.errors import Conflict, FieldProblem, StockcountError
from server.domain.money import ZERO
from server.domain.posting import GlLine, Position, PositionKey, PostingResult, gl_totals, post


@dataclass(frozen=True, slots=True)
class FinalizedCount:
    quantity_adjustment: QuantityAdjustment
    stock_transfer: StockTransfer
    adjustment_posting: PostingResult
    transfer_posting: PostingResult

    def documents(self, created_by: str, created_at: datetime) -> tuple[CountDocument, ...]:
        """Both documents as they are written and answered: the preview's drafts, or
        finalize's own (answered from here, not read back)."""
        return (
            self.quantity_adjustment.document(
                created_by, created_at, self.adjustment_posting.gl_lines
            ),
            self.stock_transfer.document(created_by, created_at, self.transfer_posting.gl_lines),
        )


def unresolved_conflicts(recon: Reconciliation) -> None:
    """A conflict never vanishes into a finalize: bins whose bin counts disagree, and
    serials scanned in two bins of the count, stop it (in every status) until the
    supervisor picks a bin count or orders a recount. Raises Conflict naming the bins."""
    problems = [
        FieldProblem(f"bins/{c.bin}", "bin counts disagree: pick one or order a recount")
        for c in recon.bin_count_conflicts
    ]
    problems += [
        FieldProblem(f"serials/{x.item}/{x.serial}", f"scanned in bins {', '.join(x.bins)}")
        for x in recon.lines
        if x.kind is LineKind.SERIAL_CONFLICT
    ]
    if problems:
        bins = sorted(
            {c.bin for c in recon.bin_count_conflicts}
            | {b for x in recon.lines if x.kind is LineKind.SERIAL_CONFLICT for b in x.bins}
        )
        shown = ", ".join(bins[:20]) + (" ..." if len(bins) > 20 else "")
        raise Conflict(
            f"{len(problems)} conflict(s) are not resolved, in bins {shown}: pick a bin count "
            "or order a recount before finalizing",
            problems[:100],
            code="unresolved-conflicts",
        )


@dataclass(frozen=True, slots=True)
class FinalizeFacts:
    """What both documents of a count are built from, read in one transaction: the
    reconciliation, the supervisor's review and the tolerances, the GL setup and the
    stock positions, the bins frozen by *other* counts, and the serial numbers the
    generated ones must not take. `new_serial` None: the count's generated serials
    (`generated_serials`), the same sequence in the preview and in finalize."""

    count: str
    location: str
    recon: Reconciliation
    review: Review
    rules: ToleranceRules
    gl: GlSetup
    positions: Mapping[PositionKey, Position]
    frozen_bins: Mapping[tuple[str, str], str] = field(default_factory=dict)
    taken_serials: Collection[SerialKey] = frozenset()
    new_serial: Callable[[str], str] | None = None


def draft_documents(facts: FinalizeFacts, need: frozenset[str] | None = None) -> FinalizedCount:
    """The documents with their postings, without a status change: the preview. `need`:
    as `lines_to_adjust` takes it."""
    adjustment, transfer = build_documents(
        facts.count,
        facts.location,
        lines_to_adjust(facts.recon, facts.review, facts.rules, need),
    )
    return _posted(facts, adjustment, transfer)


def _posted(
    facts: FinalizeFacts, adjustment: QuantityAdjustment, transfer: StockTransfer
) -> FinalizedCount:
    new_serial = facts.new_serial or generated_serials(facts.count, facts.taken_serials)
    adjusted = post(
        quantity_adjustment_posting(adjustment, facts.gl),
        facts.positions,
        new_serial=new_serial,
        frozen_bins=facts.frozen_bins,
    )
    moved = post(
        stock_transfer_posting(transfer, facts.gl),
        {**facts.positions, **adjusted.positions},
        frozen_bins=facts.frozen_bins,
    )
    return FinalizedCount(adjustment, transfer, adjusted, moved)


# -- the drafts' totals, per line and folded ----------------------------------------------
#
# What `draft_documents` makes of a line does not depend on the other lines posted with it:
# `build_documents` puts the line in one document (or none) with a value of its own, and
# `post` refuses a document when it refuses one of its lines for reasons of that line
# alone (its scale and signs, a frozen bin on either side, a one-sided GL entry); what
# the lines share (stock positions, the generated serials' sequence, line numbers) never
# refuses. So the totals of a review's documents are sums over its chosen lines of
# figures drafted once per reconciliation, GL setup and frozen bins.


@dataclass(frozen=True, slots=True)
class LineDraft:
    """One adjustable line as posting drafts it: its document line (numbered as in the
    draft of every line: `ChosenLines` numbers it again) and its GL lines."""

    kind: str
    line: DocumentLine
    gl_lines: tuple[GlLine, ...]


@dataclass(frozen=True, slots=True)
class LineDrafts:
    """The adjustable lines of a reconciliation as `draft_documents` posts them: by line
    id, the document kind and the value of the line's document line (absent: the line
    goes into neither document), the ids of the lines posting refuses, and by line id
    the drafts of the lines it does not refuse (`drafted`)."""

    placed: Mapping[str, tuple[str, Decimal]]
    refused: frozenset[str]
    drafted: Mapping[str, LineDraft] = field(default_factory=dict)


def draft_lines(facts: FinalizeFacts) -> LineDrafts:
    """Every adjustable line of `facts.recon` drafted by `build_documents` and posted by
    `post` as finalize does (the review and tolerances of `facts` are not read). One pass
    over all lines; line by line only when that pass is refused, to find which, and then
    one pass over the others."""
    adjustable = [x for x in facts.recon.lines if x.adjustable]
    adjustment, transfer = build_documents(facts.count, facts.location, adjustable)
    placed = {x.source_line_id: (QUANTITY_ADJUSTMENT, x.value) for x in adjustment.lines}
    placed.update({x.source_line_id: (STOCK_TRANSFER, x.value) for x in transfer.lines})
    posted = _posting(facts, adjustable)
    if posted is not None:
        return LineDrafts(placed, frozenset(), _by_line(posted))
    refused = frozenset(x.id for x in adjustable if _posting(facts, [x]) is None)
    rest = _posting(facts, [x for x in adjustable if x.id not in refused])
    if rest is None:  # not expected (see above); every choice then drafts the documents
        return LineDrafts(placed, frozenset(x.id for x in adjustable))
    return LineDrafts(placed, refused, _by_line(rest))


def _posting(facts: FinalizeFacts, lines: Sequence[DiscrepancyLine]) -> FinalizedCount | None:
    try:
        return _posted(facts, *build_documents(facts.count, facts.location, lines))
    except StockcountError:
        return None


def _by_line(posted: FinalizedCount) -> dict[str, LineDraft]:
    drafted: dict[str, LineDraft] = {}
    for document in posted.documents("", datetime.min.replace(tzinfo=UTC)):
        gl: dict[int, list[GlLine]] = {}
        for g in document.gl_lines:
            gl.setdefault(g.line_no, []).append(g)
        for x in document.lines:
            drafted[x.source_line_id] = LineDraft(document.kind, x, tuple(gl.get(x.line_no, ())))
    return drafted


@dataclass(frozen=True, slots=True)
class DraftTotals:
    kind: str
    lines: int
    total_value: Decimal


def draft_totals(
    drafts: LineDrafts, chosen: Iterable[DiscrepancyLine]
) -> tuple[DraftTotals, ...] | None:
    """Lines and total value of each document `draft_documents` makes of the `chosen`
    lines (`lines_to_adjust`'s), in its documents' order and summed in the order its
    `total_value` sums; None when posting refuses a chosen line (draft the documents to
    have the refusal itself)."""
    ids = [line.id for line in chosen]
    if drafts.refused and not drafts.refused.isdisjoint(ids):
        return None
    found = [x for x in map(drafts.placed.get, ids) if x is not None]
    totals = []
    for kind in DOCUMENT_KINDS:
        values = [value for of, value in found if of == kind]
        totals.append(DraftTotals(kind, len(values), sum(values, ZERO)))
    return tuple(totals)


@dataclass(frozen=True, slots=True)
class ChosenLines:
    """One document `draft_documents` makes of the chosen lines, from the lines' drafts:
    its lines in finalize's order (the n-th is line n), its total value summed as
    `total_value` sums, and its GL netted per account and entity (as `gl_totals` nets)."""

    kind: str
    lines: tuple[LineDraft, ...]
    total_value: Decimal
    gl_totals: Mapping[tuple[str, str | None], Decimal]

    def page(self, offset: int, limit: int) -> tuple[list[DocumentLine], list[GlLine]]:
        """Lines offset+1 .. offset+limit, numbered as finalize numbers them, and their
        GL lines."""
        shown: list[DocumentLine] = []
        gl: list[GlLine] = []
        for n, x in enumerate(self.lines[offset : offset + limit], start=offset + 1):
            shown.append(replace(x.line, line_no=n))
            gl.extend(replace(g, line_no=n) for g in x.gl_lines)
        return shown, gl


def draft_chosen(
    drafts: LineDrafts, chosen: Iterable[DiscrepancyLine]
) -> tuple[ChosenLines, ...] | None:
    """Both documents `draft_documents` makes of the `chosen` lines (`lines_to_adjust`'s),
    built from the lines' drafts; None when posting refuses a chosen line (draft the
    documents to have the refusal itself), as `draft_totals`."""
    ids = [line.id for line in chosen]
    if drafts.refused and not drafts.refused.isdisjoint(ids):
        return None
    found = [x for x in map(drafts.drafted.get, ids) if x is not None]
    documents = []
    for kind in DOCUMENT_KINDS:
        lines = tuple(x for x in found if x.kind == kind)
        value = sum(
            (x.line.adjustment_value if kind == QUANTITY_ADJUSTMENT else x.line.stock_transfer_value
             for x in lines),
            ZERO,
        )  # fmt: skip
        netted = gl_totals([g for x in lines for g in x.gl_lines])
        documents.append(ChosenLines(kind, lines, value, netted))
    return tuple(documents)


def finalize_count(facts: FinalizeFacts) -> FinalizedCount:
    """Finalize a count that `decide_finalize` let go ahead (the use case asks it once,
    before anything is written): both documents, refused (Conflict) while a conflict is
    unresolved, when a line above tolerance lacks approval, or when a posting touches a
    frozen bin. Uniqueness of the documents per count is the database's to enforce."""
    unresolved_conflicts(facts.recon)
    return draft_documents(facts)
