"""Inventory History over HTTP: every stock movement of count finalize (Quantity
Adjustment, Stock Transfer) and of the journal, with its date, quantity, cost, source and,
for job movements and the location movements of job transfers, the job and WO references
(seed 004).

    GET /api/inventory-history?item=&location=&bin=&job=&work_order=&source=&place=
                               &serial=&date_from=&date_to=
        keyset pages (limit, cursor) in posting order; `?format=csv` or Accept: text/csv
        for every matching movement as CSV. Any user, finance too, as the journal's transactions.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Literal

from litestar import Controller, Response, get
from litestar.params import FromQuery

from schemas import journal as wire
from server.api.deps import Uow
from server.api.paging import DEFAULT_LIMIT, check_limit, decode_cursor, next_cursor
from server.api.state import AnyRequest
from server.api.wire import READ_BOOKS, csv_response, wants_csv
from server.journal.http import wire as mapping
from server.journal.ports import InventoryHistoryFilters
from server.journal.usecases import journal

COLUMNS = (
    "date", "item", "item_name", "uom", "place", "location", "bin", "job", "cost_code",
    "cost_category", "work_order", "quantity", "unit_cost", "value", "source",
    "source_number", "line_no", "transaction_type", "lot", "serial", "posted_at",
)  # fmt: skip


def csv_rows(lines: Iterable[wire.InventoryHistoryLine]) -> Iterable[tuple[object, ...]]:
    for x in lines:
        yield (
            x.date.isoformat(), x.item, x.item_name, x.uom, x.place, x.location, x.bin, x.job,
            x.cost_code, x.cost_category, x.work_order, x.quantity, x.unit_cost, x.value,
            x.source, x.source_number, x.line_no, x.transaction_type, x.lot, x.serial,
            x.posted_at.isoformat(),
        )  # fmt: skip


class InventoryHistoryController(Controller):
    path = "/api/inventory-history"
    tags = ["inventory history"]

    @get("/", guards=READ_BOOKS)
    async def inventory_history(
        self,
        request: AnyRequest,
        uow: Uow,
        item: FromQuery[str | None] = None,
        location: FromQuery[str | None] = None,
        bin: FromQuery[str | None] = None,
        job: FromQuery[str | None] = None,
        work_order: FromQuery[str | None] = None,
        source: FromQuery[wire.SourceKind | None] = None,
        place: FromQuery[Literal["location", "job"] | None] = None,
        serial: FromQuery[str | None] = None,
        date_from: FromQuery[date | None] = None,
        date_to: FromQuery[date | None] = None,
        limit: FromQuery[int] = DEFAULT_LIMIT,
        cursor: FromQuery[str | None] = None,
        format: FromQuery[str | None] = None,
    ) -> Response[bytes] | wire.InventoryHistoryPage:
        """Stock movements in posting order. `job` and `work_order` match a job movement's
        own and the references a location movement carries from its job side; `place`
        keeps only location or job movements. CSV: every matching movement."""
        filters = InventoryHistoryFilters(
            item, location, bin, job, work_order, source, place, serial, date_from, date_to
        )
        if wants_csv(request, format):
            rows = await journal.all_inventory_history(uow, filters)
            lines = map(mapping.inventory_line_out, rows)
            return csv_response(COLUMNS, csv_rows(lines), "inventory-history")
        limit = check_limit(limit)
        found = await journal.inventory_history(uow, decode_cursor(cursor), limit, filters)
        return wire.InventoryHistoryPage(
            items=[mapping.inventory_line_out(r) for r in found],
            next_cursor=next_cursor(found[-1].id if found else None, len(found), limit),
        )
