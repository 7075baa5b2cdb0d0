"""Signing in and out of the pages, the session cookie, CSRF, and the roles' reach."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ServerProcess
from tests.helpers import PASSWORD
from tests.web.conftest import screenshot, signed_in


@contextmanager
def api(server: ServerProcess, username: str) -> Iterator[httpx.Client]:
    """The API as `username`, beside the browser."""
    with httpx.Client(base_url=server.url, timeout=10) as client:
        login = client.post("/api/auth/token", json={"username": username, "password": PASSWORD})
        assert login.status_code == 200, login.text
        client.headers["Authorization"] = f"Bearer {login.json()['token']}"
        yield client


def new_count(server: ServerProcess) -> str:
    with api(server, "super") as client:
        made = client.post(
            "/api/counts", json={"location": "MAIN", "scope": "prefix", "prefix": "A-"}
        )
        assert made.status_code == 201, made.text
        return str(made.json()["number"])


def test_sign_in_lands_on_counts_with_the_navigation(page: Page, web_server: ServerProcess) -> None:
    page.goto("/counts")
    expect(page).to_have_url(re.compile(r"/signin\?next=%2Fcounts"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    screenshot(page, "signin")

    page.get_by_label("Username").fill("super")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("wrong username or password")

    signed_in(page, "super")
    expect(page).to_have_url(re.compile(r"/counts$"))
    for name in ("Counts", "Documents", "Devices", "Journal"):
        expect(
            page.get_by_role("navigation", name="Main").get_by_role("link", name=name)
        ).to_be_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "stockcount_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]


def test_sign_out_ends_the_session_for_good(page: Page, web_server: ServerProcess) -> None:
    signed_in(page, "super")
    token = next(c for c in page.context.cookies() if c["name"] == "stockcount_session")["value"]
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_contain_text("You are signed out")
    page.goto("/counts")
    expect(page).to_have_url(re.compile(r"/signin"))
    # the token behind the old cookie no longer opens anything, pages or API
    page.context.add_cookies(
        [{"name": "stockcount_session", "value": token, "url": web_server.url}]
    )
    page.goto("/counts")
    expect(page).to_have_url(re.compile(r"/signin"))
    answer = httpx.get(f"{web_server.url}/api/me", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401


def test_a_form_posted_without_its_csrf_token_is_refused(
    page: Page, web_server: ServerProcess
) -> None:
    number = new_count(web_server)
    signed_in(page, "super")
    refused = page.request.post(f"/counts/{number}/cancel", form={"confirm": "yes"})
    assert refused.status == 403
    assert "security token" in refused.text()
    with api(web_server, "super") as client:
        assert client.get(f"/api/counts/{number}").json()["status"] == "open"
    # the same form from the page, with its token, goes through
    page.goto(f"/counts/{number}")
    page.get_by_role("button", name="Cancel count").click()
    expect(page.get_by_role("status")).to_contain_text("Cancelled")
    with api(web_server, "super") as client:
        assert client.get(f"/api/counts/{number}").json()["status"] == "cancelled"


def test_a_counter_cannot_act_as_a_supervisor(page: Page, web_server: ServerProcess) -> None:
    number = new_count(web_server)
    signed_in(page, "counter")
    page.goto(f"/counts/{number}")
    expect(page.get_by_role("button", name="Cancel count")).to_have_count(0)
    expect(page.get_by_role("link", name="Review", exact=True)).to_have_count(0)
