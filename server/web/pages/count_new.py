"""New count: location, scope (listed bins, a label prefix, a zone, or all), blind, bins
assigned to counters or devices; create it, or create and start it (the snapshot).

The same use cases and rights as `POST /api/counts` and `/start` (supervisors). The
assignments are typed one per line, `BIN: USER` for a counter or `BIN: device N` for a
device (the page lists the location's devices with their ids).
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Controller, Response, get, post
from litestar.response import Template

from server.api.deps import CurrentCaller, Now, Uow
from server.api.state import AnyRequest
from server.auth import usecases as auth
from server.counts.usecases import counting as counts
from server.domain.errors import FieldProblem, ValidationFailed
from server.masterdata.usecases import masterdata
from server.web.responses import acted, page, see_other
from server.web.session import SUPERVISE

SCOPES = (
    ("bins", "Listed bins"),
    ("prefix", "Bins whose label starts with"),
    ("zone", "A zone"),
    ("all", "All bins of the location"),
)
_DEVICE = re.compile(r"^device\s*#?\s*(\d+)$", re.IGNORECASE)
_FIELDS = ("location", "scope", "bins", "prefix", "zone", "assignments")


def _labels(text: str) -> list[str]:
    return [x for x in re.split(r"[\s,;]+", text) if x]


def read_assignments(text: str, errors: dict[str, str]) -> list[counts.BinAssignment]:
    """`BIN: USER` or `BIN: device N`, one per line; a line that is neither is refused."""
    found: list[counts.BinAssignment] = []
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        label, _, who = (part.strip() for part in line.partition(":"))
        if not label or not who:
            errors["assignments"] = f"line {n}: write 'BIN: USER' or 'BIN: device N', not {line!r}"
            continue
        device = _DEVICE.match(who)
        if device:
            found.append(counts.BinAssignment(label, device_id=int(device.group(1))))
        else:
            found.append(counts.BinAssignment(label, counter=who))
    return found


def field_of(problem: FieldProblem) -> str:
    """A use case's field path as the form's field: `bins/A-09` -> `bins`."""
    head = problem.location.split("/", 1)[0]
    return head if head in _FIELDS else ""


async def _choices(uow: Any) -> tuple[list[str], list[Any]]:
    rows = await masterdata.list_records(uow, "locations", 0, 500, {})
    # A row of any kind (a union); every location row has its code.
    locations = [str(getattr(row, "code")) for _, row in rows]  # noqa: B009
    devices = [d for d in await auth.list_devices(uow, 0, 200, None) if d.status == "active"]
    return locations, devices


class NewCountPages(Controller):
    path = "/counts"

    @get("/new", guards=SUPERVISE)
    async def form(self, request: AnyRequest, uow: Uow) -> Template:
        return await self._page(request, uow, {"scope": "prefix"}, {}, 200)

    async def _page(
        self,
        request: AnyRequest,
        uow: Any,
        values: dict[str, str],
        errors: dict[str, str],
        status: int,
        general: str | None = None,
    ) -> Template:
        locations, devices = await _choices(uow)
        return page(
            request,
            "count_new/new.html",
            status_code=status,
            values=values,
            errors=errors,
            general=general,
            scopes=SCOPES,
            locations=locations,
            devices=devices,
        )

    @post("/new", guards=SUPERVISE)
    async def create(
        self, request: AnyRequest, uow: Uow, caller: CurrentCaller, now: Now
    ) -> Response[Any]:
        posted = await request.form()
        values = {str(k): str(v) for k, v in posted.items() if not str(k).startswith("_")}
        start = values.pop("action", "") == "start"
        errors: dict[str, str] = {}
        location = values.get("location", "").strip()
        scope = values.get("scope", "")
        if not location:
            errors["location"] = "choose the location to count"
        if scope not in {s for s, _ in SCOPES}:
            errors["scope"] = "choose what to count"
        elif scope in ("prefix", "zone") and not values.get(scope, "").strip():
            errors[scope] = "required for this scope"
        elif scope == "bins" and not _labels(values.get("bins", "")):
            errors["bins"] = "list the bins to count, one label per line"
        assignments = read_assignments(values.get("assignments", ""), errors)
        if errors:
            return await self._page(request, uow, values, errors, 422)
        new = counts.NewCount(
            location=location,
            scope=scope,
            bins=_labels(values.get("bins", "")) if scope == "bins" else (),
            prefix=values.get("prefix", "").strip() if scope == "prefix" else "",
            zone=values.get("zone", "").strip() if scope == "zone" else "",
            blind=values.get("blind") == "yes",
            assignments=assignments,
        )
        try:
            view = await counts.create_count(uow, caller, new, now)
        except ValidationFailed as refused:
            for problem in refused.details:
                name = field_of(problem)
                if name and name not in errors:
                    where = problem.location.split("/", 1)
                    detail = f"{where[1]}: " if len(where) > 1 else ""
                    errors[name] = f"{detail}{problem.message}"
            return await self._page(request, uow, values, errors, 422, refused.message)
        number = view.count.number
        if not start:
            return see_other(f"/counts/{number}", notice=f"Count {number} created (Open).")
        return await acted(
            counts.start_count(uow, caller, number, now),
            f"/counts/{number}",
            f"Count {number} created and started: Counting in Process.",
        )
