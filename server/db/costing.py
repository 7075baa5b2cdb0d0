"""The SQL behind serialized items' average costs (the rule: server.domain.costing).

The database counts an item's serials on hand (in a bin) per location and sums their
actual costs as the scaled integers the column stores, so the sum is exact on SQLite
and PostgreSQL alike; the domain divides and rounds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from decimal import Decimal

from sqlalchemy import BigInteger, func, select, type_coerce

from server.db.session import Session
from server.db.tables import Bin, Serial
from server.db.writes import LOOKUP_CHUNK, chunks
from server.domain.costing import SerialCosts, serialized_average_cost
from server.domain.money import COST_PLACES


async def serial_costs(
    session: Session, item_ids: Collection[int] | None, location_id: int | None = None
) -> dict[int, dict[int, SerialCosts]]:
    """item id -> location id -> its serials on hand there: of `item_ids` (None: every
    item), at `location_id` only when given. One grouped query per chunk of items;
    locations holding none are left out."""
    query = (
        select(
            Serial.item_id,
            Bin.location_id,
            func.count(),
            type_coerce(func.sum(type_coerce(Serial.actual_cost, BigInteger)), BigInteger),
        )
        .join(Bin, Bin.id == Serial.bin_id)
        .group_by(Serial.item_id, Bin.location_id)
    )
    if location_id is not None:
        query = query.where(Bin.location_id == location_id)
    batches = (
        [query]
        if item_ids is None
        else [query.where(Serial.item_id.in_(batch)) for batch in chunks(item_ids, LOOKUP_CHUNK)]
    )
    found: dict[int, dict[int, SerialCosts]] = defaultdict(dict)
    for batch_query in batches:
        for item_id, loc, n, total in await session.execute(batch_query):
            found[int(item_id)][int(loc)] = SerialCosts(
                int(n), Decimal(int(total)).scaleb(-COST_PLACES)
            )
    return dict(found)


async def serialized_average_costs(
    session: Session,
    location_id: int,
    last_costs: Mapping[int, Decimal],
    here: Mapping[int, Mapping[int, SerialCosts]] | None = None,
) -> dict[int, Decimal]:
    """The average cost at `location_id` of each serialized item of `last_costs` (item id
    -> its last cost). `here`: the location's serial_costs when the caller has them. The
    other locations are read only for the items the location holds none of."""
    if here is None:
        here = await serial_costs(session, list(last_costs), location_id)
    costs: dict[int, Mapping[int, SerialCosts]] = {i: here[i] for i in last_costs if i in here}
    missing = [i for i in last_costs if i not in costs]
    if missing:
        costs.update(await serial_costs(session, missing))
    return {
        item_id: serialized_average_cost(location_id, costs.get(item_id, {}), last)
        for item_id, last in last_costs.items()
    }
