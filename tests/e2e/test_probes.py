"""Issue 15's probes, sent to a real server process on SQLite and on PostgreSQL: each is a
4xx problem+json that names the problem, never a 5xx, and no table gains or loses a row.

Deep nesting on every route that takes a body (found in the server's own OpenAPI, so a new
route is probed too), before login and after; "1e400" and 25-digit quantities on a bin
count and a push; a tolerance of "1e30"; a superscript and an Arabic-Indic digit as the
cursor of every paged list; NUL in a body, a query and a push; JSON sent as MessagePack;
a second gzip member on a push; 0 and 1 where the schema says a boolean or a decimal."""

from __future__ import annotations

import asyncio
import gzip
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from sqlalchemy import func, select

from schemas import PROTOCOL_VERSION
from server.db.engine import make_engine
from server.db.tables import Base
from tests.e2e.conftest import serving
from tests.helpers import PASSWORD
from tests.integration.counts_setup import seed

pytestmark = pytest.mark.e2e
DEEP = b"[" * 1000 + b"]" * 1000
DEEP_FIELD = b'{"x": ' + DEEP + b"}"
NINES = "9" * 25
WRITES = ("post", "put", "patch")
# Path parameters filled with what the seeded warehouse has, so the probe reaches the body
# or the query, not a 404 on the path.
KNOWN = {"code": "MAIN", "item": "SER", "serial_number": "S1", "label": "A-01"}


@dataclass
class Probe:
    name: str
    method: str
    path: str
    as_: str  # admin, super, device or nobody
    detail: str = ""  # a fragment the problem's detail must hold
    status: int | None = None  # the exact status, when one is promised
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


async def _row_counts(database_url: str) -> dict[str, int]:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            return {
                table.name: int(await conn.scalar(select(func.count()).select_from(table)) or 0)
                for table in Base.metadata.sorted_tables
                if table.name != "auth_throttle"
            }
    finally:
        await engine.dispose()


def _push(device_id: int, events: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "protocol_version": PROTOCOL_VERSION,
        "device_id": device_id,
        "install_id": uuid.uuid4().hex,
        "device_time": "2026-12-06T09:20:00Z",
        "events": events,
    }


def _keyed(number: str, quantity: Any, raw: str = "") -> list[dict[str, Any]]:
    return [
        {
            "seq": 1,
            "device_time": "2026-12-06T09:14:31Z",
            "body": {"kind": "bin_opened", "count": number, "bin": "A-01"},
        },
        {
            "seq": 2,
            "device_time": "2026-12-06T09:14:32Z",
            "body": {
                "kind": "quantity_keyed",
                "count": number,
                "bin": "A-01",
                "bin_seq": 1,
                "item": "BOLT",
                "quantity": quantity,
                "raw": raw,
            },
        },
    ]


def _bin_count(quantity: Any) -> dict[str, Any]:
    return {
        "bin": "A-01",
        "started_at": "2026-11-20T08:00:00Z",
        "finished_at": "2026-11-20T08:05:00Z",
        "quantities": [{"item": "BOLT", "quantity": quantity}],
    }


