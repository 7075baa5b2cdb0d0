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
from server.domain.counting.reconciliation import Reconciliation
from server.domain.counting.review import Review, ToleranceRules, lines_to_adjust
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
    in a status other than Counted or Counting in Process, or when a line above tolerance
    lacks approval. Uniqueness of the documents per count is the database's to enforce."""
    decision = decide_finalize(status, confirmed=confirmed)
    if not decision.proceed:
        return FinalizeOutcome(status, decision.warning, None, recon.not_counted_bins)
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
