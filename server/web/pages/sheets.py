"""Count sheets: a printable sheet per count or bin range (bin labels, and unless the
count is blind what each bin should hold), for counting on paper when a device fails;
and a page to key a bin's paper count in, through the API's bin count use case
(`counting.submit_bin_count`), the signed-in user as its counter.

Counters and supervisors, as for `POST /api/counts/{number}/bin-counts`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from server.api.deps import CurrentCaller, Now, Uow
from server.api.state import AnyRequest
from server.counts.usecases import counting as counts
from server.counts.usecases.sheets import SheetBin, count_sheet
from server.domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from server.domain.masterdata import Role
from server.web.responses import page, see_other
from server.web.session import page_roles

COUNTING = page_roles(Role.COUNTER, Role.SUPERVISOR)
BLANK_ROWS = 3  # rows left empty under each bin for what the sheet does not list


def plain(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


def read_extra_serials(text: str, errors: dict[str, str]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for n, raw in enumerate(text.splitlines(), start=1):
        parts = raw.split()
        if not parts:
            continue
        if len(parts) != 2:
            errors["extra_serials"] = f"line {n}: write 'ITEM SERIAL', not {raw.strip()!r}"
            continue
        found.append((parts[0], parts[1]))
    return found


def read_extra_quantities(text: str, errors: dict[str, str]) -> list[tuple[str, str, Decimal]]:
    found: list[tuple[str, str, Decimal]] = []
    for n, raw in enumerate(text.splitlines(), start=1):
        parts = raw.split()
        if not parts:
            continue
        quantity = _number(parts[1]) if len(parts) in (2, 3) else None
        if quantity is None:
            errors["extra_quantities"] = (
                f"line {n}: write 'ITEM QUANTITY' or 'ITEM QUANTITY LOT', not {raw.strip()!r}"
            )
            continue
        found.append((parts[0], parts[2] if len(parts) == 3 else "", quantity))
    return found


def _number(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        return None
    return value if value.is_finite() and value >= 0 else None


class SheetPages(Controller):
    path = "/counts"

    @get("/{number:str}/sheet", guards=COUNTING)
    async def sheet(
        self,
        request: AnyRequest,
        number: FromPath[str],
        uow: Uow,
        caller: CurrentCaller,
        now: Now,
        bin_from: FromQuery[str] = "",
        bin_to: FromQuery[str] = "",
        after: FromQuery[str] = "",
    ) -> Template:
        found = await count_sheet(uow, caller, number, bin_from.strip(), bin_to.strip(), after)
        return page(
            request,
            "sheets/sheet.html",
            sheet=found,
            count=found.count,
            bin_from=bin_from,
            bin_to=bin_to,
            printed_at=now,
            blank_rows=range(BLANK_ROWS),
            plain=plain,
        )

    @get("/{number:str}/sheet/key", guards=COUNTING)
    async def key_form(
        self,
        request: AnyRequest,
        number: FromPath[str],
        uow: Uow,
        caller: CurrentCaller,
        bin: FromQuery[str] = "",
    ) -> Template:
        return await self._key_page(request, uow, caller, number, bin.strip(), {}, {}, 200)

    async def _key_page(
        self,
        request: AnyRequest,
        uow: Any,
        caller: Any,
        number: str,
        label: str,
        values: dict[str, str],
        errors: dict[str, str],
        status: int,
        general: str | None = None,
        found: list[str] | None = None,
    ) -> Template:
        target: SheetBin | None = None
        sheet = await count_sheet(uow, caller, number, label, label) if label else None
        if sheet is not None and sheet.bins and sheet.bins[0].label == label:
            target = sheet.bins[0]
        if label and target is None:
            errors.setdefault("bin", f"bin {label} is not in count {number}")
        if sheet is None:
            sheet = await count_sheet(uow, caller, number, limit=1)
        return page(
            request,
            "sheets/key.html",
            status_code=status,
            count=sheet.count,
            label=label,
            target=target,
            expected_shown=sheet.expected_shown,
            values=values,
            errors=errors,
            general=general,
            found=found or [],
            plain=plain,
        )

    @post("/{number:str}/sheet/key", guards=COUNTING)
    async def key_in(
        self, request: AnyRequest, number: FromPath[str], uow: Uow, caller: CurrentCaller, now: Now
    ) -> Response[Any]:
        posted = await request.form()
        found_serials = [str(v) for v in posted.getall("found")] if "found" in posted else []
        values = {str(k): str(v) for k, v in posted.items() if not str(k).startswith("_")}
        label = values.get("bin", "").strip()
        errors: dict[str, str] = {}
        if not label:
            errors["bin"] = "give the bin label"
        serials: list[tuple[str, str]] = []
        for text in found_serials:
            item, _, serial = text.partition("|")
            serials.append((item, serial))
        serials += read_extra_serials(values.get("extra_serials", ""), errors)
        quantities: list[tuple[str, str, Decimal]] = []
        for key, text in values.items():
            if not key.startswith("qty|") or not text.strip():
                continue
            _, item, lot = key.split("|", 2)
            quantity = _number(text)
            if quantity is None:
                errors[key] = f"{text.strip()!r} is not a quantity"
                continue
            quantities.append((item, lot, quantity))
        quantities += read_extra_quantities(values.get("extra_quantities", ""), errors)
        empty = values.get("empty") == "yes"
        if not errors and not serials and not quantities and not empty:
            errors["empty"] = "nothing was keyed in: tick 'The bin is empty' if it is"
        if not errors and empty and (serials or quantities):
            errors["empty"] = "the bin is not empty: untick 'The bin is empty' or clear the counts"
        started = _time(values.get("started_at", ""), now, errors, "started_at")
        finished = _time(values.get("finished_at", ""), now, errors, "finished_at")
        if errors:
            return await self._key_page(
                request, uow, caller, number, label, values, errors, 422, None, found_serials
            )
        submitted = counts.SubmittedBinCount(
            bin=label,
            started_at=started,
            finished_at=max(finished, started),
            serials=serials,
            quantities=quantities,
        )
        try:
            header = await counts.submit_bin_count(uow, caller, number, submitted, now)
        except (ValidationFailed, Conflict, NotFound, PermissionDenied) as refused:
            for problem in refused.details:
                name = "extra_quantities" if "quantit" in problem.location else "extra_serials"
                errors.setdefault(name, f"{problem.location}: {problem.message}")
            return await self._key_page(
                request,
                uow,
                caller,
                number,
                label,
                values,
                errors,
                422,
                str(refused),
                found_serials,
            )
        return see_other(
            f"/counts/{number}/sheet/key",
            notice=f"Bin {label} keyed in: bin count {header.id}. Key the next bin.",
        )


def _time(text: str, now: datetime, errors: dict[str, str], name: str) -> datetime:
    """A time of today (HH:MM, the server's UTC) the paper gives, or now."""
    text = text.strip()
    if not text:
        return now
    try:
        hours, minutes = (int(x) for x in text.split(":", 1))
        return now.replace(hour=hours, minute=minutes, second=0, microsecond=0)
    except ValueError:
        errors[name] = "give the time as HH:MM"
        return now
