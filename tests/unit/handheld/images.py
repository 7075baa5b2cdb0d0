"""Barcode images made here: python-barcode (Code 128, GS1-128, EAN-13), qrcode (QR),
zxing-cpp's writer (DataMatrix, GS1 DataMatrix, GS1 QR); damaged with Pillow."""

from __future__ import annotations

import io
import random

import barcode
import qrcode
import zxingcpp
from barcode.writer import ImageWriter
from PIL import Image, ImageFilter

FRAME = (1280, 720)


def linear(kind: str, data: str) -> Image.Image:
    out = io.BytesIO()
    barcode.get(kind, data, writer=ImageWriter()).write(out, options={"write_text": False})
    out.seek(0)
    return Image.open(out).convert("L")


def qr(data: str) -> Image.Image:
    return qrcode.make(data, box_size=6).get_image().convert("L")


def zxing_written(content: str, fmt: str, *, gs1: bool = False, scale: int = 6) -> Image.Image:
    symbol = zxingcpp.create_barcode(content, zxingcpp.barcode_format_from_str(fmt), gs1=gs1)
    bitmap = zxingcpp.write_barcode_to_image(symbol, scale=scale)
    height, width = bitmap.shape[0], bitmap.shape[1]
    return Image.frombytes("L", (width, height), bytes(memoryview(bitmap)))


def in_frame(symbol: Image.Image, *, at: tuple[int, int] = (420, 220)) -> Image.Image:
    """The symbol on a grey 1280x720 camera frame."""
    frame = Image.new("L", FRAME, 205)
    if symbol.width > FRAME[0] - at[0] or symbol.height > FRAME[1] - at[1]:
        symbol = symbol.copy()
        symbol.thumbnail((FRAME[0] - at[0] - 20, FRAME[1] - at[1] - 20))
    frame.paste(symbol, at)
    return frame


def noisy(image: Image.Image, sigma: float = 40.0, seed: int = 1) -> Image.Image:
    rng = random.Random(seed)
    noise = Image.effect_noise(image.size, sigma)
    mixed = Image.blend(image, noise, 0.35)
    # A few dead pixels, as on a dusty lens.
    pixels = mixed.load()
    assert pixels is not None
    for _ in range(image.width * image.height // 400):
        pixels[rng.randrange(image.width), rng.randrange(image.height)] = rng.choice((0, 255))
    return mixed


def blurred(image: Image.Image, radius: float = 1.5) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(radius))


def rotated(image: Image.Image, degrees: float) -> Image.Image:
    return image.rotate(degrees, expand=True, fillcolor=205, resample=Image.Resampling.BILINEAR)
