"""The pure rules of an import row: no database, no files."""

from __future__ import annotations

from decimal import Decimal

import pytest

from server.domain.masterdata import BinKind, Tracking
from server.domain.masterdata.imports import (
    BinRow,
    FieldError,
    ItemRow,
    OpeningStockRow,
    RowParser,
    SerialRow,
    check_kind,
    check_opening_stock,
    check_serial_item,
    kind_from_filename,
    opening_average,
    unknown_fields,
)


@pytest.mark.parametrize(
    ("stem", "kind"),
    [
        ("serials", "serials"),
        ("opening-stock", "opening_stock"),
        ("02_bins", "bins"),
        ("GL-Accounts", "gl_accounts"),
        ("stuff", None),
        ("02bins", None),
    ],
)
def test_kind_from_file_name(stem: str, kind: str | None) -> None:
    assert kind_from_filename(stem) == kind


def test_unknown_kind_is_refused_with_the_list() -> None:
    with pytest.raises(ValueError, match="unknown kind 'pallets'"):
        check_kind("pallets")
    assert check_kind("Opening-Stock") == "opening_stock"


def test_unknown_fields_are_named() -> None:
    assert unknown_fields("bins", ["location", "label", "colour"]) == ["colour"]


def _error(kind: str, raw: dict[str, object]) -> FieldError:
    with pytest.raises(FieldError) as caught:
        RowParser().parse(kind, raw)
    return caught.value


SERIAL = {"item": "S1", "serial_number": "SN1", "location": "MAIN", "bin": "A-01"}


def test_decimals_from_text_and_json_numbers_are_exact() -> None:
    parser = RowParser()
    for raw in ("55.232", Decimal("55.232")):
        row = parser.parse("serials", {**SERIAL, "actual_cost": raw})
        assert isinstance(row, SerialRow)
        assert row.actual_cost == Decimal("55.232")
        assert str(row.actual_cost) == "55.232"
    row = parser.parse("serials", {**SERIAL, "actual_cost": 14})
    assert isinstance(row, SerialRow) and row.actual_cost == Decimal(14)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "must be a number, not 'abc'"),
        (True, "must be a number, not True"),
        ("1.1234567", "has more than 6 decimal places"),
        ("-1", "must not be negative"),
        ("NaN", "must be a number"),
    ],
)
def test_bad_costs_name_the_field(value: object, message: str) -> None:
    error = _error("serials", {**SERIAL, "actual_cost": value})
    assert error.field == "actual_cost"
    assert message in error.message


def test_quantity_has_four_places_and_is_not_negative() -> None:
    base = {"item": "P", "location": "MAIN", "bin": "A", "unit_cost": "1"}
    assert _error("opening_stock", {**base, "quantity": "1.00001"}).field == "quantity"
    assert "negative" in _error("opening_stock", {**base, "quantity": "-2"}).message
    row = RowParser().parse("opening_stock", {**base, "quantity": "2.5"})
    assert isinstance(row, OpeningStockRow) and row.quantity == Decimal("2.5")


def test_required_fields_and_codes() -> None:
    assert _error("companies", {"code": "", "name": "x"}).field == "code"
    assert _error("companies", {"code": "A B", "name": "x"}).message.endswith(
        "may hold only letters, digits and . _ / - (no spaces)"
    )
    assert _error("companies", {"code": "A" * 65, "name": "x"}).field == "code"
    assert _error("gl_entities", {"code": "E", "name": "x"}).field == "company"


@pytest.mark.parametrize(
    ("text", "value"), [("true", True), ("yes", True), ("1", True), ("", False), ("No", False)]
)
def test_booleans(text: str, value: bool) -> None:
    row = RowParser().parse(
        "items", {"code": "I", "name": "n", "tracking": "serial", "auto_serialized": text}
    )
    assert isinstance(row, ItemRow) and row.auto_serialized is value


def test_bad_boolean_and_auto_serialized_untracked_item() -> None:
    item = {"code": "I", "name": "n", "tracking": "none"}
    assert _error("items", {**item, "auto_serialized": "maybe"}).field == "auto_serialized"
    error = _error("items", {**item, "auto_serialized": "yes"})
    assert error.field == "auto_serialized" and "serial-tracked" in error.message


def test_item_defaults_and_barcodes_from_csv_and_json() -> None:
    parser = RowParser()
    csv_row = parser.parse(
        "items",
        {
            "code": "I",
            "name": "n",
            "tracking": "lot",
            "barcodes": "0401|0402",
            "uom": "",
            "last_cost": "",
        },
    )
    assert isinstance(csv_row, ItemRow)
    assert csv_row.barcodes == ("0401", "0402")
    assert (csv_row.uom, csv_row.last_cost, csv_row.tracking) == ("EA", Decimal(0), Tracking.LOT)
    json_row = parser.parse(
        "items", {"code": 123106, "name": "n", "tracking": "none", "barcodes": ["0401"]}
    )
    assert isinstance(json_row, ItemRow) and json_row.code == "123106"
    twice = _error("items", {"code": "I", "name": "n", "tracking": "none", "barcodes": "1|1"})
    assert twice.field == "barcodes" and "twice" in twice.message
    assert _error("items", {"code": "I", "name": "n", "tracking": "batch"}).field == "tracking"


def test_bin_kind_defaults_to_stock() -> None:
    row = RowParser().parse("bins", {"location": "MAIN", "label": "A-01", "kind": ""})
    assert row == BinRow("MAIN", "A-01", BinKind.STOCK, "")
    assert _error("bins", {"location": "MAIN", "label": "A 01"}).field == "label"
    assert _error("bins", {"location": "MAIN", "label": "A", "kind": "dock"}).field == "kind"


def test_serial_needs_a_serial_tracked_item() -> None:
    check_serial_item(Tracking.SERIAL, "S1")
    with pytest.raises(FieldError, match="tracked by lot, not serial"):
        check_serial_item(Tracking.LOT, "L1")


def test_opening_stock_tracking_rules() -> None:
    plain = OpeningStockRow("P", "MAIN", "A", Decimal(1), Decimal(1), "")
    lot = OpeningStockRow("L", "MAIN", "A", Decimal(1), Decimal(1), "LOT-7")
    check_opening_stock(Tracking.NONE, plain)
    check_opening_stock(Tracking.LOT, lot)
    with pytest.raises(FieldError) as caught:
        check_opening_stock(Tracking.SERIAL, plain)
    assert caught.value.field == "item" and "import serials" in caught.value.message
    with pytest.raises(FieldError) as caught:
        check_opening_stock(Tracking.LOT, plain)
    assert caught.value.field == "lot"
    with pytest.raises(FieldError) as caught:
        check_opening_stock(Tracking.NONE, lot)
    assert caught.value.field == "lot"


def test_opening_average_is_weighted_and_counts_existing_stock() -> None:
    rows = [(Decimal(14), Decimal("55.232")), (Decimal(6), Decimal(57))]
    assert opening_average(None, rows) == Decimal("55.762400")
    # 20 on hand at 55.7624 plus 20 more at 60: the mean of the two.
    assert opening_average((Decimal(20), Decimal("55.7624")), [(Decimal(20), Decimal(60))]) == (
        Decimal("57.881200")
    )
    assert opening_average(None, [(Decimal(0), Decimal(12)), (Decimal(0), Decimal(14))]) == 13
