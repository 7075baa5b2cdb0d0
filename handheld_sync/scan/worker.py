"""The decoder worker process: `python -m handheld_sync.scan.worker BACKEND`.

Reads frames from stdin and answers barcodes on stdout (the protocol is in chain.py). It
holds the native decoders, so a crash in them ends this process only. BACKEND is
"pyzbar", "zxing", "chain", or "module:factory" for a factory returning a decoder.
"""

from __future__ import annotations

import importlib
import sys
from typing import BinaryIO

import msgspec
from PIL import Image

from handheld_sync.scan import Decoder, ScanError
from handheld_sync.scan.chain import _HEADER, FoundBarcode, Frame, Reply, default_chain


def load_backend(spec: str) -> Decoder:
    if spec == "pyzbar":
        from handheld_sync.scan.pyzbar_backend import SYMBOLOGIES_IN_USE, PyzbarDecoder

        return PyzbarDecoder(SYMBOLOGIES_IN_USE, density=2)
    if spec == "zxing":
        from handheld_sync.scan.zxing_backend import ZxingDecoder

        return ZxingDecoder()
    if spec == "chain":
        return default_chain()
    module_name, _, attribute = spec.partition(":")
    if not attribute:
        raise ValueError(f"unknown decoder backend {spec!r}")
    factory = getattr(importlib.import_module(module_name), attribute)
    decoder: Decoder = factory()
    return decoder


def _read_exactly(stream: BinaryIO, size: int) -> bytes | None:
    data = stream.read(size)
    if len(data) < size:
        return None
    return data


def serve(spec: str, stdin: BinaryIO, stdout: BinaryIO) -> int:
    encoder = msgspec.msgpack.Encoder()
    decoder_of_frames = msgspec.msgpack.Decoder(Frame)

    def answer(reply: Reply) -> None:
        raw = encoder.encode(reply)
        stdout.write(_HEADER.pack(len(raw)) + raw)
        stdout.flush()

    backend: Decoder | None = None
    problem = ""
    try:
        backend = load_backend(spec)
    except (ScanError, ImportError, ValueError, AttributeError) as exc:
        problem = str(exc)
    while True:
        header = _read_exactly(stdin, _HEADER.size)
        if header is None:
            return 0
        body = _read_exactly(stdin, _HEADER.unpack(header)[0])
        if body is None:
            return 0
        if backend is None:
            answer(Reply(error=problem, unavailable=True))
            continue
        frame = decoder_of_frames.decode(body)
        image = Image.frombytes("L", (frame.width, frame.height), frame.pixels)
        try:
            found = backend.decode_image(image)
        except ScanError as exc:
            answer(Reply(error=str(exc)))
            continue
        answer(
            Reply(
                barcodes=[
                    FoundBarcode(symbology=b.symbology, data=b.data, gs1=b.gs1) for b in found
                ]
            )
        )


if __name__ == "__main__":
    sys.exit(
        serve(sys.argv[1] if len(sys.argv) > 1 else "chain", sys.stdin.buffer, sys.stdout.buffer)
    )
