"""Stock counts over HTTP: lifecycle, bin counts, reconciliation and review, tolerances,
preview, finalize, documents and their exports.

Roles: supervisors (and admins) create, start, review, recount, mark counted, cancel,
preview and finalize; finance reads the documents; counters and supervisors submit bin
counts, devices too but only for counts of their own site. Reading a count: any user,
or a device of its site; on a blind count counters and devices never get expected
quantities (`expected` is null).

Finalize in Counting in Process without `{"confirm": true}` answers 409 with code
"finalize-needs-confirmation" and the seed's warning as the detail; nothing changes.
With confirm, the 200 body repeats the warning. Documents are immutable: there is no
PUT, PATCH or DELETE route for them (405).
"""

from __future__ import annotations

from litestar import Controller, Response, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from schemas import counts as wire
from server.api.deps import CurrentCaller, Now, Uow
from server.api.paging import DEFAULT_LIMIT, MAX_LIMIT, check_limit, decode_cursor, next_cursor
from server.api.security import Guard, caller_of, reads_documents, roles
from server.api.state import AnyConnection, AnyRequest
from server.api.wire import csv_response, plain, wants_csv
from server.counts.http.wire import (
    DOCUMENT_COLUMNS,
    REVIEW_COLUMNS,
    VARIANCE_COLUMNS,
    BinCountsBehind,
    bin_count_out,
    bulk_out,
    count_out,
    document_out,
    document_rows,
    finalize_out,
    line_filter_of,
    line_out,
    review_rows_csv,
    row_out,
    submitted_bin_count,
    tolerance_notice,
    variance_rows,
    view_out,
)
from server.counts.usecases import counting as counts
from server.counts.usecases import preview as count_preview
from server.counts.usecases import review as count_review
from server.counts.usecases.counting import BinAssignment, NewCount
from server.domain.auth import CallerKind, require_role
from server.domain.counting import ToleranceRules
from server.domain.masterdata import Role

SUPERVISE = [roles(Role.SUPERVISOR)]
DOCUMENTS = [reads_documents()]  # supervisors and finance


async def _users_or_devices(connection: AnyConnection, _: object) -> None:
    caller = caller_of(connection)
    if caller.kind is not CallerKind.DEVICE:
        require_role(caller, frozenset({Role.COUNTER, Role.SUPERVISOR}))


COUNT_OR_DEVICE: list[Guard] = [_users_or_devices]


def _page(
    request: AnyRequest, format: str | None, limit: int, cursor: str | None
) -> tuple[bool, int, int | None]:
    """(CSV?, offset, limit) of a list that pages as JSON and exports whole as CSV."""
    if wants_csv(request, format):
        return True, 0, None
    return False, decode_cursor(cursor), check_limit(limit)


