"""The supervisor's pages for the handheld's counters, in a browser against a real server
process (both databases): a supervisor sets a counter's PIN on the Counters page (a bad
PIN refused at its field), a real handheld store pulls it, signs the counter in offline,
keeps an unknown barcode and syncs it; the count page lists it with the counter's name.
A counter cannot reach the Counters page. Screenshots: counters, count-unknown-barcodes."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from handheld_sync.counters import SignIn
from handheld_sync.counting import CountingSession
from handheld_sync.scan.text import parse_scanner_text
from tests.e2e.conftest import ServerProcess
from tests.web.conftest import VIEWPORT, screenshot, signed_in
from tests.web.test_count_flow import BIN_PATTERN, Handheld
from tests.web.test_signin import api

pytestmark = pytest.mark.e2e  # a real server process and a browser


def test_a_pin_set_on_the_page_signs_a_counter_in_offline_and_their_unknown_scan_is_listed(
    page: Page, browser: Browser, web_server: ServerProcess, tmp_path: Path
) -> None:
    with api(web_server, "super") as client:
        made = client.post(
            "/api/counts", json={"location": "MAIN", "scope": "bins", "bins": ["A-01"]}
        )
        number = str(made.json()["number"])
        assert client.post(f"/api/counts/{number}/start").status_code == 200

    signed_in(page, "super")
    page.get_by_role("link", name="Counters").click()
    form = page.get_by_role("form", name="Set the PIN of counter")
    # a bad PIN: refused at its field, nothing set
    form.get_by_label("PIN (4 to 12 digits)").fill("12")
    form.get_by_label("PIN again").fill("12")
    form.get_by_label("Sites (location codes)").fill("MAIN")
    form.get_by_role("button", name="Set PIN").click()
    form = page.get_by_role("form", name="Set the PIN of counter")
    pin_field = form.get_by_label("PIN (4 to 12 digits)")
    expect(pin_field).to_have_attribute("aria-invalid", "true")
    expect(form.locator(".field-error")).to_contain_text("digits")
    expect(page.locator("#counters")).to_contain_text("no PIN")
    # entered twice, then set: never shown again
    pin_field.fill("4711")
    form.get_by_label("PIN again").fill("4711")
    form.get_by_role("button", name="Set PIN").click()
    expect(page.get_by_role("status")).to_contain_text("PIN set for counter: MAIN.")
    row = page.locator("#counters tr", has_text="counter")
    expect(row).to_contain_text("MAIN")
    expect(row).to_contain_text("set ")
    assert "4711" not in page.content()
    screenshot(page, web_server, "counters")

    # a real handheld pulls the PIN's verifier, signs the counter in offline, counts
    handheld = Handheld(tmp_path, "hh-1", web_server)
    try:
        handheld.client.close()  # offline from here until the sync
        SignIn(handheld.store).sign_in("counter", "4711")
        session = CountingSession(handheld.store, bin_pattern=BIN_PATTERN)
        session.open(number)
        assert session.scan(parse_scanner_text("A-01")).recorded
        assert session.scan_text("NO-SUCH-THING").outcome == "unknown"
        session.key_quantity("BOLT", "3", lot="")
        session.close_bin(empty=False)
        handheld.client = httpx.Client(
            base_url=web_server.url, headers=dict(handheld.client.headers), timeout=30
        )
        handheld.sync()
    finally:
        handheld.close()

    page.goto(f"/counts/{number}")
    unknown = page.locator("#unknown-barcodes tbody tr", has_text="NO-SUCH-THING")
    expect(unknown).to_contain_text("unknown")
    expect(unknown).to_contain_text("A-01")
    expect(unknown.locator("td").nth(3)).to_have_text("counter")
    expect(unknown.locator("td").nth(4)).to_have_text("hh-1")
    expect(page.locator("table", has_text="Counted by")).to_contain_text("counter on hh-1")
    page.get_by_role("heading", name="Unknown barcodes").scroll_into_view_if_needed()
    screenshot(page, web_server, "count-unknown-barcodes")

    # a counter has no link to the page, and cannot reach it
    context = browser.new_context(base_url=web_server.url, viewport=VIEWPORT)  # type: ignore[arg-type]
    try:
        theirs = signed_in(context.new_page(), "counter")
        expect(theirs.get_by_role("link", name="Counters")).to_have_count(0)
        answer = theirs.goto("/counters")
        assert answer is not None and answer.status == 403
    finally:
        context.close()
