"""A count's review (the seed's Stock Count Serial Transfer browser), its preview and
finalize: rows per item and bin with the seed's five columns and the lines beneath, a
check box per adjustable line, bulk approval with a reason code, the draft documents,
and finalize with the seed's warning while the count is Counting in Process."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from server.api.deps import CurrentCaller, Now, Uow
from server.api.paging import decode_cursor
from server.api.state import AnyRequest
from server.counts.ports import BinCountHeader
from server.counts.usecases import preview as count_preview
from server.counts.usecases import review as count_review
from server.counts.usecases.counting import StandingBinCounts
from server.domain.counting import QUANTITY_ADJUSTMENT, STOCK_TRANSFER, LineKind
from server.domain.counting.model import status_label
from server.domain.errors import Conflict, StockcountError
from server.masterdata.usecases import reason_codes
from server.web.responses import page, see_other
from server.web.session import SUPERVISE

ROWS = 50  # rows of the profile on a page
DRAFT_LINES = 100  # lines of each draft document on a page of the preview
KINDS = [k.value for k in LineKind]


def _where(kind: str | None, bin: str | None, item: str | None) -> dict[str, str]:
    return {k: v for k, v in (("kind", kind), ("bin", bin), ("item", item)) if v}


def _counted_by(standing: StandingBinCounts) -> dict[str, BinCountHeader]:
    """The header of the bin count that stands for each bin: who counted it, on which device."""
    headers = {str(h.id): h for h in standing.headers}
    return {
        label: headers[bc.id]
        for label, bc in standing.resolved.effective.items()
        if bc.id in headers
    }


def _draft_links(
    shown: count_preview.DraftPage, offsets: dict[str, int]
) -> dict[str, dict[str, int]]:
    """The preview's queries for this document's previous and next lines (the other
    document stays where it is)."""
    links: dict[str, dict[str, int]] = {}
    kind = shown.document.kind
    if shown.offset > 0:
        links["previous"] = offsets | {kind: max(0, shown.offset - DRAFT_LINES)}
    if shown.offset + len(shown.lines) < shown.line_count:
        links["next"] = offsets | {kind: shown.offset + len(shown.lines)}
    return links


class ReviewPages(Controller):
    path = "/counts/{number:str}"
    guards = SUPERVISE

    @get("/review")
    async def review(
        self,
        request: AnyRequest,
        number: FromPath[str],
        uow: Uow,
        now: Now,
        kind: FromQuery[str | None] = None,
        bin: FromQuery[str | None] = None,
        item: FromQuery[str | None] = None,
        above: FromQuery[str | None] = None,
        offset: FromQuery[str | None] = None,
    ) -> Template:
        start = decode_cursor(offset)
        found = await count_review.reviewed_rows(
            uow,
            number,
            kind=kind or None,
            bin_label=bin or None,
            item=item or None,
            above_tolerance=True if above else None,
            offset=start,
            limit=ROWS,
        )
        codes = await reason_codes.list_reason_codes(uow, active=True)
        totals: Sequence[count_preview.DocumentTotals] | None = None
        totals_refused: str | None = None
        try:
            totals = await count_preview.preview_totals(uow, number)
        except StockcountError as exc:
            totals_refused = exc.message  # the lines it names are the rows below
        return page(
            request,
            "counts/review.html",
            count=found.count,
            found=found,
            counted_by=_counted_by(found.bin_counts),
            codes=sorted(codes, key=lambda c: c.code),
            kinds=KINDS,
            kind=kind or "",
            bin=bin or "",
            item=item or "",
            above=bool(above),
            offset=start,
            page_size=ROWS,
            totals=totals,
            totals_refused=totals_refused,
            label=status_label,
            Released=LineKind.RELEASED,
            query=_where(kind, bin, item) | ({"above": "1"} if above else {}),
        )

    @post("/review/selection")
    async def selection(
        self, request: AnyRequest, number: FromPath[str], uow: Uow, caller: CurrentCaller, now: Now
    ) -> Response[Any]:
        """The browser's OK: the lines shown whose box is checked are selected (adjusted),
        the others shown are cleared (not adjusted)."""
        form = await request.form()
        shown = [str(x) for x in form.getall("shown")] if "shown" in form else []
        checked = {str(x) for x in form.getall("line")} if "line" in form else set()
        back = f"/counts/{number}/review?{form.get('query') or ''}"
        clear = [x for x in shown if x not in checked]
        select = [x for x in shown if x in checked]
        try:
            if clear:
                await count_review.review_lines(uow, caller, number, "clear", now, line_ids=clear)
            if select:
                await count_review.review_lines(uow, caller, number, "select", now, line_ids=select)
        except StockcountError as exc:
            return see_other(back, error=str(exc))
        return see_other(back, notice=f"{len(select)} line(s) selected, {len(clear)} cleared.")

    @post("/review/approve")
    async def approve(
        self, request: AnyRequest, number: FromPath[str], uow: Uow, caller: CurrentCaller, now: Now
    ) -> Response[Any]:
        """Approve with one reason code of the list the lines the page listed: the selected
        lines above tolerance it showed (all or nothing)."""
        form = await request.form()
        back = f"/counts/{number}/review?{form.get('query') or ''}"
        code = str(form.get("reason_code") or "")
        lines = [str(x) for x in form.getall("line")] if "line" in form else []
        if not code:
            return see_other(back, error="choose a reason code for the approval")
        if not lines:
            return see_other(back, error="no line to approve on this page")
        try:
            done = await count_review.review_lines(
                uow, caller, number, "approve", now, line_ids=lines, reason_code=code
            )
        except StockcountError as exc:
            return see_other(back, error=str(exc))
        already = f", {len(done.unchanged)} were already" if done.unchanged else ""
        return see_other(back, notice=f"{len(done.changed)} line(s) approved with {code}{already}.")

    @get("/preview")
    async def preview(
        self,
        request: AnyRequest,
        number: FromPath[str],
        uow: Uow,
        now: Now,
        quantity_adjustment: FromQuery[str | None] = None,
        stock_transfer: FromQuery[str | None] = None,
    ) -> Template:
        """The draft documents, a page of each one's lines (its own offset in the query)
        with the whole document's totals and GL per account and entity."""
        offsets = {
            QUANTITY_ADJUSTMENT: decode_cursor(quantity_adjustment),
            STOCK_TRANSFER: decode_cursor(stock_transfer),
        }
        drafted = await count_preview.preview_page(uow, number, now, offsets, DRAFT_LINES)
        return page(
            request,
            "counts/preview.html",
            count=drafted.count,
            result=drafted,
            links={d.document.kind: _draft_links(d, offsets) for d in drafted.documents},
            draft=True,
            label=status_label,
        )

    @get("/finalize")
    async def confirm_finalize(
        self, request: AnyRequest, number: FromPath[str], uow: Uow, now: Now
    ) -> Template:
        """Finalize asks to confirm; in Counting in Process with the seed's warning."""
        drafted = await count_preview.preview(uow, number, now)
        return page(
            request,
            "counts/finalize.html",
            count=drafted.count,
            result=drafted,
            label=status_label,
        )

    @post("/finalize")
    async def finalize(
        self, request: AnyRequest, number: FromPath[str], uow: Uow, caller: CurrentCaller, now: Now
    ) -> Response[Any]:
        form = await request.form()
        if form.get("decision") != "continue":
            return see_other(f"/counts/{number}", notice="Finalize aborted: nothing changed.")
        # Confirmed only if the page showed the seed's warning: a count that went back to
        # Counting in Process after a plain confirmation is asked again.
        warned = form.get("warned") == "yes"
        try:
            done = await count_review.finalize(uow, caller, number, warned, now)
        except Conflict as exc:
            return see_other(f"/counts/{number}/finalize", error=str(exc))
        made = " and ".join(d.number for d in done.documents)
        return see_other(f"/documents?count={number}", notice=f"Count {number} finalized: {made}.")
