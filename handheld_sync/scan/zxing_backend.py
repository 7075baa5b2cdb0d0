"""Decode barcodes with zxing-cpp: DataMatrix (which zbar cannot read) and a second opinion
on the linear codes and QR that zbar misses on damaged labels.

Symbology names follow zbar's ("CODE128", "EAN13", "QRCODE") plus "DATAMATRIX", so the
rest of the app does not care which backend read a code. The GS1 flag comes from zxing's
content type (FNC1 in first position), as zbar's GS1 modifier does for the other backend.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal

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
Binarizer = Literal["local-average", "global-histogram"]


def _our_name(fmt: object) -> str:
    # zxing-cpp prints "Data Matrix", "QR Code", "EAN-13", "Code 128", "UPC-A".
    return str(fmt).replace(" ", "").replace("-", "").upper()


class ZxingDecoder:
    """Finds barcodes with zxing-cpp, limited to `symbologies` (our names).

    The other options are zxing-cpp's; the defaults are its own (the most thorough).
    `fast()` is the set the app's chain uses, measured in bench/decode_frames.py.
    """

    name = "zxing-cpp"

    def __init__(
        self,
        symbologies: Iterable[str] | None = SYMBOLOGIES_IN_USE,
        *,
        binarizer: Binarizer = "local-average",
        try_invert: bool = True,
        try_downscale: bool = True,
        try_rotate: bool = True,
    ) -> None:
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
        self._binarizer = (
            zxingcpp.Binarizer.GlobalHistogram
            if binarizer == "global-histogram"
            else zxingcpp.Binarizer.LocalAverage
        )
        self._try_invert = try_invert
        self._try_downscale = try_downscale
        self._try_rotate = try_rotate

    @classmethod
    def fast(
        cls, symbologies: Iterable[str] | None = SYMBOLOGIES_IN_USE, *, try_rotate: bool = True
    ) -> ZxingDecoder:
        """The app's set: one global-histogram binarisation instead of zxing's local
        average, and no second pass for light-on-dark codes (our labels are printed dark
        on light; an inverted label is not read). On the generated frames of
        bench/decode_frames.py it reads what the default set reads, in about half the time.
        The app's chain also leaves out the column scan (`try_rotate=False`), which about
        doubles the pass: its second look (`RegionDecoder`) scans columns on a crop."""
        return cls(
            symbologies, binarizer="global-histogram", try_invert=False, try_rotate=try_rotate
        )

    def decode_file(self, path: Path) -> list[DecodedBarcode]:
        return self.decode_image(load_image(path))

    def decode_image(self, image: Image.Image) -> list[DecodedBarcode]:
        grey = image if image.mode == "L" else image.convert("L")
        results = zxingcpp.read_barcodes(
            grey,
            formats=self._formats,
            text_mode=zxingcpp.TextMode.Plain,
            binarizer=self._binarizer,
            try_invert=self._try_invert,
            try_downscale=self._try_downscale,
            try_rotate=self._try_rotate,
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
