"""A real server process on 127.0.0.1: started, waited for, read, and stopped by signal."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """One process started from `argv`; its stdout and stderr are collected as it runs."""

    def __init__(self, argv: list[str], port: int, cwd: Path, env: dict[str, str]) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self.process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._lock:
                self._lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        with self._lock:
            return "\n".join(self._lines)

    def wait_healthy(self, timeout: float = 60.0) -> dict[str, object]:
        """Poll GET /health until it answers 200; fail with the output if the process dies."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"server exited with {self.process.returncode}:\n{self.output}")
            try:
                response = httpx.get(f"{self.url}/health", timeout=2)
                if response.status_code == 200:
                    health: dict[str, object] = response.json()
                    return health
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        pytest.fail(f"no /health answer within {timeout} s:\n{self.output}")

    def find(self, pattern: str) -> re.Match[str]:
        match = re.search(pattern, self.output, re.MULTILINE)
        assert match, f"{pattern!r} not in the output:\n{self.output}"
        return match

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, as a process manager stops it; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                pytest.fail(f"server ignored SIGTERM for {timeout} s:\n{self.output}")
        self._reader.join(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return self.process.returncode


@contextmanager
def serving(database_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    """`stockcount serve` on `database_url` at a free port, healthy, stopped at the end."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "STOCKCOUNT_DATABASE_URL": database_url,
        "STOCKCOUNT_PORT": str(port),
        "STOCKCOUNT_LOG_LEVEL": "WARNING",
    }
    server = ServerProcess([str(BIN / "stockcount"), "serve"], port, tmp_path, env)
    try:
        server.wait_healthy()
        yield server
    finally:
        server.stop()


StartServer = Callable[..., ServerProcess]


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[StartServer]:
    """Start `BIN/<program> <args...>` with `{port}` in args replaced by a free port.

    Every process started is stopped at the end of the test, whatever happened.
    """
    started: list[ServerProcess] = []

    def start(program: str, *args: str, env: dict[str, str] | None = None) -> ServerProcess:
        port = free_port()
        argv = [str(BIN / program), *(a.replace("{port}", str(port)) for a in args)]
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        server = ServerProcess(argv, port, tmp_path, full_env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
