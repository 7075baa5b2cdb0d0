"""Finalize and Adjust Inventory (seed 000), as one pure step the service wraps in a
database transaction: pick the reviewed lines, build both documents, post them. Whether
the count may be finalized at all is decided before, once, on its status
(`decide_finalize`, server.domain.counting.model)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from server.domain.counting.documents import (
    CountDocument,
    GlSetup,
    QuantityAdjustment,
    StockTransfer,
    build_documents,
    generated_serials,
    quantity_adjustment_posting,
    stock_transfer_posting,
)
from server.domain.counting.model import SerialKey
from server.domain.counting.reconciliation import LineKind, Reconciliation
from server.domain.counting.review import Review, ToleranceRules, lines_to_adjust
from server.domain.errors import Conflict, FieldProblem
from server.domain.posting import Position, PositionKey, PostingResult, post


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


def draft_documents(facts: FinalizeFacts) -> FinalizedCount:
    """The documents with their postings, without a status change: the preview."""
    adjustment, transfer = build_documents(
        facts.count, facts.location, lines_to_adjust(facts.recon, facts.review, facts.rules)
    )
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


def finalize_count(facts: FinalizeFacts) -> FinalizedCount:
    """Finalize a count that `decide_finalize` let go ahead (the use case asks it once,
    before anything is written): both documents, refused (Conflict) while a conflict is
    unresolved, when a line above tolerance lacks approval, or when a posting touches a
    frozen bin. Uniqueness of the documents per count is the database's to enforce."""
    unresolved_conflicts(facts.recon)
    return draft_documents(facts)
