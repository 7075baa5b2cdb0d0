"""Scan decoding: what a decoder returns, whichever library reads the pixels.

Errors (see handheld_sync/errors.py for the whole tree):

    ScanError                 anything that stops a scan from giving a result
    ├── UnreadableImage       the file is missing, not an image, or cannot be opened
    ├── DecoderUnavailable    the native library (libzbar0) is not installed
    ├── DecoderCrashed        the decoder process died or hung; it is restarted
    ├── UnknownBarcode        read, but it is no bin, item or serial known here
    └── MalformedBarcode      a GS1 string or scanner prefix that does not parse

A decoder returns a list of `DecodedBarcode`s: empty when the image holds no barcode it
can read (that is a result, not an error).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from PIL import Image, UnidentifiedImageError

from handheld_sync.errors import (
    DecoderCrashed,
    DecoderUnavailable,
    MalformedBarcode,
    ScanError,
    UnknownBarcode,
    UnreadableImage,
)


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


class Decoder(Protocol):
    """What every backend (zbar, zxing-cpp, the chain, the isolated worker) offers."""

    name: str

    def decode_image(self, image: Image.Image) -> list[DecodedBarcode]: ...


def load_image(path: Path) -> Image.Image:
    """Open and fully read an image file, or raise UnreadableImage with a clear reason."""
    try:
        with Image.open(path) as image:
            image.load()
            return image.copy()
    except FileNotFoundError:
        raise UnreadableImage(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UnreadableImage(f"{path}: is a directory, not an image") from None
    except UnidentifiedImageError:
        raise UnreadableImage(f"{path}: not an image this app can read") from None
    except OSError as exc:
        raise UnreadableImage(f"{path}: cannot read the image ({exc})") from None


def decode_file(decoder: Decoder, path: Path) -> list[DecodedBarcode]:
    return decoder.decode_image(load_image(path))


__all__ = [
    "DecodedBarcode",
    "Decoder",
    "DecoderCrashed",
    "DecoderUnavailable",
    "MalformedBarcode",
    "ScanError",
    "UnknownBarcode",
    "UnreadableImage",
    "decode_file",
    "load_image",
]
