"""Scanner text (AIM prefixes, GS and its replacement), GS1 element strings with biip, and
classification of every scan against the local reference data."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from handheld_sync.errors import MalformedBarcode
from handheld_sync.scan import DecodedBarcode
from handheld_sync.scan.classify import Classifier
from handheld_sync.scan.gs1 import parse_gs1
from handheld_sync.scan.text import GS, RawScan, from_decoded, parse_scanner_text
from handheld_sync.store import Store
from tests.unit.handheld.reference import BOLT_EAN, PUMP_GTIN, RESIN_GTIN, new_store


@pytest.mark.parametrize(
    ("text", "symbology", "gs1", "data"),
    [
        ("]C1010401234567890110LOT7", "CODE128", True, "010401234567890110LOT7"),
        ("]C0MAIN-A01-02", "CODE128", False, "MAIN-A01-02"),
        ("]d2010401234567890121SN-7", "DATAMATRIX", True, "010401234567890121SN-7"),
        ("]d1SN-7", "DATAMATRIX", False, "SN-7"),
        ("]Q3010401234567890121SN-7", "QRCODE", True, "010401234567890121SN-7"),
        ("]Q1SN-000123", "QRCODE", False, "SN-000123"),
        ("]E04006381333931", "EAN13", False, "4006381333931"),
        ("]E440063815", "EAN8", False, "40063815"),
        ("MAIN-A01-02\r\n", "", False, "MAIN-A01-02"),  # keyboard wedge, no prefix, Enter
        (GS + "0104012345678901", "", True, "0104012345678901"),  # FNC1 sent as a leading GS
    ],
)
def test_aim_prefixes(text: str, symbology: str, gs1: bool, data: str) -> None:
    scan = parse_scanner_text(text)
    assert (scan.symbology, scan.gs1, scan.data) == (symbology, gs1, data)
    assert scan.raw.endswith(data)


def test_group_separator_and_its_configured_replacement() -> None:
    sent = "]C1010401234567890110LOT7" + GS + "21SN-9"
    assert parse_scanner_text(sent).data == "010401234567890110LOT7" + GS + "21SN-9"
    replaced = parse_scanner_text("]C1010401234567890110LOT7|21SN-9", gs_replacement="|")
    assert replaced.data == "010401234567890110LOT7" + GS + "21SN-9"
    parsed = parse_gs1(replaced.data)
    assert (parsed.lot, parsed.serial) == ("LOT7", "SN-9")
    # Without the replacement configured, "|" is data, which no GS1 lot may hold.
    with pytest.raises(MalformedBarcode, match=r"'\|21SN-9'"):
        parse_gs1(parse_scanner_text("]C1010401234567890110LOT7|21SN-9").data)


@pytest.mark.parametrize("text", ["]", "]C1", "", GS, "]Z"])
def test_malformed_scanner_text(text: str) -> None:
    with pytest.raises(MalformedBarcode):
        parse_scanner_text(text)


def test_gs1_all_the_ais_a_count_uses() -> None:
    data = "00340123450000000000"
    assert parse_gs1(data).sscc == "340123450000000000"
    full = parse_gs1("01040123456789011726123110LOT7" + GS + "21SN-1" + GS + "3012")
    assert full.gtin == PUMP_GTIN
    assert full.expiry == date(2026, 12, 31)
    assert (full.lot, full.serial, full.count) == ("LOT7", "SN-1", 12)
    assert full.elements == {
        "01": PUMP_GTIN,
        "17": "261231",
        "10": "LOT7",
        "21": "SN-1",
        "30": "12",
    }


def test_gs1_without_separators_when_only_the_last_element_varies() -> None:
    parsed = parse_gs1("01040123456789011726123121SN-1")  # fixed, fixed, variable last
    assert (parsed.gtin, parsed.expiry, parsed.serial) == (PUMP_GTIN, date(2026, 12, 31), "SN-1")


def test_gs1_human_readable_form() -> None:
    parsed = parse_gs1("(01)04012345678901(10)LOT7(30)5")
    assert (parsed.gtin, parsed.lot, parsed.count) == (PUMP_GTIN, "LOT7", 5)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        ("0104012345678902", "check digit"),  # GTIN check digit wrong
        ("17261399", "17"),  # month 13
        ("010401234567890", "01"),  # GTIN too short
        ("99", ""),  # AI with no data
    ],
)
def test_malformed_gs1(data: str, why: str) -> None:
    with pytest.raises(MalformedBarcode, match=f"not a valid GS1 barcode.*{why}"):
        parse_gs1(data)


def test_from_decoded_gives_the_aim_prefix_a_scanner_would_send() -> None:
    gs1 = from_decoded(DecodedBarcode("DATAMATRIX", b"0104012345678901", gs1=True))
    assert gs1 == RawScan(data="0104012345678901", symbology="DATAMATRIX", gs1=True, aim="]d2")
    assert from_decoded(DecodedBarcode("CODE128", b"MAIN-A01-01")).raw == "]C0MAIN-A01-01"


# --- classification -----------------------------------------------------------------------


class CountView:
    """The store seen from count SC-1 (what CountingSession hands the classifier)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def bin_known(self, label: str) -> bool:
        return self.store.bin_known(label)

    def item(self, code: str):  # type: ignore[no-untyped-def]
        return self.store.item(code)

    def item_by_barcode(self, barcode: str):  # type: ignore[no-untyped-def]
        return self.store.item_by_barcode(barcode)

    def expected_serial_item(self, serial: str) -> str | None:
        return self.store.expected_serial_item("SC-1", serial)


