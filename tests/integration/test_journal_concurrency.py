"""Two saves at once on the same item and location, on SQLite and PostgreSQL: the average
cost each computes starts from the other's result, never from the same stale figures, so
the final average is that of applying both one after the other (in either order)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from server.db.engine import make_sessionmaker
from server.db.tables import ItemLocationCost, StockBalance
from server.domain.journal import JournalLine, JournalSide, JournalTransaction, TransactionType
from server.domain.money import average_after_receipt
from server.journal.usecases import journal
from tests.integration.test_journal_service import DAY, NOW, engine, uow

D = Decimal
__all__ = ["engine"]  # the fixture, used by name


def receipt(quantity: str, cost: str) -> JournalTransaction:
    side = JournalSide("Main", "A-01", gl_account="", gl_entity="")
    line = JournalLine(1, "123106", D(quantity), side, unit_cost=D(cost))
    return JournalTransaction(DAY, TransactionType.ADJUSTMENT, (line,))


async def position(engine: AsyncEngine) -> tuple[Decimal, Decimal]:
    async with make_sessionmaker(engine)() as db:
        on_hand = await db.scalar(
            select(func.sum(StockBalance.quantity)).where(StockBalance.item_id == 1)
        )
        average = await db.scalar(
            select(ItemLocationCost.average_cost).where(
                ItemLocationCost.item_id == 1, ItemLocationCost.location_id == 1
            )
        )
    assert on_hand is not None and average is not None
    return on_hand, average


def serially(start: tuple[Decimal, Decimal], *receipts: tuple[str, str]) -> Decimal:
    on_hand, average = start
    for quantity, cost in receipts:
        average = average_after_receipt(on_hand, average, D(quantity), D(cost))
        on_hand += D(quantity)
    return average


async def test_concurrent_receipts_average_as_if_serial(engine: AsyncEngine) -> None:
    rounds = [
        (("10", "60"), ("6", "40.5")),
        (("3", "70.125"), ("9", "12")),
        (("1", "0"), ("2", "99")),
    ]
    for first, second in rounds:
        before = await position(engine)
        await asyncio.gather(
            journal.save_transaction(uow(engine), receipt(*first), 1, "admin", NOW),
            journal.save_transaction(uow(engine), receipt(*second), 1, "admin", NOW),
        )
        on_hand, average = await position(engine)
        assert on_hand == before[0] + D(first[0]) + D(second[0])
        assert average in {serially(before, first, second), serially(before, second, first)}


async def test_concurrent_first_receipts_without_a_cost_row(engine: AsyncEngine) -> None:
    """With no average cost row yet there is nothing to lock: the lock creates the row
    first (at zero, as if absent), so two first receipts still serialise."""
    async with make_sessionmaker(engine)() as db:
        await db.execute(delete(ItemLocationCost).where(ItemLocationCost.item_id == 1))
        await db.execute(delete(StockBalance).where(StockBalance.item_id == 1))
        await db.commit()
    first, second = ("4", "10.5"), ("6", "20")
    await asyncio.gather(
        journal.save_transaction(uow(engine), receipt(*first), 1, "admin", NOW),
        journal.save_transaction(uow(engine), receipt(*second), 1, "admin", NOW),
    )
    start = (D(0), D(0))
    assert await position(engine) == (
        D(10),
        serially(start, first, second),
    ) or await position(engine) == (D(10), serially(start, second, first))
