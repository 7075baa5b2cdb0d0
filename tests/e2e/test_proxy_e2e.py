"""Scale-out through a reverse proxy with TLS: nginx (Debian's package, with the
operator's config deploy/nginx/stockcount.conf) in front of two `stockcount serve`
processes on one PostgreSQL database. Three handheld stores sync over HTTPS through it
(trusting the test's CA) and land on both processes; a supervisor finalizes through both
at once; exactly one pair of documents results and every scan is counted once. Also: the
session cookie is Secure over TLS, the servers take the client's address and scheme from
the proxy only (STOCKCOUNT_TRUSTED_PROXIES), large and gzipped push bodies pass, and two
clients' failed logins are throttled apart while a forged X-Forwarded-For is ignored.

PostgreSQL only: two processes on one SQLite file is not a deployment (deploy/README.md).
"""

from __future__ import annotations

import asyncio
import gzip
import re
import ssl
import threading
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from handheld_sync.store import Store
from handheld_sync.sync import SyncEngine, auth_headers, enroll
from tests.conftest import fresh_database
from tests.e2e.proxy import Proxy, make_certificates, nginx_binary
from tests.e2e.test_sync_e2e import Database, Server, count_bin
from tests.helpers import PASSWORD, scalar
from tests.integration.counts_setup import seed

pytestmark = pytest.mark.e2e

PROXY_ADDRESS = "127.0.0.2"  # nginx connects to the servers from here (proxy_bind)
CLIENT_A = "127.0.0.3"  # clients connect from their own loopback addresses
CLIENT_B = "127.0.0.4"
CLIENT_C = "127.0.0.5"


class Site:
    def __init__(self, url: str, servers: list[Server], proxy: Proxy, ca: Path) -> None:
        self.url = url
        self.servers = servers
        self.proxy = proxy
        self.tls = ssl.create_default_context(cafile=str(ca))

    def client(self, source: str = CLIENT_A, **kw: Any) -> httpx.Client:
        """A client of the proxy over HTTPS, trusting the test's CA only, from `source`."""
        transport = httpx.HTTPTransport(verify=self.tls, local_address=source)
        return httpx.Client(base_url=self.proxy.url, transport=transport, timeout=60, **kw)

    def direct(self, index: int, source: str = CLIENT_C) -> httpx.Client:
        """A client of one server process, past the proxy (an untrusted peer)."""
        transport = httpx.HTTPTransport(local_address=source)
        return httpx.Client(base_url=self.servers[index].url, transport=transport, timeout=60)


@pytest.fixture
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    nginx_binary()  # skip (never in CI) before making anything
    for url in fresh_database(request, "postgres", tmp_path):
        asyncio.run(seed(url))
        database = Database(url, tmp_path / "unused")
        secret = uuid.uuid4().hex  # one CSRF secret for both processes
        servers = []
        for _ in range(2):
            server = Server(database, tmp_path)
            server.env.update(
                STOCKCOUNT_LOG_LEVEL="INFO",
                STOCKCOUNT_SECRET_KEY=secret,
                STOCKCOUNT_TRUSTED_PROXIES=PROXY_ADDRESS,
            )
            servers.append(server)
        proxy = Proxy(
            tmp_path / "nginx",
            [f"127.0.0.1:{s.port}" for s in servers],
            make_certificates(tmp_path / "tls"),
            PROXY_ADDRESS,
        )
        try:
            for server in servers:
                server.start()
            proxy.start()
            yield Site(url, servers, proxy, tmp_path / "tls" / "ca.pem")
        finally:
            proxy.stop()
            for server in servers:
                server.stop()


def upstream_of(line: str) -> str:
    match = re.search(r"upstream=(\S+)", line)
    assert match, line
    return match.group(1)


def lines_for(proxy: Proxy, path: str) -> list[str]:
    return [line for line in proxy.access_lines() if f" {path}" in line]


