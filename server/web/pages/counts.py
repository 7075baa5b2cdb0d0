"""Counts: the list with progress, and one count's bins with their states, its live
progress, recounts, conflicts resolved by picking a bin count, Counted and Cancel."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from server.api.deps import CurrentCaller, Now, Uow
from server.api.paging import decode_cursor
from server.api.state import AnyRequest
from server.counts.usecases import counting as counts
from server.counts.usecases import progress
from server.counts.usecases.unknown import UnknownBarcodePage, unknown_barcodes
from server.domain.counting import CountStatus
from server.domain.counting.model import status_label
from server.domain.masterdata import Role
from server.web.responses import acted, page, see_other
from server.web.session import COUNTS, SUPERVISE, allowed

PAGE = 25  # counts on a page of the list
BINS = 50  # bins on a page of a count
UNKNOWN = 25  # unknown barcodes on a page of a count
STATUSES = [(s.value, status_label(s)) for s in CountStatus]
SEE_COUNTS = COUNTS


def _offset(value: str | None) -> int:
    return decode_cursor(value)


class CountPages(Controller):
    path = "/counts"

    @get("/", guards=SEE_COUNTS)
    async def list_counts(
        self,
        request: AnyRequest,
        uow: Uow,
        caller: CurrentCaller,
        status: FromQuery[str | None] = None,
        location: FromQuery[str | None] = None,
        after: FromQuery[str | None] = None,
    ) -> Template:
        rows = await progress.counts_with_progress(
            uow, caller, _offset(after), PAGE, location, status
        )
        more = str(rows[-1].count.id) if len(rows) == PAGE else None
        return page(
            request,
            "counts/list.html",
            rows=rows,
            statuses=STATUSES,
            status=status or "",
            location=location or "",
            next_after=more,
            label=status_label,
        )

    @get("/{number:str}", guards=SEE_COUNTS)
    async def count(
        self,
        request: AnyRequest,
        number: FromPath[str],
        uow: Uow,
        caller: CurrentCaller,
        bin: FromQuery[str | None] = None,
        offset: FromQuery[str | None] = None,
        unknown_after: FromQuery[str | None] = None,
    ) -> Template:
        start = _offset(offset)
        board = await progress.count_board(uow, caller, number, start, BINS, bin)
        events = await counts.count_events(uow, number)
        supervise = allowed(caller, {Role.SUPERVISOR})
        unknown: UnknownBarcodePage | None = None
        if supervise:  # the API's rule: supervisors see what the devices could not match
            unknown = await unknown_barcodes(uow, number, _offset(unknown_after), UNKNOWN)
        return page(
            request,
            "counts/count.html",
            board=board,
            count=board.progress.count,
            events=events[-10:],
            bin=bin or "",
            offset=start,
            page_size=BINS,
            label=status_label,
            supervise=supervise,
            States=progress.BinState,
            unknown=unknown,
            unknown_after=unknown_after or "",
        )

    @get("/{number:str}/progress", guards=SEE_COUNTS)
    async def progress_json(
        self, number: FromPath[str], uow: Uow, caller: CurrentCaller
    ) -> dict[str, Any]:
        """What the count page's script polls: the figures of its progress line."""
        board = await progress.count_board(uow, caller, number, 0, 1)
        p = board.progress
        return {
            "status": p.count.status.value,
            "status_label": status_label(p.count.status),
            "version": p.count.version,
            "scope_bins": p.scope_bins,
            "counted_bins": p.counted_bins,
            "conflicts": p.conflicts,
            "recounts_open": p.recounts_open,
            "percent": p.percent,
        }

    @post("/{number:str}/start", guards=SUPERVISE)
    async def start(
        self, number: FromPath[str], uow: Uow, caller: CurrentCaller, now: Now
    ) -> Response[Any]:
        started = counts.start_count(uow, caller, number, now)
        return await acted(started, f"/counts/{number}", "Counting in Process: snapshot taken.")

    @post("/{number:str}/recounts", guards=SUPERVISE)
    async def recount(
        self, request: AnyRequest, number: FromPath[str], uow: Uow, caller: CurrentCaller, now: Now
    ) -> Response[Any]:
        form = await request.form()
        bins = [str(b) for b in form.getall("bin") if str(b).strip()] if "bin" in form else []
        reason = str(form.get("reason") or "")
        back = f"/counts/{number}"
        if not bins:
            return see_other(back, error="choose the bin to recount")
        return await acted(
            counts.order_recounts(uow, caller, number, bins, reason, now),
            back,
            f"Recount ordered for {', '.join(bins)}.",
        )

    @post("/{number:str}/pick", guards=SUPERVISE)
    async def pick(
        self, request: AnyRequest, number: FromPath[str], uow: Uow, caller: CurrentCaller, now: Now
    ) -> Response[Any]:
        form = await request.form()
        label = str(form.get("bin") or "")
        chosen = str(form.get("bin_count_id") or "")
        back = f"/counts/{number}"
        if not chosen.isdigit():
            return see_other(back, error=f"choose one bin count of bin {label} to keep")
        return await acted(
            counts.pick_bin_count(uow, caller, number, label, int(chosen), now),
            back,
            f"Bin {label}: bin count {chosen} picked.",
        )

    @post("/{number:str}/counted", guards=SUPERVISE)
    async def counted(
        self, request: AnyRequest, number: FromPath[str], uow: Uow, caller: CurrentCaller, now: Now
    ) -> Response[Any]:
        form = await request.form()
        override = form.get("override") == "yes"
        return await acted(
            counts.mark_count_counted(uow, caller, number, override, now),
            f"/counts/{number}",
            "The count is Counted.",
        )

    @post("/{number:str}/cancel", guards=SUPERVISE)
    async def cancel(
        self, number: FromPath[str], uow: Uow, caller: CurrentCaller, now: Now
    ) -> Response[Any]:
        cancelled = counts.cancel_count(uow, caller, number, now)
        return await acted(cancelled, f"/counts/{number}", "The count is Cancelled.")
