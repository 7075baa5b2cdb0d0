"""A count from the supervisor's pages, with real handheld stores syncing scans through the
real sync code: progress while devices sync, a conflict resolved by a pick, a proposal
cleared, no check box on a released serial, bulk approval, finalize in Counting in Process
through the seed's warning, both documents and the CSV; finance reads them and changes
nothing; a counter cannot reach the review. Screenshots of the main pages (SQLite run)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, expect

from handheld_sync.counting import CountingSession
from handheld_sync.scan.text import parse_scanner_text
from handheld_sync.store import Store
from handheld_sync.sync import SyncEngine, auth_headers, enroll
from tests.e2e.conftest import ServerProcess
from tests.web.conftest import VIEWPORT, screenshot, signed_in
from tests.web.test_signin import api

BIN_PATTERN = r"^[A-Z]+-\d+$"


class Handheld:
    """A real device store, enrolled with the server, counting and syncing."""

    def __init__(self, tmp: Path, name: str, server: ServerProcess) -> None:
        with api(server, "admin") as admin:
            code = admin.post("/api/enrollment-codes", json={"location": "MAIN"}).json()["code"]
        self.store = Store.create(tmp / f"{name}.sqlite3")
        with httpx.Client(base_url=server.url, timeout=30) as plain:
            enroll(plain, self.store, code, name, "web-test")
        self.client = httpx.Client(
            base_url=server.url, headers=auth_headers(self.store), timeout=30
        )
        self.sync()

    def close(self) -> None:
        self.client.close()
        self.store.close()

    def sync(self) -> None:
        SyncEngine(self.store, self.client, sleep=lambda _: None).sync()

    def count_bin(
        self,
        number: str,
        label: str,
        serials: Sequence[str],
        quantities: Sequence[tuple[str, str, str]],
    ) -> None:
        session = CountingSession(self.store, bin_pattern=BIN_PATTERN)
        session.open(number)
        assert session.scan(parse_scanner_text(label)).recorded
        for serial in serials:
            assert session.scan(parse_scanner_text(serial)).recorded
        for item, quantity, lot in quantities:
            session.key_quantity(item, quantity, lot=lot)
        session.close_bin(empty=not serials and not quantities)


def review_lines(server: ServerProcess, number: str) -> list[dict[str, object]]:
    with api(server, "super") as client:
        rows = client.get(f"/api/counts/{number}/review", params={"limit": 1000}).json()["rows"]
    return [line for row in rows for line in row["lines"]]


def count_on_two_devices(page: Page, number: str, first: Handheld, second: Handheld) -> None:
    """Devices count and sync while the supervisor's count page shows progress."""
    # S1 in place, S3 (system bin A-02: a transfer proposal), S4 (in OUT-1: released),
    # 8 BOLT of 10. A-02 by both devices, disagreeing on LOTI: a conflict. A-03 empty.
    first.count_bin(number, "A-01", ["S1", "S3", "S4"], [("BOLT", "8", "")])
    first.sync()
    # the page updates its progress by itself while devices sync (no reload)
    expect(page.locator("#progress-text")).to_contain_text("1 of 4 bins counted", timeout=15_000)
    first.count_bin(number, "A-02", [], [("LOTI", "6", "L1")])
    second.count_bin(number, "A-02", [], [("LOTI", "5", "L1")])
    second.count_bin(number, "A-03", [], [])
    first.sync()
    second.sync()
    expect(page.locator("#progress-text")).to_contain_text("1 conflict(s)", timeout=15_000)


