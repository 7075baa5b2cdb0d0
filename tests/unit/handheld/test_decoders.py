"""Decoding generated barcodes: each backend, the chain, and the crash-isolated worker.

Symbols: Code 128 (a bin label), GS1-128, EAN-13, QR, GS1 QR, GS1 DataMatrix, placed on a
1280x720 frame; clean, noisy, blurred, rotated.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from handheld_sync.scan import DecodedBarcode, DecoderCrashed, decode_file
from handheld_sync.scan.chain import DecoderChain, IsolatedDecoder, default_chain
from handheld_sync.scan.pyzbar_backend import SYMBOLOGIES_IN_USE, PyzbarDecoder
from handheld_sync.scan.zxing_backend import ZxingDecoder
from tests.unit.handheld import images

GS1_DM = "(01)04012345678901(21)SN-7"
SYMBOLS: dict[str, tuple[Callable[[], Image.Image], tuple[str, str, bool]]] = {
    "code128": (lambda: images.linear("code128", "MAIN-A01-02"), ("CODE128", "MAIN-A01-02", False)),
    "gs1-128": (
        lambda: images.linear("gs1_128", "010401234567890110LOT7"),
        ("CODE128", "010401234567890110LOT7", True),
    ),
    "ean13": (lambda: images.linear("ean13", "400638133393"), ("EAN13", "4006381333931", False)),
    "qr": (lambda: images.qr("SN-000123"), ("QRCODE", "SN-000123", False)),
    "gs1-qr": (
        lambda: images.zxing_written(GS1_DM, "QRCode", gs1=True),
        ("QRCODE", "010401234567890121SN-7", True),
    ),
    "gs1-datamatrix": (
        lambda: images.zxing_written(GS1_DM, "DataMatrix", gs1=True),
        ("DATAMATRIX", "010401234567890121SN-7", True),
    ),
}
DAMAGE: dict[str, Callable[[Image.Image], Image.Image]] = {
    "clean": images.in_frame,
    "noisy": lambda s: images.noisy(images.in_frame(s)),
    "blurred": lambda s: images.blurred(images.in_frame(s), radius=1.0),
    "rotated-12": lambda s: images.in_frame(images.rotated(s, 12), at=(200, 60)),
    "rotated-90": lambda s: images.in_frame(images.rotated(s, 90), at=(200, 60)),
}


def seen(found: list[DecodedBarcode]) -> list[tuple[str, str, bool]]:
    return [(f.symbology, f.text, f.gs1) for f in found]


@pytest.fixture(scope="module")
def chain() -> DecoderChain:
    return default_chain()


@pytest.mark.parametrize("damage", sorted(DAMAGE))
@pytest.mark.parametrize("symbol", sorted(SYMBOLS))
def test_the_chain_reads_every_symbol_clean_and_damaged(
    chain: DecoderChain, symbol: str, damage: str
) -> None:
    make, expected = SYMBOLS[symbol]
    assert seen(chain.decode_image(DAMAGE[damage](make()))) == [expected]


def test_zbar_reads_no_datamatrix_and_zxing_does() -> None:
    frame = images.in_frame(images.zxing_written(GS1_DM, "DataMatrix", gs1=True))
    assert PyzbarDecoder().decode_image(frame) == []
    assert seen(ZxingDecoder().decode_image(frame)) == [SYMBOLS["gs1-datamatrix"][1]]


def test_the_chain_reads_where_zbar_misses() -> None:
    frame = images.noisy(images.in_frame(images.linear("code128", "MAIN-A01-02")))
    assert PyzbarDecoder(SYMBOLOGIES_IN_USE).decode_image(frame) == []  # zbar gives up
    assert seen(default_chain().decode_image(frame)) == [("CODE128", "MAIN-A01-02", False)]


@pytest.mark.parametrize("backend", [PyzbarDecoder, ZxingDecoder])
def test_gs1_flag_tells_gs1_128_from_code128(backend: type[PyzbarDecoder | ZxingDecoder]) -> None:
    decoder = backend()
    plain = decoder.decode_image(images.in_frame(images.linear("code128", "0104012345678901")))
    gs1 = decoder.decode_image(images.in_frame(images.linear("gs1_128", "0104012345678901")))
    assert seen(plain) == [("CODE128", "0104012345678901", False)]
    assert seen(gs1) == [("CODE128", "0104012345678901", True)]


def test_zxing_restricted_to_symbologies() -> None:
    frame = images.in_frame(images.qr("SN-1"))
    assert ZxingDecoder(["DATAMATRIX"]).decode_image(frame) == []
    with pytest.raises(ValueError, match="no symbology AZTEC"):
        ZxingDecoder(["AZTEC"])


@pytest.mark.parametrize("shared_memory", [True, False], ids=["shared-memory", "pipe"])
def test_isolated_decoder_reads_through_the_worker(tmp_path: Path, shared_memory: bool) -> None:
    path = tmp_path / "frame.png"
    images.in_frame(images.zxing_written(GS1_DM, "DataMatrix", gs1=True)).save(path)
    with IsolatedDecoder("chain", shared_memory=shared_memory) as decoder:
        assert seen(decode_file(decoder, path)) == [SYMBOLS["gs1-datamatrix"][1]]
        assert seen(decode_file(decoder, path)) == [SYMBOLS["gs1-datamatrix"][1]]
        assert decoder.restarts == 0
        assert (decoder._shared is not None) == shared_memory


def test_frames_of_other_sizes_through_shared_memory() -> None:
    """A small frame, a larger one (the shared file grows), a small one again: each is
    read whole and alone, nothing of the frame before it left in its pixels."""
    qr = images.qr("SN-000123")
    small = Image.new("L", (qr.width + 40, qr.height + 40), 205)
    small.paste(qr, (20, 20))
    large = images.in_frame(images.linear("code128", "MAIN-A01-02"))
    with IsolatedDecoder("chain") as decoder:
        assert seen(decoder.decode_image(small)) == [("QRCODE", "SN-000123", False)]
        assert seen(decoder.decode_image(large)) == [("CODE128", "MAIN-A01-02", False)]
        assert seen(decoder.decode_image(small)) == [("QRCODE", "SN-000123", False)]
        assert decoder.decode_image(Image.new("L", (640, 360), 205)) == []
        assert decoder.restarts == 0


CRASHING = "tests.unit.handheld.crashing_decoder:CrashingDecoder"


def test_a_native_crash_in_the_decoder_does_not_take_the_app_down() -> None:
    fine = Image.new("L", (64, 64), 255)
    deadly = fine.copy()
    deadly.putpixel((0, 0), 0)
    with IsolatedDecoder(CRASHING) as decoder:
        assert seen(decoder.decode_image(fine)) == [("CODE128", "MAIN-A01-01", False)]
        first_worker = decoder._process
        assert first_worker is not None
        with pytest.raises(DecoderCrashed, match=r"killed by SIGABRT.*scan again"):
            decoder.decode_image(deadly)
        assert first_worker.returncode == -6  # the worker really aborted
        assert decoder.restarts == 1
        # This process carries on, and the next scan gets a new worker.
        assert seen(decoder.decode_image(fine)) == [("CODE128", "MAIN-A01-01", False)]
        assert decoder._process is not None and decoder._process.pid != first_worker.pid


def test_a_hung_decoder_is_killed_after_the_timeout() -> None:
    stuck = Image.new("L", (64, 64), 128)
    with IsolatedDecoder("tests.unit.handheld.crashing_decoder:HangingDecoder", timeout=1.0) as d:
        with pytest.raises(DecoderCrashed, match="no answer within 1 s"):
            d.decode_image(stuck)
        assert seen(d.decode_image(Image.new("L", (64, 64), 255))) == [
            ("CODE128", "MAIN-A01-01", False)
        ]
