"""Reads of the journal's master data for the API: periods, jobs, cost codes, cost
categories, work orders. A record is a dict of the import format's fields (codes, never
ids, go out); one query with explicit joins per page, keyset pages on the record id."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import aliased

from server.db.session import Session
from server.db.tables import Company, GlAccount, GlEntity
from server.journal.tables import (
    AccountingPeriod,
    CostCategory,
    CostCode,
    CostCodeCategory,
    Equipment,
    Job,
    PriceLevel,
    RateSchedule,
    WorkOrder,
)

Record = dict[str, object]
_WoJob, _WoCode, _WoCategory = aliased(Job), aliased(CostCode), aliased(CostCategory)


def _query(kind: str) -> tuple[Any, list[str], Any]:
    """The select of a kind (id first, then its fields), the field names, the id column."""
    if kind == "accounting_periods":
        columns: list[Any] = [
            AccountingPeriod.id,
            AccountingPeriod.code,
            AccountingPeriod.starts,
            AccountingPeriod.ends,
            AccountingPeriod.closed,
        ]
        return select(*columns), ["code", "starts", "ends", "closed"], AccountingPeriod.id
    if kind == "cost_categories":
        query: Any = select(
            CostCategory.id,
            CostCategory.code,
            CostCategory.name,
            CostCategory.selection_cost_type,
            GlAccount.code,
        ).outerjoin(GlAccount, GlAccount.id == CostCategory.expense_account_id)
        return query, ["code", "name", "selection_cost_type", "expense_account"], CostCategory.id
    if kind == "jobs":
        query = (
            select(
                Job.id,
                Job.code,
                Job.name,
                Company.code,
                Job.billing_type,
                PriceLevel.code,
                RateSchedule.code,
                Job.date_closed,
                Job.use_tax_rate,
            )
            .join(Company, Company.id == Job.company_id)
            .outerjoin(PriceLevel, PriceLevel.id == Job.price_level_id)
            .outerjoin(RateSchedule, RateSchedule.id == Job.rate_schedule_id)
        )
        names = [
            "code",
            "name",
            "company",
            "billing_type",
            "price_level",
            "rate_schedule",
            "date_closed",
            "use_tax_rate",
        ]
        return query, names, Job.id
    if kind == "cost_codes":
        query = (
            select(CostCode.id, Job.code, CostCode.code, CostCode.name, GlEntity.code)
            .join(Job, Job.id == CostCode.job_id)
            .outerjoin(GlEntity, GlEntity.id == CostCode.gl_entity_id)
        )
        return query, ["job", "code", "name", "gl_entity"], CostCode.id
    if kind == "work_orders":
        query = (
            select(
                WorkOrder.id,
                WorkOrder.code,
                _WoJob.code,
                Equipment.code,
                _WoCode.code,
                _WoCategory.code,
            )
            .join(_WoJob, _WoJob.id == WorkOrder.job_id)
            .outerjoin(Equipment, Equipment.id == WorkOrder.equipment_id)
            .outerjoin(_WoCode, _WoCode.id == WorkOrder.cost_code_id)
            .outerjoin(_WoCategory, _WoCategory.id == WorkOrder.cost_category_id)
        )
        return query, ["code", "job", "equipment", "cost_code", "cost_category"], WorkOrder.id
    raise KeyError(kind)


def _key_filter(kind: str, key: tuple[str, ...]) -> ColumnElement[bool]:
    if kind == "cost_codes":
        return (Job.code == key[0]) & (CostCode.code == key[1])
    column = {
        "accounting_periods": AccountingPeriod.code,
        "cost_categories": CostCategory.code,
        "jobs": Job.code,
        "work_orders": WorkOrder.code,
    }[kind]
    return column == key[0]


class SqlJournalMasterData:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def get(self, kind: str, key: tuple[str, ...]) -> Record | None:
        query, names, _ = _query(kind)
        row = (await self.session.execute(query.where(_key_filter(kind, key)))).first()
        if row is None:
            return None
        return (await self._records(kind, names, [tuple(row)]))[0][1]

    async def page(
        self, kind: str, after: int, limit: int, job: str | None = None
    ) -> list[tuple[int, Record]]:
        query, names, id_column = _query(kind)
        query = query.where(id_column > after).order_by(id_column).limit(limit)
        if job is not None and kind in ("cost_codes", "work_orders"):
            query = query.where((Job if kind == "cost_codes" else _WoJob).code == job)
        rows = [tuple(r) for r in await self.session.execute(query)]
        return await self._records(kind, names, rows)

    async def _records(
        self, kind: str, names: list[str], rows: list[tuple[Any, ...]]
    ) -> list[tuple[int, Record]]:
        records = [(int(r[0]), dict(zip(names, r[1:], strict=True))) for r in rows]
        if kind == "cost_codes" and records:
            allowed: dict[int, list[str]] = defaultdict(list)
            found = await self.session.execute(
                select(CostCodeCategory.cost_code_id, CostCategory.code)
                .join(CostCategory, CostCategory.id == CostCodeCategory.cost_category_id)
                .where(CostCodeCategory.cost_code_id.in_([i for i, _ in records]))
                .order_by(CostCategory.code)
            )
            for cost_code_id, category in found:
                allowed[int(cost_code_id)].append(str(category))
            for id_, record in records:
                record["allowed_categories"] = allowed[id_]
        return records
