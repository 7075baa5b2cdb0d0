"""The pure rules of update imports: what counts as a change, and what is refused."""

from __future__ import annotations

from decimal import Decimal

from server.domain.counting.reconciliation import LineKind
from server.domain.masterdata import BinKind, Tracking
from server.domain.masterdata.imports import (
    BinRow,
    ItemRow,
    LocationRow,
    ReasonCodeRow,
    SerialRow,
)
from server.domain.masterdata.updates import (
    FieldChange,
    as_text,
    changes,
    check_merged,
    merged,
    refusal,
)

STORED = ItemRow(
    "BOLT", "Bolt", Tracking.NONE, False, "EA", Decimal("2.500000"), "G", ("B-1", "B-2")
)


def test_only_given_fields_that_differ_are_changes() -> None:
    row = ItemRow("BOLT", "Bolt", Tracking.NONE, last_cost=Decimal("2.5"), barcodes=("B-2", "B-1"))
    # Same name, same cost (2.5 = 2.500000), same barcodes in another order: nothing.
    assert changes("items", STORED, row, {"code", "name", "last_cost", "barcodes"}) == []
    # inventory_group is None in the row but not given: kept, not a change.
    assert changes("items", STORED, row, {"code", "name", "tracking"}) == []
    given = {"code", "name", "tracking", "inventory_group", "barcodes"}
    assert changes("items", STORED, row, {"code", "uom"}) == []  # EA as stored
    assert changes("items", STORED, ItemRow("BOLT", "Bolt", Tracking.NONE), given) == [
        FieldChange("inventory_group", "G", None),
        FieldChange("barcodes", "B-1|B-2", ""),
    ]
    assert merged(STORED, ItemRow("BOLT", "Hex", Tracking.NONE), {"code", "name"}) == ItemRow(
        "BOLT", "Hex", Tracking.NONE, False, "EA", Decimal("2.500000"), "G", ("B-1", "B-2")
    )


def test_key_fields_are_never_changes() -> None:
    stored = BinRow("MAIN", "A-01", BinKind.STOCK, "")
    row = BinRow("MAIN", "A-01", BinKind.OUT, "A")
    assert changes("bins", stored, row, {"location", "label", "kind", "zone"}) == [
        FieldChange("kind", "stock", "out"),
        FieldChange("zone", "", "A"),
    ]


def test_values_as_the_log_writes_them() -> None:
    assert as_text(Decimal("55.232000")) == "55.232"
    assert as_text(Decimal("10.000000")) == "10"
    assert as_text(Decimal("0E-6")) == "0"
    assert as_text(True) == "true"
    assert as_text(Tracking.LOT) == "lot"
    assert as_text(None) is None
    # A reason code's kinds in the reconciliation's order, as the reason code list shows them.
    kinds = frozenset({LineKind.QUANTITY_VARIANCE, LineKind.UNKNOWN, LineKind.MISSING})
    assert as_text(kinds) == "missing|unknown|quantity_variance"
    assert as_text(frozenset()) == ""


def test_a_reason_code_changes_only_the_fields_given() -> None:
    stored = ReasonCodeRow("LOST", "Lost", frozenset({LineKind.MISSING}), active=True)
    row = ReasonCodeRow("LOST", "Lost", active=False)  # kinds not given: kept
    assert changes("reason_codes", stored, row, {"code", "description", "active"}) == [
        FieldChange("active", "true", "false")
    ]
    assert merged(stored, row, {"code", "description", "active"}) == ReasonCodeRow(
        "LOST", "Lost", frozenset({LineKind.MISSING}), active=False
    )
    assert refusal("reason_codes", FieldChange("active", "true", "false")) is None


def test_refusals() -> None:
    tracking = FieldChange("tracking", "none", "lot")
    assert refusal("items", tracking) is None
    assert "has stock" in (refusal("items", tracking, has_stock=True) or "")
    assert refusal("items", FieldChange("name", "a", "b"), has_stock=True) is None
    zone = FieldChange("zone", "", "A")
    assert refusal("bins", zone) is None
    assert "stock count SC-1 is in process" in (refusal("bins", zone, frozen_by="SC-1") or "")
    for field in ("location", "bin", "actual_cost"):
        assert "Journal" in (refusal("serials", FieldChange(field, "1", "2")) or "")
    assert refusal("locations", FieldChange("company", "C1", "C2")) is not None
    assert refusal("locations", FieldChange("gl_entity", "E1", None)) is None
    stored = SerialRow("SER", "S1", "MAIN", "A-01", Decimal(1))
    assert changes("serials", stored, stored, {"location", "bin", "actual_cost"}) == []
    assert LocationRow("MAIN", "Main", "C1") == LocationRow("MAIN", "Main", "C1")


def test_a_merged_item_must_stay_valid() -> None:
    auto = ItemRow("A", "A", Tracking.SERIAL, auto_serialized=True)
    untracked = merged(auto, ItemRow("A", "A", Tracking.NONE), {"code", "name", "tracking"})
    assert check_merged(untracked) is not None and check_merged(untracked)[0] == "auto_serialized"  # type: ignore[index]
    assert check_merged(auto) is None
