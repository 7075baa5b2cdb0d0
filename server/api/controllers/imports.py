"""`POST /api/imports`: master data in the import format, all or nothing.

Admin or supervisor. The body is a JSON object keyed by kind (docs/IMPORT_FORMAT.md), or
CSV (`Content-Type: text/csv`) with `?kind=`. The answer counts the rows stored per kind;
on any problem nothing is stored and the 422 (409 when every problem is a record that
exists already) lists each problem's row and field.
"""

from __future__ import annotations

import time

from litestar import Controller, post
from litestar.exceptions import HTTPException
from litestar.params import FromQuery

from schemas.masterdata import ImportResult
from server.api.controllers.masterdata import WRITE
from server.api.deps import Uow
from server.api.state import AnyRequest
from server.domain.errors import ValidationFailed
from server.services.import_sources import Source
from server.services.importer import import_sources


class ImportController(Controller):
    path = "/api/imports"
    tags = ["master data"]

    @post("/", guards=WRITE, status_code=200)
    async def import_master_data(
        self,
        request: AnyRequest,
        uow: Uow,
        kind: FromQuery[str | None] = None,
        name: FromQuery[str | None] = None,
    ) -> ImportResult:
        """Import master data (JSON keyed by kind, or text/csv with ?kind=); all or nothing.

        `name` names the body in error messages (default `request.json` / `request.csv`).
        """
        started = time.perf_counter()
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type in ("text/csv", "application/csv"):
            if not kind:
                raise ValidationFailed("a CSV import needs ?kind= (e.g. ?kind=serials)")
            source = Source(name or "request.csv", await request.body(), kind)
        elif media_type in ("application/json", ""):
            source = Source(name or "request.json", await request.body(), kind)
        else:
            raise HTTPException(
                status_code=415,
                detail=f"send application/json or text/csv, not {media_type!r}",
            )
        if not source.name.lower().endswith((".csv", ".json")):
            suffix = ".csv" if media_type.endswith("csv") else ".json"
            source = Source(source.name + suffix, source.content, source.kind)
        rows = await import_sources(uow, [source])
        return ImportResult(source=source.name, rows=rows, seconds=time.perf_counter() - started)
