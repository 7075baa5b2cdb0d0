"""Counters' PINs, deactivation and the site's device settings through the HTTP API, and
what a device's pull and push make of them: on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from handheld_sync.counters import pin_matches
from schemas.sync import BarcodeUnknown, BinClosed, BinOpened, QuantityKeyed
from tests.helpers import scalar
from tests.integration.counts_setup import T0
from tests.integration.test_sync_api import enroll_device, ev, pull, push, setup

Client = AsyncTestClient[Litestar]


async def set_pin(client: Client, h: dict[str, str], user: str, **body: Any) -> Any:
    return await client.put(f"/api/users/{user}/pin", json=body, headers=h)


async def test_pins_are_set_by_admins_and_supervisors_and_reach_the_sites_devices(
    database_url: str, client: Client
) -> None:
    hs, _ = await setup(client, database_url)
    done = await set_pin(client, hs["super"], "counter", pin="4711", locations=["MAIN"])
    assert done.status_code == 200, done.text
    assert done.json()["username"] == "counter" and done.json()["locations"] == ["MAIN"]
    assert (
        await set_pin(client, hs["admin"], "super2", pin="123456", locations=["MAIN"])
    ).is_success
    dev = await enroll_device(client, hs["admin"], "hh-1")
    page = await pull(client, dev, None)
    assert page.counters is not None and page.settings is not None
    verifiers = {c.username: c.verifier for c in page.counters}
    assert set(verifiers) == {"counter", "super2"}
    assert pin_matches(verifiers["counter"], "4711")  # the device checks it offline
    assert not pin_matches(verifiers["counter"], "4712")
    assert "4711" not in str(await scalar(database_url, "SELECT hash || salt FROM counter_pin"))
    # A new PIN replaces the verifier; deactivating a user takes them off the devices.
    await set_pin(client, hs["admin"], "counter", pin="9999", locations=["MAIN"])
    again = await pull(client, dev, page.cursor)
    assert again.counters is not None
    assert pin_matches({c.username: c.verifier for c in again.counters}["counter"], "9999")
    off = await client.patch("/api/users/super2", json={"active": False}, headers=hs["admin"])
    assert off.status_code == 200 and off.json()["active"] is False
    last = await pull(client, dev, again.cursor)
    assert last.counters is not None and [c.username for c in last.counters] == ["counter"]


async def test_pin_refusals_are_problem_details_and_change_nothing(
    database_url: str, client: Client
) -> None:
    hs, _ = await setup(client, database_url)

    async def refused(h: dict[str, str], user: str, status: int, **body: Any) -> Any:
        answer = await set_pin(client, h, user, **body)
        assert answer.status_code == status, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        return answer.json()

    bad_pin = await refused(hs["super"], "counter", 422, pin="12ab", locations=["MAIN"])
    assert bad_pin["errors"] == [{"location": "pin", "message": "a PIN is 4 to 12 digits"}]
    short = await refused(hs["super"], "counter", 422, pin="123", locations=[])
    assert {e["location"] for e in short["errors"]} == {"pin", "locations"}
    nowhere = await refused(hs["super"], "counter", 422, pin="1234", locations=["NOPE"])
    assert nowhere["errors"][0]["location"] == "locations/0"
    await refused(hs["super"], "nobody", 404, pin="1234", locations=["MAIN"])
    await refused(hs["super"], "admin", 403, pin="1234", locations=["MAIN"])  # not a counter
    await refused(hs["counter"], "counter", 403, pin="1234", locations=["MAIN"])
    missing = await client.put("/api/users/counter/pin", json={"pin": "1234"}, headers=hs["super"])
    assert missing.status_code == 400 and "locations" in missing.json()["detail"]
    assert await scalar(database_url, "SELECT count(*) FROM counter_pin") == 0
    assert await scalar(database_url, "SELECT count(*) FROM counter_site") == 0
    # Deactivating is an admin's.
    nope = await client.patch("/api/users/counter", json={"active": False}, headers=hs["super"])
    assert nope.status_code == 403


async def test_a_counters_scans_after_deactivation_are_refused_and_kept(
    database_url: str, client: Client
) -> None:
    hs, number = await setup(client, database_url)
    await set_pin(client, hs["super"], "counter", pin="4711", locations=["MAIN"])
    dev = await enroll_device(client, hs["admin"], "hh-1")
    first = [
        ev(1, BinOpened(count=number, bin="A-01", counter="counter")),
        ev(
            2,
            QuantityKeyed(
                count=number,
                bin="A-01",
                bin_seq=1,
                item="BOLT",
                quantity=Decimal(1),
                counter="counter",
                source="scan",
            ),
        ),
    ]
    assert {a.outcome for a in (await push(client, dev, dev.request(first))).acks} == {"applied"}
    # Deactivated now: the device's later scans by them (its clock says after) are refused.
    off = await client.patch("/api/users/counter", json={"active": False}, headers=hs["admin"])
    assert off.status_code == 200
    later = T0 + timedelta(days=400)  # the device's time of the scans below, well after now
    late = [
        ev(
            3,
            QuantityKeyed(
                count=number,
                bin="A-01",
                bin_seq=1,
                item="BOLT",
                quantity=Decimal(1),
                counter="counter",
            ),
        ),
        ev(4, BarcodeUnknown(count=number, raw="5901234123457", counter="counter")),
    ]
    late = [e.__class__(seq=e.seq, device_time=later, body=e.body) for e in late]
    answer = await push(client, dev, dev.request(late, device_time=later))
    assert [(a.seq, a.outcome, a.reason) for a in answer.acks] == [
        (3, "rejected", "counter_deactivated"),
        (4, "rejected", "counter_deactivated"),
    ]
    rejected = await client.get(f"/api/sync/rejected?count={number}", headers=hs["super"])
    assert [e["seq"] for e in rejected.json()["items"]] == [3, 4]  # kept, visible
    unknown = await client.get(f"/api/counts/{number}/unknown-barcodes", headers=hs["super"])
    assert unknown.json()["items"] == []  # refused: not on the supervisor's list


async def test_a_counters_bin_count_names_them_and_unknown_barcodes_are_listed(
    database_url: str, client: Client
) -> None:
    hs, number = await setup(client, database_url)
    await set_pin(client, hs["super"], "counter", pin="4711", locations=["MAIN"])
    dev = await enroll_device(client, hs["admin"], "hh-1")

    def qty(seq: int, n: int, mode: str = "add") -> Any:
        body = QuantityKeyed(
            count=number,
            bin="A-01",
            bin_seq=1,
            item="BOLT",
            quantity=Decimal(n),
            counter="counter",
            mode=mode,
        )  # type: ignore[arg-type]
        return ev(seq, body)

    events = [
        ev(1, BinOpened(count=number, bin="A-01", counter="counter")),
        qty(2, 1),
        qty(3, 1),
        ev(
            4,
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
        qty(5, 6, "set"),
        qty(6, 1),
        ev(7, BinClosed(count=number, bin="A-01", bin_seq=1, counter="counter")),
        ev(8, BarcodeUnknown(count=number, raw="(01)123", problem="malformed")),  # no bin open
    ]
    answer = await push(client, dev, dev.request(events))
    assert {a.outcome for a in answer.acks} == {"applied"}, answer.acks
    recon = await client.get(f"/api/counts/{number}/reconciliation", headers=hs["super"])
    [bolt] = [ln for ln in recon.json()["lines"] if ln["item"] == "BOLT"]
    assert bolt["counted_quantity"] == "7"  # 1 + 1, set to 6, + 1
    [behind] = bolt["bin_counts"]
    assert (behind["counter"], behind["device"]) == ("counter", "hh-1")
    first = await client.get(f"/api/counts/{number}/unknown-barcodes?limit=1", headers=hs["super"])
    body = first.json()
    [kept] = body["items"]
    assert (kept["raw"], kept["bin"], kept["counter"], kept["device"], kept["problem"]) == (
        "]E05901234123457",
        "A-01",
        "counter",
        "hh-1",
        "unknown",
    )
    rest = await client.get(
        f"/api/counts/{number}/unknown-barcodes?cursor={body['next_cursor']}",
        headers=hs["super"],
    )
    assert [(u["raw"], u["bin"], u["problem"]) for u in rest.json()["items"]] == [
        ("(01)123", "", "malformed")
    ]
    nothing = await client.get("/api/counts/NOPE/unknown-barcodes", headers=hs["super"])
    assert nothing.status_code == 404
    counter = await client.get(f"/api/counts/{number}/unknown-barcodes", headers=hs["counter"])
    assert counter.status_code == 403


async def test_device_settings_per_site_reach_the_pull(database_url: str, client: Client) -> None:
    hs, _ = await setup(client, database_url)
    url = "/api/locations/MAIN/device-settings"
    default = await client.get(url, headers=hs["super"])
    assert default.json() == {
        "bin_pattern": "",
        "gs_replacement": "",
        "aim_prefixes": True,
        "idle_sign_out_minutes": 15,
        "pin_attempts": 5,
    }
    bad = await client.put(
        url, json={"bin_pattern": "([", "gs_replacement": "ab"}, headers=hs["super"]
    )
    assert bad.status_code == 422
    assert {e["location"] for e in bad.json()["errors"]} == {"bin_pattern", "gs_replacement"}
    out_of_range = await client.put(url, json={"pin_attempts": 0}, headers=hs["super"])
    assert out_of_range.status_code == 400
    assert (await client.get(url, headers=hs["super"])).json() == default.json()  # unchanged
    wanted = {"bin_pattern": r"^[A-Z]-\d+$", "gs_replacement": "~", "aim_prefixes": False}
    assert (await client.put(url, json=wanted, headers=hs["super"])).status_code == 200
    assert (await client.put(url, json=wanted, headers=hs["counter"])).status_code == 403
    missing = await client.get("/api/locations/NOPE/device-settings", headers=hs["super"])
    assert missing.status_code == 404
    dev = await enroll_device(client, hs["admin"], "hh-1")
    page = await pull(client, dev, None)
    assert page.settings is not None
    assert (page.settings.bin_pattern, page.settings.gs_replacement) == (r"^[A-Z]-\d+$", "~")
    assert page.settings.aim_prefixes is False and page.settings.idle_sign_out_minutes == 15
