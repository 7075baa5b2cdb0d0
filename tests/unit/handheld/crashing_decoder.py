"""Decoders that fail the way native code does, loaded by the decoder worker process.

A black pixel at (0, 0) makes `CrashingDecoder` call os.abort(): the process dies with
SIGABRT exactly as a C library's assertion failure or abort would kill it. A grey one makes
`HangingDecoder` never answer. Otherwise they answer one fixed barcode.
"""

from __future__ import annotations

import os
import time

from PIL import Image

from handheld_sync.scan import DecodedBarcode


class CrashingDecoder:
    name = "crashing"

    def decode_image(self, image: Image.Image) -> list[DecodedBarcode]:
        if image.getpixel((0, 0)) == 0:
            os.abort()
        return [DecodedBarcode(symbology="CODE128", data=b"MAIN-A01-01")]


class HangingDecoder:
    name = "hanging"

    def decode_image(self, image: Image.Image) -> list[DecodedBarcode]:
        if image.getpixel((0, 0)) == 128:
            time.sleep(3600)
        return [DecodedBarcode(symbology="CODE128", data=b"MAIN-A01-01")]
