"""deploy/ is well-formed and says what deploy/README.md promises. Docker cannot run here,
so these check the files, not a running stack."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from server.settings import __doc__ as SETTINGS_DOC

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed")
    document: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return document


def test_compose_runs_two_servers_on_one_database_after_one_migration(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    servers = {name: s for name, s in services.items() if name.startswith("server")}
    assert len(servers) == 2
    urls = {s["environment"]["STOCKCOUNT_DATABASE_URL"] for s in servers.values()}
    assert urls == {services["migrate"]["environment"]["STOCKCOUNT_DATABASE_URL"]}
    assert "@db:5432/" in urls.pop()
    host_ports = [s["ports"][0].rsplit(":", 1)[0] for s in servers.values()]
    assert len(set(host_ports)) == 2
    for server in servers.values():
        assert server["command"] == ["stockcount", "serve"]
        assert server["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    assert services["migrate"]["command"] == ["stockcount", "migrate"]
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["db"]["image"].startswith("postgres:")


def test_compose_needs_a_password_and_runs_servers_read_only(compose: dict[str, Any]) -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    assert "change-me" not in text
    assert "${POSTGRES_PASSWORD:?" in text and "${POSTGRES_PASSWORD:-" not in text
    for name in ("migrate", "server-1", "server-2"):
        assert compose["services"][name]["read_only"] is True, name
        assert compose["services"][name]["tmpfs"] == ["/tmp"], name


def test_compose_sets_only_settings_the_server_reads(compose: dict[str, Any]) -> None:
    known = set(re.findall(r"^(STOCKCOUNT_[A-Z_]+)", SETTINGS_DOC or "", re.MULTILINE))
    for name, service in compose["services"].items():
        if name == "db":
            continue
        assert set(service["environment"]) <= known, name


def test_dockerfile_and_unit_file() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert dockerfile.startswith("# ") and "FROM python:3.11-slim" in dockerfile
    # the server only: no handheld package, no libzbar0, the data in a declared volume
    instructions = "\n".join(x for x in dockerfile.splitlines() if not x.startswith("#"))
    assert "libzbar0" not in instructions and "handheld_sync" not in instructions
    assert 'VOLUME ["/var/lib/stockcount"]' in instructions
    assert re.search(r'pip install .*-c constraints\.txt "\.\[server,postgres\]"', dockerfile)
    user = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert user and user[-1] not in {"root", "0"}
    assert "stockcount migrate && exec stockcount serve" in dockerfile
    unit = (DEPLOY / "stockcount.service").read_text()
    assert re.search(r"^ExecStart=\S+/stockcount serve$", unit, re.MULTILINE)
    assert re.search(r"^User=stockcount$", unit, re.MULTILINE)
    assert re.search(r"^DynamicUser=yes$", unit, re.MULTILINE)
    assert re.search(r"^StateDirectory=stockcount$", unit, re.MULTILINE)
    readme = (DEPLOY / "README.md").read_text()
    assert "untested here (" in readme.lower()


def test_compose_servers_share_a_required_secret_and_name_their_trusted_proxies(
    compose: dict[str, Any],
) -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    assert "${STOCKCOUNT_SECRET_KEY:?" in text
    for name in ("server-1", "server-2"):
        env = compose["services"][name]["environment"]
        assert env["STOCKCOUNT_SECRET_KEY"].startswith("${STOCKCOUNT_SECRET_KEY:?"), name
        assert "STOCKCOUNT_TRUSTED_PROXIES" in env, name


def test_the_nginx_site_documents_every_placeholder_and_the_readme_fills_each_in() -> None:
    site = (DEPLOY / "nginx" / "stockcount.conf").read_text()
    head = "\n".join(line for line in site.splitlines() if line.startswith("#"))
    body = "\n".join(line.split("#", 1)[0] for line in site.splitlines())
    used = set(re.findall(r"@([A-Z_0-9]+)@", body))
    assert used == set(re.findall(r"@([A-Z_0-9]+)@", head))
    readme = (DEPLOY / "README.md").read_text()
    filled = set(re.findall(r"s\|@([A-Z_0-9]+)@\|", readme))
    assert filled == used, used ^ filled
    # the settings the proxy relies on are real settings of the server
    assert "STOCKCOUNT_TRUSTED_PROXIES" in (SETTINGS_DOC or "")
    assert "client_max_body_size @MAX_BODY@" in body
    assert "X-Forwarded-For $proxy_add_x_forwarded_for" in body
    assert "X-Forwarded-Proto $scheme" in body


def test_every_step_of_the_readme_says_how_far_it_was_tried_here() -> None:
    readme = (DEPLOY / "README.md").read_text()
    steps = re.findall(r"^### \d+\..*$", readme, re.MULTILINE)
    assert len(steps) >= 10
    for step in steps:
        assert re.search(r"run here \(by (test|hand)|untested here \(", step), step
