"""Finalize and Adjust Inventory (seed 000), as one pure step the service wraps in a
database transaction: decide, pick the reviewed lines, build both documents, post them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from server.domain.counting.documents import (
    GlSetup,
    QuantityAdjustment,
    StockTransfer,
    build_documents,
    quantity_adjustment_posting,
    stock_transfer_posting,
)
from server.domain.counting.model import CountStatus, decide_finalize
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


@dataclass(frozen=True, slots=True)
class FinalizeOutcome:
    """`finalized` None: the seed's warning was given and nothing changed."""

    status: CountStatus
    warning: str | None
    finalized: FinalizedCount | None
    not_counted_bins: tuple[str, ...]


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


def draft_documents(
    recon: Reconciliation,
    review: Review,
    rules: ToleranceRules,
    *,
    count: str,
    location: str,
    gl: GlSetup,
    positions: Mapping[PositionKey, Position],
    new_serial: Callable[[str], str] | None = None,
    frozen_bins: Mapping[tuple[str, str], str] | None = None,
) -> FinalizedCount:
    """The documents with their postings, without a status change: the preview."""
    adjustment, transfer = build_documents(count, location, lines_to_adjust(recon, review, rules))
    adjusted = post(
        quantity_adjustment_posting(adjustment, gl),
        positions,
        new_serial=new_serial,
        frozen_bins=frozen_bins,
    )
    moved = post(
        stock_transfer_posting(transfer, gl),
        {**positions, **adjusted.positions},
        frozen_bins=frozen_bins,
    )
    return FinalizedCount(adjustment, transfer, adjusted, moved)


def finalize_count(
    status: CountStatus,
    recon: Reconciliation,
    review: Review,
    rules: ToleranceRules,
    *,
    count: str,
    location: str,
    gl: GlSetup,
    positions: Mapping[PositionKey, Position],
    confirmed: bool = False,
    new_serial: Callable[[str], str] | None = None,
    frozen_bins: Mapping[tuple[str, str], str] | None = None,
) -> FinalizeOutcome:
    """Finalize a count. `frozen_bins` are bins frozen by *other* counts. Raises Conflict
    in a status other than Counted or Counting in Process, when a conflict is unresolved,
    or when a line above tolerance lacks approval. Uniqueness of the documents per count
    is the database's to enforce."""
    decision = decide_finalize(status, confirmed=confirmed)
    if not decision.proceed:
        return FinalizeOutcome(status, decision.warning, None, recon.not_counted_bins)
    unresolved_conflicts(recon)
    finalized = draft_documents(
        recon,
        review,
        rules,
        count=count,
        location=location,
        gl=gl,
        positions=positions,
        new_serial=new_serial,
        frozen_bins=frozen_bins,
    )
    return FinalizeOutcome(
        CountStatus.COMPLETED, decision.warning, finalized, recon.not_counted_bins
    )
