"""The Inventory Adjustment Journal in a browser: a transaction entered through the form,
its defaults filled in by the server (the "Fill defaults" button, and as fields are
chosen), saved, and read back on its page with the GLH tab; refusals shown at their
fields with nothing saved; reversing; a counter reads and cannot write."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ServerProcess
from tests.web.conftest import screenshot, signed_in
from tests.web.test_signin import api

DAY = "2025-03-14"


@pytest.fixture(scope="module")
def period(web_server: ServerProcess) -> str:
    """The accounting period of DAY, imported through the API (the seed has none)."""
    with api(web_server, "admin") as client:
        done = client.post(
            "/api/imports",
            json={"accounting_periods": [{"code": "2025-03", "starts": "2025-03-01",
                                          "ends": "2025-03-31"}]},
        )  # fmt: skip
        assert done.status_code in (200, 201), done.text
    return "2025-03"


def _journal_count(server: ServerProcess) -> int:
    with api(server, "super") as client:
        found = client.get("/api/journal/transactions", params={"limit": 200})
        assert found.status_code == 200, found.text
        return len(found.json()["items"])


def _bolts_in_a01(server: ServerProcess) -> Decimal:
    with api(server, "super") as client:
        rows = client.get("/api/stock", params={"item": "BOLT", "bin": "A-01"}).json()["items"]
    return sum((Decimal(r["quantity"]) for r in rows), Decimal(0))


def _adjustment(page: Page, quantity: str = "2") -> None:
    """Two BOLT into A-01 of MAIN: an Adjustment whose To side carries the GL."""
    page.goto("/journal/new")
    page.get_by_label("Effective Date").fill(DAY)
    page.get_by_label("Transaction Type").select_option("adjustment")
    page.get_by_label("Adjustment Description").fill("found two bolts")
    line = page.get_by_role("group", name="Line 1")
    line.get_by_label("Inventory Item Id").fill("BOLT")
    line.get_by_label("Quantity", exact=True).fill(quantity)
    for side in ("from", "to"):
        page.locator(f"#l1-{side}-location").fill("MAIN")
        page.locator(f"#l1-{side}-bin").fill("A-01")


def test_save_a_transaction_through_the_form_and_read_its_glh_tab(
    page: Page, web_server: ServerProcess, period: str
) -> None:
    before = _bolts_in_a01(web_server)
    signed_in(page, "super")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Journal").click()
    page.get_by_role("link", name="New transaction").click()
    _adjustment(page)

    page.get_by_role("button", name="Fill defaults").click()
    expect(page.get_by_role("status").first).to_contain_text("Defaults filled in")
    # The server's defaults: the location's cost, the group's accounts, the entity, the
    # period of the date, and what is on hand.
    expect(page.locator("#l1-unit_cost")).to_have_value("2.5")
    expect(page.locator("#l1-from-gl_account")).to_have_value("5100")
    expect(page.locator("#l1-to-gl_account")).to_have_value("1400")
    expect(page.locator("#l1-from-gl_entity")).to_have_value("E1")
    expect(page.get_by_label("Period Id")).to_have_value(period)
    expect(page.locator("#l1-from-on_hand")).to_contain_text("10")
    page.get_by_role("group", name="Line 1").get_by_text("Magnify line 1").click()
    expect(page.locator("#l1-from-work_order")).to_be_visible()
    screenshot(page, web_server, "journal-new")

    page.get_by_role("button", name="Save transaction").click()
    expect(page).to_have_url(re.compile(r"/journal/IA-\d+"))
    number = page.url.rsplit("/", 1)[1].split("?")[0]
    expect(page.get_by_role("status")).to_contain_text(f"Transaction {number} saved")
    expect(page.get_by_role("heading", name=f"Journal transaction {number}")).to_be_visible()

    page.get_by_role("link", name="GLH").click()
    glh = page.locator("#glh")
    expect(glh.get_by_role("row").filter(has_text="1400")).to_contain_text("5.00")
    expect(glh.get_by_role("row").filter(has_text="5100")).to_contain_text("5.00")
    expect(page.locator("#glh-total-debit")).to_have_text("5.00")
    expect(page.locator("#glh-total-credit")).to_have_text("5.00")
    screenshot(page, web_server, "journal-transaction")

    # What the page shows is what was posted.
    with api(web_server, "super") as client:
        gl = client.get(f"/api/journal/transactions/{number}/gl").json()
    assert [(x["account"], x["debit"], x["credit"]) for x in gl["lines"]] == [
        ("5100", "0", "5.00"),
        ("1400", "5.00", "0"),
    ]
    assert _bolts_in_a01(web_server) == before + 2

    # No edits: a correction is the reversal, saved as its own transaction.
    reverse = page.get_by_role("region", name="Reverse")
    reverse.get_by_label("Effective Date").fill(DAY)
    reverse.get_by_role("button", name=f"Reverse {number}").click()
    expect(page.get_by_role("status")).to_contain_text(f"Transaction {number} reversed")
    expect(page.get_by_role("link", name=number).first).to_be_visible()
    assert _bolts_in_a01(web_server) == before


def test_refusals_show_at_their_fields_and_save_nothing(
    page: Page, web_server: ServerProcess, period: str
) -> None:
    saved = _journal_count(web_server)
    signed_in(page, "super")
    _adjustment(page, quantity="two")
    page.get_by_role("button", name="Save transaction").click()
    quantity = page.get_by_role("group", name="Line 1").get_by_label("Quantity", exact=True)
    expect(quantity).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#l1-quantity-error")).to_contain_text("'two' is not a number")

    # The journal's own rules, at the field they name.
    quantity.fill("2")
    page.locator("#l1-to-location").fill("NOWHERE")
    page.get_by_role("button", name="Save transaction").click()
    expect(page.locator("#l1-to-location")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#l1-to-location-error")).to_contain_text("NOWHERE")
    expect(page.get_by_role("alert")).to_contain_text("not saved")
    assert _journal_count(web_server) == saved


def test_defaults_arrive_as_fields_are_chosen(
    page: Page, web_server: ServerProcess, period: str
) -> None:
    """With JavaScript the form asks the server as soon as a deciding field changes."""
    signed_in(page, "super")
    _adjustment(page)
    page.locator("#l1-to-bin").blur()
    expect(page.locator("#l1-unit_cost")).to_have_value("2.5")
    expect(page.locator("#l1-to-gl_account")).to_have_value("1400")
    expect(page.locator("#l1-from-on_hand")).to_contain_text("On-Hand")


def test_a_counter_reads_the_journal_and_cannot_write(
    page: Page, web_server: ServerProcess
) -> None:
    signed_in(page, "counter")
    page.goto("/journal")
    expect(page.get_by_role("heading", name="Inventory Adjustment Journal")).to_be_visible()
    expect(page.get_by_role("link", name="New transaction")).to_have_count(0)
    refused = page.goto("/journal/new")
    assert refused is not None and refused.status == 403