def login(api: httpx.Client, name: str) -> dict[str, str]:
    answer = api.post("/api/auth/token", json={"username": name, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def test_three_devices_sync_through_the_proxy_to_both_processes_and_one_finalize_wins(
    site: Site, tmp_path: Path
) -> None:
    api = site.client()
    health = api.get("/health")
    assert health.status_code == 200 and health.json()["database"] == "postgresql"
    sup, admin = login(api, "super"), login(api, "admin")
    made = api.post(
        "/api/counts", json={"location": "MAIN", "scope": "prefix", "prefix": "A-"}, headers=sup
    )
    number = made.json()["number"]
    assert api.post(f"/api/counts/{number}/start", headers=sup).status_code == 200

    stores: list[Path] = []
    for i in range(3):
        code = api.post("/api/enrollment-codes", json={"location": "MAIN"}, headers=admin)
        store = Store.create(tmp_path / f"hh-{i}.sqlite3")
        with site.client() as plain:
            enroll(plain, store, code.json()["code"], f"hh-{i}", "e2e")
        stores.append(store.path)
        store.close()

    plans: dict[int, tuple[str, list[str], list[tuple[str, ...]]]] = {
        0: ("A-01", ["S1"], [("BOLT", "8")]),
        1: ("A-02", ["S3", "S2"], [("LOTI", "6", "L1")]),
        2: ("A-03", [], []),
    }
    reports: dict[int, list[Any]] = {i: [] for i in range(3)}

    def work(i: int) -> None:
        """One device: pull, count its bin offline, then push one event a request."""
        with Store.open(stores[i]) as store, site.client(headers=auth_headers(store)) as c:
            reports[i].append(SyncEngine(store, c, sleep=lambda _: None).sync())
            label, serials, quantities = plans[i]
            count_bin(store, number, label, serials, quantities)
            reports[i].append(SyncEngine(store, c, sleep=lambda _: None, max_events=1).sync())
            assert store.outbox_summary()["pending"] == 0

    workers = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=300)
    assert all(len(r) == 2 for r in reports.values()), reports
    assert all(r[0].reset for r in reports.values())  # the first pull: all reference data
    assert [r[1].applied for r in reports.values()] == [4, 5, 2]
    assert all(r[1].duplicate == 0 and r[1].rejected == 0 for r in reports.values())

    # The pushes went through the proxy to both processes, gzipped, and were answered.
    ports = {f"127.0.0.1:{s.port}" for s in site.servers}
    pushes = lines_for(site.proxy, "/api/sync/push")
    assert len(pushes) >= 11 and all('" 200 ' in line for line in pushes), pushes
    assert {upstream_of(line) for line in pushes} == ports
    for server in site.servers:
        assert server.process is not None
        server.process.find(r"POST /api/sync/push 200 .* hh-\d ")

    # Every scan reached the server once: each install's last seq, and nothing pending.
    status = {
        d["install_id"]: d for d in api.get("/api/devices/status", headers=sup).json()["items"]
    }
    for path in stores:
        with Store.open(path) as store:
            assert status[store.install_id]["last_seq"] == store.last_seq()

    recon = api.get(f"/api/counts/{number}/reconciliation", params={"limit": 1000}, headers=sup)
    assert recon.status_code == 200, recon.text
    got = {
        (line["item"], line["bin"], line.get("serial", ""), Decimal(line["adjustment_quantity"]),
         Decimal(line["stock_transfer_quantity"]))
        for line in recon.json()["lines"]
    }  # fmt: skip
    # system: S1, S2 in A-01, S3 in A-02, BOLT 10 in A-01, LOTI 5 (L1) in A-02
    assert got == {
        ("SER", "A-02", "S2", Decimal(0), Decimal(1)),  # S2 found in A-02: a transfer
        ("BOLT", "A-01", "", Decimal(-2), Decimal(0)),
        ("LOTI", "A-02", "", Decimal(1), Decimal(0)),
    }
    assert recon.json()["not_counted_bins"] == [] and recon.json()["conflicts"] == []

    # A supervisor finalizes through both processes at once: one wins, one pair results.
    bulk = {"action": "approve", "filter": {}, "reason_code": "MISCOUNT"}
    assert api.post(f"/api/counts/{number}/lines/bulk", json=bulk, headers=sup).status_code == 200
    answers: list[httpx.Response] = []
    barrier = threading.Barrier(2)

    def finalize() -> None:
        with site.client() as own:
            barrier.wait()
            answers.append(
                own.post(f"/api/counts/{number}/finalize", json={"confirm": True}, headers=sup)
            )

    racers = [threading.Thread(target=finalize) for _ in range(2)]
    for r in racers:
        r.start()
    for r in racers:
        r.join(timeout=300)
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    assert [a.json()["code"] for a in answers if a.status_code == 409] == ["count-status"]
    finals = lines_for(site.proxy, f"/api/counts/{number}/finalize")
    assert {upstream_of(line) for line in finals} == ports, finals  # one on each process
    documents = api.get(f"/api/counts/{number}/documents", headers=sup)
    assert documents.status_code == 200, documents.text
    kinds = sorted(d["kind"] for d in documents.json()["items"])
    assert kinds == ["quantity_adjustment", "stock_transfer"]
    postings = asyncio.run(scalar(site.url, "SELECT count(*) FROM count_document"))
    assert postings == 2
    api.close()


def _throttled_keys(url: str) -> set[str]:
    found = asyncio.run(scalar(url, "SELECT string_agg(key, ' ') FROM auth_throttle"))
    return set(str(found or "").split())


def test_the_proxy_passes_what_the_server_needs_and_the_servers_trust_only_it(
    site: Site,
) -> None:
    # The certificate is the test CA's: a client that does not trust that CA refuses it.
    with httpx.Client(timeout=30) as stranger, pytest.raises(httpx.ConnectError, match="CERT"):
        stranger.get(f"{site.proxy.url}/health")
    # Plain HTTP is only a redirect to HTTPS.
    with httpx.Client(timeout=30) as plain:
        moved = plain.get(f"http://127.0.0.1:{site.proxy.http_port}/health")
    assert moved.status_code == 308
    assert moved.headers["location"] == f"https://127.0.0.1:{site.proxy.https_port}/health"

    # The session cookie is Secure over TLS (the scheme from X-Forwarded-Proto); the form's
    # CSRF token from one process is good on the other (one shared secret).
    with site.client() as browser:
        form = browser.get("/signin")
        token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
        assert form.status_code == 200 and token
        signed = browser.post(
            "/signin",
            data={"username": "super", "password": PASSWORD, "_csrf_token": token.group(1)},
        )
        assert signed.status_code == 303, signed.text
        cookie = signed.headers["set-cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie, cookie
    # Straight to a process (plain HTTP, an untrusted peer, a forged X-Forwarded-Proto):
    # no Secure flag, as the browser would not send it back.
    with site.direct(0) as direct:
        form = direct.get("/signin")
        token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
        assert token
        signed = direct.post(
            "/signin",
            data={"username": "super", "password": PASSWORD, "_csrf_token": token.group(1)},
            headers={"X-Forwarded-Proto": "https"},
        )
        assert signed.status_code == 303 and "Secure" not in signed.headers["set-cookie"]

    # A push body over nginx's default 1 MiB reaches the server (client_max_body_size), and
    # a gzip body passes untouched: a cut one is the server's 4xx problem, not the proxy's.
    with site.client() as api:
        sup = login(api, "super")
        big = b'{"protocol_version": 1, "padding": "' + b"x" * (3 * 1024 * 1024) + b'"}'
        answer = api.post(
            "/api/sync/push", content=big, headers={**sup, "Content-Type": "application/json"}
        )
        assert 400 <= answer.status_code < 500 and answer.status_code != 413, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        zipped = gzip.compress(msgspec.json.encode({"protocol_version": 1}))
        cut = api.post(
            "/api/sync/push",
            content=zipped[: len(zipped) // 2],
            headers={**sup, "Content-Type": "application/json", "Content-Encoding": "gzip"},
        )
        assert cut.headers["content-type"].startswith("application/problem+json"), cut.text
        assert 400 <= cut.status_code < 500
        # the server answers the proxy's request id (one id in both logs)
        assert re.fullmatch(r"[0-9a-f]{32}", cut.headers["x-request-id"])

    # Two clients behind the proxy are throttled apart: A's failures lock A out only.
    def fail(client: httpx.Client, **headers: str) -> int:
        name = f"nobody-{uuid.uuid4().hex[:8]}"  # a new user name each time: the address counts
        r = client.post(
            "/api/auth/token", json={"username": name, "password": "wrong!"}, headers=headers
        )
        return r.status_code

    with site.client(CLIENT_A) as a, site.client(CLIENT_B) as b:
        codes: list[int] = []
        while 429 not in codes and len(codes) < 40:
            codes.append(fail(a, **{"X-Forwarded-For": CLIENT_B}))  # forged: ignored
        assert codes[-1] == 429 and codes.count(401) >= 20, codes
        assert fail(b) == 401  # B is not held up by A's failures
        # an unknown route (answered without the app's middleware) is B's too in the log
        assert b.get("/api/no-such-route").status_code == 404
    # Past the proxy, a forged X-Forwarded-For names nobody: the peer is who counts.
    with site.direct(1, source=CLIENT_C) as c:
        assert fail(c, **{"X-Forwarded-For": "198.51.100.7"}) == 401
    keys = _throttled_keys(site.url)
    addresses = {k.split(":", 1)[1] for k in keys if k.startswith("address:")}
    assert addresses == {CLIENT_A, CLIENT_B, CLIENT_C}, keys
    # and the request log names the client, not the proxy
    logs = "\n".join(s.process.output for s in site.servers if s.process is not None)
    for line in ("POST /api/auth/token 401", "GET /api/no-such-route 404"):
        assert re.search(rf"{line} \S+ - {re.escape(CLIENT_B)} ", logs), logs[-2000:]
    assert f" {PROXY_ADDRESS} " not in logs