class CountController(Controller):
    path = "/api/counts"
    tags = ["stock counts"]

    @post("/", guards=SUPERVISE)
    async def create_count(
        self, data: JSONBody[wire.CountCreate], uow: Uow, caller: CurrentCaller, now: Now
    ) -> wire.StockCount:
        """Create a count (Open) for a location over listed bins, a label prefix, a zone or
        every bin; blind or not; bins assigned to devices or counters."""
        new = NewCount(
            location=data.location,
            scope=data.scope,
            bins=data.bins,
            prefix=data.prefix,
            zone=data.zone,
            blind=data.blind,
            assignments=[BinAssignment(a.bin, a.device_id, a.counter) for a in data.assignments],
        )
        view = await counts.create_count(uow, caller, new, now)
        return view_out(view, caller)

    @get("/", guards=COUNT_OR_DEVICE)
    async def list_counts(
        self,
        uow: Uow,
        caller: CurrentCaller,
        location: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
        limit: FromQuery[int] = DEFAULT_LIMIT,
        cursor: FromQuery[str | None] = None,
    ) -> wire.StockCountPage:
        """Counts by number order, filtered by location and status (a device: its site)."""
        limit = check_limit(limit)
        rows = await counts.list_counts(uow, caller, decode_cursor(cursor), limit, location, status)
        return wire.StockCountPage(
            items=[count_out(r) for r in rows],
            next_cursor=next_cursor(rows[-1].id if rows else None, len(rows), limit),
        )

    @get("/{number:str}", guards=COUNT_OR_DEVICE)
    async def get_count(
        self,
        number: FromPath[str],
        uow: Uow,
        caller: CurrentCaller,
        limit: FromQuery[int] = MAX_LIMIT,
        cursor: FromQuery[str | None] = None,
    ) -> wire.StockCount:
        """The count and a page of its bins by label (`limit`, at most and by default
        1,000), each counted or not, with its expected quantity unless the count is blind
        to the caller. `bins_next_cursor` is the `cursor` of the next page of bins."""
        offset, size = decode_cursor(cursor), check_limit(limit)
        view = await counts.get_count(uow, caller, number, offset=offset, limit=size)
        return view_out(view, caller, offset)

    @post("/{number:str}/start", guards=SUPERVISE, status_code=200)
    async def start(
        self, number: FromPath[str], uow: Uow, caller: CurrentCaller, now: Now
    ) -> wire.StockCount:
        """Open -> Counting in Process: the snapshot of the scope is taken, atomically."""
        return count_out(await counts.start_count(uow, caller, number, now))

    @post("/{number:str}/bin-counts", guards=COUNT_OR_DEVICE)
    async def submit_bin_count(
        self,
        number: FromPath[str],
        data: JSONBody[wire.BinCountSubmit],
        uow: Uow,
        caller: CurrentCaller,
        now: Now,
    ) -> wire.BinCount:
        """One counter's complete count of one bin. The same counter's later count replaces
        their earlier one, and so does a count started after the supervisor ordered a
        recount of the bin; counts of different counters that disagree are a conflict
        (whenever they were made), and counts that agree confirm each other. The count
        moves to Counted by itself when the last bin of its scope is counted with no
        conflict; in Counted a new bin count that conflicts reopens counting."""
        submitted = submitted_bin_count(data)
        return bin_count_out(await counts.submit_bin_count(uow, caller, number, submitted, now))

    @post("/{number:str}/recounts", guards=SUPERVISE, status_code=200)
    async def recount(
        self,
        number: FromPath[str],
        data: JSONBody[wire.RecountRequest],
        uow: Uow,
        caller: CurrentCaller,
        now: Now,
    ) -> wire.StockCount:
        """Order a recount of bins (a Counted count goes back to Counting in Process)."""
        record = await counts.order_recounts(uow, caller, number, data.bins, data.reason, now)
        return count_out(record)

    @post("/{number:str}/pick", guards=SUPERVISE, status_code=200)
    async def pick(
        self,
        number: FromPath[str],
        data: JSONBody[wire.PickRequest],
        uow: Uow,
        caller: CurrentCaller,
        now: Now,
    ) -> wire.StockCount:
        """Resolve a conflict of bin counts: the picked one is the bin's effective count."""
        record = await counts.pick_bin_count(uow, caller, number, data.bin, data.bin_count_id, now)
        return count_out(record)

    @post("/{number:str}/counted", guards=SUPERVISE, status_code=200)
    async def counted(
        self,
        number: FromPath[str],
        uow: Uow,
        caller: CurrentCaller,
        now: Now,
        data: JSONBody[wire.MarkCountedRequest | None] = None,
    ) -> wire.StockCount:
        override = data.override if data is not None else False
        return count_out(await counts.mark_count_counted(uow, caller, number, override, now))

    @post("/{number:str}/cancel", guards=SUPERVISE, status_code=200)
    async def cancel(
        self, number: FromPath[str], uow: Uow, caller: CurrentCaller, now: Now
    ) -> wire.StockCount:
        return count_out(await counts.cancel_count(uow, caller, number, now))

    @get("/{number:str}/reconciliation", guards=SUPERVISE)
    async def reconciliation(
        self,
        request: AnyRequest,
        number: FromPath[str],
        uow: Uow,
        kind: FromQuery[str | None] = None,
        bin: FromQuery[str | None] = None,
        item: FromQuery[str | None] = None,
        limit: FromQuery[int] = DEFAULT_LIMIT,
        cursor: FromQuery[str | None] = None,
        format: FromQuery[str | None] = None,
    ) -> Response[bytes] | wire.Reconciliation:
        """The discrepancies (the seed's Stock Count Serial Transfer browser), recomputed as
        bin counts arrive. Filters: kind, bin, item; `cursor` pages. CSV: the variance
        report of every matching line (`?format=csv` or Accept: text/csv)."""
        as_csv, offset, size = _page(request, format, limit, cursor)
        found = await count_review.reviewed_reconciliation(
            uow, number, kind=kind, bin_label=bin, item=item, offset=offset, limit=size
        )
        behind = BinCountsBehind(found.bin_counts)
        lines = [line_out(x, found.item_labels, behind) for x in found.lines]
        notice = tolerance_notice(found.count.location, found.tolerances)
        if as_csv:
            return csv_response(
                VARIANCE_COLUMNS, variance_rows(lines), f"{number}-variances", notice
            )
        recon = found.reconciliation
        more = offset + len(lines) < found.total
        return wire.Reconciliation(
            count=number,
            status=found.count.status.value,
            version=found.count.version,
            counted_bins=len(recon.counted_bins),
            not_counted_bins=list(recon.not_counted_bins),
            conflicts=[behind.conflict(c) for c in recon.bin_count_conflicts],
            matching_lines=found.total,
            lines=lines,
            next_cursor=str(offset + len(lines)) if more else None,
            confirmed_bins=sorted(found.bin_counts.resolved.confirmations),
            tolerances_configured=found.tolerances.configured,
            notice=notice,
        )

    @get("/{number:str}/review", guards=SUPERVISE)
    async def review(
        self,
        request: AnyRequest,
        number: FromPath[str],
        uow: Uow,
        kind: FromQuery[str | None] = None,
        bin: FromQuery[str | None] = None,
        item: FromQuery[str | None] = None,
        limit: FromQuery[int] = DEFAULT_LIMIT,
        cursor: FromQuery[str | None] = None,
        format: FromQuery[str | None] = None,
    ) -> Response[bytes] | wire.CountReview:
        """The Stock Count profile: a row per item and bin (and lot) with the seed's columns
        (Adjustment Quantity, Stock Transfer Quantity, Adjustment Cost as the weighted
        average of the serials concerned, Adjustment Value, Stock Transfer Value) over the
        selected lines, and every line beneath it, with the bin counts behind it. Filters
        keep rows with a matching line. CSV: each row, then its lines."""
        as_csv, offset, size = _page(request, format, limit, cursor)
        found = await count_review.reviewed_rows(
            uow, number, kind=kind, bin_label=bin, item=item, offset=offset, limit=size
        )
        behind = BinCountsBehind(found.bin_counts)
        rows = [row_out(r, found.item_labels, behind) for r in found.rows]
        notice = tolerance_notice(found.count.location, found.tolerances)
        if as_csv:
            return csv_response(REVIEW_COLUMNS, review_rows_csv(rows), f"{number}-review", notice)
        recon = found.reconciliation
        more = offset + len(rows) < found.total
        return wire.CountReview(
            count=number,
            status=found.count.status.value,
            version=found.count.version,
            matching_rows=found.total,
            rows=rows,
            conflicts=[behind.conflict(c) for c in recon.bin_count_conflicts],
            not_counted_bins=list(recon.not_counted_bins),
            next_cursor=str(offset + len(rows)) if more else None,
            tolerances_configured=found.tolerances.configured,
            notice=notice,
        )

    @get("/{number:str}/events", guards=SUPERVISE)
    async def events(self, number: FromPath[str], uow: Uow) -> wire.CountEventList:
        """What happened to the count, oldest first: started, counted (by itself when the
        last bin of its scope was counted with no conflict, or by a supervisor), recounts
        ordered, conflicts resolved, reopened, cancelled, completed."""
        found = await counts.count_events(uow, number)
        items = [wire.CountEvent(at=e.at, kind=e.kind, detail=e.detail, user=e.user) for e in found]
        return wire.CountEventList(items=items)

    @put("/{number:str}/lines/{line_id:str}/clear", guards=SUPERVISE)
    async def clear_line(
        self,
        number: FromPath[str],
        line_id: FromPath[str],
        uow: Uow,
        caller: CurrentCaller,
        now: Now,
    ) -> wire.DiscrepancyLine:
        """Clear a line: it is not adjusted."""
        return line_out(await count_review.decide_line(uow, caller, number, line_id, "clear", now))

    @put("/{number:str}/lines/{line_id:str}/select", guards=SUPERVISE)
    async def select_line(
        self,
        number: FromPath[str],
        line_id: FromPath[str],
        uow: Uow,
        caller: CurrentCaller,
        now: Now,
    ) -> wire.DiscrepancyLine:
        """Select a cleared line again: it is adjusted."""
        return line_out(await count_review.decide_line(uow, caller, number, line_id, "select", now))

    @post("/{number:str}/lines/{line_id:str}/approve", guards=SUPERVISE, status_code=200)
    async def approve_line(
        self,
        number: FromPath[str],
        line_id: FromPath[str],
        data: JSONBody[wire.ApproveRequest],
        uow: Uow,
        caller: CurrentCaller,
        now: Now,
    ) -> wire.DiscrepancyLine:
        """Approve a line above tolerance with a reason code (not in a bin you counted)."""
        decided = await count_review.decide_line(
            uow, caller, number, line_id, "approve", now, data.reason_code
        )
        return line_out(decided)

    @post("/{number:str}/lines/bulk", guards=SUPERVISE, status_code=200)
    async def review_lines(
        self,
        number: FromPath[str],
        data: JSONBody[wire.BulkReviewRequest],
        uow: Uow,
        caller: CurrentCaller,
        now: Now,
    ) -> wire.BulkReviewResult:
        """Approve, clear or select many lines in one request, all or nothing: by
        `line_ids` or by a `filter` (kind, bin, item, max_value, above_tolerance). The
        problem of a refusal lists every line that could not take the decision."""
        result = await count_review.review_lines(
            uow,
            caller,
            number,
            data.action,
            now,
            line_ids=data.line_ids,
            where=None if data.filter is None else line_filter_of(data.filter),
            reason_code=data.reason_code,
        )
        return bulk_out(result)

    @get("/{number:str}/preview", guards=SUPERVISE)
    async def preview(self, number: FromPath[str], uow: Uow, now: Now) -> wire.FinalizeResult:
        """The draft Quantity Adjustment and Stock Transfer with lines, values, GL lines."""
        return finalize_out(await count_preview.preview(uow, number, now), draft=True)

    @post("/{number:str}/finalize", guards=SUPERVISE, status_code=200)
    async def finalize(
        self,
        number: FromPath[str],
        uow: Uow,
        caller: CurrentCaller,
        now: Now,
        data: JSONBody[wire.FinalizeRequest | None] = None,
    ) -> wire.FinalizeResult:
        """Finalize and Adjust Inventory: both documents, stock, serials, costs, GL, and
        Completed, in one transaction. 409 finalize-needs-confirmation while counting."""
        confirm = data.confirm if data is not None else False
        result = await count_review.finalize(uow, caller, number, confirm, now)
        return finalize_out(result, draft=False)

    @get("/{number:str}/documents", guards=DOCUMENTS)
    async def documents(
        self,
        request: AnyRequest,
        number: FromPath[str],
        uow: Uow,
        format: FromQuery[str | None] = None,
    ) -> Response[bytes] | wire.DocumentList:
        docs = await count_review.documents_of(uow, number)
        if wants_csv(request, format):
            return csv_response(
                DOCUMENT_COLUMNS,
                document_rows([document_out(d) for d in docs]),
                f"{number}-documents",
            )
        return wire.DocumentList(items=[document_out(d) for d in docs])


