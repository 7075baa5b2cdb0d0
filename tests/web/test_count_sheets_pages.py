"""New count and count sheets in a browser: a supervisor creates and starts a count with
a bin assigned to a counter, prints its count sheet (what each bin should hold), and
keys a bin's paper count in, which the count's reconciliation then shows; refusals at
their fields, nothing recorded."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.conftest import ServerProcess
from tests.web.conftest import screenshot, signed_in
from tests.web.test_signin import api


def _reconciliation(server: ServerProcess, number: str) -> list[dict[str, Any]]:
    with api(server, "super") as client:
        found = client.get(f"/api/counts/{number}/reconciliation", params={"limit": 1000})
        assert found.status_code == 200, found.text
        lines: list[dict[str, Any]] = found.json()["lines"]
        return lines


def test_create_and_start_a_count_print_its_sheet_and_key_a_bin_in(
    page: Page, web_server: ServerProcess
) -> None:
    signed_in(page, "super")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Counts").click()
    page.get_by_role("link", name="New count").click()
    page.get_by_label("Location", exact=True).select_option("MAIN")
    page.get_by_label("Bins whose label starts with").check()
    # The scope's field is required: refused at the field, no count made.
    page.get_by_role("button", name="Create and start").click()
    expect(page.locator("#prefix")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#prefix-error")).to_contain_text("required")
    page.get_by_label("Label prefix").fill("A-")
    page.get_by_label("Assign bins (optional)").fill("A-03: counter")
    page.get_by_role("button", name="Create and start").click()
    expect(page).to_have_url(re.compile(r"/counts/SC\d+"))
    number = page.url.rsplit("/", 1)[1].split("?")[0]
    expect(page.get_by_role("status")).to_contain_text(f"Count {number} created and started")
    with api(web_server, "super") as client:
        count = client.get(f"/api/counts/{number}").json()
    assert count["status"] == "counting_in_process"
    assert [b["label"] for b in count["bins"]] == ["A-01", "A-02", "A-03"]

    page.get_by_role("link", name="Count sheet").click()
    a01 = page.get_by_role("region", name="Bin A-01")
    expect(a01.get_by_role("row").filter(has_text="S1")).to_be_visible()
    expect(a01.get_by_role("row").filter(has_text="BOLT")).to_contain_text("10")
    expect(page.get_by_role("region", name="Bin A-03")).to_contain_text("Assigned to counter")
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    expect(page.get_by_role("button", name="Show these bins")).to_be_hidden()
    screenshot(page, web_server, "count-sheet")
    page.emulate_media(media="screen")

    page.get_by_role("link", name="Key in counts").click()
    page.get_by_label("Bin", exact=True).fill("A-01")
    page.get_by_role("button", name="Open the bin").click()
    form = page.get_by_role("form", name="Counts of bin A-01")
    form.get_by_label("Counted BOLT").fill("nine")
    form.get_by_role("button", name="Record bin count").click()
    expect(page.get_by_role("alert")).to_contain_text("not recorded")
    assert _reconciliation(web_server, number) == []  # nothing recorded

    form = page.get_by_role("form", name="Counts of bin A-01")
    form.get_by_label("Found S1").check()
    form.get_by_label("Counted BOLT").fill("9")
    screenshot(page, web_server, "count-sheet-key-in")
    form.get_by_role("button", name="Record bin count").click()
    expect(page.get_by_role("status")).to_contain_text("Bin A-01 keyed in")

    found = {(x["kind"], x["bin"], x.get("serial") or x["item"]) for x in _reconciliation(
        web_server, number)}  # fmt: skip
    assert ("missing", "A-01", "S2") in found
    assert ("quantity_variance", "A-01", "BOLT") in found
    assert not any(b == "A-01" and s == "S1" for _, b, s in found)

    page.goto("/counts/new")
    page.get_by_label("Location", exact=True).select_option("MAIN")
    page.get_by_label("Listed bins").check()
    page.get_by_label("Bin labels, one per line").fill("B-01\nOUT-1")
    page.get_by_label("Assign bins (optional)").fill("B-01: counter")
    screenshot(page, web_server, "count-new")


def test_an_empty_key_in_is_refused_until_the_bin_is_confirmed_empty(
    page: Page, web_server: ServerProcess
) -> None:
    with api(web_server, "super") as client:
        made = client.post("/api/counts", json={"location": "MAIN", "scope": "bins",
                                                "bins": ["B-01"], "blind": True})  # fmt: skip
        number = made.json()["number"]
        assert client.post(f"/api/counts/{number}/start").status_code == 200
    signed_in(page, "counter")
    page.goto(f"/counts/{number}/sheet")
    # A blind count's sheet shows the bins, never what they should hold.
    expect(page.get_by_role("region", name="Bin B-01")).not_to_contain_text("S5")
    page.goto(f"/counts/{number}/sheet/key?bin=B-01")
    form = page.get_by_role("form", name="Counts of bin B-01")
    form.get_by_role("button", name="Record bin count").click()
    expect(page.locator("#empty-error")).to_contain_text("nothing was keyed in")
    form = page.get_by_role("form", name="Counts of bin B-01")
    form.get_by_label("The bin is empty").check()
    form.get_by_role("button", name="Record bin count").click()
    expect(page.get_by_role("status")).to_contain_text("Bin B-01 keyed in")
    kinds = {(x["kind"], x.get("serial")) for x in _reconciliation(web_server, number)}
    assert ("missing", "S5") in kinds
