"""SQL implementation of the counts' ports (server.counts.ports), a class per port:

    counts.py     SqlCounts (CountRows): create, scope, assignments, read, list, claim, events
    snapshot.py   SqlSnapshots (Snapshots): taken set-based (INSERT ... SELECT), loaded, facts
    bincounts.py  SqlBinCounts (BinCounts): bin counts and their lines, recounts, picks
    review.py     SqlReviews (Reviews): decisions per line, tolerances, reason codes
    documents.py  SqlCountDocuments (CountDocuments): finalize's reads, the two documents
                  written and read back

Everything is a handful of rows per call, except the snapshot and the lines of many bin
counts, which are set-based (see their modules)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    bindparam,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import aliased

from server.counts.ports import CountBinRecord, CountEventRecord, CountRecord, CountScope
from server.counts.tables import (
    CountBin,
    CountEvent,
    StockCount,
)
from server.db.session import Session
from server.db.tables import (
    Bin,
    Location,
    User,
)
from server.db.writes import table
from server.domain.counting import (
    CountStatus,
)

_STAMP = {
    CountStatus.COUNTING: "started_at",
    CountStatus.COUNTED: "counted_at",
    CountStatus.COMPLETED: "completed_at",
    CountStatus.CANCELLED: "cancelled_at",
}
_Creator = aliased(User)


_COUNT_COLUMNS = (
    StockCount.id,
    StockCount.number,
    StockCount.location_id,
    Location.code,
    StockCount.scope_kind,
    StockCount.scope_spec,
    StockCount.blind,
    StockCount.status,
    StockCount.version,
    StockCount.snapshot_token,
    _Creator.username,
    StockCount.created_at,
    StockCount.started_at,
    StockCount.counted_at,
    StockCount.completed_at,
    StockCount.cancelled_at,
)


def _count(row: Sequence[Any]) -> CountRecord:
    values = list(row)
    values[7] = CountStatus(values[7])
    values[6] = bool(values[6])
    return CountRecord(*values)


class SqlCounts:
    """The CountRows port: the count itself, its scope, its events."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- the count -------------------------------------------------------------------

    async def add(
        self, location_id: int, scope: CountScope, blind: bool, created_by: int, now: datetime
    ) -> int:
        count_id = int(
            (
                await self.session.execute(
                    insert(StockCount)
                    .values(
                        number=f"~{uuid.uuid4().hex[:30]}",  # replaced below, once the id is known
                        location_id=location_id,
                        scope_kind=scope.kind,
                        scope_spec=scope.spec,
                        blind=blind,
                        status=CountStatus.OPEN.value,
                        version=1,
                        created_by=created_by,
                        created_at=now,
                    )
                    .returning(StockCount.id)
                )
            ).scalar_one()
        )
        await self.session.execute(
            update(StockCount).where(StockCount.id == count_id).values(number=f"SC{count_id:06d}")
        )
        chosen = select(literal(count_id), Bin.id).where(Bin.location_id == location_id)
        if scope.kind == "prefix":
            # LIKE would read _ and % in a label as wildcards: compare the prefix itself.
            chosen = chosen.where(func.substr(Bin.label, 1, len(scope.spec)) == scope.spec)
        elif scope.kind == "zone":
            chosen = chosen.where(Bin.zone == scope.spec)
        elif scope.kind == "bins":
            chosen = chosen.where(Bin.label.in_(list(scope.bins)))
        await self.session.execute(insert(CountBin).from_select(["count_id", "bin_id"], chosen))
        return count_id

    async def assign(
        self, count_id: int, assignments: Sequence[tuple[int, int | None, int | None]]
    ) -> None:
        if not assignments:
            return
        bins = table("count_bin")
        stmt = (
            update(bins)
            .where(bins.c.count_id == count_id, bins.c.bin_id == bindparam("b_id"))
            .values(device_id=bindparam("d_id"), counter_id=bindparam("c_id"))
        )
        rows = [{"b_id": b, "d_id": d, "c_id": c} for b, d, c in assignments]
        await self.session.execute(stmt, rows)

    def _select_count(self) -> Any:
        return (
            select(*_COUNT_COLUMNS)
            .join(Location, Location.id == StockCount.location_id)
            .join(_Creator, _Creator.id == StockCount.created_by)
        )

    async def get(self, number: str) -> CountRecord | None:
        row = (
            await self.session.execute(self._select_count().where(StockCount.number == number))
        ).first()
        return _count(row) if row else None

    async def get_by_id(self, count_id: int) -> CountRecord:
        row = (
            await self.session.execute(self._select_count().where(StockCount.id == count_id))
        ).one()
        return _count(row)

    async def page(
        self, after: int, limit: int, location: str | None, status: str | None
    ) -> Sequence[CountRecord]:
        query = self._select_count().where(StockCount.id > after)
        if location:
            query = query.where(Location.code == location)
        if status:
            query = query.where(StockCount.status == status)
        rows = await self.session.execute(query.order_by(StockCount.id).limit(limit))
        return [_count(r) for r in rows]

    async def bins(
        self,
        count_id: int,
        labels: Collection[str] | None = None,
        *,
        offset: int = 0,
        limit: int | None = None,
        decided: bool = False,
    ) -> Sequence[CountBinRecord]:
        """The count's bins in scope by label; only those of `labels` when given; a page
        of `limit` from `offset` when given; with `decided`, only those with a picked bin
        count or a recount order (a few of 10,000, for which bin count stands)."""
        query = (
            select(
                CountBin.bin_id,
                Bin.label,
                CountBin.device_id,
                User.username,
                CountBin.picked_bin_count_id,
                CountBin.recount_ordered_at,
            )
            .join(Bin, Bin.id == CountBin.bin_id)
            .outerjoin(User, User.id == CountBin.counter_id)
            .where(CountBin.count_id == count_id)
            .order_by(Bin.label)
        )
        if labels is not None:
            query = query.where(Bin.label.in_(list(labels)))
        if decided:
            query = query.where(
                or_(
                    CountBin.picked_bin_count_id.is_not(None),
                    CountBin.recount_ordered_at.is_not(None),
                )
            )
        if offset or limit is not None:
            query = query.offset(offset).limit(limit)
        # Core: no ORM per-row result handling (a count may have tens of thousands of bins).
        rows = await (await self.session.connection()).execute(query)
        return [CountBinRecord(int(b), str(lbl), d, u, p, r) for b, lbl, d, u, p, r in rows]

    async def claim(
        self,
        number: str,
        allowed: Collection[CountStatus],
        status: CountStatus | None,
        now: datetime,
        user_id: int | None = None,
        bump_version: bool = True,
    ) -> int | None:
        """Move the count to `status` (None: keep it) if it is in one of `allowed`, and bump
        its version unless `bump_version` is False (a change that leaves the reconciliation
        as it is: a review decision, counted, finalize); answers the count's version after
        the claim, or None when it was in no allowed status.

        One conditional UPDATE, meant as the first statement of a transaction: of two
        racing requests exactly one gets the row (the other waits for the row lock on
        PostgreSQL, for the write lock on SQLite, and then finds the status changed).
        """
        # Without a bump the row is still written (version = version): the row lock is
        # what serializes concurrent changes of one count.
        step = 1 if bump_version else 0
        values: dict[str, Any] = {"version": StockCount.version + step}
        if status is not None:
            values["status"] = status.value
            stamp = _STAMP.get(status)
            if stamp is not None and status not in allowed:
                values[stamp] = now
            if status is CountStatus.COMPLETED:
                values["finalized_by"] = user_id
        row = (
            await self.session.execute(
                update(StockCount)
                .where(
                    StockCount.number == number,
                    StockCount.status.in_([s.value for s in allowed]),
                )
                .values(**values)
                .returning(StockCount.version)
            )
        ).first()
        return None if row is None else int(row[0])

    # -- events ----------------------------------------------------------------------

    async def add_event(
        self, count_id: int, kind: str, detail: str, user_id: int | None, now: datetime
    ) -> None:
        await self.session.execute(
            insert(CountEvent).values(
                count_id=count_id, at=now, kind=kind, detail=detail[:500], user_id=user_id
            )
        )

    async def events(self, count_id: int) -> Sequence[CountEventRecord]:
        rows = await self.session.execute(
            select(CountEvent.at, CountEvent.kind, CountEvent.detail, User.username)
            .outerjoin(User, User.id == CountEvent.user_id)
            .where(CountEvent.count_id == count_id)
            .order_by(CountEvent.id)
        )
        return [CountEventRecord(at, kind, detail, user) for at, kind, detail, user in rows]
