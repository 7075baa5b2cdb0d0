"""`stockcount-handheld`: the device's command line (grows with the handheld issue)."""

from __future__ import annotations

import argparse
import sys

import schemas


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stockcount-handheld", description="stockcount device")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("version", help="app and protocol version")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "version":
        print(f"stockcount-handheld protocol {schemas.PROTOCOL_VERSION}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
