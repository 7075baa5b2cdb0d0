"""Which bins a stock count in process freezes: the counts' answer to the posting writer
(server.ports.FrozenBins). A count freezes its bins while Counting in Process or Counted;
no posting and no import may change their stock until it is completed or cancelled."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import bindparam, select

from server.counts.tables import CountBin, StockCount
from server.db.direct import connection, fetchall
from server.db.session import Session
from server.db.tables import Bin, Location
from server.db.writes import LOOKUP_CHUNK, chunks

FREEZING_STATUSES = ("counting_in_process", "counted")

# Built once (the locations an expanding parameter): each read reuses the compiled form.
_FROZEN_BINS = (
    select(Location.code, Bin.label, StockCount.number)
    .select_from(CountBin)
    .join(StockCount, StockCount.id == CountBin.count_id)
    .join(Bin, Bin.id == CountBin.bin_id)
    .join(Location, Location.id == Bin.location_id)
    .where(
        StockCount.status.in_(FREEZING_STATUSES),
        Location.code.in_(bindparam("locations", expanding=True)),
    )
)
_FROZEN_BINS_EXEMPT = _FROZEN_BINS.where(StockCount.id != bindparam("exempt"))


class SqlFrozenBins:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def frozen_bins(
        self, location_codes: Collection[str], exempt_count: int | None = None
    ) -> dict[tuple[str, str], str]:
        """(location code, bin label) -> number of the count freezing it, in these locations."""
        conn = await connection(self.session)
        if exempt_count is None:
            rows = await fetchall(conn, _FROZEN_BINS, {"locations": list(location_codes)})
        else:
            rows = await fetchall(
                conn,
                _FROZEN_BINS_EXEMPT,
                {"locations": list(location_codes), "exempt": exempt_count},
            )
        return {(str(loc), str(label)): str(number) for loc, label, number in rows}

    async def frozen_bin_ids(self, bin_ids: Collection[int]) -> dict[int, str]:
        """bin id -> number of the count in process that freezes it, for these bins."""
        found: dict[int, str] = {}
        for batch in chunks(bin_ids, LOOKUP_CHUNK):
            query = (
                select(CountBin.bin_id, StockCount.number)
                .join(StockCount, StockCount.id == CountBin.count_id)
                .where(StockCount.status.in_(FREEZING_STATUSES), CountBin.bin_id.in_(batch))
            )
            found.update((int(b), str(n)) for b, n in await self.session.execute(query))
        return found
