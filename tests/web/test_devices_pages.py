"""The Devices page in a browser: an admin creates an enrollment code whose QR code a real
handheld store could scan (decoded here from the page's pixels), the store enrolls and
syncs, the register shows it, the admin revokes it after a confirmation and the device
is refused from then on; a supervisor reads the register and may not enroll or revoke."""

from __future__ import annotations

import json
import re
from io import BytesIO
from pathlib import Path

import httpx
import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Page, expect

from handheld_sync.errors import ServerRefused
from handheld_sync.store import Store
from handheld_sync.sync import SyncEngine, auth_headers, enroll
from tests.e2e.conftest import ServerProcess
from tests.web.conftest import screenshot, signed_in


def _sync(store: Store, url: str) -> None:
    with httpx.Client(base_url=url, headers=auth_headers(store), timeout=10) as client:
        SyncEngine(store, client, app_version="web-test", sleep=lambda _: None, retries=0).sync()


def test_enroll_a_device_from_its_qr_code_and_revoke_it(
    page: Page, web_server: ServerProcess, tmp_path: Path
) -> None:
    signed_in(page, "admin")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Devices").click()
    expect(page.get_by_role("heading", name="Devices", exact=True)).to_be_visible()
    page.get_by_label("Location").first.select_option("MAIN")
    page.get_by_role("button", name="Create enrollment code").click()

    expect(page.get_by_role("heading", name="Enrollment code")).to_be_visible()
    code = page.locator("#enrollment-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9-]{6,}", code), code
    qr = page.get_by_role("img", name=re.compile("QR code: enroll at"))
    expect(qr).to_be_visible()
    screenshot(page, web_server, "devices-enrollment-code")
    # What a device's camera would see: the QR code's pixels carry the address and code.
    [found] = zxingcpp.read_barcodes(Image.open(BytesIO(qr.screenshot())))
    assert json.loads(found.text) == {"server": web_server.url, "code": code}

    store = Store.create(tmp_path / "handheld.sqlite3")
    with httpx.Client(base_url=web_server.url, timeout=10) as plain:
        device_id = enroll(plain, store, code, "hh-web", "web-test")
    _sync(store, web_server.url)

    page.goto("/devices")
    row = page.get_by_role("row").filter(has_text="hh-web")
    expect(row).to_contain_text("MAIN")
    expect(row).to_contain_text("active")
    expect(row).to_contain_text("web-test")
    screenshot(page, web_server, "devices")

    row.get_by_role("link", name="Revoke hh-web").click()
    expect(page.get_by_role("heading", name="Revoke device hh-web?")).to_be_visible()
    # "Keep it" changes nothing.
    page.get_by_role("link", name="Keep it").click()
    expect(page.get_by_role("row").filter(has_text="hh-web")).to_contain_text("active")
    page.get_by_role("row").filter(has_text="hh-web").get_by_role("link").click()
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("status")).to_contain_text(f"Device {device_id} is revoked")
    expect(page.get_by_role("row").filter(has_text="hh-web")).to_contain_text("revoked")
    with pytest.raises(ServerRefused) as refused:
        _sync(store, web_server.url)
    assert refused.value.status == 401
    store.close()


def test_a_supervisor_reads_the_register_but_cannot_enroll_or_revoke(
    page: Page, web_server: ServerProcess
) -> None:
    signed_in(page, "super")
    page.goto("/devices")
    expect(page.get_by_role("heading", name="Rejected events")).to_be_visible()
    expect(page.get_by_role("button", name="Create enrollment code")).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile("^Revoke"))).to_have_count(0)
    refused = page.goto("/devices/1/revoke")
    assert refused is not None and refused.status == 403
    signed_in(page, "counter")
    refused = page.goto("/devices")
    assert refused is not None and refused.status == 403
