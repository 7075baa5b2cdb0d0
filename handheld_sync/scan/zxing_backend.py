"""Decode barcodes with zxing-cpp: DataMatrix (which zbar cannot read) and a second opinion
on the linear codes and QR that zbar misses on damaged labels.

Symbology names follow zbar's ("CODE128", "EAN13", "QRCODE") plus "DATAMATRIX", so the
rest of the app does not care which backend read a code. The GS1 flag comes from zxing's
content type (FNC1 in first position), as zbar's GS1 modifier does for the other backend.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PIL import Image

from handheld_sync.scan import DecodedBarcode, DecoderUnavailable, load_image

try:
    import zxingcpp
except ImportError:  # pragma: no cover - the handheld extra installs it
    zxingcpp = None  # type: ignore[assignment]

# Our names -> zxing-cpp's format names.
_FORMATS = {
    "CODE128": "Code128",
    "EAN13": "EAN13",
    "EAN8": "EAN8",
    "UPCA": "UPCA",
    "QRCODE": "QRCode",
    "DATAMATRIX": "DataMatrix",
    "CODE39": "Code39",
    "ITF": "ITF",
    "DATABAR": "DataBar",
    "PDF417": "PDF417",
}
SYMBOLOGIES_IN_USE = ("CODE128", "EAN13", "EAN8", "UPCA", "QRCODE", "DATAMATRIX")


def _our_name(fmt: object) -> str:
    # zxing-cpp prints "Data Matrix", "QR Code", "EAN-13", "Code 128", "UPC-A".
    return str(fmt).replace(" ", "").replace("-", "").upper()


class ZxingDecoder:
    """Finds barcodes with zxing-cpp, limited to `symbologies` (our names)."""

    name = "zxing-cpp"

    def __init__(self, symbologies: Iterable[str] | None = SYMBOLOGIES_IN_USE) -> None:
        if zxingcpp is None:
            raise DecoderUnavailable(
                "zxing-cpp is not installed: pip install 'stockcount[handheld]'"
            )
        names = [s.upper() for s in symbologies] if symbologies is not None else None
        if names is None:
            self._formats = zxingcpp.barcode_formats_from_str("")
        else:
            unknown = sorted(set(names) - set(_FORMATS))
            if unknown:
                raise ValueError(f"zxing backend knows no symbology {', '.join(unknown)}")
            self._formats = zxingcpp.barcode_formats_from_str(",".join(_FORMATS[n] for n in names))

    def decode_file(self, path: Path) -> list[DecodedBarcode]:
        return self.decode_image(load_image(path))

    def decode_image(self, image: Image.Image) -> list[DecodedBarcode]:
        grey = image.convert("L")
        results = zxingcpp.read_barcodes(
            grey, formats=self._formats, text_mode=zxingcpp.TextMode.Plain
        )
        return [
            DecodedBarcode(
                symbology=_our_name(found.format),
                data=found.bytes,
                gs1=found.content_type == zxingcpp.ContentType.GS1,
            )
            for found in results
            if found.valid
        ]
