"""Saving journal transactions on SQLite and PostgreSQL: stock, average cost, GL history,
job history, frozen bins, nothing written on a refusal, read back, reversal."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from server.counts.tables import CountBin, StockCount
from server.db.engine import make_engine, make_sessionmaker
from server.db.tables import GlPosting, ItemLocationCost, Serial, StockBalance, StockMovement
from server.domain.errors import Conflict, ValidationFailed
from server.domain.journal import (
    JournalLine,
    JournalSide,
    JournalTransaction,
    TransactionType,
)
from server.journal.tables import JobHistory, JournalTransactionTable
from server.journal.usecases import journal
from server.uow import SqlUnitOfWork
from tests.helpers import scalar
from tests.integration.test_journal_facts import add_master_data

D = Decimal
NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
DAY = date(2025, 3, 14)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    async with make_sessionmaker(engine)() as db:
        await add_master_data(db)
        await db.commit()
    try:
        yield engine
    finally:
        await engine.dispose()


def uow(engine: AsyncEngine) -> SqlUnitOfWork:
    return SqlUnitOfWork(make_sessionmaker(engine))


async def save(engine: AsyncEngine, transaction: JournalTransaction) -> journal.SavedTransaction:
    return await journal.save_transaction(uow(engine), transaction, 1, "admin", NOW)


def average_cost_adjustment(gl: bool) -> JournalTransaction:
    def side(account: str) -> JournalSide:
        if gl:
            return JournalSide("Main", "A-01", gl_account=account)
        return JournalSide("Main", "A-01", gl_account="", gl_entity="")

    to_side = side("10150") if gl else None
    return JournalTransaction(
        DAY,
        TransactionType.ADJUSTMENT,
        (
            JournalLine(1, "123106", D(-14), side("50111"), to_side),
            JournalLine(2, "123106", D(14), side("50111"), to_side, unit_cost=D("57.000")),
        ),
    )


async def test_seed_average_cost_adjustment_with_gl(engine: AsyncEngine) -> None:
    saved = await save(engine, average_cost_adjustment(gl=True))
    assert saved.transaction.transaction_id == "IA-00000001"
    assert (saved.transaction.user_id, saved.transaction.date_posted) == ("admin", NOW)

    cost = select(ItemLocationCost.average_cost).where(ItemLocationCost.item_id == 1)
    assert await scalar(engine, cost) == D("57.000")
    bin_a01 = select(StockBalance.quantity).where(StockBalance.bin_id == 1)
    assert await scalar(engine, bin_a01) == D(10)

    view = await journal.get_transaction(uow(engine), "IA-00000001")
    assert [(g.line_no, g.account, g.amount) for g in view.gl] == [
        (1, "50111", D("773.25")),
        (1, "10150", D("-773.25")),
        (2, "50111", D("-798.00")),
        (2, "10150", D("798.00")),
    ]
    first = view.gl[0]
    assert (first.account_name, first.entity, first.company) == (
        "Inventory adjustment",
        "E-MAIN",
        "C1",
    )
    assert (first.period, first.journal, first.transaction_id, first.date) == (
        "2025-03",
        "IA",
        "IA-00000001",
        DAY,
    )
    assert first.intercompany is False
    assert view.stored.transaction == saved.transaction
    assert view.job_history == []


async def test_seed_average_cost_adjustment_without_gl(engine: AsyncEngine) -> None:
    await save(engine, average_cost_adjustment(gl=False))
    cost = select(ItemLocationCost.average_cost).where(ItemLocationCost.item_id == 1)
    assert await scalar(engine, cost) == D("57.000")
    assert await scalar(engine, select(func.count()).select_from(GlPosting)) == 0
    assert await scalar(engine, select(func.count()).select_from(StockMovement)) == 2


def loc_to_work_order(quantity: int = 2) -> JournalTransaction:
    return JournalTransaction(
        DAY,
        TransactionType.LOC_TO_JOB,
        (
            JournalLine(
                1,
                "123106",
                D(quantity),
                JournalSide("Main", "A-01"),
                JournalSide(work_order="WO1", cost_code="100", cost_category="MAT"),
            ),
            JournalLine(
                2,
                "SER",
                D(1),
                JournalSide("Main"),
                JournalSide(work_order="WO1", cost_code="100", cost_category="MAT"),
                serial="S1",
            ),
        ),
        description="to the loader",
    )


async def test_loc_to_work_order_writes_stock_job_history_and_gl(engine: AsyncEngine) -> None:
    saved = await save(engine, loc_to_work_order())
    # J1 was closed on 2025-03-10: a warning, not a refusal.
    assert [w.location for w in saved.warnings] == ["lines/1/to_side/job", "lines/2/to_side/job"]
    bin_a01 = select(StockBalance.quantity).where(StockBalance.bin_id == 1)
    assert await scalar(engine, bin_a01) == D(8)
    serial_bin = select(Serial.bin_id).where(Serial.serial_number == "S1")
    assert await scalar(engine, serial_bin) is None  # issued to the job

    view = await journal.get_transaction(uow(engine), saved.transaction.transaction_id or "")
    first = view.job_history[0]
    assert (first.job, first.work_order, first.equipment) == ("J1", "WO1", "EQ-7")
    # 2 x 55.232 = 110.46; burden 15% of 55.232 = 8.2848 x 2 = 16.57; use tax 7.5% = 8.28.
    assert (first.quantity, first.burden, first.use_tax) == (D(2), D("16.57"), D("8.28"))
    assert first.material_cost == D("135.31")
    # Fixed fee job: no revenue unless Extra is flagged; the unit price is the level's.
    assert (first.unit_price, first.amount_revenue) == (D("12.5"), D(0))
    # The serial: 101.50, no item burden, location burden 5% = 5.075 -> 5.08, use tax 7.61.
    totals: dict[str, Decimal] = {}
    for g in view.gl:
        totals[g.account] = totals.get(g.account, D(0)) + g.amount
    assert totals == {
        "10150": D("-110.46") - D("101.50"),
        "50100": D("135.31") + D("101.50") + D("5.08") + D("7.61"),
        "40900": D("-16.57") - D("5.08"),
        "21500": D("-8.28") - D("7.61"),
    }


async def test_a_refused_transaction_writes_nothing(engine: AsyncEngine) -> None:
    bad = JournalTransaction(
        DAY,
        TransactionType.LOC_TO_LOC,
        (JournalLine(1, "123106", D(1), JournalSide("Main", "A-01"), JournalSide(job="J1")),),
    )
    with pytest.raises(ValidationFailed):
        await save(engine, bad)
    assert await scalar(engine, select(func.count()).select_from(JournalTransactionTable)) == 0


async def test_postings_to_bins_frozen_by_a_count_in_process_are_refused(
    engine: AsyncEngine,
) -> None:
    async with make_sessionmaker(engine)() as db:
        db.add(
            StockCount(
                id=1,
                number="SC-1",
                location_id=1,
                scope_kind="bins",
                status="counting_in_process",
                created_by=1,
                created_at=NOW,
            )
        )
        await db.flush()
        db.add(CountBin(count_id=1, bin_id=1))
        await db.commit()
    with pytest.raises(Conflict, match="SC-1") as exc:
        await save(engine, average_cost_adjustment(gl=True))
    assert exc.value.code == "bins-frozen"
    assert await scalar(engine, select(func.count()).select_from(JournalTransactionTable)) == 0
    assert await scalar(engine, select(func.count()).select_from(StockMovement)) == 0


async def test_the_save_reads_the_frozen_bins_it_posts_to(engine: AsyncEngine) -> None:
    """`frozen_bins_at`: of the bins asked, those a count in process (or counted)
    freezes, and every frozen bin of a location asked whole; a completed count's bins
    are free. By probes of the bins asked, not a read of every bin of the location."""
    async with make_sessionmaker(engine)() as db:
        for id_, number, status in ((1, "SC-1", "counting_in_process"), (2, "SC-2", "completed")):
            db.add(
                StockCount(id=id_, number=number, location_id=1, scope_kind="bins",
                           status=status, created_by=1, created_at=NOW)
            )  # fmt: skip
        await db.flush()
        db.add_all([CountBin(count_id=1, bin_id=1), CountBin(count_id=2, bin_id=2)])
        await db.commit()
    async with uow(engine) as work:
        asked = {("Main", "A-01"), ("Main", "A-02"), ("Main", "NONE"), ("Elsewhere", "A-01")}
        assert await work.postings.frozen_bins_at(asked) == {("Main", "A-01"): "SC-1"}
        assert await work.postings.frozen_bins_at({("Main", "A-02")}) == {}
        assert await work.postings.frozen_bins_at(set(), {"Main"}) == {("Main", "A-01"): "SC-1"}
        assert await work.postings.frozen_bins_at(set()) == {}

    # A save into A-02, beside the frozen A-01, goes through; into A-01 it is refused.
    def receipt(label: str) -> JournalTransaction:
        side = JournalSide("Main", label, gl_account="", gl_entity="")
        line = JournalLine(1, "123106", D(1), side, unit_cost=D("57.000"))
        return JournalTransaction(DAY, TransactionType.ADJUSTMENT, (line,))

    saved = await save(engine, receipt("A-02"))
    assert saved.transaction.transaction_id is not None
    with pytest.raises(Conflict, match="SC-1"):
        await save(engine, receipt("A-01"))


async def test_reverse_undoes_stock_job_history_and_gl_once(engine: AsyncEngine) -> None:
    saved = await save(engine, loc_to_work_order())
    number = saved.transaction.transaction_id or ""
    back = await journal.reverse_transaction(
        uow(engine), number, date(2025, 3, 20), 1, "admin", NOW
    )
    assert back.transaction.transaction_type is TransactionType.JOB_TO_LOC
    assert back.transaction.description == f"Reverses transaction {number}"

    bin_a01 = select(StockBalance.quantity).where(StockBalance.bin_id == 1)
    assert await scalar(engine, bin_a01) == D(10)
    serial_bin = select(Serial.bin_id).where(Serial.serial_number == "S1")
    assert await scalar(engine, serial_bin) == 2  # back into A-02, the bin it left
    material = select(func.sum(JobHistory.material_cost))
    assert await scalar(engine, material) == D(0)
    gl_sum = select(GlPosting.account_code, func.sum(GlPosting.amount)).group_by(
        GlPosting.account_code
    )
    async with make_sessionmaker(engine)() as db:
        assert {a: t for a, t in await db.execute(gl_sum)} == {
            "10150": D(0),
            "50100": D(0),
            "40900": D(0),
            "21500": D(0),
        }
    view = await journal.get_transaction(uow(engine), number)
    assert view.stored.reversed_by == back.transaction.transaction_id
    with pytest.raises(Conflict) as exc:
        await journal.reverse_transaction(uow(engine), number, date(2025, 3, 21), 1, "admin", NOW)
    assert exc.value.code == "already-reversed"