class ToleranceController(Controller):
    path = "/api/locations/{code:str}/tolerances"
    tags = ["stock counts"]

    @get("/", guards=SUPERVISE)
    async def get_tolerances(self, code: FromPath[str], uow: Uow) -> wire.Tolerances:
        rules = await count_review.get_tolerances(uow, code)
        return wire.Tolerances(
            quantity=None if rules.quantity is None else plain(rules.quantity),
            percent=None if rules.percent is None else plain(rules.percent),
            value=None if rules.value is None else plain(rules.value),
        )

    @put("/", guards=SUPERVISE)
    async def set_tolerances(
        self,
        code: FromPath[str],
        data: JSONBody[wire.Tolerances],
        uow: Uow,
        caller: CurrentCaller,
        now: Now,
    ) -> wire.Tolerances:
        """Variances within every set limit are approved automatically (null: not checked)."""
        rules = ToleranceRules(data.quantity, data.percent, data.value)
        await count_review.set_tolerances(uow, caller, code, rules, now)
        return data


class DocumentController(Controller):
    path = "/api/documents"
    tags = ["stock counts"]

    @get("/{kind:str}/{number:str}", guards=DOCUMENTS)
    async def get_document(
        self,
        request: AnyRequest,
        kind: FromPath[str],
        number: FromPath[str],
        uow: Uow,
        format: FromQuery[str | None] = None,
    ) -> Response[bytes] | wire.Document:
        """A Quantity Adjustment or Stock Transfer document (JSON, or CSV). Read only."""
        found = await count_review.document(uow, kind, number)
        if wants_csv(request, format):
            return csv_response(DOCUMENT_COLUMNS, document_rows([document_out(found)]), number)
        return document_out(found)