def _probes(spec: dict[str, Any], number: str, device_id: int) -> list[Probe]:
    known = {**KNOWN, "number": number, "device_id": str(device_id), "id": str(device_id)}
    probes: list[Probe] = []
    for path, item in spec["paths"].items():
        names = re.findall(r"{(\w+)}", path)
        url = path
        for name in names:
            url = url.replace(f"{{{name}}}", known.get(name, "1"))
        for method, operation in item.items():
            # Only operations that read a body: the others would act (cancel, revoke, sign out)
            if method in WRITES and ("requestBody" in operation or path == "/api/imports/"):
                public = operation.get("security") == []
                callers = ["nobody"] if public else ["nobody", "admin"]
                if path.startswith("/api/sync/"):
                    callers = ["device"]
                for caller in callers:
                    for shape, body in (("array", DEEP), ("field", DEEP_FIELD)):
                        headers = {"content-type": "application/json"}
                        if caller == "device":  # the version from the header, then the body
                            headers["x-stockcount-protocol"] = str(PROTOCOL_VERSION)
                        for sent in ({"content-type": "application/json"}, headers):
                            probes.append(
                                Probe(
                                    f"deep-{shape}-{caller}",
                                    method.upper(),
                                    url,
                                    caller,
                                    content=body,
                                    headers=sent,
                                )
                            )
            params = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
            if method == "get" and "format" in params:
                for unknown in ("xml", "CSV"):
                    probes.append(
                        Probe(f"format-{unknown}", "GET", f"{url}?format={unknown}", "admin",
                              "" if names else "csv or json", status=None if names else 422)
                    )  # fmt: skip
            if method == "get" and "cursor" in params:
                caller = "admin"  # a supervisor where the admin may not read it (below)
                for digit in ("\u00b2", "\u0661"):
                    probes.append(
                        Probe(
                            f"cursor-{ord(digit):x}",
                            "GET",
                            f"{url}?cursor={digit}",
                            caller,
                            "cursor",
                            # a list under an id the seed lacks may answer 404 first
                            status=None if any(n not in known for n in names) else 422,
                        )
                    )
    counts = f"/api/counts/{number}/bin-counts"
    push = "/api/sync/push"
    json_ = {"content-type": "application/json"}
    one_push = gzip.compress(msgspec.json.encode(_push(device_id, [])))
    probes += [
        Probe("bin-count-1e400", "POST", counts, "super", "too large", 400, _bin_count("1e400")),
        Probe(
            "bin-count-25-digits", "POST", counts, "super", "too large", 400, _bin_count("1" * 25)
        ),
        Probe("bin-count-number", "POST", counts, "super", "as a string", 400, _bin_count(1)),
        Probe("bin-count-zero", "POST", counts, "super", "as a string", 400, _bin_count(0)),
        Probe(
            "tolerance-1e30",
            "PUT",
            "/api/locations/MAIN/tolerances",
            "super",
            "too large",
            400,
            {"quantity": "1e30"},
        ),
        Probe(
            "count-blind-one",
            "POST",
            "/api/counts",
            "super",
            "Expected `bool`, got `int`",
            400,
            {"location": "MAIN", "scope": "all", "blind": 1},
        ),
        Probe(
            "count-blind-zero",
            "POST",
            "/api/counts",
            "super",
            "Expected `bool`, got `int`",
            400,
            {"location": "MAIN", "scope": "all", "blind": 0},
        ),
        Probe(
            "user-nul",
            "POST",
            "/api/users",
            "admin",
            "NUL",
            400,
            {"username": "ann", "password": "long\u0000enough pw", "role": "counter"},
        ),
        Probe("query-nul", "GET", "/api/devices?location=MA%00IN", "admin", "NUL", 400),
        Probe(
            "json-as-msgpack",
            "POST",
            "/api/users",
            "admin",
            "application/x-msgpack",
            415,
            content=b'{"username": "ann", "password": "long enough pw", "role": "counter"}',
            headers={"content-type": "application/x-msgpack"},
        ),
        *(
            Probe(f"push-{name}", "POST", push, "device", detail, 422, _push(device_id, events))
            for name, events, detail in (
                ("1e400", _keyed(number, "1e400"), "too large"),
                ("25-digits", _keyed(number, "1" * 25), "too large"),
                ("number", _keyed(number, 4.5), "as a string"),
                ("one", _keyed(number, 1), "as a string"),
                ("nul", _keyed(number, "1", raw="a\u0000"), "NUL"),
            )
        ),
        Probe(
            "push-two-gzip-members",
            "POST",
            push,
            "device",
            "more than one member",
            400,
            content=gzip.compress(b"{}") + one_push,
            headers={**json_, "content-encoding": "gzip"},
        ),
    ]
    return probes


def test_the_issue_probes_answer_4xx_and_change_nothing(database_url: str, tmp_path: Path) -> None:
    asyncio.run(seed(database_url))
    with serving(database_url, tmp_path) as server:
        _probe(server.url, database_url)


def _probe(url: str, database_url: str) -> None:
    with httpx.Client(base_url=url, timeout=30) as http:
        auth: dict[str, dict[str, str]] = {"nobody": {}}
        for name in ("admin", "super"):
            login = http.post("/api/auth/token", json={"username": name, "password": PASSWORD})
            assert login.status_code == 200, login.text
            auth[name] = {"Authorization": f"Bearer {login.json()['token']}"}
        count = http.post(
            "/api/counts", json={"location": "MAIN", "scope": "prefix", "prefix": "A-"},
            headers=auth["super"],
        )  # fmt: skip
        assert count.status_code == 201, count.text
        number = count.json()["number"]
        assert http.post(f"/api/counts/{number}/start", headers=auth["super"]).status_code == 200
        code = http.post("/api/enrollment-codes", json={"location": "MAIN"}, headers=auth["admin"])
        enrolled = http.post(
            "/api/devices/enroll", json={"code": code.json()["code"], "name": "HH"}
        )
        assert enrolled.status_code == 201, enrolled.text
        device_id = enrolled.json()["device_id"]
        auth["device"] = {"Authorization": f"Bearer {enrolled.json()['credential']}"}
        spec = http.get("/schema/openapi.json").json()
        probes = _probes(spec, number, device_id)
        before = asyncio.run(_row_counts(database_url))
        failures: list[str] = []
        for probe in probes:
            headers = {**auth[probe.as_], **probe.headers}
            answer = http.request(
                probe.method, probe.path, json=probe.json, content=probe.content, headers=headers
            )
            if answer.status_code == 403 and probe.as_ == "admin" and probe.method == "GET":
                headers = {**auth["super"], **probe.headers}
                answer = http.request(probe.method, probe.path, headers=headers)
            where = f"{probe.name} {probe.method} {probe.path[:80]}"
            kind = answer.headers.get("content-type", "")
            if not 400 <= answer.status_code < 500:
                failures.append(f"{where}: {answer.status_code} {answer.text[:300]}")
            elif not kind.startswith("application/problem+json"):
                failures.append(f"{where}: {answer.status_code} as {kind}")
            elif probe.status is not None and answer.status_code != probe.status:
                failures.append(f"{where}: {answer.status_code}, not {probe.status}: {answer.text}")
            elif probe.detail and probe.detail not in answer.json()["detail"]:
                failures.append(f"{where}: {answer.json()['detail']!r} lacks {probe.detail!r}")
        after = asyncio.run(_row_counts(database_url))
    assert len(probes) > 150
    assert failures == [], "\n".join(failures)
    assert after == before
