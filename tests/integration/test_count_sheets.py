"""Count sheets (server/counts/usecases/sheets.py) on SQLite and PostgreSQL: a count's bins
by label range and page, with the snapshot's contents unless the count is blind."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from server.bootstrap import open_runtime
from server.counts.usecases import counting as counts
from server.counts.usecases.sheets import count_sheet
from server.domain.auth import Caller, CallerKind
from server.domain.masterdata import Role
from tests.integration.counts_setup import seed


async def test_a_sheet_lists_the_bins_and_unless_blind_what_they_should_hold(
    database_url: str,
) -> None:
    await seed(database_url)
    now = datetime.now(UTC)
    async with open_runtime(database_url) as runtime:
        uow = runtime.uow()
        async with uow:
            user = await uow.users.by_username("super")
        assert user is not None
        sup = Caller(CallerKind.USER, "super", user_id=user.id, role=Role.SUPERVISOR)
        made = await counts.create_count(
            uow, sup, counts.NewCount("MAIN", "prefix", prefix="A-"), now
        )
        number = made.count.number

        before = await count_sheet(uow, sup, number)
        assert [b.label for b in before.bins] == ["A-01", "A-02", "A-03"]
        assert not before.expected_shown and all(not b.lines for b in before.bins)

        await counts.start_count(uow, sup, number, now)
        sheet = await count_sheet(uow, sup, number)
        assert sheet.expected_shown and sheet.next_after is None
        a01 = {(x.item, x.serial, x.lot, x.quantity) for x in sheet.bins[0].lines}
        assert a01 == {
            ("BOLT", "", "", Decimal(10)),
            ("SER", "S1", "", Decimal(1)),
            ("SER", "S2", "", Decimal(1)),
        }
        a02 = [(x.item, x.serial, x.lot, x.quantity) for x in sheet.bins[1].lines]
        assert a02 == [("LOTI", "", "L1", Decimal(5)), ("SER", "S3", "", Decimal(1))]
        assert sheet.bins[2].lines == []

        ranged = await count_sheet(uow, sup, number, label_from="A-02", label_to="A-03", limit=1)
        assert [b.label for b in ranged.bins] == ["A-02"] and ranged.next_after == "A-02"
        rest = await count_sheet(uow, sup, number, "A-02", "A-03", after=ranged.next_after)
        assert [b.label for b in rest.bins] == ["A-03"] and rest.next_after is None

        blind = await counts.create_count(
            uow, sup, counts.NewCount("MAIN", "bins", bins=["B-01"], blind=True), now
        )
        await counts.start_count(uow, sup, blind.count.number, now)
        hidden = await count_sheet(uow, sup, blind.count.number)
        assert [b.label for b in hidden.bins] == ["B-01"]
        assert not hidden.expected_shown and hidden.bins[0].lines == []
