"""Documents: the Quantity Adjustments and Stock Transfers of every count, filtered and
paged; a document's page with its lines and GL lines (printable); its CSV, the API's."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Controller, Response, get
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from server.api.deps import Uow
from server.api.paging import decode_cursor
from server.api.state import AnyRequest
from server.api.wire import csv_response
from server.counts.http.wire import DOCUMENT_COLUMNS, document_out, document_rows
from server.counts.usecases import review as count_review
from server.counts.usecases.document_list import DocumentFilters, list_documents
from server.domain.counting import DOCUMENT_KINDS
from server.domain.errors import FieldProblem, ValidationFailed
from server.web.responses import page
from server.web.session import DOCUMENTS

PAGE = 50
KIND_NAMES = {"quantity_adjustment": "Quantity Adjustment", "stock_transfer": "Stock Transfer"}


def _date(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            f"{value!r} is not a date: write it as YYYY-MM-DD",
            [FieldProblem(field, "a date as YYYY-MM-DD")],
        ) from None


class DocumentPages(Controller):
    path = "/documents"
    guards = DOCUMENTS

    @get("/")
    async def list_documents(
        self,
        request: AnyRequest,
        uow: Uow,
        count: FromQuery[str | None] = None,
        location: FromQuery[str | None] = None,
        kind: FromQuery[str | None] = None,
        date_from: FromQuery[str | None] = None,
        date_to: FromQuery[str | None] = None,
        after: FromQuery[str | None] = None,
    ) -> Template:
        shown = {
            "count": count or "",
            "location": location or "",
            "kind": kind or "",
            "date_from": date_from or "",
            "date_to": date_to or "",
        }
        rows: list[Any] = []
        field_error: str | None = None
        try:
            filters = DocumentFilters(
                count or None,
                location or None,
                kind or None,
                _date(date_from, "date_from"),
                _date(date_to, "date_to"),
            )
            rows = list(await list_documents(uow, decode_cursor(after), PAGE, filters))
        except ValidationFailed as exc:
            field_error = str(exc)
        return page(
            request,
            "documents/list.html",
            rows=rows,
            kinds=[(k, KIND_NAMES[k]) for k in DOCUMENT_KINDS],
            names=KIND_NAMES,
            shown=shown,
            field_error=field_error,
            next_after=str(rows[-1].id) if len(rows) == PAGE else None,
        )

    @get("/{kind:str}/{number:str}")
    async def document(
        self, request: AnyRequest, kind: FromPath[str], number: FromPath[str], uow: Uow
    ) -> Template:
        found = await count_review.document(uow, kind, number)
        return page(request, "documents/document.html", d=found, names=KIND_NAMES)

    @get("/{kind:str}/{number:str}/csv")
    async def document_csv(
        self, kind: FromPath[str], number: FromPath[str], uow: Uow
    ) -> Response[bytes]:
        """The document's lines as CSV: the same columns as the API's `?format=csv`."""
        found = await count_review.document(uow, kind, number)
        return csv_response(DOCUMENT_COLUMNS, document_rows([document_out(found)]), number)
