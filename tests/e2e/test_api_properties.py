"""A property-based test of the whole HTTP API from its own OpenAPI document: schemathesis
generates requests for every operation (valid ones and ones that break the schema) and
sends them to a real server process as the admin; no answer may be a 5xx, and every
answer must match what the document says of it (status, content type, body).

Bounded to fit CI: a few examples per operation, no shrinking, no example database. A
longer local run: STOCKCOUNT_FUZZ_EXAMPLES=16 (examples per operation)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.conftest import serving
from tests.helpers import PASSWORD
from tests.integration.counts_setup import seed

pytestmark = pytest.mark.e2e
EXAMPLES = int(os.environ.get("STOCKCOUNT_FUZZ_EXAMPLES", "4"))


def not_a_server_error(ctx: object, response: schemathesis.Response, case: object) -> bool:
    assert response.status_code < 500, f"{response.status_code}: {response.text[:500]}"
    return True


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_no_operation_answers_5xx_or_breaks_its_schema(database_url: str, tmp_path: Path) -> None:
    asyncio.run(seed(database_url))
    with serving(database_url, tmp_path) as server:
        _fuzz(server.url)


def _fuzz(url: str) -> None:
    login = httpx.post(f"{url}/api/auth/token", json={"username": "admin", "password": PASSWORD})
    assert login.status_code == 200, login.text
    auth = {"Authorization": f"Bearer {login.json()['token']}"}
    schema = schemathesis.openapi.from_url(f"{url}/schema/openapi.json")
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=url, headers=auth, checks=CHECKS)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # every operation, all failures listed
            failures.append(f"{operation.label}: {str(exc)[:800]}")
    assert operations > 50
    assert failures == [], "\n\n".join(failures)
