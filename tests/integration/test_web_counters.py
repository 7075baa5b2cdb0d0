"""The supervisor's pages for the handheld's features, through Litestar's test client on
SQLite and PostgreSQL: a count's unknown barcodes on its page, and the Counters page."""

from __future__ import annotations

import re
from decimal import Decimal
from html import escape as html_escape
from html import unescape as html_unescape
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

import server.web.pages.counts as count_pages
from schemas.sync import BarcodeUnknown, BinClosed, BinOpened, QuantityKeyed
from tests.helpers import PASSWORD
from tests.integration.test_counters_api import set_pin
from tests.integration.test_sync_api import enroll_device, ev, push, setup

Client = AsyncTestClient[Litestar]


async def _csrf(client: Client, path: str = "/signin") -> str:
    page = await client.get(path)
    found = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


async def sign_in(client: Client, username: str) -> None:
    client.cookies.clear()
    answer = await client.post(
        "/signin",
        data={"username": username, "password": PASSWORD, "_csrf_token": await _csrf(client)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def shown(html: str) -> str:
    """The page without its CSRF fields: a token is random hex, and may hold any run of
    digits, a PIN's too (a PIN in any other field is still caught)."""
    return re.sub(r"<input[^>]*name=\"_csrf_token\"[^>]*>", "", html)


def text(cell: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip()


def unknown_rows(html: str) -> list[list[str]]:
    table = html.split('id="unknown-barcodes"', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    return [
        [text(cell) for cell in re.findall(r"<td>(.*?)</td>", r)]
        for r in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


async def test_the_count_page_lists_unknown_barcodes_a_page_at_a_time_for_supervisors(
    database_url: str, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    hs, number = await setup(client, database_url)
    await set_pin(client, hs["super"], "counter", pin="4711", locations=["MAIN"])
    dev = await enroll_device(client, hs["admin"], "hh-1")
    qty: Any = QuantityKeyed(
        count=number, bin="A-01", bin_seq=1, item="BOLT", quantity=Decimal(2), counter="counter"
    )  # type: ignore[call-arg]
    events = [
        ev(1, BinOpened(count=number, bin="A-01", counter="counter")),
        ev(2, qty),
        ev(
            3,
            BarcodeUnknown(
                count=number,
                raw="]E05901234123457",
                bin="A-01",
                bin_seq=1,
                symbology="EAN13",
                counter="counter",
                message="no item",
            ),
        ),
        ev(4, BinClosed(count=number, bin="A-01", bin_seq=1, counter="counter")),
        ev(5, BarcodeUnknown(count=number, raw="(01)123", problem="malformed")),
    ]
    answer = await push(client, dev, dev.request(events))
    assert {a.outcome for a in answer.acks} == {"applied"}, answer.acks

    await sign_in(client, "super")
    page = await client.get(f"/counts/{number}")
    assert page.status_code == 200, page.text
    rows = unknown_rows(page.text)
    assert [r[:5] for r in rows] == [
        ["]E05901234123457 EAN13", "unknown: no item", "A-01", "counter", "hh-1"],
        ["(01)123", "malformed", "(no bin open)", "", "hh-1"],
    ]
    # the bins table names the counter and the device of the bin count
    assert "counter on hh-1" in page.text
    # and so does the review, beside the bin of each row
    review = await client.get(f"/counts/{number}/review")
    assert review.status_code == 200, review.text
    assert re.search(r"<td>A-01 <span[^>]*>\(counter on hh-1\)</span></td>", review.text), (
        review.text
    )
    # never counted: the bin holds the quantity alone, the unknown scans add nothing
    recon = await client.get(f"/api/counts/{number}/reconciliation", headers=hs["super"])
    [bolt] = [ln for ln in recon.json()["lines"] if ln["item"] == "BOLT"]
    assert bolt["counted_quantity"] == "2"

    # paged: with a page of one, the cursor leads to the second
    monkeypatch.setattr(count_pages, "UNKNOWN", 1)
    first = await client.get(f"/counts/{number}")
    assert [r[0] for r in unknown_rows(first.text)] == ["]E05901234123457 EAN13"]
    link = re.search(r'href="([^"]*unknown_after=[^"]+)">Next page', first.text)
    assert link, first.text
    second = await client.get(link.group(1).replace("&amp;", "&"))
    assert [r[0] for r in unknown_rows(second.text)] == ["(01)123"]


def field_error(html: str, name: str, user: str) -> str:
    """The message at `name`'s field in `user`'s form (empty when none)."""
    form = html.split(f'action="/counters/{user}/pin"', 1)[1].split("</form>", 1)[0]
    field = form.split(f'name="{name}"', 1)[1].split("</div>", 1)[0]
    found = re.search(r'class="field-error"[^>]*>([^<]*)<', field)
    return html_unescape(found.group(1)) if found else ""


def roster(html: str) -> list[list[str]]:
    body = html.split('id="counters"', 1)[1].split("</table>", 1)[0].split("<tbody>", 1)[1]
    return [
        [text(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r)]
        for r in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


async def test_the_counters_page_sets_pins_at_their_fields_and_deactivates(
    database_url: str, client: Client
) -> None:
    await setup(client, database_url)
    await sign_in(client, "super")
    page = await client.get("/counters")
    assert page.status_code == 200, page.text
    assert 'href="/counters"' in page.text  # the nav link
    assert roster(page.text) == [["counter", "counter", "", "no PIN", "active"]]
    assert "/deactivate" not in page.text  # supervisors do not deactivate

    async def send(pin: str, again: str, sites: str) -> Any:
        token = await _csrf(client, "/counters")
        return await client.post(
            "/counters/counter/pin",
            data={"pin": pin, "pin_again": again, "locations": sites, "_csrf_token": token},
            follow_redirects=False,
        )

    for pin, again, sites, field, says in (
        ("12a4", "12a4", "MAIN", "pin", "digits"),
        ("4711", "4712", "MAIN", "pin_again", "the two PINs differ"),
        ("4711", "4711", "", "locations", "name at least one location"),
        ("4711", "4711", "NOWHERE", "locations", "no location 'NOWHERE'"),
    ):
        refused = await send(pin, again, sites)
        assert refused.status_code == 422, refused.text
        assert says in field_error(refused.text, field, "counter"), (field, refused.text)
        assert pin not in shown(refused.text.split("<main", 1)[1])  # never shown back
        assert roster(refused.text)[0][3] == "no PIN"  # changed nothing

    done = await send("4711", "4711", "MAIN")
    assert done.status_code == 303, done.text
    after = await client.get(done.headers["location"])
    assert "PIN set for counter: MAIN." in after.text
    [row] = roster(after.text)
    assert row[:3] == ["counter", "counter", "MAIN"] and row[3].startswith("set ")
    assert "4711" not in shown(after.text)

    # a supervisor cannot set an admin's PIN: said on the page, nothing changed
    token = await _csrf(client, "/counters")
    other = await client.post(
        "/counters/admin/pin",
        data={"pin": "1234", "pin_again": "1234", "locations": "MAIN", "_csrf_token": token},
    )
    assert "a supervisor sets the PINs of counters" in other.text
    assert [r[0] for r in roster(other.text)] == ["counter"]

    # a counter cannot reach the page, and has no link to it
    await sign_in(client, "counter")
    refused_page = await client.get("/counters")
    assert refused_page.status_code == 403
    assert 'href="/counters"' not in (await client.get("/counts")).text

    # admins deactivate, once confirmed
    await sign_in(client, "admin")
    token = await _csrf(client, "/counters")
    unconfirmed = await client.post("/counters/counter/deactivate", data={"_csrf_token": token})
    assert "tick the box to confirm" in unconfirmed.text
    assert roster(unconfirmed.text)[0][4] == "active"
    gone = await client.post(
        "/counters/counter/deactivate", data={"confirm": "yes", "_csrf_token": token}
    )
    assert "counter is deactivated" in gone.text
    assert roster(gone.text)[0][4] == "deactivated"


async def test_admins_set_a_sites_device_settings_with_the_apis_rules_at_the_fields(
    database_url: str, client: Client
) -> None:
    hs, _ = await setup(client, database_url)
    await sign_in(client, "admin")
    listed = await client.get("/device-settings")
    assert listed.status_code == 200, listed.text
    assert 'href="/device-settings/MAIN"' in listed.text

    async def save(**form: str) -> Any:
        token = await _csrf(client, "/device-settings/MAIN")
        return await client.post(
            "/device-settings/MAIN", data={**form, "_csrf_token": token}, follow_redirects=False
        )

    good = {"bin_pattern": r"^[A-Z]-\d+$", "gs_replacement": "|", "idle_sign_out_minutes": "30"}
    for field, value, says in (
        ("bin_pattern", "([", "not a regular expression"),
        ("gs_replacement", "x", "one character that is no letter or digit"),
        ("idle_sign_out_minutes", "0", "from 1 to 1440 minutes"),
        ("pin_attempts", "lots", "a whole number"),
    ):
        refused = await save(**{**good, "pin_attempts": "3", field: value})
        assert refused.status_code == 422, refused.text
        assert says in field_at(refused.text, field), (field, refused.text)
        assert f'value="{html_escape(value)}"' in refused.text  # what was typed, kept
    before = await client.get("/api/locations/MAIN/device-settings", headers=hs["admin"])
    assert before.json()["idle_sign_out_minutes"] == 15  # nothing saved

    done = await save(**good, pin_attempts="3")  # AIM prefixes unticked
    assert done.status_code == 303, done.text
    after = await client.get("/api/locations/MAIN/device-settings", headers=hs["admin"])
    assert after.json() == {
        "bin_pattern": r"^[A-Z]-\d+$",
        "gs_replacement": "|",
        "aim_prefixes": False,
        "idle_sign_out_minutes": 30,
        "pin_attempts": 3,
    }
    assert "30" in (await client.get("/device-settings")).text

    await sign_in(client, "super")  # admins only, as the brief has it
    assert (await client.get("/device-settings")).status_code == 403
    assert 'href="/device-settings"' not in (await client.get("/counts")).text


def field_at(html: str, name: str) -> str:
    field = html.split(f'name="{name}"', 1)[1].split("</div>", 1)[0]
    found = re.search(r'class="field-error"[^>]*>([^<]*)<', field)
    return html_unescape(found.group(1)) if found else ""
