"""Decoders put together: a chain that asks each decoder in turn (the app's: zxing-cpp's
fast pass, then a second look at the likeliest region, see `default_chain`), and a decoder
that runs any backend in a worker process so that a native crash cannot take the app down."""

from __future__ import annotations

import contextlib
import mmap
import os
import select
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Sequence
from types import TracebackType

import msgspec
from PIL import Image

from handheld_sync.scan import DecodedBarcode, Decoder, DecoderCrashed, DecoderUnavailable


class DecoderChain:
    """Tries each decoder in turn and returns the first non-empty result."""

    def __init__(self, decoders: Sequence[Decoder]) -> None:
        if not decoders:
            raise ValueError("a decoder chain needs at least one decoder")
        self._decoders = list(decoders)
        self.name = "+".join(d.name for d in self._decoders)

    def decode_image(self, image: Image.Image) -> list[DecodedBarcode]:
        grey = image if image.mode == "L" else image.convert("L")
        for decoder in self._decoders:
            found = decoder.decode_image(grey)
            if found:
                return found
        return []


def default_chain() -> DecoderChain:
    """The app's decoder: zxing-cpp's fast option set on the whole frame, then, only when
    that reads nothing, a second look at the frame's likeliest region (`RegionDecoder`).

    The fast pass (`ZxingDecoder.fast(try_rotate=False)`: one global-histogram
    binarisation, rows only) reads a clean label in a fraction of the time of zxing-cpp's
    defaults, but its one threshold for the whole frame loses blurred, noisy and
    low-contrast labels, and no zxing-cpp option reads a linear code held at a slant. The
    second look crops the place with the densest edges and reads it sharpened, smoothed and
    turned, with the local-average binariser, scanning columns too (a code turned about 90
    degrees); its work is bounded (one crop, five passes), so a frame with no code in it
    (the common case while aiming) costs little more than the fast pass. On the 500
    generated frames of tests/unit/handheld/frameset.py it reads 90.7% against 51.7% for
    the old fast pass alone and 66.3% for zxing-cpp's defaults, faster than either
    (bench/decode_hard_frames.py, docs/BENCHMARKS.md).

    zbar is not asked: it reads nothing zxing-cpp misses on these frames and costs its
    whole pass on every frame with no code. It stays a backend of its own ("pyzbar").
    """
    from handheld_sync.scan.regions import RegionDecoder
    from handheld_sync.scan.zxing_backend import ZxingDecoder

    return DecoderChain([ZxingDecoder.fast(try_rotate=False), RegionDecoder(regions=1)])


# --- the worker protocol: length-prefixed MessagePack over the worker's stdin/stdout ------
#
# The frame's pixels travel in shared memory when the platform has memfd_create (Linux,
# Android): the app writes them into a memory file it shares with the worker (the worker
# gets its descriptor at start, `--frames-fd N`) and sends only the frame's size through
# the pipe. Otherwise, or with `shared_memory=False`, they go through the pipe (0.9 MB for
# a 1280x720 frame: a dozen pipe-buffer hand-overs between the two processes).


class Frame(msgspec.Struct, kw_only=True):
    width: int
    height: int
    pixels: bytes = b""  # 8-bit grey, row after row; empty when `shared`
    shared: bool = False  # the pixels are at the start of the shared memory file


class FoundBarcode(msgspec.Struct, kw_only=True):
    symbology: str
    data: bytes
    gs1: bool


class Reply(msgspec.Struct, kw_only=True):
    barcodes: list[FoundBarcode] = msgspec.field(default_factory=list)
    error: str = ""  # set: the backend raised; `unavailable` says it cannot load at all
    unavailable: bool = False


_HEADER = struct.Struct(">I")
_FRAME_ENCODER = msgspec.msgpack.Encoder()
_REPLY_DECODER = msgspec.msgpack.Decoder(Reply)


def _describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit status {returncode}"


