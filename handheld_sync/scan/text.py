"""What a scanner delivers as text, made into one `RawScan`.

A hardware scanner in keyboard-wedge or intent mode sends the barcode's data as text,
usually with an AIM symbology identifier in front ("]C1" GS1-128, "]d2" GS1 DataMatrix,
"]Q3" GS1 QR, "]E0" EAN-13, ...) and with the GS1 group separator (0x1D) between
variable-length elements, or, when the keyboard cannot type 0x1D, a replacement character
configured on the scanner (often "|" or "~"). An image decoder gives the same facts as a
`DecodedBarcode`; both end here.
"""

from __future__ import annotations

from dataclasses import dataclass

from biip import ParseError
from biip.symbology import GS1Symbology, SymbologyIdentifier

from handheld_sync.scan import DecodedBarcode, MalformedBarcode

GS = "\x1d"

# ISO/IEC 15424 code characters -> our symbology names (zbar's, plus DATAMATRIX).
_ISO_NAMES = {
    "A": "CODE39",
    "C": "CODE128",
    "E": "EAN13",
    "F": "CODABAR",
    "G": "CODE93",
    "I": "ITF",
    "L": "PDF417",
    "Q": "QRCODE",
    "d": "DATAMATRIX",
    "e": "DATABAR",
}
# Our names -> the AIM identifier a scanner would have sent (plain, GS1).
_AIM_OF = {
    "CODE128": ("]C0", "]C1"),
    "DATAMATRIX": ("]d1", "]d2"),
    "QRCODE": ("]Q1", "]Q3"),
    "EAN13": ("]E0", "]E0"),
    "UPCA": ("]E0", "]E0"),
    "EAN8": ("]E4", "]E4"),
    "CODE39": ("]A0", "]A0"),
    "ITF": ("]I0", "]I1"),
    "DATABAR": ("]e0", "]e0"),
}


@dataclass(frozen=True, slots=True)
class RawScan:
    """One scan, as text. `data` has GS (0x1D) between GS1 elements; `aim` may be ""."""

    data: str
    symbology: str = ""
    gs1: bool = False
    aim: str = ""

    @property
    def raw(self) -> str:
        """What the scanner sent, normalised: AIM identifier then data."""
        return self.aim + self.data


def parse_scanner_text(
    text: str, *, gs_replacement: str | None = None, aim_prefixes: bool = True
) -> RawScan:
    """Read scanner text: an optional AIM prefix, data, GS or its configured replacement.
    `aim_prefixes=False`: the scanners send none, so a leading "]" is data."""
    text = text.rstrip("\r\n")
    if gs_replacement:
        text = text.replace(gs_replacement, GS)
    if not text.strip(GS + " "):
        raise MalformedBarcode("the scan is empty: scan again")
    if text.startswith("]") and aim_prefixes:
        try:
            identifier = SymbologyIdentifier.extract(text)
        except (ParseError, IndexError, ValueError):
            raise MalformedBarcode(
                f"{text[:3]!r} is no symbology identifier this app knows: check the "
                "scanner's AIM prefix setting"
            ) from None
        data = text[len(identifier) :]
        gs1 = identifier.gs1_symbology in GS1Symbology.with_gs1_messages()
        name = _ISO_NAMES.get(identifier.iso_symbology.value, identifier.iso_symbology.name)
        if identifier.value == "]E4":
            name = "EAN8"
        if not data:
            raise MalformedBarcode(f"the scan has a symbology identifier {identifier} and no data")
        return RawScan(
            data=data.lstrip(GS) if gs1 else data, symbology=name, gs1=gs1, aim=identifier.value
        )
    if text.startswith(GS):
        # Some scanners send FNC1 in first position as a leading GS instead of an AIM prefix.
        return RawScan(data=text.lstrip(GS), gs1=True)
    return RawScan(data=text)


def from_decoded(found: DecodedBarcode) -> RawScan:
    """A barcode read from an image, as the scanner would have sent it."""
    plain, gs1_aim = _AIM_OF.get(found.symbology, ("", ""))
    return RawScan(
        data=found.text,
        symbology=found.symbology,
        gs1=found.gs1,
        aim=gs1_aim if found.gs1 else plain,
    )
