"""The pages through Litestar's test client: the session cookie over TLS, redirects that
stay on this site, refusals as pages (never a stack trace), and the API unchanged beside
them (Bearer tokens, no CSRF token needed)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import unquote_plus

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import update

from server.db.engine import make_engine
from server.db.tables import ApiToken
from tests.helpers import PASSWORD, add_users, token
from tests.integration.counts_setup import bin_count, create_count, headers, seed, start

Client = AsyncTestClient[Litestar]


async def _csrf(client: Client, path: str = "/signin") -> str:
    page = await client.get(path)
    found = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


async def _sign_in(client: Client, username: str, next_page: str = "") -> str:
    answer = await client.post(
        "/signin",
        data={
            "username": username,
            "password": PASSWORD,
            "next": next_page,
            "_csrf_token": await _csrf(client),
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


async def test_pages_refuse_as_pages_and_keep_redirects_on_this_site(
    database_url: str, client: Client
) -> None:
    await add_users(database_url)
    # not signed in: to the sign-in page, remembering where to go
    answer = await client.get("/counts?status=counted", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin?next=%2Fcounts%3Fstatus%3Dcounted"

    # a `next` of another site is not followed
    assert await _sign_in(client, "super", "//evil.example/x") == "/counts"
    assert await _sign_in(client, "super", "https://evil.example/") == "/counts"
    assert await _sign_in(client, "super", "/documents") == "/documents"
    home = await client.get("/", follow_redirects=False)
    assert (home.status_code, home.headers["location"]) == (303, "/counts")

    # refusals are pages that say why, never a trace
    for path, status, says in (
        ("/counts/SC999999", 404, "stock count SC999999"),
        ("/counts?after=abc", 422, "cursor"),
        ("/counts?status=nonsense", 422, "status must be one of"),
        ("/documents?date_from=yesterday", 200, "is not a date"),
        ("/documents/nonsense/X", 404, "no documents of kind"),
    ):
        page = await client.get(path)
        assert page.status_code == status, (path, page.text)
        assert "text/html" in page.headers["content-type"]
        assert says in page.text and "Traceback" not in page.text, (path, page.text)

    # a wrong password is said at the form; nothing is signed in
    client.cookies.clear()
    wrong = await client.post(
        "/signin",
        data={"username": "super", "password": "nope", "_csrf_token": await _csrf(client)},
    )
    assert wrong.status_code == 401 and "wrong username or password" in wrong.text
    assert "stockcount_session" not in wrong.headers.get("set-cookie", "")
    empty = await client.post(
        "/signin", data={"username": "", "password": "", "_csrf_token": await _csrf(client)}
    )
    assert empty.status_code == 422 and "enter your username" in empty.text


async def test_the_session_cookie_is_secure_over_tls_and_the_api_needs_no_csrf(
    app: Litestar, database_url: str
) -> None:
    await add_users(database_url)
    async with AsyncTestClient(app=app, base_url="https://stockcount.example") as tls:
        answer = await tls.post(
            "/signin",
            data={"username": "super", "password": PASSWORD, "_csrf_token": await _csrf(tls)},
            follow_redirects=False,
        )
        cookie = answer.headers["set-cookie"]
        assert "stockcount_session=" in cookie
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie

        # the API beside the pages: Bearer token, JSON, no CSRF token, as before
        headers = await token(tls, "super")
        made = await tls.post(
            "/api/counts", json={"location": "NOWHERE", "scope": "all"}, headers=headers
        )
        assert made.status_code == 422, made.text  # reached the use case, no CSRF 403
        assert made.headers["content-type"].startswith("application/problem+json")
        # and a session cookie does not open the API
        tls.cookies.set("stockcount_session", cookie.split(";")[0].split("=", 1)[1])
        assert (await tls.get("/api/counts")).status_code == 401


async def test_an_expired_session_sends_back_to_the_sign_in_page(
    database_url: str, client: Client
) -> None:
    await add_users(database_url)
    await _sign_in(client, "super")
    assert (await client.get("/counts")).status_code == 200
    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            past = datetime(2000, 1, 1, tzinfo=UTC)
            await conn.execute(update(ApiToken).values(expires_at=past))
    finally:
        await engine.dispose()
    answer = await client.get("/counts", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/signin?next=%2Fcounts&error=the+token+has")
    page = await client.get(answer.headers["location"])
    assert "expired" in page.text and "Sign in" in page.text


async def test_recount_counted_and_refusals_from_the_count_page(
    database_url: str, client: Client
) -> None:
    await seed(database_url)
    hs = await headers(client)
    sup = hs["super"]
    number = await create_count(client, sup)
    await start(client, sup, number)
    await bin_count(client, hs["counter"], number, "A-01", [("SER", "S1")])
    await _sign_in(client, "super")
    csrf = await _csrf(client, f"/counts/{number}")

    async def post(action: str, **form: str) -> str:
        answer = await client.post(
            f"/counts/{number}/{action}",
            data={"_csrf_token": csrf, **form},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        return unquote_plus(answer.headers["location"])

    assert "Recount ordered for A-01" in await post("recounts", bin="A-01", reason="again")
    shown = await client.get(f"/counts/{number}")
    assert re.search(r"A-01</th>\s*<td><span class=\"status recount\">recount ordered", shown.text)
    view = (await client.get(f"/api/counts/{number}", headers=sup)).json()
    assert [b["recount_ordered"] for b in view["bins"] if b["label"] == "A-01"] == [True]

    # a refusal comes back to the page with the domain's reason, and changes nothing
    refused = await post("pick", bin="A-02", bin_count_id="999")
    assert "error=" in refused and "999" in refused
    assert "choose the bin to recount" in await post("recounts")

    assert "The count is Counted" in await post("counted", override="yes")
    assert (await client.get(f"/api/counts/{number}", headers=sup)).json()["status"] == "counted"
    assert "Cancelled" in await post("cancel")
    again = await post("cancel")
    assert "error=cannot cancel a stock count that is Cancelled" in again
