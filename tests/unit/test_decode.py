"""Real barcode images (python-barcode, qrcode) decoded by the real zbar decoder and CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import barcode
import pytest
import qrcode
from barcode.writer import ImageWriter
from PIL import Image

from handheld_sync.scan import DecodedBarcode, UnreadableImage
from handheld_sync.scan.pyzbar_backend import PyzbarDecoder

HANDHELD = Path(sys.executable).parent / "stockcount-handheld"


def linear(tmp_path: Path, kind: str, data: str) -> Path:
    """A 1D barcode as a PNG file, as a label printer would render it."""
    code = barcode.get(kind, data, writer=ImageWriter())
    return Path(code.save(str(tmp_path / kind)))


def qr(tmp_path: Path, data: str, name: str = "qr") -> Path:
    path = tmp_path / f"{name}.png"
    qrcode.make(data).save(path)
    return path


@pytest.fixture(scope="module")
def decoder() -> PyzbarDecoder:
    return PyzbarDecoder()


def test_code128_bin_label(decoder: PyzbarDecoder, tmp_path: Path) -> None:
    found = decoder.decode_file(linear(tmp_path, "code128", "MAIN-A-01-03"))
    assert found == [DecodedBarcode(symbology="CODE128", data=b"MAIN-A-01-03", gs1=False)]
    assert found[0].text == "MAIN-A-01-03"


def test_ean13_gtin_with_check_digit(decoder: PyzbarDecoder, tmp_path: Path) -> None:
    # python-barcode adds the check digit; zbar returns all 13 digits.
    found = decoder.decode_file(linear(tmp_path, "ean13", "400638133393"))
    assert [(f.symbology, f.text, f.gs1) for f in found] == [("EAN13", "4006381333931", False)]


def test_gs1_128_sets_the_gs1_flag(decoder: PyzbarDecoder, tmp_path: Path) -> None:
    # AI 01 (GTIN-14) then AI 10 (lot), FNC1 in first position.
    found = decoder.decode_file(linear(tmp_path, "gs1_128", "010401234567890110LOT7"))
    assert len(found) == 1
    assert found[0].symbology == "CODE128" and found[0].gs1 is True
    assert found[0].text == "010401234567890110LOT7"


def test_qr_code(decoder: PyzbarDecoder, tmp_path: Path) -> None:
    found = decoder.decode_file(qr(tmp_path, "SERIAL:SN-000123"))
    assert found == [DecodedBarcode(symbology="QRCODE", data=b"SERIAL:SN-000123", gs1=False)]


def test_two_barcodes_in_one_image(decoder: PyzbarDecoder, tmp_path: Path) -> None:
    left = Image.open(linear(tmp_path, "code128", "BIN-OUT-01")).convert("L")
    right = Image.open(qr(tmp_path, "SN-42")).convert("L")
    sheet = Image.new("L", (left.width + right.width + 40, max(left.height, right.height)), 255)
    sheet.paste(left, (0, 0))
    sheet.paste(right, (left.width + 40, 0))
    found = decoder.decode_image(sheet)
    assert sorted((f.symbology, f.text) for f in found) == [
        ("CODE128", "BIN-OUT-01"),
        ("QRCODE", "SN-42"),
    ]


def test_blank_image_decodes_to_nothing(decoder: PyzbarDecoder) -> None:
    assert decoder.decode_image(Image.new("L", (300, 200), 255)) == []


def test_limit_to_symbologies(tmp_path: Path) -> None:
    image = linear(tmp_path, "code128", "MAIN-A-01-03")
    assert PyzbarDecoder(["QRCODE"]).decode_file(image) == []
    assert [f.text for f in PyzbarDecoder(["code128"]).decode_file(image)] == ["MAIN-A-01-03"]
    with pytest.raises(ValueError, match="no symbology DATAMATRIX"):
        PyzbarDecoder(["DATAMATRIX"])


def test_missing_and_broken_files_are_unreadable(decoder: PyzbarDecoder, tmp_path: Path) -> None:
    with pytest.raises(UnreadableImage, match="no such file"):
        decoder.decode_file(tmp_path / "nope.png")
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png at all")
    with pytest.raises(UnreadableImage, match="not an image"):
        decoder.decode_file(broken)
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(qr(tmp_path, "X").read_bytes()[:200])
    with pytest.raises(UnreadableImage):
        decoder.decode_file(truncated)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HANDHELD), *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_cli_decode_prints_symbology_flag_and_data(tmp_path: Path) -> None:
    ean = linear(tmp_path, "ean13", "400638133393")
    gs1 = linear(tmp_path, "gs1_128", "010401234567890110LOT7")
    done = run("decode", str(ean), str(gs1))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "EAN13\t-\t4006381333931",
        "CODE128\tgs1\t010401234567890110LOT7",
    ]
    assert done.stderr == ""


@pytest.mark.parametrize(
    ("content", "expected"),
    [(None, "no such file"), (b"garbage", "not an image"), (b"blank", "no barcode found")],
)
def test_cli_errors_are_one_line_and_exit_1(
    tmp_path: Path, content: bytes | None, expected: str
) -> None:
    path = tmp_path / "input.png"
    if content == b"blank":
        Image.new("L", (100, 100), 255).save(path)
    elif content is not None:
        path.write_bytes(content)
    done = run("decode", str(path))
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("stockcount-handheld: ")
    assert expected in lines[0] and str(path) in lines[0]
    assert "Traceback" not in done.stderr


def test_cli_version_prints_app_and_protocol() -> None:
    from importlib.metadata import version

    import schemas

    done = run("version")
    assert done.returncode == 0
    assert done.stdout.strip() == (
        f"stockcount-handheld {version('stockcount')}, wire protocol {schemas.PROTOCOL_VERSION}"
    )
