"""The counts' progress for the pages (`server.counts.usecases.progress`): a few
aggregate queries over a page of counts, and a page of one count's bins."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Integer, and_, case, func, select

from server.counts.tables import BinCountTable, CountBin, CountEvent
from server.counts.usecases.progress import CountBinFacts, ProgressFacts
from server.db.session import Session
from server.db.tables import Bin, Device, User


class SqlCountProgress:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def facts(self, count_ids: Sequence[int]) -> dict[int, ProgressFacts]:
        if not count_ids:
            return {}
        ids = list(count_ids)
        awaiting = case((CountBin.awaiting_count, 1), else_=0)
        recount = case(
            (and_(CountBin.awaiting_count, CountBin.recount_ordered_at.is_not(None)), 1), else_=0
        )
        bins = await self.session.execute(
            select(
                CountBin.count_id,
                func.count(),
                func.sum(awaiting).cast(Integer),
                func.sum(recount).cast(Integer),
            )
            .where(CountBin.count_id.in_(ids))
            .group_by(CountBin.count_id)
        )
        received = await self.session.execute(
            select(BinCountTable.count_id, func.max(BinCountTable.submitted_at))
            .where(BinCountTable.count_id.in_(ids))
            .group_by(BinCountTable.count_id)
        )
        events = await self.session.execute(
            select(CountEvent.count_id, func.max(CountEvent.at))
            .where(CountEvent.count_id.in_(ids))
            .group_by(CountEvent.count_id)
        )
        latest: dict[int, datetime] = {}
        for count_id, at in [*received, *events]:
            if at is not None and (count_id not in latest or at > latest[count_id]):
                latest[count_id] = at
        return {
            int(count_id): ProgressFacts(
                int(total), int(waiting or 0), int(recounts or 0), latest.get(int(count_id))
            )
            for count_id, total, waiting, recounts in bins
        }

    async def bins(
        self, count_id: int, offset: int, limit: int, label: str | None
    ) -> tuple[int, Sequence[CountBinFacts]]:
        where = [CountBin.count_id == count_id]
        if label:
            where.append(Bin.label.startswith(label, autoescape=True))
        total = await self.session.scalar(
            select(func.count())
            .select_from(CountBin)
            .join(Bin, Bin.id == CountBin.bin_id)
            .where(*where)
        )
        rows = await self.session.execute(
            select(
                Bin.label,
                CountBin.awaiting_count,
                CountBin.recount_ordered_at,
                Device.name,
                User.username,
            )
            .select_from(CountBin)
            .join(Bin, Bin.id == CountBin.bin_id)
            .outerjoin(Device, Device.id == CountBin.device_id)
            .outerjoin(User, User.id == CountBin.counter_id)
            .where(*where)
            .order_by(Bin.label)
            .offset(offset)
            .limit(limit)
        )
        return int(total or 0), [
            CountBinFacts(label, bool(waiting), ordered, device, counter)
            for label, waiting, ordered, device, counter in rows
        ]