def test_a_count_from_progress_to_documents(
    page: Page, browser: Browser, web_server: ServerProcess, tmp_path: Path
) -> None:
    # The scope holds OUT-1, so the devices know its released serial S4; it stays
    # uncounted, so the count stays Counting in Process.
    scope = {"location": "MAIN", "scope": "bins", "bins": ["A-01", "A-02", "A-03", "OUT-1"]}
    with api(web_server, "super") as client:
        number = str(client.post("/api/counts", json=scope).json()["number"])

    signed_in(page, "super")
    page.goto(f"/counts/{number}")
    page.get_by_role("button", name="Start counting").click()
    expect(page.get_by_role("status")).to_contain_text("Counting in Process")
    expect(page.locator("#progress-text")).to_contain_text("0 of 4 bins counted")

    first, second = Handheld(tmp_path, "hh-1", web_server), Handheld(tmp_path, "hh-2", web_server)
    try:
        count_on_two_devices(page, number, first, second)
    finally:
        first.close()
        second.close()

    page.goto("/counts")
    screenshot(page, "counts")
    page.goto(f"/counts/{number}")
    expect(page.get_by_role("row", name=re.compile("A-02")).get_by_text("conflict")).to_be_visible()
    screenshot(page, "count")
    conflict = page.get_by_role("group", name=re.compile("Bin A-02"))
    conflict.get_by_role("radio", name=re.compile("hh-1")).check()
    conflict.get_by_role("button", name=re.compile("Pick this bin count")).click()
    expect(page.get_by_role("status")).to_contain_text("picked")
    expect(page.locator("#progress-text")).to_contain_text("3 of 4 bins counted, 0 conflict(s)")

    # Review: the released serial has no check box; clear the proposal of S3
    page.get_by_role("link", name="Review", exact=True).click()
    expect(page.get_by_role("heading", name=f"Review: count {number}")).to_be_visible()
    released = page.locator("tr.sub", has_text="released exception")
    expect(released).to_contain_text("S4")
    expect(released.get_by_role("checkbox")).to_have_count(0)
    proposal = page.get_by_role("checkbox", name=re.compile("serial transfer proposal S3"))
    expect(proposal).to_be_checked()
    screenshot(page, "review")
    # on a 768-pixel tablet the page does not scroll sideways (wide tables scroll inside)
    page.set_viewport_size({"width": 768, "height": 1024})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "review-tablet")
    page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
    proposal.uncheck()
    page.get_by_role("button", name="OK").click()
    expect(page.get_by_role("status")).to_contain_text("cleared")
    s3 = next(x for x in review_lines(web_server, number) if x["serial"] == "S3")
    assert s3["selected"] is False
    expect(page.get_by_role("checkbox", name=re.compile("S3"))).not_to_be_checked()

    # bulk approval of the selected lines above tolerance (no tolerances: every one)
    page.get_by_label("Reason code").select_option("MISCOUNT")
    page.get_by_role("button", name=re.compile("Approve the 3 selected line")).click()
    expect(page.get_by_role("status")).to_contain_text("3 line(s) approved with MISCOUNT")
    after = review_lines(web_server, number)
    approved = [x for x in after if x["selected"]]
    assert len(approved) == 3 and all(x["approved_by"] == "super" for x in approved)
    assert next(x for x in after if x["serial"] == "S3")["selected"] is False

    # finalize while Counting in Process: the seed's warning, Abort, then Continue
    page.goto(f"/counts/{number}")
    page.get_by_role("button", name="Finalize").click()
    expect(page.get_by_role("alert")).to_contain_text("still Counting in Process")
    screenshot(page, "finalize-warning")
    page.get_by_role("button", name="Abort").click()
    expect(page.get_by_role("status")).to_contain_text("nothing changed")
    with api(web_server, "super") as client:
        assert client.get(f"/api/counts/{number}").json()["status"] == "counting_in_process"
    page.get_by_role("button", name="Finalize").click()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("status")).to_contain_text(f"Count {number} finalized")
    expect(page.get_by_role("link", name=f"QA-{number}")).to_be_visible()
    expect(page.get_by_role("link", name=f"ST-{number}")).to_be_visible()
    with api(web_server, "super") as client:
        posted = client.get(f"/api/counts/{number}/documents").json()["items"]
    qa, st = posted

    # both documents, as posted; the CSV is the API's
    page.get_by_role("link", name=f"ST-{number}").click()
    expect(page.get_by_role("heading", name=f"Stock Transfer ST-{number}")).to_be_visible()
    assert len(st["lines"]) == 0  # the only proposal (S3) was cleared
    page.goto("/documents")
    page.get_by_role("link", name=f"QA-{number}").click()
    expect(page.get_by_role("heading", name=f"Quantity Adjustment QA-{number}")).to_be_visible()
    table = page.locator("table").first
    for line in qa["lines"]:
        expect(table).to_contain_text(line["adjustment_value"])
    expect(page.locator("table.gl")).to_contain_text(qa["gl_lines"][0]["account"])
    screenshot(page, "document")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    with api(web_server, "super") as client:
        answer = client.get(f"/api/documents/quantity_adjustment/QA-{number}?format=csv").text
    assert rows == list(csv.reader(io.StringIO(answer)))
    assert len(rows) == 1 + len(qa["lines"])

    # finance reads the documents and changes nothing
    finance = browser.new_context(base_url=web_server.url, viewport=VIEWPORT)  # type: ignore[arg-type]
    try:
        fin = signed_in(finance.new_page(), "finance")
        expect(fin).to_have_url(re.compile(r"/documents$"))
        fin.get_by_role("link", name=f"QA-{number}").click()
        expect(fin.get_by_role("heading", name=f"Quantity Adjustment QA-{number}")).to_be_visible()
        expect(fin.locator("form[method=post]")).to_have_count(1)  # sign out, nothing else
        token = next(c["value"] for c in finance.cookies() if c["name"] == "stockcount_csrf")
        for path in (f"/counts/{number}/review", f"/counts/{number}"):
            assert fin.goto(path).status == 403  # type: ignore[union-attr]
        refused = fin.request.post(
            f"/counts/{number}/recounts", form={"_csrf_token": token, "bin": "A-01"}
        )
        assert refused.status == 403 and "finance" in refused.text()
    finally:
        finance.close()
    with api(web_server, "super") as client:
        events = client.get(f"/api/counts/{number}/events").json()["items"]
    assert [e["kind"] for e in events if e["kind"] == "recount_ordered"] == []

    # a counter cannot reach the review
    counter = browser.new_context(base_url=web_server.url, viewport=VIEWPORT)  # type: ignore[arg-type]
    try:
        other = signed_in(counter.new_page(), "counter")
        response = other.goto(f"/counts/{number}/review")
        assert response is not None and response.status == 403
        expect(other.get_by_role("alert")).to_contain_text("supervisor")
    finally:
        counter.close()
