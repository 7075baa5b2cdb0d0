"""The supervisor's decisions on many discrepancy lines at once: approve, clear or select.

One rule for one line and for a thousand: every line chosen (by id, or by a LineFilter)
is decided, or none is. The problems of every line that cannot be decided are gathered
and raised together, so the supervisor sees the whole list in one answer. A decision that
leaves a line as it was (clearing a cleared line) is no change and is reported as such.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from server.domain.counting.reasons import ReasonCode, code_problem, fitting, reason_problem
from server.domain.counting.reconciliation import DiscrepancyLine, LineKind
from server.domain.counting.review import Approval, Review, check_approver
from server.domain.errors import (
    Conflict,
    FieldProblem,
    NotFound,
    PermissionDenied,
    StockcountError,
    ValidationFailed,
)

_MAX_PROBLEMS = 100


class ReviewAction(StrEnum):
    APPROVE = "approve"
    CLEAR = "clear"  # not adjusted
    SELECT = "select"  # adjusted again


@dataclass(frozen=True, slots=True)
class LineFilter:
    """Which lines: every criterion given must hold (none given: every line).

    `bin` matches the line's bin, its source bin or any bin it concerns; `max_value` is
    the line's absolute Adjustment Value plus its Stock Transfer Value, at or under;
    `above_tolerance` True: only lines that need approval, False: only those within.
    """

    kind: LineKind | None = None
    bin: str | None = None
    item: str | None = None
    max_value: Decimal | None = None
    above_tolerance: bool | None = None

    def matches(self, line: DiscrepancyLine, needs_approval: bool = False) -> bool:
        if self.kind is not None and line.kind is not self.kind:
            return False
        if self.bin and self.bin not in (line.bin, line.from_bin) and self.bin not in line.bins:
            return False
        if self.item and line.item != self.item:
            return False
        if self.max_value is not None and line_value(line) > self.max_value:
            return False
        return self.above_tolerance is None or self.above_tolerance is needs_approval


def line_value(line: DiscrepancyLine) -> Decimal:
    return abs(line.adjustment_value) + line.stock_transfer_value


@dataclass(frozen=True, slots=True)
class LineDecision:
    """A line's state after the decision, and whether the decision changed it."""

    line: DiscrepancyLine
    cleared: bool
    approval: Approval | None
    changed: bool


def choose_lines(
    lines: Sequence[DiscrepancyLine],
    *,
    line_ids: Sequence[str] | None = None,
    where: LineFilter | None = None,
    need: frozenset[str] = frozenset(),
) -> list[DiscrepancyLine]:
    """The lines a decision is about: by id (every id must exist; listed order, once
    each), or the adjustable lines that match the filter (exceptions are never decided)."""
    if line_ids is not None:
        by_id = {x.id: x for x in lines}
        unknown = [i for i in dict.fromkeys(line_ids) if i not in by_id]
        if unknown:
            raise NotFound(
                f"the count has no discrepancy line {unknown[0]}"
                + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""),
                [FieldProblem(f"line_ids/{i}", "no such line") for i in unknown[:_MAX_PROBLEMS]],
            )
        return [by_id[i] for i in dict.fromkeys(line_ids)]
    chosen = where or LineFilter()
    return [x for x in lines if x.adjustable and chosen.matches(x, x.id in need)]


def decide_lines(
    lines: Sequence[DiscrepancyLine],
    review: Review,
    action: ReviewAction,
    user: str,
    reason_code: str = "",
    reason_codes: Mapping[str, ReasonCode] | None = None,
) -> list[LineDecision]:
    """Every line's new state, or one error listing every line that cannot take the
    decision (the worst kind wins: conflict, then forbidden, then invalid)."""
    codes = reason_codes or {}
    code = reason_code.strip()
    if action is ReviewAction.APPROVE:
        _check_code(code, codes, {x.kind for x in lines})
    # One line: the problem names the request's field; many: each line's.
    where = "reason_code" if len(lines) == 1 else "lines/{}/reason_code"
    decisions: list[LineDecision] = []
    failures: list[StockcountError] = []
    for line in lines:
        cleared = line.id in review.cleared
        current = review.approvals.get(line.id)
        try:
            if action is ReviewAction.APPROVE:
                check_approver(line, user)
                problem = reason_problem(code, line.kind, codes)
                if problem is not None:
                    raise ValidationFailed(
                        "the reason code cannot approve this line",
                        [FieldProblem(where.format(line.id), problem)],
                    )
            elif not line.adjustable:
                raise Conflict(
                    "an exception or conflict is never adjusted: there is nothing to "
                    "select or clear",
                    [FieldProblem(f"lines/{line.id}", line.note or line.kind.value)],
                )
        except StockcountError as exc:
            failures.append(exc)
            continue
        if action is ReviewAction.APPROVE:
            granted = Approval(line.id, user, code)
            decisions.append(LineDecision(line, False, granted, cleared or current != granted))
        else:
            want = action is ReviewAction.CLEAR
            decisions.append(LineDecision(line, want, current, want != cleared))
    if failures:
        raise _combined(failures, action)
    return decisions


def _check_code(code: str, codes: Mapping[str, ReasonCode], kinds: set[LineKind]) -> None:
    """A code that could approve no line at all: one problem for the whole request,
    naming the codes that would fit (the active ones, when the lines are of many kinds)."""
    why = code_problem(code, codes)
    if why is None:
        return
    if len(kinds) == 1:
        (kind,) = kinds
        would = f"codes that fit a {kind.value} line: " + (
            ", ".join(fitting(kind, codes.values())) or "none"
        )
    else:
        would = "active codes: " + (
            ", ".join(sorted(c.code for c in codes.values() if c.active)) or "none"
        )
    raise ValidationFailed(
        "an approval needs an active reason code of the list",
        [FieldProblem("reason_code", f"{why}; {would}")],
    )


def _combined(failures: list[StockcountError], action: ReviewAction) -> StockcountError:
    if len(failures) == 1:
        return failures[0]
    details = [d for f in failures for d in f.details][:_MAX_PROBLEMS]
    verb = {"approve": "approved", "clear": "cleared", "select": "selected"}[action.value]
    message = f"{len(failures)} lines cannot be {verb}: nothing was changed"
    for kind in (Conflict, PermissionDenied):
        if any(isinstance(f, kind) for f in failures):
            return kind(message, details)
    return ValidationFailed(message, details)
