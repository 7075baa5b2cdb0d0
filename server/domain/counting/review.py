"""Supervisor review: select or clear lines, tolerances, approvals, the profile's summary.

Every adjustable line starts selected (the seed's browser: select what you want adjusted,
clear what you do not). Tolerances and approvals decide whether a selected line may be
posted; exceptions and conflicts are never posted.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from server.domain.counting.model import BinLabel, ItemCode
from server.domain.counting.reasons import ReasonCode, reason_problem
from server.domain.counting.reconciliation import DiscrepancyLine, Reconciliation
from server.domain.errors import Conflict, FieldProblem, PermissionDenied, ValidationFailed
from server.domain.money import ZERO, weighted_average

HUNDRED = Decimal(100)
GroupKey = tuple[ItemCode, BinLabel, str]  # (item, bin, lot): one line of the count profile


@dataclass(frozen=True, slots=True)
class ToleranceRules:
    """A location's tolerances. A variance is approved automatically when it is at or
    within every limit that is set; a limit of None is not checked.

    Judged per item, bin and lot (the count profile's line), on gross figures: a serial
    written off and another gained in the same bin are two units of difference, not zero,
    and transfers count with their value, because a finance user wants a surprise to be
    looked at even when it nets out. With no limit set at all nothing is auto-approved.
    """

    quantity: Decimal | None = None
    percent: Decimal | None = None
    value: Decimal | None = None

    @property
    def configured(self) -> bool:
        return self.quantity is not None or self.percent is not None or self.value is not None


@dataclass(frozen=True, slots=True)
class Approval:
    line_id: str
    approved_by: str
    reason_code: str


@dataclass(frozen=True, slots=True)
class Review:
    """The supervisor's decisions on a reconciliation, keyed by line id."""

    cleared: frozenset[str] = frozenset()
    approvals: Mapping[str, Approval] = field(default_factory=dict)


def group_key(line: DiscrepancyLine) -> GroupKey:
    return (line.item, line.bin, line.lot)


def within_tolerance(lines: Sequence[DiscrepancyLine], rules: ToleranceRules) -> bool:
    """Whether one profile line's discrepancies are inside every configured limit."""
    if not rules.configured:
        return False
    quantity = sum((abs(x.adjustment_quantity) + x.stock_transfer_quantity for x in lines), ZERO)
    value = sum((abs(x.adjustment_value) + x.stock_transfer_value for x in lines), ZERO)
    return _within(quantity, value, lines[0].system_quantity, rules)


def _within(quantity: Decimal, value: Decimal, system: Decimal, rules: ToleranceRules) -> bool:
    """`within_tolerance` from a profile line's gross quantity and value and its system
    quantity."""
    if rules.quantity is not None and quantity > rules.quantity:
        return False
    if rules.value is not None and value > rules.value:
        return False
    # Nothing expected: any difference is infinitely many percent.
    return rules.percent is None or (
        system != ZERO and quantity * HUNDRED / system <= rules.percent
    )


def lines_needing_approval(recon: Reconciliation, rules: ToleranceRules) -> frozenset[str]:
    """Ids of adjustable lines above tolerance: they need a supervisor's reasoned approval."""
    if not rules.configured:  # nothing is within tolerance
        return frozenset(x.id for x in recon.lines if x.adjustable)
    # Most profile rows have one line: a list is made only for a row with more (25,000
    # lines at a million serials, not 25,000 lists kept until the end).
    first: dict[GroupKey, DiscrepancyLine] = {}
    more: dict[GroupKey, list[DiscrepancyLine]] = {}
    for line in recon.lines:
        if line.adjustable:
            key = (line.item, line.bin, line.lot)  # group_key, inline: 25,000 calls
            found = first.get(key)
            if found is None:
                first[key] = line
            elif key in more:
                more[key].append(line)
            else:
                more[key] = [found, line]
    need: set[str] = set()
    for key, line in first.items():
        lines = more.get(key)
        if lines is None:  # one line: its own figures, no sums
            quantity = abs(line.adjustment_quantity) + line.stock_transfer_quantity
            value = abs(line.adjustment_value) + line.stock_transfer_value
            if not _within(quantity, value, line.system_quantity, rules):
                need.add(line.id)
        elif not within_tolerance(lines, rules):
            need.update(x.id for x in lines)
    return frozenset(need)


def check_approver(line: DiscrepancyLine, user: str) -> None:
    """Whether `user` may approve the line at all. Segregation of duties: nobody approves
    a discrepancy in a bin they counted themselves; exceptions and conflicts never."""
    if not line.adjustable:
        raise Conflict(
            "an exception or conflict cannot be approved: resolve it first",
            [FieldProblem(f"lines/{line.id}", line.note or line.kind.value)],
        )
    if user in line.counters:
        raise PermissionDenied(
            "you counted a bin of this discrepancy: another supervisor must approve it",
            [FieldProblem(f"lines/{line.id}", f"counted by {user}")],
        )


def approve(
    line: DiscrepancyLine, user: str, reason_code: str, reason_codes: Mapping[str, ReasonCode]
) -> Approval:
    """A supervisor's approval of one line, with a reason code of the list that is active
    and fits the line's kind (the problem names the codes that would fit)."""
    check_approver(line, user)
    if not reason_code.strip():
        raise ValidationFailed(
            "an approval needs a reason code", [FieldProblem("reason_code", "required")]
        )
    problem = reason_problem(reason_code, line.kind, reason_codes)
    if problem is not None:
        raise ValidationFailed(
            "the reason code cannot approve this line", [FieldProblem("reason_code", problem)]
        )
    return Approval(line_id=line.id, approved_by=user, reason_code=reason_code.strip())


def lines_to_adjust(
    recon: Reconciliation,
    review: Review,
    rules: ToleranceRules,
    need: frozenset[str] | None = None,
) -> tuple[DiscrepancyLine, ...]:
    """The lines finalize posts: adjustable, not cleared, and within tolerance or approved.

    A selected line above tolerance without a valid approval stops finalize (Conflict
    listing them): silently skipping it would post a count the supervisor never saw whole.
    An approval by someone who counted the bin (a recount may have added them) is void.
    `need`: `lines_needing_approval(recon, rules)` when the caller keeps it (it depends on
    the reconciliation and the tolerances only, not on the review).
    """
    if need is None:
        need = lines_needing_approval(recon, rules)
    chosen: list[DiscrepancyLine] = []
    problems: list[FieldProblem] = []
    for line in recon.lines:
        if not line.adjustable or line.id in review.cleared:
            continue
        if line.id in need:
            approval = review.approvals.get(line.id)
            if approval is None or approval.approved_by in line.counters:
                problems.append(FieldProblem(f"lines/{line.id}", "needs approval or clearing"))
                continue
        chosen.append(line)
    if problems:
        raise Conflict(
            f"{len(problems)} line(s) above tolerance are neither approved nor cleared",
            problems[:100],
            code="approval-required",
        )
    return tuple(chosen)


@dataclass(frozen=True, slots=True)
class ProfileLine:
    """The Stock Count profile's row for an item in a bin (and lot), with its lines.

    The seed's columns are over the row's lines that finalize would adjust (adjustable and
    selected). Adjustment Cost is the weighted average of the actual costs of the serials
    concerned (written off, gained or transferred), as the seed says. Adjustment Value is
    the sum of the lines' values: it equals Adjustment Quantity x Adjustment Cost whenever
    the bin's serials all go one way; when a bin both loses and gains serials the net
    quantity times an average cannot be right, and the sum of the posted lines is what the
    GL carries. `line_ids` are every line of the row, exceptions and cleared lines too.
    """

    item: ItemCode
    bin: BinLabel
    lot: str
    system_quantity: Decimal
    counted_quantity: Decimal
    adjustment_quantity: Decimal
    stock_transfer_quantity: Decimal
    adjustment_cost: Decimal
    adjustment_value: Decimal
    stock_transfer_value: Decimal
    line_ids: tuple[str, ...]


def profile_groups(lines: Iterable[DiscrepancyLine]) -> list[tuple[DiscrepancyLine, ...]]:
    """The lines of each row of the profile: by item, bin and lot, in that order."""
    groups: dict[GroupKey, list[DiscrepancyLine]] = {}
    for line in lines:
        groups.setdefault(group_key(line), []).append(line)
    return [tuple(group) for _, group in sorted(groups.items(), key=lambda x: x[0])]


def profile_line(
    group: Sequence[DiscrepancyLine], cleared: Collection[str] = frozenset()
) -> ProfileLine:
    """The row of one item, bin and lot (`group`: its lines, as `profile_groups` gives
    them) over its lines not `cleared`: it depends on the clearings of its own lines only."""
    item, label, lot = group_key(group[0])
    posted = [x for x in group if x.adjustable and x.id not in cleared]
    weights = [
        (abs(x.adjustment_quantity) + x.stock_transfer_quantity, x.adjustment_cost) for x in posted
    ]
    return ProfileLine(
        item=item,
        bin=label,
        lot=lot,
        system_quantity=group[0].system_quantity,
        counted_quantity=group[0].counted_quantity,
        adjustment_quantity=sum((x.adjustment_quantity for x in posted), ZERO),
        stock_transfer_quantity=sum((x.stock_transfer_quantity for x in posted), ZERO),
        adjustment_cost=weighted_average(weights),
        adjustment_value=sum((x.adjustment_value for x in posted), ZERO),
        stock_transfer_value=sum((x.stock_transfer_value for x in posted), ZERO),
        line_ids=tuple(x.id for x in group),
    )


def profile_lines(
    lines: Iterable[DiscrepancyLine], cleared: Collection[str] = frozenset()
) -> list[ProfileLine]:
    """One row per item, bin and lot of `lines` (in that order), over the lines not
    `cleared`."""
    return [profile_line(group, cleared) for group in profile_groups(lines)]
