"""GS1 element strings (the data of GS1-128, GS1 DataMatrix and GS1 QR), parsed by biip.

The AIs a stock count uses: 00 SSCC, 01 GTIN, 10 lot, 17 expiry, 21 serial, 30 count.
Other AIs are parsed and kept in `elements`. Without separators, a variable-length element
(10, 21, 30) runs to the end of the data; scanners send GS (0x1D) after one that is not last.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from biip import ParseConfig, ParseError
from biip.gs1_messages import GS1Message

from handheld_sync.scan import MalformedBarcode
from handheld_sync.scan.text import GS

_CONFIG = ParseConfig(separator_chars=(GS,))


@dataclass(frozen=True, slots=True)
class Gs1Data:
    gtin: str | None = None  # 14 digits, as AI 01 carries it
    sscc: str | None = None
    lot: str | None = None
    expiry: date | None = None
    serial: str | None = None
    count: int | None = None
    elements: dict[str, str] = field(default_factory=dict)  # every AI -> value, as read


def gtin14(code: str) -> str | None:
    """A GTIN-8/12/13/14 written as 14 digits, or None for anything that is not one."""
    if code.isdigit() and len(code) in (8, 12, 13, 14):
        return code.zfill(14)
    return None


def parse_gs1(data: str) -> Gs1Data:
    """Parse a GS1 element string ("0104012345678901" "10LOT7" GS "21SN1"), or its
    human-readable form ("(01)04012345678901(10)LOT7"). Raises MalformedBarcode."""
    try:
        if data.startswith("("):
            message = GS1Message.parse_hri(data, config=_CONFIG)
        else:
            message = GS1Message.parse(data, config=_CONFIG)
    except (ParseError, ValueError) as exc:
        raise MalformedBarcode(f"not a valid GS1 barcode: {exc}") from None
    elements: dict[str, str] = {}
    problems: list[str] = []
    for element in message.element_strings:
        elements[element.ai.ai] = element.value
        for problem in (element.gtin_error, element.sscc_error):
            if problem:
                problems.append(problem)
    if problems:
        raise MalformedBarcode(f"not a valid GS1 barcode: {problems[0]}")
    expiry = message.element_strings.get(ai="17")
    count = elements.get("30")
    return Gs1Data(
        gtin=elements.get("01"),
        sscc=elements.get("00"),
        lot=elements.get("10"),
        expiry=expiry.date if expiry is not None else None,
        serial=elements.get("21"),
        count=int(count) if count is not None else None,
        elements=elements,
    )
