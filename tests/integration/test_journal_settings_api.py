"""The journal's registry settings over HTTP on SQLite and PostgreSQL: read them, change
one at a time (the others stay), refusals name the field; and the return wizard's draft
shows the quantity billable that saving applies, as the setting says."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.helpers import token
from tests.integration.test_journal_api import URL
from tests.integration.test_journal_api import data as master_data
from tests.integration.test_journal_wizards_api import returned_draft, save, to_work_order

Client = AsyncTestClient[Litestar]
SETTINGS = "/api/journal/settings"
__all__ = ["master_data"]  # the fixture, used by name

STORED = {
    "serialized_additions_allowed": True,
    "wizard_defaults_quantity_billable": False,
    "burden_income_account": "40900",
    "use_tax_liability_account": "21500",
}


async def test_read_and_change_one_setting_at_a_time(client: Client, master_data: None) -> None:
    counter = await token(client, "counter")
    read = await client.get(SETTINGS, headers=counter)
    assert read.status_code == 200, read.text
    assert read.json() == STORED

    supervisor = await token(client, "super")
    change = {"wizard_defaults_quantity_billable": True}
    changed = await client.patch(SETTINGS, json=change, headers=supervisor)
    assert changed.status_code == 200, changed.text
    assert changed.json() == {**STORED, **change}
    assert (await client.get(SETTINGS, headers=counter)).json() == {**STORED, **change}

    blank = {"use_tax_liability_account": None, "serialized_additions_allowed": False}
    changed = await client.patch(SETTINGS, json=blank, headers=await token(client, "admin"))
    assert changed.status_code == 200, changed.text
    assert changed.json() == {**STORED, **change, **blank}


async def test_refusals_name_the_field_and_change_nothing(
    client: Client, master_data: None
) -> None:
    headers = await token(client, "super")
    unknown = await client.patch(
        SETTINGS,
        json={"burden_income_account": "NOPE", "wizard_defaults_quantity_billable": True},
        headers=headers,
    )
    assert unknown.status_code == 422, unknown.text
    assert [e["location"] for e in unknown.json()["errors"]] == ["burden_income_account"]
    empty = await client.patch(SETTINGS, json={}, headers=headers)
    assert empty.status_code == 422, empty.text
    for body in ({"bogus": True}, {"serialized_additions_allowed": "yes"}):
        refused = await client.patch(SETTINGS, json=body, headers=headers)
        assert refused.status_code == 400, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert next(iter(body)) in refused.text
    denied = await client.patch(
        SETTINGS,
        json={"serialized_additions_allowed": False},
        headers=await token(client, "counter"),
    )
    assert denied.status_code == 403
    assert (await client.get(SETTINGS, headers=headers)).json() == STORED


async def test_the_return_draft_shows_the_quantity_billable_saving_applies(
    client: Client, master_data: None
) -> None:
    headers = await token(client, "super")
    await save(client, to_work_order("2"), headers)
    for setting, billable in ((False, "0"), (True, "2")):
        change = {"wizard_defaults_quantity_billable": setting}
        assert (await client.patch(SETTINGS, json=change, headers=headers)).status_code == 200
        draft = await returned_draft(client, headers)
        (line,) = draft["lines"]
        assert line["from_side"]["billing"]["quantity_billable"] == billable
    saved = await save(client, draft, headers)
    jch = (await client.get(f"{URL}/{saved['transaction_id']}/job-history", headers=headers)).json()
    assert [x["quantity_billable"] for x in jch["lines"]] == ["-2"]  # as the draft showed