class IsolatedDecoder:
    """Runs a backend ("pyzbar", "zxing", "chain", or "module:factory") in a worker process.

    The worker lives across frames (starting one costs far more than a frame). When it dies
    (a native crash: abort, segfault) or does not answer within `timeout` seconds, the scan
    raises DecoderCrashed with a clear message and the next scan starts a new worker: the
    app, and every scan already stored, carry on.
    """

    def __init__(
        self, backend: str = "chain", *, timeout: float = 5.0, shared_memory: bool = True
    ) -> None:
        self.backend = backend
        self.name = f"isolated({backend})"
        self.timeout = timeout
        self._process: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        # The shared memory file (fd, mapping), made at the first start; it outlives a
        # crashed worker and is handed to the next one.
        self._share = shared_memory and hasattr(os, "memfd_create")
        self._shared_fd = -1
        self._shared: mmap.mmap | None = None

    def __enter__(self) -> IsolatedDecoder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._stop()
        if self._shared is not None:
            self._shared.close()
            self._shared = None
        if self._shared_fd >= 0:
            os.close(self._shared_fd)
            self._shared_fd = -1

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        assert process.stdin is not None and process.stdout is not None
        process.stdin.close()  # the worker exits at end of input
        try:
            process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()

    def _start(self) -> subprocess.Popen[bytes]:
        if self._process is not None:
            return self._process
        command = [sys.executable, "-m", "handheld_sync.scan.worker", self.backend]
        if self._share and self._shared_fd < 0:
            self._shared_fd = os.memfd_create("stockcount-frame", os.MFD_CLOEXEC)
        if self._shared_fd >= 0:
            command += ["--frames-fd", str(self._shared_fd)]
        # The worker is this same interpreter running our own module: no shell, no input.
        process = subprocess.Popen(  # noqa: S603
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            pass_fds=(self._shared_fd,) if self._shared_fd >= 0 else (),
        )
        self._process = process
        return process

    def _fail(self, process: subprocess.Popen[bytes], what: str) -> DecoderCrashed:
        if process.poll() is None:
            process.kill()
        returncode = process.wait()
        assert process.stdin is not None and process.stdout is not None
        for pipe in (process.stdin, process.stdout):
            # A broken pipe to a dead worker: nothing left to flush.
            with contextlib.suppress(OSError):
                pipe.close()
        self._process = None
        self.restarts += 1
        how = what if what else _describe_exit(returncode)
        return DecoderCrashed(
            f"the {self.backend} barcode decoder stopped ({how}); nothing was counted, "
            "it restarts by itself: scan again, or type the code"
        )

    def decode_image(self, image: Image.Image) -> list[DecodedBarcode]:
        grey = image if image.mode == "L" else image.convert("L")
        process = self._start()
        if self._shared_fd >= 0:
            self._put_shared(grey.tobytes())
            frame = Frame(width=grey.width, height=grey.height, shared=True)
        else:
            frame = Frame(width=grey.width, height=grey.height, pixels=grey.tobytes())
        payload = _FRAME_ENCODER.encode(frame)
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(_HEADER.pack(len(payload)) + payload)
            process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise self._fail(process, "") from None
        deadline = time.monotonic() + self.timeout
        header = self._read(process, _HEADER.size, deadline)
        raw = self._read(process, _HEADER.unpack(header)[0], deadline)
        reply = _REPLY_DECODER.decode(raw)
        if reply.unavailable:
            self._stop()
            raise DecoderUnavailable(reply.error)
        if reply.error:
            raise DecoderCrashed(f"the {self.backend} barcode decoder failed: {reply.error}")
        return [DecodedBarcode(b.symbology, b.data, b.gs1) for b in reply.barcodes]

    def _put_shared(self, pixels: bytes) -> None:
        """Write a frame's pixels into the shared memory file, growing it if needed. The
        worker reads them only while it answers this frame: no frame overwrites another."""
        if self._shared is None or len(self._shared) < len(pixels):
            if self._shared is not None:
                self._shared.close()
            os.ftruncate(self._shared_fd, len(pixels))
            self._shared = mmap.mmap(self._shared_fd, len(pixels))
        self._shared[: len(pixels)] = pixels

    def _read(self, process: subprocess.Popen[bytes], size: int, deadline: float) -> bytes:
        assert process.stdout is not None
        fd = process.stdout.fileno()
        chunks: list[bytes] = []
        remaining = size
        while remaining:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise self._fail(process, f"no answer within {self.timeout:g} s")
            chunk = os.read(fd, remaining)
            if not chunk:
                raise self._fail(process, "")
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)
