"""Supervisor review of a stock count, and finalize (the preview of its documents:
server.counts.usecases.preview).

Finalize (seed 000): the count is read and the domain decides once on its status
(decide_finalize: go on, go on with the seed's warning, ask for confirmation, or refuse).
Then ONE transaction: the count's row is claimed first with a conditional UPDATE to
Completed from the status decided on, the reconciliation, review and tolerances are read,
the domain builds and posts both documents, the documents are inserted (UNIQUE per count
and kind), the postings written through server.db.posting, and the answer is the
documents the domain built (nothing is read back). Two racing finalizes: one claims the
row, the other finds the count no longer in the status it decided on and is refused;
nothing of the loser is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from functools import cached_property

from server.counts.ports import (
    CountRecord,
    CountsTransaction,
    DocumentsUnitOfWork,
    FinalizeUnitOfWork,
    LineReview,
    ReviewUnitOfWork,
    TolerancesUnitOfWork,
)
from server.counts.usecases.bulk import collector_paused
from server.counts.usecases.counting import (
    StandingBinCounts,
    claim,
    load_count,
    reconciliation_and_bin_counts,
    reconciliation_of,
    under_review,
)
from server.domain.auth import Caller
from server.domain.counting import (
    DOCUMENT_KINDS,
    CountDocument,
    CountStatus,
    DiscrepancyLine,
    FinalizeFacts,
    LineDecision,
    LineFilter,
    LineKind,
    ProfileLine,
    Reconciliation,
    Review,
    ReviewAction,
    ToleranceRules,
    choose_lines,
    decide_finalize,
    decide_lines,
    finalize_count,
    generated_serial_prefix,
    lines_needing_approval,
    profile_groups,
    profile_line,
)
from server.domain.counting.model import status_label
from server.domain.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from server.domain.money import ZERO, check_cost, check_quantity
from server.ports import AuditAction, AuditEntry, FrozenBinsJudged, PostingContext

JOURNAL_NAME = "STOCK COUNT"


@dataclass(frozen=True, slots=True)
class ReviewedLine:
    line: DiscrepancyLine
    selected: bool  # not cleared (exceptions and conflicts are never adjusted)
    needs_approval: bool
    approved_by: str | None
    reason_code: str | None


@dataclass(frozen=True, slots=True)
class ReviewedReconciliation:
    count: CountRecord
    reconciliation: Reconciliation
    lines: Sequence[ReviewedLine]  # filtered and paged
    total: int  # lines matching the filters
    bin_counts: StandingBinCounts  # who counted what: the bin counts behind the lines
    item_labels: Mapping[str, tuple[str, str]]  # name and unit of measure of the lines' items
    # The location's tolerances: none configured means every discrepancy needs approval.
    tolerances: ToleranceRules = field(default_factory=ToleranceRules)


@dataclass(frozen=True, slots=True)
class ReviewedProfileLine:
    """A row of the Stock Count profile (per item, bin and lot) with its lines."""

    row: ProfileLine
    lines: Sequence[ReviewedLine]

    @property
    def needs_approval(self) -> bool:
        return any(x.needs_approval and x.selected and x.approved_by is None for x in self.lines)


@dataclass(frozen=True, slots=True)
class ReviewedProfile:
    count: CountRecord
    reconciliation: Reconciliation
    rows: Sequence[ReviewedProfileLine]  # filtered and paged
    total: int  # rows matching the filters
    bin_counts: StandingBinCounts
    item_labels: Mapping[str, tuple[str, str]]
    tolerances: ToleranceRules = field(default_factory=ToleranceRules)


@dataclass(frozen=True, slots=True)
class FinalizeResult:
    count: CountRecord
    warning: str | None
    documents: Sequence[CountDocument]
    not_counted_bins: Sequence[str]


# -- reconciliation with review --------------------------------------------------------


class _Base:
    """What the review's reads derive from a reconciliation and the tolerances alone: the
    lines above tolerance, and when first asked (a read of the reconciliation needs the
    first only) the lines by id, the profile's rows' lines (`profile_groups`) and the row
    of each line, and the rows each filter keeps (by position: a few filters, the review
    page's)."""

    def __init__(self, recon: Reconciliation, rules: ToleranceRules) -> None:
        self.recon = recon  # held, so its identity is not reused while the entry lives
        self.rules = rules
        self.need = lines_needing_approval(recon, rules)
        self.matching: dict[LineFilter, tuple[int, ...]] = {}

    @cached_property
    def by_id(self) -> Mapping[str, DiscrepancyLine]:
        return self.recon.by_id()

    @cached_property
    def groups(self) -> tuple[tuple[DiscrepancyLine, ...], ...]:
        return tuple(profile_groups(self.recon.lines))

    @cached_property
    def row_of(self) -> Mapping[str, int]:
        return {x.id: i for i, group in enumerate(self.groups) for x in group}

    def rows_matching(self, where: LineFilter) -> tuple[int, ...]:
        found = self.matching.get(where)
        if found is None:
            need = self.need
            found = tuple(
                i
                for i, group in enumerate(self.groups)
                if any(where.matches(x, x.id in need) for x in group)
            )
            if len(self.matching) >= 16:
                self.matching.clear()
            self.matching[where] = found
        return found


class _Derived:
    """The profile of one reconciliation, tolerances and clearings, made when first asked
    (from the rows of `previous`, the same reconciliation's entry with other clearings,
    when that one has made its rows: a row depends on the clearings of its own lines)."""

    def __init__(self, base: _Base, cleared: frozenset[str], previous: _Derived | None) -> None:
        self.base = base
        self.cleared = cleared
        self._previous = previous if previous is not None and previous.made else None
        self._profile: tuple[ProfileLine, ...] | None = None

    @property
    def made(self) -> bool:
        return self._profile is not None

    @property
    def need(self) -> frozenset[str]:
        return self.base.need

    @property
    def by_id(self) -> Mapping[str, DiscrepancyLine]:
        return self.base.by_id

    @property
    def profile(self) -> tuple[ProfileLine, ...]:
        if self._profile is None:
            base, last = self.base, self._previous
            if last is not None and last._profile is not None:
                rows = list(last._profile)
                changed = self.cleared ^ last.cleared
                for i in {base.row_of[x] for x in changed if x in base.row_of}:
                    rows[i] = profile_line(base.groups[i], self.cleared)
                self._profile = tuple(rows)
            else:
                self._profile = tuple(profile_line(group, self.cleared) for group in base.groups)
            self._previous = None
        return self._profile

    def rows_matching(self, where: LineFilter) -> tuple[ProfileLine, ...]:
        """The profile rows with a line that matches `where`: every row for no filter."""
        if where == LineFilter():
            return self.profile
        profile = self.profile
        return tuple(profile[i] for i in self.base.rows_matching(where))


class _DerivedMemo:
    """The profile rows (and those each filter keeps) and the lines above tolerance of the
    last few reconciliations.
    Both are pure functions of the reconciliation, the supervisor's clearings and the
    tolerances: a reconciliation is immutable and the process's cache makes a new one for
    each version of the count, so an entry matches only the very object it was computed
    from, with equal clearings and tolerances. Each part is made when a read first needs
    it (the lines above tolerance at once; the rows once, for the rows' reads). A row
    depends on the clearings of its own lines only (`profile_line`): after a decision only
    the rows of the lines whose clearing changed are made again, from the last entry of
    the same reconciliation and tolerances. A race at worst computes one twice."""

    def __init__(self, size: int = 4) -> None:
        self._size = size
        self._entries: list[_Derived] = []

    def get(
        self, recon: Reconciliation, cleared: frozenset[str], rules: ToleranceRules
    ) -> _Derived:
        same_base = [e for e in self._entries if e.base.recon is recon and e.base.rules == rules]
        for entry in same_base:
            if entry.cleared == cleared:
                return entry
        if same_base:
            entry = _Derived(same_base[0].base, cleared, same_base[0])
        else:
            entry = _Derived(_Base(recon, rules), cleared, None)
        self._entries = [entry, *self._entries[: self._size - 1]]
        return entry


_DERIVED = _DerivedMemo()


@dataclass(frozen=True, slots=True)
class _UnderReview:
    """What every read of the review loads once: the count, its reconciliation and the
    bin counts behind it, the supervisor's decisions and the location's tolerances."""

    count: CountRecord
    recon: Reconciliation
    standing: StandingBinCounts
    review: Review
    rules: ToleranceRules

    @classmethod
    async def load(cls, uow: ReviewUnitOfWork, number: str) -> _UnderReview:
        count = await load_count(uow, number)
        recon, standing = await reconciliation_and_bin_counts(uow, count)
        review = await uow.reviews.review(count.id)
        return cls(count, recon, standing, review, await uow.reviews.tolerances(count.location_id))

    def needing_approval(self) -> frozenset[str]:
        """Ids of the lines above tolerance: one pass over the whole reconciliation, so a
        read that reviews several rows asks once (not once per row)."""
        return _DERIVED.get(self.recon, self.review.cleared, self.rules).need

    def reviewed(
        self, lines: Sequence[DiscrepancyLine], need: frozenset[str] | None = None
    ) -> list[ReviewedLine]:
        if need is None:
            need = self.needing_approval()
        return [_reviewed(x, self.review, need) for x in lines]


async def reviewed_reconciliation(
    uow: ReviewUnitOfWork,
    number: str,
    *,
    kind: str | None = None,
    bin_label: str | None = None,
    item: str | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> ReviewedReconciliation:
    where = _line_filter(kind, bin_label, item)
    async with uow:
        got = await _UnderReview.load(uow, number)
        lines = got.recon.lines
        # No filter: every line, without a call of `matches` for each.
        chosen = lines if where == LineFilter() else [x for x in lines if where.matches(x)]
        page = chosen[offset : None if limit is None else offset + limit]
        labels = await uow.reviews.item_labels({x.item for x in page if x.item})
    return ReviewedReconciliation(
        got.count,
        got.recon,
        got.reviewed(page),
        len(chosen),
        got.standing,
        labels,
        tolerances=got.rules,
    )


async def reviewed_rows(
    uow: ReviewUnitOfWork,
    number: str,
    *,
    kind: str | None = None,
    bin_label: str | None = None,
    item: str | None = None,
    above_tolerance: bool | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> ReviewedProfile:
    """The Stock Count profile: a row per item, bin and lot with the seed's columns over
    the lines finalize would adjust, and every line beneath it. The filters keep the rows
    with a line that matches (`above_tolerance` True: a line that needs approval)."""
    where = replace(_line_filter(kind, bin_label, item), above_tolerance=above_tolerance)
    async with uow:
        got = await _UnderReview.load(uow, number)
        derived = _DERIVED.get(got.recon, got.review.cleared, got.rules)
        need, by_id = derived.need, derived.by_id
        chosen = derived.rows_matching(where)
        page = chosen[offset : None if limit is None else offset + limit]
        labels = await uow.reviews.item_labels({x.item for x in page if x.item})
    rows = [
        ReviewedProfileLine(r, got.reviewed([by_id[i] for i in r.line_ids], need)) for r in page
    ]
    return ReviewedProfile(
        got.count, got.recon, rows, len(chosen), got.standing, labels, tolerances=got.rules
    )


def _line_filter(kind: str | None, bin_label: str | None, item: str | None) -> LineFilter:
    if kind and kind not in {k.value for k in LineKind}:
        allowed = ", ".join(k.value for k in LineKind)
        raise ValidationFailed(f"kind must be one of {allowed}, not {kind!r}")
    return LineFilter(kind=LineKind(kind) if kind else None, bin=bin_label, item=item)


def _reviewed(line: DiscrepancyLine, review: Review, need: frozenset[str]) -> ReviewedLine:
    key = line.id
    approval = review.approvals.get(key)
    # Positional (a page may hold every line of the count: 25,000 at a million serials).
    return ReviewedLine(
        line,
        line.adjustable and key not in review.cleared,  # selected
        key in need,  # needs_approval
        None if approval is None else approval.approved_by,
        None if approval is None else approval.reason_code,
    )


@dataclass(frozen=True, slots=True)
class BulkDecision:
    """What one review decision did: the lines it changed, and those already so."""

    action: ReviewAction
    changed: Sequence[ReviewedLine]
    unchanged: Sequence[ReviewedLine]


def review_action(action: str) -> ReviewAction:
    try:
        return ReviewAction(action)
    except ValueError:
        allowed = ", ".join(a.value for a in ReviewAction)
        raise ValidationFailed(
            f"action must be one of {allowed}, not {action!r}",
            [FieldProblem("action", f"one of {allowed}")],
        ) from None


async def decide_line(
    uow: ReviewUnitOfWork,
    caller: Caller,
    number: str,
    line_id: str,
    action: str,
    now: datetime,
    reason_code: str = "",
) -> ReviewedLine:
    """`clear` (not adjusted), `select` (adjusted again), or `approve` with a reason code:
    `review_lines` for one line (an unknown line is NotFound)."""
    done = await review_lines(
        uow, caller, number, action, now, line_ids=[line_id], reason_code=reason_code
    )
    (line,) = [*done.changed, *done.unchanged]
    return line


async def review_lines(
    uow: ReviewUnitOfWork,
    caller: Caller,
    number: str,
    action: str,
    now: datetime,
    *,
    line_ids: Sequence[str] | None = None,
    where: LineFilter | None = None,
    reason_code: str = "",
) -> BulkDecision:
    """Approve, clear or select the lines named by id or matched by the filter, all or
    nothing, in one transaction: one read of the review and of the reason codes, one
    set-based write of the lines that change."""
    assert caller.user_id is not None
    act = review_action(action)
    if (line_ids is None) == (where is None):
        raise ValidationFailed(
            "name the lines by line_ids or by a filter (one of the two)",
            [FieldProblem("line_ids", "give line_ids or filter, not both nor neither")],
        )
    async with uow:
        # A decision leaves the reconciliation as it is: the count's version stays, so no
        # process recomputes it; every reader reads the review from the database.
        count, _ = await claim(uow, number, under_review, now, keep_status=True, bump_version=False)
        recon = await reconciliation_of(uow, count)
        review = await uow.reviews.review(count.id)
        rules = await uow.reviews.tolerances(count.location_id)
        # The lines above tolerance as the reads computed them (the same reconciliation
        # object and tolerances): not one more pass over every line a decision.
        need = _DERIVED.get(recon, review.cleared, rules).need
        chosen = choose_lines(recon.lines, line_ids=line_ids, where=where, need=need)
        codes = await uow.reviews.reason_codes() if act is ReviewAction.APPROVE else {}
        decided = decide_lines(chosen, review, act, caller.name, reason_code, codes)
        await uow.reviews.set_reviews(
            count.id,
            [
                LineReview(
                    d.line.id,
                    d.cleared,
                    None if d.approval is None else d.approval.approved_by,
                    None if d.approval is None else d.approval.reason_code,
                )
                for d in decided
                if d.changed
            ],
            caller.user_id,
            now,
        )
        changed = [d.line.id for d in decided if d.changed]
        if changed:
            shown = ", ".join(changed[:20]) + (" ..." if len(changed) > 20 else "")
            await uow.audit.record(
                AuditEntry(
                    AuditAction(act.value),
                    caller.user_id,
                    now,
                    number,
                    f"{len(changed)} line(s)",
                    shown + (f" (reason {reason_code})" if reason_code else ""),
                )
            )
        await uow.commit()
    after = _after(review, decided)
    answer: dict[bool, list[ReviewedLine]] = {True: [], False: []}
    for d in decided:
        answer[d.changed].append(_reviewed(d.line, after, need))
    return BulkDecision(act, answer[True], answer[False])


def _after(review: Review, decided: Sequence[LineDecision]) -> Review:
    """The review with the decisions applied, as written (not read back)."""
    cleared = set(review.cleared)
    approvals = dict(review.approvals)
    for d in decided:
        (cleared.add if d.cleared else cleared.discard)(d.line.id)
        if d.approval is None:
            approvals.pop(d.line.id, None)
        else:
            approvals[d.line.id] = d.approval
    return Review(frozenset(cleared), approvals)


# -- tolerances ------------------------------------------------------------------------


async def get_tolerances(uow: TolerancesUnitOfWork, location: str) -> ToleranceRules:
    async with uow:
        location_id = await _location(uow, location)
        return await uow.reviews.tolerances(location_id)


async def set_tolerances(
    uow: TolerancesUnitOfWork, caller: Caller, location: str, rules: ToleranceRules, now: datetime
) -> ToleranceRules:
    problems: list[FieldProblem] = []
    for name, value, check in (
        ("quantity", rules.quantity, check_quantity),
        ("percent", rules.percent, check_quantity),
        ("value", rules.value, check_cost),
    ):
        if value is None:
            continue
        try:
            check(value, name)
            if value < ZERO:
                raise ValueError(f"{name} must not be negative")
            if name == "value" and value != value.quantize(Decimal("0.01")):
                raise ValueError("value has more than 2 decimal places")
        except ValueError as exc:
            problems.append(FieldProblem(name, str(exc)))
    if problems:
        raise ValidationFailed("the tolerances are not valid", problems)
    assert caller.user_id is not None
    async with uow:
        location_id = await _location(uow, location)
        await uow.reviews.set_tolerances(location_id, rules, caller.user_id, now)
        await uow.commit()
    return rules


async def _location(uow: TolerancesUnitOfWork, code: str) -> int:
    location_id = await uow.codes.location_id(code)
    if location_id is None:
        raise NotFound(f"location {code} does not exist")
    return location_id


# -- preview and finalize --------------------------------------------------------------


async def _facts(uow: FinalizeUnitOfWork, count: CountRecord) -> FinalizeFacts:
    """Everything finalize reads, in the caller's transaction (the preview reads these
    but the positions and taken serial numbers: server.counts.usecases.preview)."""
    recon = await reconciliation_of(uow, count)
    codes = {x.item for x in recon.lines if x.adjustable}
    # Generated numbers must not clash with a serial the item has (in stock or not) nor
    # with one the same finalize gains: both are looked up by the generated prefix only.
    prefix = generated_serial_prefix(count.number)
    generating = {x.item for x in recon.lines if x.kind is LineKind.GENERATED}
    taken = (
        await uow.count_documents.taken_serial_numbers(generating, prefix) if generating else set()
    )
    taken |= {
        (x.item, x.serial)
        for x in recon.lines
        if x.kind is LineKind.UNKNOWN and x.item in generating and x.serial.startswith(prefix)
    }
    return FinalizeFacts(
        count=count.number,
        location=count.location,
        recon=recon,
        review=await uow.reviews.review(count.id),
        rules=await uow.reviews.tolerances(count.location_id),
        gl=await uow.count_documents.gl_setup(count.location_id, codes),
        positions=await uow.count_documents.positions(count.location_id, count.location, codes),
        frozen_bins=await uow.postings.frozen_bins([count.location], count.id),
        taken_serials=taken,
    )


async def finalize(
    uow: FinalizeUnitOfWork, caller: Caller, number: str, confirm: bool, now: datetime
) -> FinalizeResult:
    """`_finalize` with the cycle collector paused (server.counts.usecases.bulk)."""
    with collector_paused():
        return await _finalize(uow, caller, number, confirm, now)


async def _finalize(
    uow: FinalizeUnitOfWork, caller: Caller, number: str, confirm: bool, now: datetime
) -> FinalizeResult:
    """Finalize and Adjust Inventory. In Counting in Process without `confirm` raises a
    Conflict (code finalize-needs-confirmation) with the seed's warning; nothing changes.

    The count is read once and the domain decides once on its status (decide_finalize);
    the second transaction claims the row only from that very status (a conditional
    UPDATE, its first statement), builds both documents in the domain, writes them and
    answers what it built. The frozen bins are read once, for the domain's `post`, which
    refuses them (the writer is told so: FrozenBinsJudged); the codes of the documents
    and of their postings are resolved once, for both."""
    assert caller.user_id is not None
    async with uow:
        seen = await load_count(uow, number)
    decision = decide_finalize(seen.status, confirmed=confirm)
    decision.go_ahead()
    async with uow:
        version = await uow.counts.claim(
            number, {seen.status}, CountStatus.COMPLETED, now, caller.user_id, bump_version=False
        )
        if version is None:
            raise await _lost_race(uow, number)
        count = replace(seen, status=CountStatus.COMPLETED, completed_at=now, version=version)
        facts = await _facts(uow, count)
        done = finalize_count(facts)
        documents = done.documents(caller.name, now)
        postings = (done.adjustment_posting, done.transfer_posting)
        ids = await uow.postings.resolve(
            postings,
            items={x.item for d in documents for x in d.lines},
            bins={
                (count.location, label)
                for d in documents
                for x in d.lines
                for label in (x.bin, x.from_bin)
                if label is not None
            },
        )
        made = await uow.count_documents.add_documents(count, caller.user_id, documents, ids)
        for document, result in zip(documents, postings, strict=True):
            context = PostingContext(
                document_kind=document.kind,
                document_id=made[document.kind],
                document_number=document.number,
                posted_at=now,
                posting_date=now.date(),
                journal_name=JOURNAL_NAME,
                frozen_bins_judged=FrozenBinsJudged(count.id),
            )
            await uow.postings.apply(result, context, ids)
        await uow.counts.add_event(
            count.id,
            "completed",
            "Completed: " + " and ".join(d.number for d in documents),
            caller.user_id,
            now,
        )
        await uow.audit.record(
            AuditEntry(
                AuditAction.FINALIZE,
                caller.user_id,
                now,
                number,
                detail="Completed: " + " and ".join(d.number for d in documents),
            )
        )
        await uow.commit()
    return FinalizeResult(count, decision.warning, documents, facts.recon.not_counted_bins)


async def _lost_race(uow: CountsTransaction, number: str) -> Conflict:
    """The count left the status finalize decided on before its claim (a racing
    finalize completed it): the refusal names the status it is in now."""
    count = await load_count(uow, number)
    return Conflict(
        f"cannot finalize a stock count that is {status_label(count.status)}: it changed "
        "while finalizing",
        [FieldProblem("status", count.status.value)],
        code="count-status",
    )


# -- documents -------------------------------------------------------------------------


async def documents_of(uow: DocumentsUnitOfWork, number: str) -> Sequence[CountDocument]:
    async with uow:
        count = await load_count(uow, number)
        return await uow.count_documents.documents(count.id)


async def document(uow: DocumentsUnitOfWork, kind: str, number: str) -> CountDocument:
    if kind not in DOCUMENT_KINDS:
        raise NotFound(f"there are no documents of kind {kind!r}: {', '.join(DOCUMENT_KINDS)}")
    async with uow:
        found = await uow.count_documents.document(kind, number)
    if found is None:
        raise NotFound(f"{kind.replace('_', ' ')} {number} does not exist")
    return found
