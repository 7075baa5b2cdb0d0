"""nginx from Debian's packages in front of server processes, with TLS, as a test runs it:
the operator's own config (deploy/nginx/stockcount.conf) filled in with free ports on
127.0.0.1 and paths under the test's directory, a certificate from a CA made by the test,
and nginx as a foreground process (no daemon, its own prefix, pid, logs and temp dirs)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import free_port

SITE = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "stockcount.conf"
IN_CI = os.environ.get("CI", "").lower() == "true"


def nginx_binary() -> str:
    """The nginx binary; skipped where there is none, but never in CI (`./run` installs it)."""
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )
    if found is None:
        if IN_CI:
            pytest.fail("CI=true but nginx is not installed: ./run installs nginx-light")
        pytest.skip("nginx is not installed (apt-get install nginx-light, or ./run)")
    if shutil.which("openssl") is None:
        if IN_CI:
            pytest.fail("CI=true but openssl is not installed: ./run installs it")
        pytest.skip("openssl is not installed: it makes the test's certificates")
    return found


def _openssl(*args: str, cwd: Path) -> None:
    done = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, f"openssl {' '.join(args)}: {done.stderr}"


def make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A CA, and a certificate for 127.0.0.1 and localhost signed by it: (ca, cert, key)."""
    directory.mkdir(parents=True, exist_ok=True)
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=stockcount test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=directory,
    )  # fmt: skip
    _openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=localhost",
        cwd=directory,
    )  # fmt: skip
    (directory / "san.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
        "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
    )
    _openssl(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "server.pem",
        cwd=directory,
    )  # fmt: skip
    return directory / "ca.pem", directory / "server.pem", directory / "server.key"


def render_site(values: dict[str, str]) -> str:
    """deploy/nginx/stockcount.conf with every @NAME@ replaced; all must be given."""
    text = SITE.read_text()
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    assert "@" not in "".join(line.split("#", 1)[0] for line in text.splitlines()), (
        f"a placeholder of {SITE} was not filled in:\n{text}"
    )
    return text


class Proxy:
    """nginx (one worker, so that it hands requests to the upstreams in strict turn) with
    its outgoing connections from `bind` (the address the servers trust)."""

    def __init__(self, prefix: Path, upstreams: list[str], certs: tuple[Path, Path, Path],
                 bind: str) -> None:  # fmt: skip
        self.binary = nginx_binary()
        self.prefix = prefix
        prefix.mkdir(parents=True, exist_ok=True)
        for sub in ("logs", "body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (prefix / sub).mkdir(exist_ok=True)
        self.https_port = free_port()
        self.http_port = free_port()
        _, cert, key = certs
        site = render_site(
            {
                "HTTP_LISTEN": f"127.0.0.1:{self.http_port}",
                "HTTPS_LISTEN": f"127.0.0.1:{self.https_port}",
                "HTTPS_PORT": str(self.https_port),
                "SERVER_NAME": "localhost",
                "CERT": str(cert),
                "KEY": str(key),
                "UPSTREAM_1": upstreams[0],
                "UPSTREAM_2": upstreams[1],
                "LOG_DIR": str(prefix / "logs"),
                "MAX_BODY": "32m",
            }
        )
        (prefix / "stockcount.conf").write_text(site)
        # Run as root (the test's user here), nginx's workers would become `nobody`, which
        # cannot enter the test's private directory for its temp files.
        user = "user root root;\n" if os.geteuid() == 0 else ""
        temp = "".join(
            f"    {kind}_temp_path {prefix / sub};\n"
            for kind, sub in (
                ("client_body", "body"),
                ("proxy", "proxy"),
                ("fastcgi", "fastcgi"),
                ("uwsgi", "uwsgi"),
                ("scgi", "scgi"),
            )
        )
        self.config = prefix / "nginx.conf"
        self.config.write_text(
            f"{user}worker_processes 1;\ndaemon off;\npid {prefix / 'nginx.pid'};\n"
            f"error_log {prefix / 'logs' / 'error.log'} info;\n"
            "events { worker_connections 256; }\n"
            "http {\n"
            f"{temp}"
            f"    access_log {prefix / 'logs' / 'access.log'};\n"
            f"    proxy_bind {bind};\n"
            f"    include {prefix / 'stockcount.conf'};\n"
            "}\n"
        )
        self.url = f"https://127.0.0.1:{self.https_port}"
        self.process: subprocess.Popen[str] | None = None

    def _nginx(self, *args: str) -> list[str]:
        return [self.binary, "-p", str(self.prefix), "-c", str(self.config), *args]

    def start(self) -> None:
        checked = subprocess.run(self._nginx("-t"), capture_output=True, text=True)
        assert checked.returncode == 0, f"nginx -t:\n{checked.stderr}"
        self.process = subprocess.Popen(
            self._nginx(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"nginx exited: {self.process.communicate()[0]}\n{self.errors}")
            try:
                with socket.create_connection(("127.0.0.1", self.https_port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        pytest.fail(f"nginx did not listen within 30 s:\n{self.errors}")

    @property
    def errors(self) -> str:
        log = self.prefix / "logs" / "error.log"
        return log.read_text() if log.exists() else ""

    def access_lines(self) -> list[str]:
        log = self.prefix / "logs" / "stockcount.access.log"
        return log.read_text().splitlines() if log.exists() else []

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful: finish what is in flight
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()
