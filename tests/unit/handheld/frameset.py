"""A generated set of 1280x720 camera frames, hard enough to tell decoders apart (issue 16).

Every frame is made at run time from its own seed (no image files): the same index gives
the same pixels on every run (with the same Pillow and zxing-cpp). The symbols come from
zxing-cpp's writer (Code 128, QR, GS1 DataMatrix with FNC1) and are degraded with Pillow:

    code128, qr      40 frames of each of five classes, for each (400 frames):
        clean     the label square to the camera (a camera's slight blur, 0.5 pixel)
        noise     sensor noise (+-30 to +-50 grey levels) and dead pixels
        blur      out of focus: a Gaussian blur of 0.3 to 0.55 of a module
        rotation  the label turned up to 40 degrees either way
        hard      all of these at once (a milder share of each), at low contrast
    gs1-datamatrix   60 frames, twelve of each class, real GS1 element strings (GTIN with
                     its check digit, expiry, lot, serial; GS after a variable-length
                     element that is not last)
    empty            40 frames with no barcode: shelves, text, boxes, noise, a blank label

Sizes and distances vary: a module is 1.6 to 5 pixels on the frame (a label held far
from or close to the lens), at a random place; the background has a lighting gradient and
shelf edges. `frame(i)` makes the i-th frame alone (the tests take a few); `frames()`
all of them (20-30 s on the loaded 2-core development machine).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

import zxingcpp
from PIL import Image, ImageChops, ImageDraw, ImageFilter

SIZE = (1280, 720)
CLASSES = ("clean", "noise", "blur", "rotation", "hard")
PER_CLASS = 40  # of each linear/QR symbology
DM_PER_CLASS = 12
EMPTY = 40
GS = "\x1d"


@dataclass(frozen=True, slots=True)
class Expected:
    symbology: str  # our name: "CODE128", "QRCODE", "DATAMATRIX"
    data: str  # exactly as decoded, GS between GS1 elements
    gs1: bool


@dataclass(frozen=True, slots=True)
class GeneratedFrame:
    index: int
    kind: str  # "code128", "qr", "gs1-datamatrix", "empty"
    klass: str  # one of CLASSES, or "empty"
    image: Image.Image  # mode "L", 1280x720
    expected: Expected | None  # None: nothing to read
    hri: str = ""  # the GS1 human-readable form the symbol was written from


def _layout() -> list[tuple[str, str, int]]:
    rows: list[tuple[str, str, int]] = []
    for kind in ("code128", "qr"):
        for klass in CLASSES:
            rows += [(kind, klass, n) for n in range(PER_CLASS)]
    for klass in CLASSES:
        rows += [("gs1-datamatrix", klass, n) for n in range(DM_PER_CLASS)]
    rows += [("empty", "empty", n) for n in range(EMPTY)]
    return rows


LAYOUT = _layout()
COUNT = len(LAYOUT)


def indices(kind: str | None = None, klass: str | None = None) -> list[int]:
    return [
        i
        for i, (k, c, _) in enumerate(LAYOUT)
        if (kind is None or k == kind) and (klass is None or c == klass)
    ]


def frames() -> Iterator[GeneratedFrame]:
    for i in range(COUNT):
        yield frame(i)


def frame(index: int) -> GeneratedFrame:
    kind, klass, n = LAYOUT[index]
    rng = random.Random(f"stockcount-frames/{kind}/{klass}/{n}")
    if kind == "empty":
        return GeneratedFrame(index, kind, klass, _empty(rng, n), None)
    symbol, expected, hri, module = _symbol(kind, rng)
    image = _scene(symbol, module, klass, rng)
    return GeneratedFrame(index, kind, klass, image, expected, hri)


# --- symbols ---------------------------------------------------------------------------


def _check_digit(digits: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def _gs1(rng: random.Random) -> tuple[str, str]:
    """A GS1 element string (HRI, and the data a decoder gives) with a valid GTIN."""
    gtin13 = f"{rng.choice(('0', '1'))}{rng.randrange(10**11, 10**12)}"
    gtin = gtin13 + _check_digit(gtin13)
    expiry = f"{rng.randrange(26, 31):02d}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}"
    lot = f"L{rng.randrange(10**3, 10**6)}"
    serial = f"SN{rng.randrange(10**4, 10**9)}"
    shapes = [
        (("01", gtin), ("17", expiry), ("10", lot), ("21", serial)),
        (("01", gtin), ("21", serial)),
        (("01", gtin), ("10", lot), ("17", expiry)),
        (("01", gtin), ("10", lot), ("21", serial)),
        (("01", gtin), ("17", expiry), ("10", lot)),
    ]
    elements = rng.choice(shapes)
    hri = "".join(f"({ai}){value}" for ai, value in elements)
    data = ""
    for position, (ai, value) in enumerate(elements):
        data += ai + value
        variable = ai in ("10", "21")
        if variable and position < len(elements) - 1:
            data += GS
    return hri, data


def _written(content: str, fmt: str, **options: bool) -> Image.Image:
    symbol = zxingcpp.create_barcode(content, zxingcpp.barcode_format_from_str(fmt), **options)
    bitmap = zxingcpp.write_barcode_to_image(symbol, scale=1)
    height, width = bitmap.shape[0], bitmap.shape[1]
    return Image.frombytes("L", (width, height), bytes(memoryview(bitmap)))  # type: ignore[arg-type]


def _symbol(kind: str, rng: random.Random) -> tuple[Image.Image, Expected, str, float]:
    """The symbol at one pixel a module (with its quiet zone), what it reads, and the
    size of a module on the frame in pixels."""
    if kind == "code128":
        data = rng.choice(
            (
                f"MAIN-{rng.choice('ABCDEF')}{rng.randrange(1, 40):02d}-{rng.randrange(1, 9):02d}",
                f"SN-{rng.randrange(10**5, 10**8)}",
                f"{rng.randrange(10**7, 10**9)}",
            )
        )
        module = rng.uniform(1.6, 3.6)
        image = _written(data, "Code128")
        bar_height = round(image.width * rng.uniform(0.15, 0.3))  # GS1: 15% of the width or more
        image = image.resize((image.width, bar_height), Image.Resampling.NEAREST)
        return image, Expected("CODE128", data, False), "", module
    if kind == "qr":
        data = rng.choice(
            (
                f"SN-{rng.randrange(10**5, 10**8)}",
                f"MAIN-{rng.choice('ABCDEF')}{rng.randrange(1, 40):02d}-{rng.randrange(1, 9):02d}",
                f"https://example.com/i/{rng.randrange(10**9, 10**11)}",
            )
        )
        return _written(data, "QRCode"), Expected("QRCODE", data, False), "", rng.uniform(2.2, 5.0)
    hri, data = _gs1(rng)
    square = rng.random() < 0.8
    image = _written(hri, "DataMatrix", gs1=True, force_square=square)
    return image, Expected("DATAMATRIX", data, True), hri, rng.uniform(2.4, 5.0)


# --- the scene -------------------------------------------------------------------------


def _background(rng: random.Random) -> Image.Image:
    """Shelf-grey with a lighting gradient, shelf edges and a few boxes."""
    gradient = Image.linear_gradient("L").rotate(rng.uniform(0, 360)).resize(SIZE)
    low, high = rng.randrange(90, 150), rng.randrange(180, 235)
    image = gradient.point(lambda v: low + (high - low) * v // 255)
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randrange(1, 4)):  # shelf edges
        y = rng.randrange(0, SIZE[1])
        draw.rectangle((0, y, SIZE[0], y + rng.randrange(8, 40)), fill=rng.randrange(30, 90))
    for _ in range(rng.randrange(0, 4)):  # boxes
        x, y = rng.randrange(-100, SIZE[0]), rng.randrange(-100, SIZE[1])
        w, h = rng.randrange(80, 400), rng.randrange(60, 300)
        draw.rectangle((x, y, x + w, y + h), fill=rng.randrange(60, 200))
    return image


def _label(symbol: Image.Image, module: float, rng: random.Random) -> Image.Image:
    """The symbol scaled to its distance, on white paper with a line of text."""
    width = max(1, round(symbol.width * module))
    height = max(1, round(symbol.height * module))
    scaled = symbol.resize((width, height), Image.Resampling.BILINEAR)
    margin = round(module * 3)
    paper = Image.new("L", (width + 2 * margin, height + 2 * margin + 24), rng.randrange(225, 250))
    paper.paste(scaled, (margin, margin))
    ImageDraw.Draw(paper).text((margin, height + margin + 4), "STOCK LABEL", fill=40)
    return paper


def _place(scene: Image.Image, label: Image.Image, angle: float, rng: random.Random) -> None:
    if angle:
        mask = Image.new("L", label.size, 255).rotate(
            angle, expand=True, resample=Image.Resampling.BILINEAR
        )
        label = label.rotate(angle, expand=True, resample=Image.Resampling.BICUBIC)
    else:
        mask = Image.new("L", label.size, 255)
    if label.width > SIZE[0] - 10 or label.height > SIZE[1] - 10:
        factor = min((SIZE[0] - 10) / label.width, (SIZE[1] - 10) / label.height)
        new = (int(label.width * factor), int(label.height * factor))
        label = label.resize(new, Image.Resampling.BILINEAR)
        mask = mask.resize(new, Image.Resampling.BILINEAR)
    x = rng.randrange(0, SIZE[0] - label.width + 1)
    y = rng.randrange(0, SIZE[1] - label.height + 1)
    scene.paste(label, (x, y), mask)


def _noise(image: Image.Image, amplitude: int, rng: random.Random) -> Image.Image:
    """Uniform sensor noise of +-amplitude grey levels, plus dead pixels."""
    raw = Image.frombytes("L", image.size, rng.randbytes(image.width * image.height))
    noise = raw.point(lambda v: v * 2 * amplitude // 255)
    noisy = ImageChops.add(image, noise, 1.0, -amplitude)
    pixels = noisy.load()
    assert pixels is not None
    for _ in range(image.width * image.height // 500):
        pixels[rng.randrange(image.width), rng.randrange(image.height)] = rng.choice((0, 255))
    return noisy


def _contrast(image: Image.Image, keep: float, rng: random.Random) -> Image.Image:
    """Squeeze the grey levels into `keep` of their range, around a mid grey."""
    middle = rng.randrange(100, 160)
    return image.point(lambda v: round(middle + (v - 128) * keep))


def _scene(symbol: Image.Image, module: float, klass: str, rng: random.Random) -> Image.Image:
    scene = _background(rng)
    angle = 0.0
    if klass == "rotation":
        angle = rng.choice((-1, 1)) * rng.uniform(5, 40)
    elif klass == "hard":
        angle = rng.uniform(-40, 40)
    _place(scene, _label(symbol, module, rng), angle, rng)
    if klass == "clean":
        return scene.filter(ImageFilter.GaussianBlur(0.5))
    if klass == "noise":
        return _noise(scene, rng.randrange(30, 51), rng)
    if klass == "blur":
        return scene.filter(ImageFilter.GaussianBlur(module * rng.uniform(0.3, 0.55)))
    if klass == "rotation":
        return scene.filter(ImageFilter.GaussianBlur(0.5))
    # hard: blur, low contrast, then noise
    scene = scene.filter(ImageFilter.GaussianBlur(module * rng.uniform(0.15, 0.3)))
    scene = _contrast(scene, rng.uniform(0.35, 0.55), rng)
    return _noise(scene, rng.randrange(10, 26), rng)


def _empty(rng: random.Random, n: int) -> Image.Image:
    """No barcode: shelves and boxes, printed text, a blank label; some noisy, some blurred."""
    scene = _background(rng)
    draw = ImageDraw.Draw(scene)
    for _ in range(rng.randrange(2, 8)):  # printed text on boxes
        x, y = rng.randrange(0, SIZE[0] - 200), rng.randrange(0, SIZE[1] - 20)
        draw.text((x, y), rng.choice(("FRAGILE", "THIS SIDE UP", "A01-02", "KEEP DRY")), fill=20)
    if n % 4 == 0:  # a blank label
        x, y = rng.randrange(0, SIZE[0] - 300), rng.randrange(0, SIZE[1] - 200)
        draw.rectangle((x, y, x + 300, y + 200), fill=240)
    if n % 5 == 1:  # a striped carton edge
        x = rng.randrange(0, SIZE[0] - 300)
        for k in range(12):
            draw.rectangle((x + k * 24, 300, x + k * 24 + 10, 420), fill=40)
    if n % 3 == 0:
        scene = _noise(scene, rng.randrange(20, 60), rng)
    elif n % 3 == 1:
        scene = scene.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 3)))
    if n % 7 == 3:
        scene = _contrast(scene, 0.4, rng)
    return scene
