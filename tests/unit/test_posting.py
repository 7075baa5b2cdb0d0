"""The posting and costing engine: seed 004's rules and its average-cost acceptance test."""

from __future__ import annotations

from decimal import Decimal

import pytest

from server.domain.errors import Conflict, ValidationFailed
from server.domain.posting import (
    DocumentKind,
    ExtraPosting,
    JobSide,
    LineAction,
    LocationSide,
    Position,
    PostingDocument,
    PostingLine,
    SerialEffect,
    gl_totals,
    post,
    refuse_frozen_bins,
    refuse_misplaced_serials,
    require_bins,
)

D = Decimal


def journal(*lines: PostingLine) -> PostingDocument:
    return PostingDocument(DocumentKind.JOURNAL_TRANSACTION, "T1", lines)


def avg_lines(from_account: str | None, to_account: str | None) -> list[PostingLine]:
    to_side = LocationSide("Main", gl_account=to_account) if to_account else None
    return [
        PostingLine(
            1,
            LineAction.ADJUSTMENT,
            "123106",
            D(-14),
            D("55.232"),
            LocationSide("Main", gl_account=from_account),
            to_side,
        ),
        PostingLine(
            2,
            LineAction.ADJUSTMENT,
            "123106",
            D(14),
            D("57.000"),
            LocationSide("Main", gl_account=from_account),
            to_side,
        ),
    ]


START = {("123106", "Main"): Position(D(14), D("55.232"))}


def test_seed_004_average_cost_adjustment_with_gl() -> None:
    result = post(journal(*avg_lines("50111", "10150")), START)

    assert result.positions[("123106", "Main")] == Position(D(14), D("57.000"))
    got = [(g.line_no, g.account, g.debit, g.credit) for g in result.gl_lines]
    assert got == [
        # Line 1: -14 x 55.232 = -773.248 -> -773.25. From 50111: minus credit = debit.
        (1, "50111", D("773.25"), D(0)),
        # To 10150: minus debit = credit.
        (1, "10150", D(0), D("773.25")),
        # Line 2: 14 x 57.000 = 798.00: credit From, debit To.
        (2, "50111", D(0), D("798.00")),
        (2, "10150", D("798.00"), D(0)),
    ]
    assert result.total_debit == result.total_credit == D("1571.25")


def test_seed_004_average_cost_adjustment_without_gl() -> None:
    result = post(journal(*avg_lines(None, None)), START)

    assert result.positions[("123106", "Main")] == Position(D(14), D("57.000"))
    assert result.gl_lines == ()
    assert [m.quantity for m in result.movements] == [D(-14), D(14)]


def test_one_sided_gl_entry_is_refused() -> None:
    for from_account, to_account in (("50111", None), (None, "10150")):
        line = PostingLine(
            1,
            LineAction.ADJUSTMENT,
            "A",
            D(1),
            D(5),
            LocationSide("Main", gl_account=from_account),
            LocationSide("Main", gl_account=to_account),
        )
        with pytest.raises(ValidationFailed) as exc:
            post(journal(line), {})
        assert exc.value.code == "one-sided-gl"


def test_blank_account_text_counts_as_blank() -> None:
    line = PostingLine(
        1,
        LineAction.ADJUSTMENT,
        "A",
        D(1),
        D(5),
        LocationSide("Main", gl_account="  "),
        LocationSide("Main", gl_account=""),
    )
    assert post(journal(line), {}).gl_lines == ()


def test_transfer_positive_credits_from_and_debits_to_negative_flips() -> None:
    def transfer(quantity: Decimal) -> PostingLine:
        return PostingLine(
            1,
            LineAction.TRANSFER,
            "A",
            quantity,
            D("2.50"),
            LocationSide("Main", gl_account="10150", gl_entity="E1"),
            LocationSide("North", gl_account="10150", gl_entity="E2"),
        )

    forward = post(journal(transfer(D(4))), {("A", "Main"): Position(D(10), D("2.50"))})
    assert [(g.entity, g.amount) for g in forward.gl_lines] == [("E1", D(-10)), ("E2", D(10))]
    assert [(m.place, m.quantity) for m in forward.movements] == [
        (LocationSide("Main", gl_account="10150", gl_entity="E1"), D(-4)),
        (LocationSide("North", gl_account="10150", gl_entity="E2"), D(4)),
    ]
    assert forward.positions[("A", "Main")].on_hand == D(6)
    assert forward.positions[("A", "North")] == Position(D(4), D("2.50"))

    back = post(journal(transfer(D(-4))), {("A", "North"): Position(D(4), D("2.50"))})
    assert [(g.entity, g.amount) for g in back.gl_lines] == [("E1", D(10)), ("E2", D(-10))]
    assert back.positions[("A", "Main")] == Position(D(4), D("2.50"))
    assert back.positions[("A", "North")].on_hand == D(0)


