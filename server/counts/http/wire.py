"""Stock counts between the service's records and the wire structs of schemas.counts,
and the CSV exports (documents, variance report)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from schemas import counts as wire
from server.api.wire import plain
from server.counts.ports import BinCountHeader, CountRecord
from server.counts.usecases.counting import CountView, StandingBinCounts, can_see_expected
from server.counts.usecases.review import (
    BulkDecision,
    FinalizeResult,
    ReviewedLine,
    ReviewedProfileLine,
)
from server.domain.auth import Caller
from server.domain.counting import (
    CountDocument,
    LineFilter,
    LineKind,
    SubmittedBinCount,
    ToleranceRules,
)
from server.domain.counting.bincounts import BinCountConflict
from server.domain.counting.model import status_label
from server.domain.errors import FieldProblem, ValidationFailed

CENT = Decimal("0.01")


def money(value: Decimal) -> Decimal:
    """A value as posted, always with its two places (a draft's zero is Decimal(0))."""
    return value.quantize(CENT)


def count_out(
    record: CountRecord, view: CountView | None = None, offset: int = 0
) -> wire.StockCount:
    """The count, with the bins of `view` (a page of them from `offset`) when given."""
    bins: list[wire.CountBin] = []
    next_bins = None
    if view is not None:
        next_bins = str(offset + len(view.bins)) if view.more else None
        expected = view.expected
        bins = [
            wire.CountBin(
                label=b.label,
                device_id=b.device_id,
                counter=b.counter,
                counted=b.label in view.counted_bins,
                expected=None if expected is None else plain(expected.get(b.label, Decimal(0))),
                recount_ordered=b.label in view.awaiting_recount,
            )
            for b in view.bins
        ]
    return wire.StockCount(
        number=record.number,
        location=record.location,
        status=record.status.value,
        status_label=status_label(record.status),
        scope=record.scope_kind,  # type: ignore[arg-type]
        scope_spec=record.scope_spec,
        blind=record.blind,
        version=record.version,
        created_by=record.created_by,
        created_at=record.created_at,
        started_at=record.started_at,
        counted_at=record.counted_at,
        completed_at=record.completed_at,
        cancelled_at=record.cancelled_at,
        bins=bins,
        bins_next_cursor=next_bins,
    )


def view_out(view: CountView, caller: Caller, offset: int = 0) -> wire.StockCount:
    assert view.expected is None or can_see_expected(caller, view.count)
    return count_out(view.count, view, offset)


def submitted_bin_count(data: wire.BinCountSubmit) -> SubmittedBinCount:
    """The API's bin-count POST as the domain's bin count to check and record (the same
    type a device's closed bin folds into: server.domain.sync.fold_bin)."""
    return SubmittedBinCount(
        bin=data.bin,
        started_at=data.started_at,
        finished_at=data.finished_at,
        serials=[(s.item, s.serial) for s in data.serials],
        quantities=[(q.item, q.lot, q.quantity) for q in data.quantities],
    )


def bin_count_out(h: BinCountHeader) -> wire.BinCount:
    return wire.BinCount(
        id=h.id,
        bin=h.bin,
        counter=h.counter,
        device_id=h.device_id,
        started_at=h.started_at,
        finished_at=h.finished_at,
        counter_name=h.counter_name,
        device=h.device_name,
    )


class BinCountsBehind:
    """The bin counts behind lines and rows, with the names of who counted, from the bin
    counts the reconciliation was computed from."""

    def __init__(self, standing: StandingBinCounts) -> None:
        self.standing = standing
        self.headers = {h.id: h for h in standing.headers}
        resolved = standing.resolved
        self.conflicting = {c.bin: c.bin_count_ids for c in resolved.conflicts}
        # "device:<id>" as people know the device: by its name.
        self.display = {
            h.counter: h.counter_name or h.device_name or h.counter for h in standing.headers
        }

    def who(self, counters: Iterable[str]) -> list[str]:
        return sorted(self.display.get(c, c) for c in counters)

    def _ref(self, bc_id: str, standing: wire.BinCountStanding) -> wire.BinCountRef:
        h = self.headers[int(bc_id)]
        return wire.BinCountRef(
            id=h.id,
            bin=h.bin,
            standing=standing,
            finished_at=h.finished_at,
            counter=h.counter_name,
            device=h.device_name,
        )

    def refs(self, *labels: str | None) -> list[wire.BinCountRef]:
        resolved = self.standing.resolved
        found: list[wire.BinCountRef] = []
        for label in dict.fromkeys(x for x in labels if x):
            effective = resolved.effective.get(label)
            if effective is not None:
                found.append(self._ref(effective.id, "effective"))
                found += [self._ref(i, "confirming") for i in resolved.confirmations.get(label, ())]
            found += [self._ref(i, "conflicting") for i in self.conflicting.get(label, ())]
        return found

    def conflict(self, c: BinCountConflict) -> wire.BinCountConflict:
        details = []
        for bc_id in c.bin_count_ids:
            h = self.headers[int(bc_id)]
            serials, quantities = self.standing.contents.get(h.id, (frozenset(), {}))
            details.append(
                wire.BinCountDetail(
                    id=h.id,
                    bin=h.bin,
                    standing="conflicting",
                    started_at=h.started_at,
                    finished_at=h.finished_at,
                    counter=h.counter_name,
                    device=h.device_name,
                    device_id=h.device_id,
                    serials=[wire.CountedSerial(item=i, serial=n) for i, n in sorted(serials)],
                    quantities=[
                        wire.CountedQuantity(item=i, lot=lot, quantity=plain(q))
                        for (i, lot), q in sorted(quantities.items())
                    ],
                )
            )
        return wire.BinCountConflict(
            bin=c.bin,
            bin_count_ids=list(c.bin_count_ids),
            counters=self.who(self.headers[int(i)].counter for i in c.bin_count_ids),
            bin_counts=details,
        )


def line_out(
    r: ReviewedLine,
    labels: Mapping[str, tuple[str, str]] | None = None,
    behind: BinCountsBehind | None = None,
) -> wire.DiscrepancyLine:
    x = r.line
    name, uom = (labels or {}).get(x.item, ("", ""))
    return wire.DiscrepancyLine(
        id=x.id,
        kind=x.kind.value,
        item=x.item,
        bin=x.bin,
        lot=x.lot,
        serial=x.serial,
        from_bin=x.from_bin,
        bins=list(x.bins),
        system_quantity=plain(x.system_quantity),
        counted_quantity=plain(x.counted_quantity),
        adjustment_quantity=plain(x.adjustment_quantity),
        stock_transfer_quantity=plain(x.stock_transfer_quantity),
        adjustment_cost=plain(x.adjustment_cost),
        adjustment_value=money(x.adjustment_value),
        stock_transfer_value=money(x.stock_transfer_value),
        counters=sorted(x.counters) if behind is None else behind.who(x.counters),
        note=x.note,
        adjustable=x.adjustable,
        selected=r.selected,
        needs_approval=r.needs_approval,
        approved_by=r.approved_by,
        reason_code=r.reason_code,
        item_name=name,
        unit_of_measure=uom,
        bin_counts=[] if behind is None else behind.refs(x.bin, x.from_bin, *x.bins),
    )


def row_out(
    r: ReviewedProfileLine, labels: Mapping[str, tuple[str, str]], behind: BinCountsBehind
) -> wire.ReviewRow:
    p = r.row
    name, uom = labels.get(p.item, ("", ""))
    return wire.ReviewRow(
        item=p.item,
        item_name=name,
        unit_of_measure=uom,
        bin=p.bin,
        lot=p.lot,
        system_quantity=plain(p.system_quantity),
        counted_quantity=plain(p.counted_quantity),
        adjustment_quantity=plain(p.adjustment_quantity),
        stock_transfer_quantity=plain(p.stock_transfer_quantity),
        adjustment_cost=plain(p.adjustment_cost),
        adjustment_value=money(p.adjustment_value),
        stock_transfer_value=money(p.stock_transfer_value),
        needs_approval=r.needs_approval,
        lines=[line_out(x, labels, behind) for x in r.lines],
        bin_counts=behind.refs(p.bin),
    )


def names(refs: Sequence[wire.BinCountRef]) -> str:
    """Who counted, for a CSV cell: "rita on HH-01 (effective); ..."."""
    parts = []
    for b in refs:
        who = " on ".join(x for x in (b.counter, b.device) if x) or "?"
        parts.append(f"{b.id}: {who} ({b.standing})")
    return "; ".join(parts)


REVIEW_COLUMNS = (
    "row", "line_id", "kind", "item", "item_name", "unit_of_measure", "bin", "lot", "serial",
    "from_bin", "system_quantity", "counted_quantity", "adjustment_quantity",
    "stock_transfer_quantity", "adjustment_cost", "adjustment_value", "stock_transfer_value",
    "selected", "needs_approval", "approved_by", "reason_code", "bin_counts", "note",
)  # fmt: skip


def review_rows_csv(rows: Sequence[wire.ReviewRow]) -> Iterable[Sequence[object]]:
    """Each profile row, then its lines beneath it (`row` is the row's number on both)."""
    for n, r in enumerate(rows, 1):
        yield [
            n, "", "item_bin", r.item, r.item_name, r.unit_of_measure, r.bin, r.lot, "", "",
            r.system_quantity, r.counted_quantity, r.adjustment_quantity,
            r.stock_transfer_quantity, r.adjustment_cost, r.adjustment_value,
            r.stock_transfer_value, "", r.needs_approval, "", "", names(r.bin_counts), "",
        ]  # fmt: skip
        for x in r.lines:
            yield [
                n, x.id, x.kind, x.item, x.item_name, x.unit_of_measure, x.bin, x.lot, x.serial,
                x.from_bin, x.system_quantity, x.counted_quantity, x.adjustment_quantity,
                x.stock_transfer_quantity, x.adjustment_cost, x.adjustment_value,
                x.stock_transfer_value, x.selected, x.needs_approval, x.approved_by,
                x.reason_code, names(x.bin_counts), x.note,
            ]  # fmt: skip


VARIANCE_COLUMNS = (
    "id", "kind", "item", "bin", "lot", "serial", "from_bin", "system_quantity",
    "counted_quantity", "adjustment_quantity", "stock_transfer_quantity", "adjustment_cost",
    "adjustment_value", "stock_transfer_value", "selected", "needs_approval", "approved_by",
    "reason_code", "note", "item_name", "unit_of_measure", "bin_counts",
)  # fmt: skip


def variance_rows(lines: Sequence[wire.DiscrepancyLine]) -> Iterable[Sequence[object]]:
    for x in lines:
        yield [
            x.id, x.kind, x.item, x.bin, x.lot, x.serial, x.from_bin, x.system_quantity,
            x.counted_quantity, x.adjustment_quantity, x.stock_transfer_quantity,
            x.adjustment_cost, x.adjustment_value, x.stock_transfer_value, x.selected,
            x.needs_approval, x.approved_by, x.reason_code, x.note, x.item_name,
            x.unit_of_measure, names(x.bin_counts),
        ]  # fmt: skip


def document_out(d: CountDocument, *, draft: bool = False) -> wire.Document:
    return wire.Document(
        kind=d.kind,  # type: ignore[arg-type]
        number=d.number,
        count=d.count,
        location=d.location,
        created_by=d.created_by,
        created_at=d.created_at,
        total_value=money(d.total_value),
        lines=[
            wire.DocumentLine(
                line_no=x.line_no,
                item=x.item,
                bin=x.bin,
                from_bin=x.from_bin,
                lot=x.lot,
                serial=x.serial,
                generate_serials=x.generate_serials,
                adjustment_quantity=plain(x.adjustment_quantity),
                stock_transfer_quantity=plain(x.stock_transfer_quantity),
                adjustment_cost=plain(x.adjustment_cost),
                adjustment_value=money(x.adjustment_value),
                stock_transfer_value=money(x.stock_transfer_value),
                source_line_id=x.source_line_id,
            )
            for x in d.lines
        ],
        gl_lines=[
            wire.GlLine(
                line_no=g.line_no, account=g.account, entity=g.entity, amount=money(g.amount)
            )
            for g in d.gl_lines
        ],
        draft=draft,
    )


DOCUMENT_COLUMNS = (
    "document", "kind", "count", "location", "line_no", "item", "bin", "from_bin", "lot",
    "serial", "generate_serials", "adjustment_quantity", "stock_transfer_quantity",
    "adjustment_cost", "adjustment_value", "stock_transfer_value",
)  # fmt: skip


def document_rows(docs: Sequence[wire.Document]) -> Iterable[Sequence[object]]:
    """Rows of documents as the JSON answer has them (decimals already formatted)."""
    for d in docs:
        for x in d.lines:
            yield [
                d.number, d.kind, d.count, d.location, x.line_no, x.item, x.bin, x.from_bin,
                x.lot, x.serial, x.generate_serials, x.adjustment_quantity,
                x.stock_transfer_quantity, x.adjustment_cost, x.adjustment_value,
                x.stock_transfer_value,
            ]  # fmt: skip


def finalize_out(result: FinalizeResult, *, draft: bool) -> wire.FinalizeResult:
    return wire.FinalizeResult(
        count=count_out(result.count),
        warning=result.warning,
        documents=[document_out(d, draft=draft) for d in result.documents],
        not_counted_bins=list(result.not_counted_bins),
    )


# -- reason codes, bulk review, the no-tolerance notice ---------------------------------


def tolerance_notice(location: str, rules: ToleranceRules) -> str | None:
    """Said on the reconciliation when nothing can be approved automatically."""
    if rules.configured:
        return None
    return (
        f"No tolerances are set for location {location}: every discrepancy needs a "
        "supervisor's approval (or clearing) before finalize"
    )


def line_filter_of(data: wire.BulkReviewFilter) -> LineFilter:
    kind = None
    if data.kind:
        try:
            kind = LineKind(data.kind)
        except ValueError:
            allowed = ", ".join(k.value for k in LineKind)
            raise ValidationFailed(
                f"filter kind must be one of {allowed}, not {data.kind!r}",
                [FieldProblem("filter/kind", f"one of {allowed}")],
            ) from None
    if data.max_value is not None and data.max_value < 0:
        raise ValidationFailed(
            "max_value must not be negative", [FieldProblem("filter/max_value", "negative")]
        )
    return LineFilter(
        kind=kind,
        bin=data.bin or None,
        item=data.item or None,
        max_value=data.max_value,
        above_tolerance=data.above_tolerance,
    )


def bulk_out(result: BulkDecision) -> wire.BulkReviewResult:
    return wire.BulkReviewResult(
        action=result.action.value,
        changed=[x.line.id for x in result.changed],
        unchanged=[x.line.id for x in result.unchanged],
    )
