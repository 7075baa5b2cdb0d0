"""Scan decoding: what a decoder returns, whichever library reads the pixels.

    ScanError                 anything that stops a scan from giving a result
    ├── UnreadableImage       the file is missing, not an image, or cannot be opened
    └── DecoderUnavailable    the native library (libzbar0) is not installed

A decoder returns a list of `DecodedBarcode`s: empty when the image holds no barcode it
can read (that is a result, not an error).
"""

from __future__ import annotations

from dataclasses import dataclass


class ScanError(Exception):
    """A scan could not produce a result. The message is one line, for a person."""


class UnreadableImage(ScanError):
    pass


class DecoderUnavailable(ScanError):
    pass


@dataclass(frozen=True, slots=True)
class DecodedBarcode:
    """One barcode found in an image.

    symbology: the decoder's name for it, upper case: "EAN13", "CODE128", "QRCODE", ...
    data: the bytes the barcode carries, exactly.
    gs1: the decoder saw the GS1 marker (FNC1 in first position): data is a GS1 element
        string, with GS (0x1D) between variable-length elements.
    """

    symbology: str
    data: bytes
    gs1: bool = False

    @property
    def text(self) -> str:
        """The data as text (UTF-8; bytes that are not UTF-8 shown as U+FFFD)."""
        return self.data.decode("utf-8", errors="replace")


__all__ = [
    "DecodedBarcode",
    "DecoderUnavailable",
    "ScanError",
    "UnreadableImage",
]
