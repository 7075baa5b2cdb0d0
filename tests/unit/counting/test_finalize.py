"""Finalize: the Quantity Adjustment and Stock Transfer documents and their postings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from server.domain.counting import (
    CountStatus,
    FinalizedCount,
    FinalizeFacts,
    GlSetup,
    ItemAccounts,
    Reconciliation,
    Review,
    ToleranceRules,
    decide_finalize,
    finalize_count,
    generated_serials,
    reconcile,
)
from server.domain.counting.model import FINALIZE_WARNING
from server.domain.errors import Conflict, ValidationFailed
from server.domain.posting import Position, gl_totals
from tests.unit.counting.factory import D, balance, bin_count, counts, serial, snapshot

LOOSE = ToleranceRules(quantity=D(1000), value=D(1_000_000))
ACCOUNTS = {
    item: ItemAccounts(inventory_account="10150", adjustment_account="50111")
    for item in ("SER", "AUTO", "LOT", "BULK", "NEW")
}
GL = GlSetup(accounts=ACCOUNTS, default_entity="E1")


def sample() -> Reconciliation:
    snap = snapshot(
        [serial("S1", "B1", "10"), serial("S2", "B1", "20"), serial("S3", "B2", "40")],
        [balance("BULK", "B2", "10", cost="2")],
    )
    return reconcile(
        snap,
        counts(
            bin_count("B1", ["S3", "S9"], {("AUTO", ""): "2"}),
            bin_count("B2", quantities={("BULK", ""): "7"}),
        ),
    )


def finalize(
    recon: Reconciliation,
    status: CountStatus = CountStatus.COUNTED,
    gl: GlSetup = GL,
    review: Review | None = None,
    confirmed: bool = False,
) -> FinalizedCount:
    numbers = iter(f"GEN{n}" for n in range(100))
    decide_finalize(status, confirmed=confirmed).go_ahead()  # as the use case does, once
    return finalize_count(
        FinalizeFacts(
            count="SC-1",
            location="MAIN",
            recon=recon,
            review=review or Review(),
            rules=LOOSE,
            gl=gl,
            positions={("AUTO", "MAIN"): Position(D(0), D("12.5"))},
            new_serial=lambda item: next(numbers),
        )
    )


def test_finalize_makes_both_documents_and_completes() -> None:
    assert decide_finalize(CountStatus.COUNTED).warning is None
    recon = sample()
    done = finalize(recon)
    adjustment, transfer = done.quantity_adjustment, done.stock_transfer
    assert {(x.item, x.bin, x.serial, x.quantity) for x in adjustment.lines} == {
        ("SER", "B1", "S1", D(-1)),
        ("SER", "B1", "S2", D(-1)),
        ("SER", "B1", "S9", D(1)),  # unknown: gained at the average cost
        ("AUTO", "B1", "", D(2)),
        ("BULK", "B2", "", D(-3)),
    }
    assert [(x.serial, x.from_bin, x.to_bin, x.value) for x in transfer.lines] == [
        ("S3", "B2", "B1", D("40.00"))
    ]
    assert recon.not_counted_bins == ("B3", "B4", "B9")


def test_count_adjustments_post_inventory_against_the_adjustment_account() -> None:
    done = finalize(sample())
    posting = done.adjustment_posting
    # -10 -20 (write-offs) +100 (S9) +25 (two generated at 12.50) -6 (BULK)
    assert gl_totals(posting.gl_lines) == {
        ("10150", "E1"): D("89.00"),
        ("50111", "E1"): D("-89.00"),
    }
    assert posting.total_debit == posting.total_credit
    assert done.quantity_adjustment.total_value == D("89.00")


def test_generated_serials_for_auto_serialized_items_at_average_cost() -> None:
    done = finalize(sample())
    generated = [e for e in done.adjustment_posting.serial_effects if e.generated]
    assert [(e.item, e.serial, e.actual_cost) for e in generated] == [
        ("AUTO", "GEN0", D("12.5")),
        ("AUTO", "GEN1", D("12.5")),
    ]
    assert {(e.target and (e.target.location, e.target.bin)) for e in generated} == {("MAIN", "B1")}


def test_transfer_within_one_entity_posts_nothing_to_gl() -> None:
    done = finalize(sample())
    assert done.transfer_posting.gl_lines == ()
    (effect,) = done.transfer_posting.serial_effects
    assert (effect.source and effect.source.bin, effect.target and effect.target.bin) == (
        "B2",
        "B1",
    )


def test_transfer_between_bins_of_different_entities_posts_between_them() -> None:
    gl = GlSetup(accounts=ACCOUNTS, bin_entities={"B2": "E2"}, default_entity="E1")
    done = finalize(sample(), gl=gl)
    assert gl_totals(done.transfer_posting.gl_lines) == {
        ("10150", "E2"): D("-40.00"),
        ("10150", "E1"): D("40.00"),
    }


def test_no_gl_when_the_group_has_no_accounts() -> None:
    done = finalize(sample(), gl=GlSetup())
    assert done.adjustment_posting.gl_lines == done.transfer_posting.gl_lines == ()


def test_one_sided_group_accounts_refuse_finalize() -> None:
    gl = GlSetup(accounts={"SER": ItemAccounts(inventory_account="10150")})
    with pytest.raises(ValidationFailed, match="one-sided"):
        finalize(sample(), gl=gl)


def test_cleared_lines_stay_out_of_the_documents() -> None:
    recon = sample()
    cleared = frozenset(x.id for x in recon.lines if x.serial in {"S1", "S3"})
    done = finalize(recon, review=Review(cleared=cleared))
    assert "S1" not in {x.serial for x in done.quantity_adjustment.lines}
    assert done.stock_transfer.lines == ()


def test_counting_in_process_warns_and_changes_nothing_without_confirmation() -> None:
    with pytest.raises(Conflict) as exc:
        finalize(sample(), status=CountStatus.COUNTING)
    assert exc.value.code == "finalize-needs-confirmation"
    assert exc.value.message == FINALIZE_WARNING


def test_counting_in_process_finalizes_with_confirmation() -> None:
    decision = decide_finalize(CountStatus.COUNTING, confirmed=True)
    assert decision.proceed and decision.warning == FINALIZE_WARNING
    done = finalize(sample(), status=CountStatus.COUNTING, confirmed=True)
    assert done.quantity_adjustment.lines


@pytest.mark.parametrize("status", [CountStatus.OPEN, CountStatus.COMPLETED, CountStatus.CANCELLED])
def test_finalize_refused_in_other_statuses(status: CountStatus) -> None:
    with pytest.raises(Conflict):
        finalize(sample(), status=status, confirmed=True)


def test_documents_have_one_line_shape_and_the_count_s_numbers() -> None:
    done = finalize(sample())
    now = datetime(2026, 1, 2, tzinfo=UTC)
    qa, st = done.documents("super", now)
    assert (qa.kind, qa.number, st.kind, st.number) == (
        "quantity_adjustment", "QA-SC-1", "stock_transfer", "ST-SC-1"
    )  # fmt: skip
    assert qa.total_value == D("89.00") and st.total_value == D("40.00")
    assert qa.gl_lines == done.adjustment_posting.gl_lines
    bulk = next(x for x in qa.lines if x.item == "BULK")
    assert (bulk.bin, bulk.from_bin, bulk.adjustment_quantity, bulk.adjustment_value) == (
        "B2", None, D(-3), D(-6)
    )  # fmt: skip
    assert bulk.stock_transfer_quantity == bulk.stock_transfer_value == D(0)
    (moved,) = st.lines
    assert (moved.serial, moved.from_bin, moved.bin, moved.stock_transfer_quantity) == (
        "S3", "B2", "B1", D(1)
    )  # fmt: skip
    assert (moved.adjustment_quantity, moved.stock_transfer_value) == (D(0), D("40.00"))


def test_generated_serial_numbers_skip_the_taken_ones() -> None:
    new_serial = generated_serials("SC1", {("AUTO", "SC1-G000001")})
    assert [new_serial("AUTO"), new_serial("AUTO"), new_serial("OTHER")] == [
        "SC1-G000002", "SC1-G000003", "SC1-G000004"
    ]  # fmt: skip
