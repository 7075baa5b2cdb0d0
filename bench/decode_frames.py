"""Decode 1280x720 camera frames: frames/s and p95 per backend and for the chain, the read
rate of each on a generated set of clean and damaged frames, and zbar restricted to the
symbologies in use against zbar with all of them.

Frames: Code 128 bin labels, GS1-128, EAN-13, QR, GS1 QR and GS1 DataMatrix (zxing-cpp's
writer), each clean, noisy, blurred, rotated 12 and 90 degrees, low contrast, and with a
stripe torn off; plus empty frames (nothing to read: the common case while aiming).

    .venv/bin/python bench/decode_frames.py [--repeat N]

The app's chain (`default_chain()`) is zxing-cpp's fast option set on the frame's rows
(`ZxingDecoder.fast(try_rotate=False)`), then, on a miss, a second look at the likeliest
region (`RegionDecoder`, issue 16; its own benchmark is bench/decode_hard_frames.py on 500
harder frames). Measured beside it:
the old chain (zbar, symbologies in use, density 2, then zxing-cpp's default set) and the
fast zxing-cpp followed by zbar. The app's chain in the worker process (what the CLI uses) is
measured twice: frames sent through the pipe, and through shared memory (the default).
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import time
from collections.abc import Callable

import barcode
import qrcode
import zxingcpp
from barcode.writer import ImageWriter
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

from handheld_sync.scan import Decoder
from handheld_sync.scan.chain import DecoderChain, IsolatedDecoder, default_chain
from handheld_sync.scan.pyzbar_backend import SYMBOLOGIES_IN_USE, PyzbarDecoder
from handheld_sync.scan.zxing_backend import ZxingDecoder

FRAME = (1280, 720)


def linear(kind: str, data: str) -> Image.Image:
    out = io.BytesIO()
    barcode.get(kind, data, writer=ImageWriter()).write(out, options={"write_text": False})
    out.seek(0)
    return Image.open(out).convert("L")


def written(content: str, fmt: str) -> Image.Image:
    symbol = zxingcpp.create_barcode(content, zxingcpp.barcode_format_from_str(fmt), gs1=True)
    bitmap = zxingcpp.write_barcode_to_image(symbol, scale=6)
    return Image.frombytes("L", (bitmap.shape[1], bitmap.shape[0]), bytes(memoryview(bitmap)))


SYMBOLS: dict[str, tuple[Callable[[], Image.Image], str]] = {
    "code128": (lambda: linear("code128", "MAIN-A01-02"), "MAIN-A01-02"),
    "gs1-128": (lambda: linear("gs1_128", "010401234567890110LOT7"), "010401234567890110LOT7"),
    "ean13": (lambda: linear("ean13", "400638133393"), "4006381333931"),
    "qr": (lambda: qrcode.make("SN-000123", box_size=6).get_image().convert("L"), "SN-000123"),
    "gs1-qr": (
        lambda: written("(01)04012345678901(21)SN-7", "QRCode"),
        "010401234567890121SN-7",
    ),
    "gs1-datamatrix": (
        lambda: written("(01)04012345678901(21)SN-7", "DataMatrix"),
        "010401234567890121SN-7",
    ),
}


def in_frame(symbol: Image.Image, at: tuple[int, int] = (420, 220)) -> Image.Image:
    frame = Image.new("L", FRAME, 205)
    symbol = symbol.copy()
    symbol.thumbnail((FRAME[0] - at[0] - 20, FRAME[1] - at[1] - 20))
    frame.paste(symbol, at)
    return frame


def noisy(image: Image.Image) -> Image.Image:
    return Image.blend(image, Image.effect_noise(image.size, 40), 0.35)


def torn(image: Image.Image) -> Image.Image:
    damaged = image.copy()
    draw = ImageDraw.Draw(damaged)
    w, h = damaged.size
    draw.rectangle((0, int(h * 0.45), w, int(h * 0.52)), fill=255)
    return damaged


DAMAGE: dict[str, Callable[[Image.Image], Image.Image]] = {
    "clean": in_frame,
    "noisy": lambda s: noisy(in_frame(s)),
    "blurred": lambda s: in_frame(s).filter(ImageFilter.GaussianBlur(1.2)),
    "rotated-12": lambda s: in_frame(s.rotate(12, expand=True, fillcolor=205), (200, 60)),
    "rotated-90": lambda s: in_frame(s.rotate(90, expand=True, fillcolor=205), (200, 60)),
    "low-contrast": lambda s: ImageEnhance.Contrast(in_frame(s)).enhance(0.25),
    "torn": lambda s: in_frame(torn(s)),
}


def frames() -> list[tuple[str, str, Image.Image, str | None]]:
    found: list[tuple[str, str, Image.Image, str | None]] = []
    for name, (make, expected) in SYMBOLS.items():
        symbol = make()
        for damage, apply in DAMAGE.items():
            found.append((name, damage, apply(symbol), expected))
    rng = random.Random(3)
    for n in range(6):  # empty frames: shelves, no label in view
        empty = Image.effect_noise(FRAME, 25 + n * 5).filter(ImageFilter.GaussianBlur(rng.random()))
        found.append(("none", f"empty-{n}", empty, None))
    return found


def run(decoder: Decoder, data: list[tuple[str, str, Image.Image, str | None]], repeat: int):  # type: ignore[no-untyped-def]
    times: list[float] = []
    read = 0
    missed: list[str] = []
    for _ in range(repeat):
        for name, damage, frame, expected in data:
            start = time.perf_counter()
            result = decoder.decode_image(frame)
            times.append(time.perf_counter() - start)
            if expected is not None and _ == 0:
                if any(r.text == expected for r in result):
                    read += 1
                else:
                    missed.append(f"{name}/{damage}")
    return times, read, missed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data = [(n, d, f.convert("L"), e) for n, d, f, e in frames()]
    labelled = sum(1 for *_, e in data if e is not None)
    decoders: list[tuple[str, Decoder]] = [
        ("zbar, all symbologies", PyzbarDecoder()),
        ("zbar, symbologies in use", PyzbarDecoder(SYMBOLOGIES_IN_USE)),
        ("zbar, in use, density 2", PyzbarDecoder(SYMBOLOGIES_IN_USE, density=2)),
        ("zxing-cpp, symbologies in use", ZxingDecoder()),
        ("zxing-cpp, in use, fast set", ZxingDecoder.fast()),
        (
            "old chain zbar -> zxing-cpp",
            DecoderChain([PyzbarDecoder(SYMBOLOGIES_IN_USE, density=2), ZxingDecoder()]),
        ),
        (
            "chain zxing-cpp fast -> zbar",
            DecoderChain([ZxingDecoder.fast(), PyzbarDecoder(SYMBOLOGIES_IN_USE, density=2)]),
        ),
        ("app chain: fast -> regions", default_chain()),
    ]
    isolated = IsolatedDecoder("chain")
    piped = IsolatedDecoder("chain", shared_memory=False)
    decoders.append(("app chain in the worker, pipe", piped))
    decoders.append(("app chain in the worker, shm", isolated))
    print(
        f"{len(data)} frames of {FRAME[0]}x{FRAME[1]} ({labelled} with a barcode, "
        f"{len(data) - labelled} empty), x{args.repeat}"
    )
    print(f"{'backend':32} {'frames/s':>9} {'mean ms':>8} {'p95 ms':>8} {'read rate':>10}")
    misses: dict[str, list[str]] = {}
    for name, decoder in decoders:
        decoder.decode_image(data[0][2])  # warm up (the worker starts here)
        times, read, missed = run(decoder, data, args.repeat)
        ms = sorted(t * 1000 for t in times)
        p95 = ms[int(0.95 * (len(ms) - 1))]
        fps = 1000 / statistics.mean(ms)
        print(
            f"{name:32} {fps:9.1f} {statistics.mean(ms):8.1f} {p95:8.1f} "
            f"{read:4d}/{labelled} {100 * read / labelled:3.0f}%"
        )
        misses[name] = missed
    isolated.close()
    piped.close()
    for name, missed in misses.items():
        print(f"missed by {name}: {', '.join(missed) or '-'}")


if __name__ == "__main__":
    main()
