"""Browser tests of the web pages: Playwright (from PyPI) driving Debian's Chromium against
a real `stockcount serve` process on 127.0.0.1, once on SQLite and once on PostgreSQL.

One browser for the whole session and one server per backend (module scope, so each test
module gets its own seeded database); each test gets a fresh browser context (no cookies).
`signed_in(page, user)` signs in through the sign-in form, as a person does.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from server.auth import usecases as auth
from server.bootstrap import open_runtime
from server.domain.masterdata import Role
from tests.conftest import BACKENDS, _pg_reachable, fresh_database
from tests.e2e.conftest import BIN, ServerProcess, free_port
from tests.helpers import PASSWORD
from tests.integration.counts_setup import seed

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}
T = TypeVar("T")


async def _seed(url: str) -> None:
    """The warehouse of tests.integration.counts_setup, its users, and `finance`."""
    await seed(url)
    async with open_runtime(url) as runtime:
        await auth.create_user(runtime.uow(), "finance", PASSWORD, Role.FINANCE, datetime.now(UTC))


@pytest.fixture(scope="session")
def playwright(request: pytest.FixtureRequest) -> Iterator[Playwright]:
    # The migrated templates before Playwright: the sync API keeps an event loop running
    # on this thread, where their set-up and tear-down (asyncio.run) could not run.
    request.getfixturevalue("sqlite_template")
    if _pg_reachable() is None:
        request.getfixturevalue("postgres_template")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `./run` installs Debian's chromium package")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


def _in_thread(work: Callable[[], T]) -> T:
    """Run `work` (which may call asyncio.run) off the main thread, where Playwright's sync
    API keeps an event loop running."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()


@pytest.fixture(scope="module", params=BACKENDS)
def web_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """A seeded database and `stockcount serve` on it, for the tests of one module."""
    tmp = tmp_path_factory.mktemp(f"web-{request.param}")
    databases = fresh_database(request, request.param, tmp)
    url = _in_thread(lambda: next(databases))
    try:
        _in_thread(lambda: asyncio.run(_seed(url)))
        port = free_port()
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "STOCKCOUNT_DATABASE_URL": url,
            "STOCKCOUNT_HOST": "127.0.0.1",
            "STOCKCOUNT_PORT": str(port),
            "STOCKCOUNT_LOG_LEVEL": "WARNING",
        }
        server = ServerProcess([str(BIN / "stockcount"), "serve"], port, tmp, env)
        try:
            server.wait_healthy()
            yield server
        finally:
            server.stop()
    finally:
        _in_thread(lambda: next(databases, None))


@pytest.fixture
def context(web_server: ServerProcess, browser: Browser) -> Iterator[BrowserContext]:
    made = browser.new_context(base_url=web_server.url, viewport=VIEWPORT)  # type: ignore[arg-type]
    made.set_default_timeout(10_000)
    yield made
    made.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def signed_in(page: Page, username: str, password: str = PASSWORD) -> Page:
    """Sign in through the form, as a person does."""
    page.goto("/signin")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return page


def screenshot(page: Page, name: str) -> None:
    """docs/screenshots/<name>.png, the README's pictures (made on SQLite only)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
