"""The decoder worker process: `python -m handheld_sync.scan.worker BACKEND [--frames-fd N]`.

Reads frames from stdin and answers barcodes on stdout (the protocol is in chain.py);
with `--frames-fd`, a frame's pixels are in the shared memory file N, not in the pipe. It
holds the native decoders, so a crash in them ends this process only. BACKEND is
"pyzbar", "zxing", "chain", or "module:factory" for a factory returning a decoder.
"""

from __future__ import annotations

import importlib
import mmap
import os
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


class _SharedFrames:
    """The worker's read-only view of the app's shared memory file."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._map: mmap.mmap | None = None

    def image(self, width: int, height: int) -> Image.Image:
        size = width * height
        if self._map is None or len(self._map) < size:
            if self._map is not None:
                self._map.close()
            length = os.fstat(self._fd).st_size  # the app grew it before sending the frame
            if length < size:
                raise ScanError(f"the shared frame holds {length} bytes, not {size}")
            self._map = mmap.mmap(self._fd, length, prot=mmap.PROT_READ)
        with memoryview(self._map) as view, view[:size] as pixels:
            return Image.frombytes("L", (width, height), pixels)  # a copy: the view ends


def serve(spec: str, stdin: BinaryIO, stdout: BinaryIO, frames_fd: int | None = None) -> int:
    encoder = msgspec.msgpack.Encoder()
    decoder_of_frames = msgspec.msgpack.Decoder(Frame)

    def answer(reply: Reply) -> None:
        raw = encoder.encode(reply)
        stdout.write(_HEADER.pack(len(raw)) + raw)
        stdout.flush()

    shared = _SharedFrames(frames_fd) if frames_fd is not None else None
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
        try:
            if frame.shared:
                if shared is None:
                    raise ScanError("a shared frame, but no shared memory file was given")
                image = shared.image(frame.width, frame.height)
            else:
                image = Image.frombytes("L", (frame.width, frame.height), frame.pixels)
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


def main(argv: list[str]) -> int:
    spec = argv[0] if argv and not argv[0].startswith("--") else "chain"
    frames_fd = int(argv[argv.index("--frames-fd") + 1]) if "--frames-fd" in argv else None
    return serve(spec, sys.stdin.buffer, sys.stdout.buffer, frames_fd)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