def test_transfer_within_one_entity_posts_no_gl_and_keeps_average() -> None:
    line = PostingLine(
        1,
        LineAction.TRANSFER,
        "S",
        D(1),
        D("99.000000"),
        LocationSide("Main", "B1", "10150", "E1"),
        LocationSide("Main", "B2", "10150", "E1"),
        serial="SN1",
    )
    start = {("S", "Main"): Position(D(3), D(50))}
    result = post(journal(line), start)
    assert result.gl_lines == ()
    assert result.positions == {}  # nothing about the location's stock changed
    (effect,) = result.serial_effects
    assert (effect.source, effect.target) == (line.from_side, line.to_side)


def test_transfer_between_entities_of_one_location_posts_between_them() -> None:
    line = PostingLine(
        1,
        LineAction.TRANSFER,
        "S",
        D(1),
        D("12.345678"),
        LocationSide("Main", "B1", "10150", "E1"),
        LocationSide("Main", "B2", "10150", "E2"),
        serial="SN1",
    )
    result = post(journal(line), {})
    assert gl_totals(result.gl_lines) == {
        ("10150", "E1"): D("-12.35"),
        ("10150", "E2"): D("12.35"),
    }


def test_average_recomputed_on_receipt_only() -> None:
    receipt = PostingLine(1, LineAction.ADJUSTMENT, "A", D(10), D(20), LocationSide("Main"), None)
    issue = PostingLine(2, LineAction.ADJUSTMENT, "A", D(-5), D(99), LocationSide("Main"), None)
    result = post(journal(receipt, issue), {("A", "Main"): Position(D(10), D(10))})
    assert result.positions[("A", "Main")] == Position(D(15), D(15))


def test_adjustment_at_a_job_positive_takes_costs_off() -> None:
    line = PostingLine(
        1,
        LineAction.ADJUSTMENT,
        "A",
        D(2),
        D(7),
        JobSide("J1", gl_account="50500"),
        LocationSide("Main", gl_account="10150"),
    )
    result = post(journal(line), {})
    (movement,) = result.movements
    assert movement.place == JobSide("J1", gl_account="50500")
    assert movement.quantity == D(-2)
    assert result.positions == {}  # a job holds no location stock
    assert [(g.account, g.amount) for g in result.gl_lines] == [("50500", D(-14)), ("10150", D(14))]


def test_loc_to_job_and_job_to_loc_move_serials_out_of_and_into_stock() -> None:
    main = LocationSide("Main", "B1", "10150")
    job = JobSide("J1", cost_code="100", cost_category="MAT", gl_account="50100")
    out = PostingLine(1, LineAction.TRANSFER, "S", D(1), D(80), main, job, serial="SN9")
    back = PostingLine(2, LineAction.TRANSFER, "S", D(1), D(80), job, main, serial="SN9")
    result = post(journal(out, back), {("S", "Main"): Position(D(1), D(80))})
    assert [(e.source, e.target) for e in result.serial_effects] == [(main, None), (None, main)]
    assert result.positions[("S", "Main")] == Position(D(1), D(80))
    assert sum(g.amount for g in result.gl_lines) == 0


def test_job_to_job_touches_no_serial_stock() -> None:
    line = PostingLine(
        1, LineAction.TRANSFER, "S", D(1), D(80), JobSide("J1"), JobSide("J2"), serial="SN1"
    )
    result = post(journal(line), {})
    assert result.serial_effects == ()
    assert [m.quantity for m in result.movements] == [D(-1), D(1)]


def test_serial_adjustments_create_and_write_off() -> None:
    bin_side = LocationSide("Main", "B1")
    gain = PostingLine(1, LineAction.ADJUSTMENT, "S", D(1), D(5), bin_side, serial="N")
    loss = PostingLine(2, LineAction.ADJUSTMENT, "S", D(-1), D(6), bin_side, serial="O")
    result = post(journal(gain, loss), {})
    assert [(e.serial, e.source, e.target) for e in result.serial_effects] == [
        ("N", None, bin_side),
        ("O", bin_side, None),
    ]


@pytest.mark.parametrize("quantity", [D(2), D(-2), D("0.5")])
def test_serialized_quantity_only_plus_or_minus_one(quantity: Decimal) -> None:
    line = PostingLine(
        1, LineAction.ADJUSTMENT, "S", quantity, D(5), LocationSide("Main"), serial="X"
    )
    with pytest.raises(ValidationFailed):
        post(journal(line), {})


def test_generated_serials_at_the_line_cost() -> None:
    numbers = iter(["G1", "G2", "G3"])
    line = PostingLine(
        1,
        LineAction.ADJUSTMENT,
        "AUTO",
        D(3),
        D("4.5"),
        LocationSide("Main", "B1"),
        generate_serials=True,
    )
    result = post(journal(line), {}, new_serial=lambda item: next(numbers))
    assert [(e.serial, e.actual_cost, e.generated) for e in result.serial_effects] == [
        ("G1", D("4.5"), True),
        ("G2", D("4.5"), True),
        ("G3", D("4.5"), True),
    ]
    with pytest.raises(ValidationFailed):
        post(journal(line), {})  # no generator given


