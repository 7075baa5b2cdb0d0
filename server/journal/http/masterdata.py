"""The journal's master data over HTTP (seed 004): accounting periods, cost categories,
jobs, cost codes (per job), work orders; and a work order's Get Costs.

    POST/GET /api/journal/periods              GET /api/journal/periods/{code}
    POST/GET /api/journal/cost-categories      GET /api/journal/cost-categories/{code}
    POST/GET /api/journal/jobs                 GET /api/journal/jobs/{code}
    POST/GET /api/journal/cost-codes[?job=]    GET /api/journal/jobs/{job}/cost-codes/{code}
    POST/GET /api/journal/work-orders[?job=]   GET /api/journal/work-orders/{code}
    GET /api/journal/work-orders/{code}/costs  Get Costs: its journal lines (job history)

Reading needs a user's login, creating admin or supervisor. A record created here goes
through the importer's rules, as the master data API does; lists are keyset pages.
"""

from __future__ import annotations

from typing import TypeVar

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from schemas import journal as wire
from server.api.deps import Uow
from server.api.paging import DEFAULT_LIMIT, check_limit, decode_cursor, next_cursor
from server.api.wire import READ, WRITE
from server.journal.http import wire as mapping
from server.journal.usecases import journal
from server.journal.usecases import masterdata as journal_masterdata

S = TypeVar("S", bound=msgspec.Struct)


async def _create(uow: Uow, kind: str, data: msgspec.Struct, struct: type[S]) -> S:
    created = await journal_masterdata.create_record(uow, kind, mapping.master_in(data))
    return mapping.master_out(struct, created)


async def _page(
    uow: Uow, kind: str, struct: type[S], limit: int, cursor: str | None, job: str | None = None
) -> tuple[list[S], str | None]:
    limit = check_limit(limit)
    rows = await journal_masterdata.list_records(uow, kind, decode_cursor(cursor), limit, job)
    items = [mapping.master_out(struct, record) for _, record in rows]
    return items, next_cursor(rows[-1][0] if rows else None, len(rows), limit)


async def _one(uow: Uow, kind: str, key: tuple[str, ...], struct: type[S]) -> S:
    return mapping.master_out(struct, await journal_masterdata.get_record(uow, kind, key))


class JournalMasterDataController(Controller):
    path = "/api/journal"
    tags = ["inventory adjustment journal: master data"]

    @post("/periods", guards=WRITE)
    async def create_period(
        self, data: JSONBody[wire.AccountingPeriod], uow: Uow
    ) -> wire.AccountingPeriod:
        return await _create(uow, "accounting_periods", data, wire.AccountingPeriod)

    @get("/periods", guards=READ)
    async def list_periods(
        self, uow: Uow, limit: FromQuery[int] = DEFAULT_LIMIT, cursor: FromQuery[str | None] = None
    ) -> wire.AccountingPeriodPage:
        items, after = await _page(uow, "accounting_periods", wire.AccountingPeriod, limit, cursor)
        return wire.AccountingPeriodPage(items=items, next_cursor=after)

    @get("/periods/{code:str}", guards=READ)
    async def get_period(self, code: FromPath[str], uow: Uow) -> wire.AccountingPeriod:
        return await _one(uow, "accounting_periods", (code,), wire.AccountingPeriod)

    @post("/cost-categories", guards=WRITE)
    async def create_cost_category(
        self, data: JSONBody[wire.CostCategory], uow: Uow
    ) -> wire.CostCategory:
        return await _create(uow, "cost_categories", data, wire.CostCategory)

    @get("/cost-categories", guards=READ)
    async def list_cost_categories(
        self, uow: Uow, limit: FromQuery[int] = DEFAULT_LIMIT, cursor: FromQuery[str | None] = None
    ) -> wire.CostCategoryPage:
        items, after = await _page(uow, "cost_categories", wire.CostCategory, limit, cursor)
        return wire.CostCategoryPage(items=items, next_cursor=after)

    @get("/cost-categories/{code:str}", guards=READ)
    async def get_cost_category(self, code: FromPath[str], uow: Uow) -> wire.CostCategory:
        return await _one(uow, "cost_categories", (code,), wire.CostCategory)

    @post("/jobs", guards=WRITE)
    async def create_job(self, data: JSONBody[wire.Job], uow: Uow) -> wire.Job:
        return await _create(uow, "jobs", data, wire.Job)

    @get("/jobs", guards=READ)
    async def list_jobs(
        self, uow: Uow, limit: FromQuery[int] = DEFAULT_LIMIT, cursor: FromQuery[str | None] = None
    ) -> wire.JobPage:
        items, after = await _page(uow, "jobs", wire.Job, limit, cursor)
        return wire.JobPage(items=items, next_cursor=after)

    @get("/jobs/{code:str}", guards=READ)
    async def get_job(self, code: FromPath[str], uow: Uow) -> wire.Job:
        return await _one(uow, "jobs", (code,), wire.Job)

    @post("/cost-codes", guards=WRITE)
    async def create_cost_code(self, data: JSONBody[wire.CostCode], uow: Uow) -> wire.CostCode:
        return await _create(uow, "cost_codes", data, wire.CostCode)

    @get("/cost-codes", guards=READ)
    async def list_cost_codes(
        self,
        uow: Uow,
        job: FromQuery[str | None] = None,
        limit: FromQuery[int] = DEFAULT_LIMIT,
        cursor: FromQuery[str | None] = None,
    ) -> wire.CostCodePage:
        items, after = await _page(uow, "cost_codes", wire.CostCode, limit, cursor, job)
        return wire.CostCodePage(items=items, next_cursor=after)

    @get("/jobs/{job:str}/cost-codes/{code:str}", guards=READ)
    async def get_cost_code(
        self, job: FromPath[str], code: FromPath[str], uow: Uow
    ) -> wire.CostCode:
        return await _one(uow, "cost_codes", (job, code), wire.CostCode)

    @post("/work-orders", guards=WRITE)
    async def create_work_order(self, data: JSONBody[wire.WorkOrder], uow: Uow) -> wire.WorkOrder:
        return await _create(uow, "work_orders", data, wire.WorkOrder)

    @get("/work-orders", guards=READ)
    async def list_work_orders(
        self,
        uow: Uow,
        job: FromQuery[str | None] = None,
        limit: FromQuery[int] = DEFAULT_LIMIT,
        cursor: FromQuery[str | None] = None,
    ) -> wire.WorkOrderPage:
        items, after = await _page(uow, "work_orders", wire.WorkOrder, limit, cursor, job)
        return wire.WorkOrderPage(items=items, next_cursor=after)

    @get("/work-orders/{code:str}", guards=READ)
    async def get_work_order(self, code: FromPath[str], uow: Uow) -> wire.WorkOrder:
        return await _one(uow, "work_orders", (code,), wire.WorkOrder)

    @get("/work-orders/{code:str}/costs", guards=READ)
    async def get_costs(self, code: FromPath[str], uow: Uow) -> wire.WorkOrderCosts:
        """Get Costs: the work order's journal lines from job history, signed as they
        went on (positive) or came off (negative), to import into the work order."""
        job, rows = await journal.work_order_costs(uow, code)
        return mapping.work_order_costs_out(code, job, rows)
