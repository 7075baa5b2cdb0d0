"""The app's decoder chain on the generated hard frames (tests/unit/handheld/frameset.py),
with the real decoders: frames the fast pass and zxing-cpp's defaults both miss, GS1
DataMatrix read and parsed exactly, and nothing read where there is nothing to read.

Read rates and timings are measured in bench/decode_frames.py, not here."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
from PIL import Image

from handheld_sync.scan import DecodedBarcode
from handheld_sync.scan.chain import DecoderChain, IsolatedDecoder, default_chain
from handheld_sync.scan.gs1 import parse_gs1
from handheld_sync.scan.regions import RegionDecoder, candidate_regions
from handheld_sync.scan.text import GS, from_decoded
from handheld_sync.scan.zxing_backend import ZxingDecoder
from tests.unit.handheld import frameset

# One frame of each hard kind that neither zxing-cpp's fast set nor its defaults read
# (checked below, so the sample stays hard if the set changes).
HARD = {
    "code128/blur": 100,
    "code128/noise": 46,
    "code128/rotation": 121,
    "code128/hard": 160,
    "qr/blur": 280,
    "qr/hard": 360,
    "gs1-datamatrix/blur": 424,
    "gs1-datamatrix/hard": 449,
}


def seen(found: list[DecodedBarcode]) -> list[tuple[str, str, bool]]:
    return [(f.symbology, f.text, f.gs1) for f in found]


def expected(generated: frameset.GeneratedFrame) -> list[tuple[str, str, bool]]:
    assert generated.expected is not None
    e = generated.expected
    return [(e.symbology, e.data, e.gs1)]


@pytest.fixture(scope="module")
def chain() -> DecoderChain:
    return default_chain()


def test_the_set_is_as_large_as_issue_16_asks_and_the_same_on_every_run() -> None:
    assert frameset.COUNT >= 500
    assert len(frameset.indices("empty")) >= 40
    assert len(frameset.indices("gs1-datamatrix")) >= 50
    for kind in ("code128", "qr"):
        for klass in frameset.CLASSES:
            assert len(frameset.indices(kind, klass)) == frameset.PER_CLASS
    first, again = frameset.frame(160), frameset.frame(160)
    assert first.image.size == (1280, 720) and first.image.mode == "L"
    assert (
        hashlib.sha256(first.image.tobytes()).digest()
        == hashlib.sha256(again.image.tobytes()).digest()
    )
    assert first.expected == again.expected
    assert first.image.tobytes() != frameset.frame(161).image.tobytes()


@pytest.mark.parametrize("name", sorted(HARD))
def test_the_chain_reads_a_hard_frame_the_single_passes_miss(
    chain: DecoderChain, name: str
) -> None:
    generated = frameset.frame(HARD[name])
    assert f"{generated.kind}/{generated.klass}" == name
    want = expected(generated)
    assert want[0] not in seen(ZxingDecoder.fast().decode_image(generated.image))
    assert want[0] not in seen(ZxingDecoder().decode_image(generated.image))
    assert seen(chain.decode_image(generated.image)) == want


def test_the_worker_runs_the_same_chain() -> None:
    generated = frameset.frame(HARD["code128/rotation"])
    with IsolatedDecoder("chain") as decoder:
        assert seen(decoder.decode_image(generated.image)) == expected(generated)


def assert_exact_gs1(found: DecodedBarcode, generated: frameset.GeneratedFrame) -> None:
    scan = from_decoded(found)
    assert (scan.aim, scan.gs1, scan.symbology) == ("]d2", True, "DATAMATRIX")
    parsed = parse_gs1(scan.data)
    # The HRI the symbol was written from, element by element.
    written = dict(part.split(")", 1) for part in generated.hri.removeprefix("(").split("("))
    assert parsed.elements == written
    assert parsed.gtin == written["01"]
    assert parsed.lot == written.get("10") and parsed.serial == written.get("21")
    if "17" in written:
        yymmdd = written["17"]
        assert parsed.expiry == date(2000 + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:]))
    # GS after a variable-length element that is not last, and nowhere else.
    assert scan.data.count(GS) == sum(1 for ai in list(written)[:-1] if ai in ("10", "21"))


def test_gs1_datamatrix_is_read_flagged_and_parsed_exactly(chain: DecoderChain) -> None:
    """Every fifth GS1 DataMatrix frame, of every class: each one read is exactly the symbol
    written (GS1 flag, AIM ]d2, every element); a frame not read gives nothing at all."""
    sample = frameset.indices("gs1-datamatrix")[::5]
    read = 0
    for index in sample:
        generated = frameset.frame(index)
        found = chain.decode_image(generated.image)
        assert seen(found) in ([], expected(generated)), f"frame {index}"
        if found:
            assert_exact_gs1(found[0], generated)
            read += 1
    assert read >= len(sample) - 2


def test_nothing_is_read_on_the_empty_frames(chain: DecoderChain) -> None:
    for index in frameset.indices("empty"):
        assert chain.decode_image(frameset.frame(index).image) == [], f"frame {index}"


def test_regions_are_bounded_and_absent_on_a_blank_frame() -> None:
    assert candidate_regions(Image.new("L", frameset.SIZE, 180)) == []
    noisy = frameset.frame(frameset.indices("empty")[0]).image  # noise all over
    boxes = candidate_regions(noisy, limit=2, max_size=(400, 300))
    assert 1 <= len(boxes) <= 2
    for left, top, right, bottom in boxes:
        # at most 400x300 either way round, plus a cell of margin on each side
        long_side, short_side = sorted((right - left, bottom - top), reverse=True)
        assert long_side <= 400 + 2 * 32 and short_side <= 300 + 2 * 32
    label = frameset.frame(HARD["qr/blur"])
    assert seen(RegionDecoder().decode_image(label.image)) == expected(label)
