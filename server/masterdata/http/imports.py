"""`POST /api/imports`: master data in the import format, all or nothing; and the change log.

Admin or supervisor. The body is a JSON object keyed by kind (docs/IMPORT_FORMAT.md), or
CSV (`Content-Type: text/csv`) with `?kind=`. The answer counts the rows stored per kind;
on any problem nothing is stored and the 422 (409 when every problem is a record that
exists already) lists each problem's row and field. `?mode=update` updates the records
whose key exists (409 `update-refused` naming row and field for a change that would break
history) and logs every changed field: `GET /api/masterdata-changes`.
"""

from __future__ import annotations

import time
from datetime import datetime

from litestar import Controller, get, post
from litestar.exceptions import HTTPException
from litestar.params import FromQuery

from schemas.masterdata import ImportMode, ImportResult, MasterDataChange, MasterDataChangePage
from server.api.deps import CurrentCaller, Now, Uow
from server.api.paging import DEFAULT_LIMIT, check_limit, decode_cursor, next_cursor
from server.api.state import AnyRequest
from server.api.wire import WRITE
from server.domain.errors import ValidationFailed
from server.masterdata.ports import ChangeFilters
from server.masterdata.usecases.importer import run_import
from server.masterdata.usecases.masterdata import list_changes
from server.masterdata.usecases.sources import Source
from server.masterdata.usecases.updates import Updating
from server.ports import Actor


class ImportController(Controller):
    path = "/api/imports"
    tags = ["master data"]

    @post("/", guards=WRITE, status_code=200)
    async def import_master_data(
        self,
        request: AnyRequest,
        uow: Uow,
        caller: CurrentCaller,
        now: Now,
        kind: FromQuery[str | None] = None,
        name: FromQuery[str | None] = None,
        mode: FromQuery[ImportMode] = "create",
    ) -> ImportResult:
        """Import master data (JSON keyed by kind, or text/csv with ?kind=); all or nothing.

        `name` names the body in error messages (default `request.json` / `request.csv`).
        `mode=update`: a row whose key exists updates that record (and the change log).
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
        update = Updating(caller.name, now) if mode == "update" else None
        stored = await run_import(uow, [source], update=update, audit_as=Actor(caller.user_id, now))
        return ImportResult(
            source=source.name,
            rows=stored.rows,
            seconds=time.perf_counter() - started,
            updated=stored.updated,
            unchanged=stored.unchanged,
            import_id=update.import_id if update else None,
        )


class MasterDataChangeController(Controller):
    path = "/api/masterdata-changes"
    tags = ["master data"]

    @get("/", guards=WRITE)
    async def list_masterdata_changes(
        self,
        uow: Uow,
        kind: FromQuery[str | None] = None,
        code: FromQuery[str | None] = None,
        parent_code: FromQuery[str | None] = None,
        import_id: FromQuery[str | None] = None,
        since: FromQuery[datetime | None] = None,
        limit: FromQuery[int] = DEFAULT_LIMIT,
        cursor: FromQuery[str | None] = None,
    ) -> MasterDataChangePage:
        """The change log of update imports and reason code changes, oldest first (admin or
        supervisor).

        Filters: `kind` (e.g. items, bins), `code` (a bin's label, a serial's number),
        `parent_code` (a bin's location), `import_id`, `since` (changed at or after, ISO
        8601 with a time zone)."""
        limit = check_limit(limit)
        filters = ChangeFilters(kind, code, parent_code, import_id, since)
        found = await list_changes(uow, decode_cursor(cursor), limit, filters)
        items = [
            MasterDataChange(
                id=r.id,
                kind=r.kind,
                code=r.code,
                parent_code=r.parent_code,
                field=r.field,
                old=r.old_value,
                new=r.new_value,
                changed_by=r.changed_by,
                changed_at=r.changed_at,
                import_id=r.import_id,
                source=r.source,
            )
            for r in found
        ]
        return MasterDataChangePage(
            items=items, next_cursor=next_cursor(found[-1].id if found else None, len(found), limit)
        )
