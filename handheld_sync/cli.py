"""`stockcount-handheld`: the device's command line (grows with the handheld issue).

    stockcount-handheld version           app version and wire protocol version
    stockcount-handheld decode IMAGE...   barcodes in image files: one line per barcode,
                                          SYMBOLOGY <tab> gs1|- <tab> DATA

Errors print one line and exit 1 (an unreadable or missing image, an image with no
barcode, zbar not installed); 2 is a usage error.
"""

from __future__ import annotations

import argparse
import sys
from importlib import metadata
from pathlib import Path

import schemas
from handheld_sync.scan import DecodedBarcode, ScanError

GS = "\x1d"


def app_version() -> str:
    try:
        return metadata.version("stockcount")
    except metadata.PackageNotFoundError:
        return "unknown"


def format_barcode(found: DecodedBarcode) -> str:
    # GS separates GS1 elements; shown as <GS> so the line stays printable.
    data = found.text.replace(GS, "<GS>").replace("\n", "\\n").replace("\t", "\\t")
    return f"{found.symbology}\t{'gs1' if found.gs1 else '-'}\t{data}"


def cmd_version(_: argparse.Namespace) -> int:
    print(f"stockcount-handheld {app_version()}, wire protocol {schemas.PROTOCOL_VERSION}")
    return 0


def cmd_decode(args: argparse.Namespace) -> int:
    from handheld_sync.scan.pyzbar_backend import PyzbarDecoder

    decoder = PyzbarDecoder()
    status = 0
    for name in args.images:
        found = decoder.decode_file(Path(name))
        if not found:
            print(f"stockcount-handheld: {name}: no barcode found", file=sys.stderr)
            status = 1
        for barcode in found:
            print(format_barcode(barcode))
    return status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stockcount-handheld", description="stockcount device")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("version", help="app and protocol version")
    p.set_defaults(func=cmd_version)
    p = sub.add_parser("decode", help="decode the barcodes in image files (PNG, JPEG, ...)")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.set_defaults(func=cmd_decode)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except ScanError as exc:
        print(f"stockcount-handheld: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
