"""Decode barcodes in images with zbar, through pyzbar's ctypes bindings.

pyzbar's own `decode()` drops zbar's symbol modifiers, and with them the GS1 flag, so
this module runs the scan itself with pyzbar's public wrapper functions and asks zbar for
each symbol's type, data and modifiers.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from PIL import Image

from handheld_sync.scan import DecodedBarcode, DecoderUnavailable, UnreadableImage, load_image

# The symbologies our labels use that zbar reads (DataMatrix goes to zxing-cpp). Limiting
# zbar to them is faster than all (bench/decode_frames.py measures it) and misreads less.
SYMBOLOGIES_IN_USE = ("CODE128", "EAN13", "EAN8", "UPCA", "QRCODE")

# zbar's `zbar_modifier_t`: bit positions in zbar_symbol_get_modifiers().
_ZBAR_MOD_GS1 = 0
# zbar's fourcc for 8-bit greyscale ("Y800").
_Y800 = ord("Y") | ord("8") << 8 | ord("0") << 16 | ord("0") << 24


class _Zbar:
    """The zbar functions this module calls, loaded once."""

    def __init__(self) -> None:
        try:
            from pyzbar import wrapper
            from pyzbar.pyzbar import ZBarSymbol
        except ImportError as exc:  # pyzbar raises ImportError when libzbar is missing
            raise DecoderUnavailable(
                f"cannot load zbar ({exc}): install it with 'apt-get install libzbar0'"
            ) from None
        self.w: Any = wrapper  # Any: pyzbar ships no type information
        self.symbols: Any = ZBarSymbol
        symbol_p = ctypes.POINTER(wrapper.zbar_symbol)
        self.get_type: Any = wrapper.zbar_function("zbar_symbol_get_type", ctypes.c_int, symbol_p)
        self.get_modifiers: Any = wrapper.zbar_function(
            "zbar_symbol_get_modifiers", ctypes.c_uint, symbol_p
        )


_zbar: _Zbar | None = None


def _library() -> _Zbar:
    global _zbar
    if _zbar is None:
        _zbar = _Zbar()
    return _zbar


class PyzbarDecoder:
    """Finds every barcode zbar can read in an image: 1D (EAN, Code 128, ...) and QR.

    `symbologies` limits the scan to those zbar names ("EAN13", "QRCODE", ...); a
    narrower scan is faster and gives fewer false reads on noisy images. `density` scans
    every n-th row and column (zbar's X/Y density): 2 halves the work on a camera frame
    and, on our frames, reads the same codes (bench/decode_frames.py).
    """

    name = "pyzbar"

    def __init__(self, symbologies: Iterable[str] | None = None, *, density: int = 1) -> None:
        if density < 1:
            raise ValueError("density is 1 (every line) or more")
        self._density = density
        self._zbar = _library()
        names = [s.upper() for s in symbologies] if symbologies is not None else None
        if names is not None:
            unknown = sorted(set(names) - set(self._zbar.symbols.__members__))
            if unknown:
                raise ValueError(f"zbar knows no symbology {', '.join(unknown)}")
        self._only = names

    def decode_file(self, path: Path) -> list[DecodedBarcode]:
        return self.decode_image(load_image(path))

    def decode_image(self, image: Image.Image) -> list[DecodedBarcode]:
        grey = image.convert("L")
        width, height = grey.size
        pixels = grey.tobytes()
        w = self._zbar.w
        scanner = w.zbar_image_scanner_create()
        if not scanner:
            raise DecoderUnavailable("zbar could not create a scanner")
        try:
            self._configure(scanner)
            zimage = w.zbar_image_create()
            if not zimage:
                raise DecoderUnavailable("zbar could not create an image")
            try:
                w.zbar_image_set_format(zimage, _Y800)
                w.zbar_image_set_size(zimage, width, height)
                buffer = ctypes.create_string_buffer(pixels, len(pixels))
                w.zbar_image_set_data(
                    zimage, ctypes.cast(buffer, ctypes.c_void_p), len(pixels), None
                )
                if w.zbar_scan_image(scanner, zimage) < 0:
                    raise UnreadableImage("zbar failed to scan the image")
                return self._results(zimage)
            finally:
                w.zbar_image_destroy(zimage)
        finally:
            w.zbar_image_scanner_destroy(scanner)

    def _configure(self, scanner: Any) -> None:
        w, symbols = self._zbar.w, self._zbar.symbols
        if self._density != 1:
            for setting in (w.ZBarConfig.CFG_X_DENSITY, w.ZBarConfig.CFG_Y_DENSITY):
                w.zbar_image_scanner_set_config(scanner, 0, setting, self._density)
        if self._only is None:
            return
        enable = w.ZBarConfig.CFG_ENABLE
        for member in symbols:
            on = 1 if member.name in self._only else 0
            w.zbar_image_scanner_set_config(scanner, member, enable, on)

    def _results(self, zimage: Any) -> list[DecodedBarcode]:
        zbar = self._zbar
        found: list[DecodedBarcode] = []
        symbol = zbar.w.zbar_image_first_symbol(zimage)
        while symbol:
            length = zbar.w.zbar_symbol_get_data_length(symbol)
            data = ctypes.string_at(zbar.w.zbar_symbol_get_data(symbol), length)
            kind = int(zbar.get_type(symbol))
            try:
                name = str(zbar.symbols(kind).name)
            except ValueError:
                name = f"ZBAR-{kind}"
            gs1 = bool(int(zbar.get_modifiers(symbol)) >> _ZBAR_MOD_GS1 & 1)
            found.append(DecodedBarcode(symbology=name, data=data, gs1=gs1))
            symbol = zbar.w.zbar_symbol_next(symbol)
        return found