@pytest.fixture
def classifier(tmp_path: Path) -> Classifier:
    return Classifier(CountView(new_store(tmp_path / "s.sqlite3")))


@pytest.mark.parametrize(
    ("text", "kind", "item", "serial", "lot", "quantity"),
    [
        ("MAIN-A01-02", "bin", None, None, None, None),
        ("]C0MAIN-OUT-01", "bin", None, None, None, None),
        ("]E0" + BOLT_EAN, "item", "BOLT", None, None, None),
        (BOLT_EAN, "item", "BOLT", None, None, None),  # no prefix: still a known barcode
        ("]d2" + "01" + PUMP_GTIN + "21SN-42", "serial", "PUMP", "SN-42", None, None),
        ("01" + PUMP_GTIN + "21SN-43", "serial", "PUMP", "SN-43", None, None),  # no AIM
        ("SN-7", "serial", "PUMP", "SN-7", None, None),  # a serial SC-1 expects
        ("]C1" + "01" + RESIN_GTIN + "10L-9" + GS + "3040", "lot", "RESIN", None, "L-9", 40),
        ("]C1" + "01" + RESIN_GTIN + "10L-9", "lot", "RESIN", None, "L-9", None),
        ("]Q3" + "01" + "0" + BOLT_EAN + "3012", "item", "BOLT", None, None, 12),
        ("MAIN-Z99-99", "unknown", None, None, None, None),  # bin pattern, no such bin
        ("]E05901234123457", "unknown", None, None, None, None),  # EAN of no item here
        ("]C100340123450000000000", "unknown", None, None, None, None),  # a pallet SSCC
        ("whatever", "unknown", None, None, None, None),
    ],
)
def test_classification(
    classifier: Classifier,
    text: str,
    kind: str,
    item: str | None,
    serial: str | None,
    lot: str | None,
    quantity: int | None,
) -> None:
    found = classifier.classify(parse_scanner_text(text))
    assert found.kind == kind, found.message
    assert (found.item.code if found.item else None, found.serial, found.lot) == (item, serial, lot)
    assert found.quantity == (Decimal(quantity) if quantity is not None else None)
    assert found.message


def test_unknown_messages_say_what_to_do(classifier: Classifier) -> None:
    assert "no bin known here" in classifier.classify(parse_scanner_text("MAIN-Z99-99")).message
    assert (
        "pallet label" in classifier.classify(parse_scanner_text("]C100340123450000000000")).message
    )
    assert "sync" in classifier.classify(parse_scanner_text("whatever")).message


def test_a_serial_label_after_its_item_label(classifier: Classifier) -> None:
    plain = parse_scanner_text("]C0X-99881")
    assert classifier.classify(plain).kind == "unknown"
    found = classifier.classify(plain, serial_item="PUMP")
    assert (found.kind, found.serial) == ("serial", "X-99881")
    assert classifier.classify(plain, serial_item="BOLT").kind == "unknown"  # not serialized


def test_a_serial_on_an_unserialized_item_is_unknown(classifier: Classifier) -> None:
    found = classifier.classify(parse_scanner_text("]C101" + "0" + BOLT_EAN + "21SN-1"))
    assert found.kind == "unknown" and "not serialized" in found.message


def test_malformed_gs1_raises(classifier: Classifier) -> None:
    with pytest.raises(MalformedBarcode):
        classifier.classify(parse_scanner_text("]C10104012345678902"))


def test_bin_pattern_is_configurable(tmp_path: Path) -> None:
    store = new_store(tmp_path / "s.sqlite3")
    strict = Classifier(CountView(store), bin_pattern=r"^BIN:[A-Z0-9-]+$")
    assert strict.classify(parse_scanner_text("MAIN-A01-02")).kind == "unknown"