@pytest.mark.parametrize(
    "line",
    [
        PostingLine(1, LineAction.ADJUSTMENT, "A", D(0), D(1), LocationSide("M")),
        PostingLine(1, LineAction.ADJUSTMENT, "A", D("0.00001"), D(1), LocationSide("M")),
        PostingLine(1, LineAction.ADJUSTMENT, "A", D(1), D("-1"), LocationSide("M")),
        PostingLine(1, LineAction.ADJUSTMENT, "A", D(1), D("0.0000001"), LocationSide("M")),
        PostingLine(1, LineAction.TRANSFER, "A", D(1), D(1), LocationSide("M")),
        PostingLine(
            1, LineAction.ADJUSTMENT, "A", D(-1), D(1), LocationSide("M"), None, "", "", True
        ),
    ],
)
def test_bad_lines_are_refused(line: PostingLine) -> None:
    with pytest.raises(ValidationFailed):
        post(journal(line), {}, new_serial=str)


def test_postings_to_frozen_bins_are_refused_naming_the_count() -> None:
    frozen = {("Main", "B1"): "SC-7"}
    into_bin = PostingLine(1, LineAction.ADJUSTMENT, "A", D(1), D(1), LocationSide("Main", "B1"))
    with pytest.raises(Conflict, match="SC-7"):
        post(journal(into_bin), {}, frozen_bins=frozen)
    whole_location = PostingLine(1, LineAction.ADJUSTMENT, "A", D(1), D(1), LocationSide("Main"))
    with pytest.raises(Conflict, match="SC-7"):
        post(journal(whole_location), {}, frozen_bins=frozen)
    other_bin = PostingLine(1, LineAction.ADJUSTMENT, "A", D(1), D(1), LocationSide("Main", "B2"))
    assert post(journal(other_bin), {}, frozen_bins=frozen).movements


def test_extra_postings_are_balanced_pairs() -> None:
    line = PostingLine(
        1,
        LineAction.TRANSFER,
        "A",
        D(1),
        D(10),
        LocationSide("Main", gl_account="10150"),
        JobSide("J1", gl_account="50100"),
        extra=(ExtraPosting("50100", "40900", D("1.50")),),
    )
    result = post(journal(line), {})
    assert gl_totals(result.gl_lines) == {
        ("10150", None): D(-10),
        ("50100", None): D("11.50"),
        ("40900", None): D("-1.50"),
    }
    assert result.total_debit == result.total_credit


def test_a_result_at_a_location_without_a_bin_is_refused() -> None:
    line = PostingLine(1, LineAction.ADJUSTMENT, "A", D(1), D(1), LocationSide("Main"))
    with pytest.raises(ValidationFailed) as refused:
        require_bins(post(journal(line), {}))
    assert refused.value.code == "bin-required"
    assert [p.location for p in refused.value.details] == ["lines/1"]
    in_bin = PostingLine(1, LineAction.ADJUSTMENT, "A", D(1), D(1), LocationSide("Main", "B1"))
    require_bins(post(journal(in_bin), {}))


def test_the_writer_refuses_frozen_bins_naming_each_bin_and_every_count() -> None:
    refuse_frozen_bins([])
    with pytest.raises(Conflict) as refused:
        refuse_frozen_bins([("B2", "SC-9"), ("B1", "SC-7")])
    assert refused.value.code == "bins-frozen"
    assert refused.value.message.startswith("bin B2 is being counted by stock count SC-7, SC-9:")
    assert [(p.location, p.message) for p in refused.value.details] == [
        ("bins/B2", "frozen by stock count SC-9"),
        ("bins/B1", "frozen by stock count SC-7"),
    ]


def test_serials_must_be_where_their_effects_say() -> None:
    b1, b2 = LocationSide("Main", "B1"), LocationSide("Main", "B2")
    bins = {b1: 1, b2: 2}
    moves = [
        SerialEffect(1, "S", "in-b1", b1, b2, D(5)),  # fits: it is in B1
        SerialEffect(2, "S", "out-of-stock", None, b1, D(5)),  # fits: it exists, out of stock
        SerialEffect(3, "S", "new", None, b1, D(5)),  # fits: it does not exist yet
    ]
    current = {("S", "in-b1"): 1, ("S", "out-of-stock"): None, ("S", "in-b2"): 2}
    refuse_misplaced_serials(moves, current, bins.__getitem__)
    wrong = [
        SerialEffect(1, "S", "in-b2", b1, None, D(5)),  # it is in B2, not B1
        SerialEffect(2, "S", "in-b1", None, b2, D(5)),  # it is in stock already
        SerialEffect(3, "S", "missing", b1, b2, D(5)),  # it does not exist
    ]
    with pytest.raises(Conflict) as refused:
        refuse_misplaced_serials(wrong, current, bins.__getitem__)
    assert [(p.location, p.message) for p in refused.value.details] == [
        ("lines/1/serial", "serial in-b2 is not in bin B1"),
        ("lines/2/serial", "serial in-b1 is already in stock"),
        ("lines/3/serial", "serial missing is not in bin B1"),
    ]
