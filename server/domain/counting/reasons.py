"""Reason codes: the managed list a supervisor picks from when approving a discrepancy.

A ReasonCode has a code, a description, the line kinds it fits (none listed: every
adjustable kind) and an active flag. An approval needs a code of the list that is active
and fits the line's kind; a code is never deleted (approvals name it), it is deactivated.
Approvals stored before the list existed keep their free-text code for reading.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from server.domain.counting.reconciliation import ADJUSTABLE_KINDS, LineKind
from server.domain.errors import FieldProblem, ValidationFailed
from server.domain.masterdata import check_code, check_name

# The kinds a reason code may name, in the reconciliation's order.
REASON_KINDS: tuple[LineKind, ...] = tuple(k for k in LineKind if k in ADJUSTABLE_KINDS)


@dataclass(frozen=True, slots=True)
class ReasonCode:
    code: str
    description: str
    kinds: frozenset[LineKind] = frozenset()  # empty: fits every adjustable kind
    active: bool = True

    def fits(self, kind: LineKind) -> bool:
        return kind in ADJUSTABLE_KINDS and (not self.kinds or kind in self.kinds)

    @property
    def kind_values(self) -> tuple[str, ...]:
        """The kinds it names, in the reconciliation's order (empty: all)."""
        return tuple(k.value for k in REASON_KINDS if k in self.kinds)


def parse_kinds(values: Iterable[str]) -> frozenset[LineKind]:
    """Line kinds by their values; only adjustable kinds can be approved. ValueError."""
    kinds: set[LineKind] = set()
    for value in values:
        text = value.strip().lower()
        if not text:
            continue
        try:
            kind = LineKind(text)
        except ValueError:
            kind = None
        if kind is None or kind not in ADJUSTABLE_KINDS:
            allowed = ", ".join(k.value for k in REASON_KINDS)
            raise ValueError(f"{value!r} is not a line kind that can be approved: {allowed}")
        kinds.add(kind)
    return frozenset(kinds)


def new_reason_code(
    code: str, description: str, kinds: Iterable[str] = (), active: bool = True
) -> ReasonCode:
    """A checked ReasonCode, or ValidationFailed naming each wrong field."""
    problems: list[FieldProblem] = []
    checked: dict[str, object] = {}
    for name, check in (
        ("code", lambda: check_code(code, "code")),
        ("description", lambda: check_name(description, "description")),
        ("kinds", lambda: parse_kinds(kinds)),
    ):
        try:
            checked[name] = check()
        except ValueError as exc:
            problems.append(FieldProblem(name, str(exc)))
    if problems:
        raise ValidationFailed("the reason code is not valid", problems)
    return ReasonCode(
        code=str(checked["code"]),
        description=str(checked["description"]),
        kinds=checked["kinds"],  # type: ignore[arg-type]
        active=active,
    )


def fitting(kind: LineKind, codes: Iterable[ReasonCode]) -> list[str]:
    """The active codes that fit a line kind, sorted."""
    return sorted(c.code for c in codes if c.active and c.fits(kind))


def code_problem(code: str, codes: Mapping[str, ReasonCode]) -> str | None:
    """Why `code` can approve nothing at all (None: it is a code of the list, active)."""
    code = code.strip()
    found = codes.get(code)
    if not code:
        return "required"
    if found is None:
        return f"{code!r} is not a reason code"
    if not found.active:
        return f"reason code {found.code!r} is not active"
    return None


def reason_problem(code: str, kind: LineKind, codes: Mapping[str, ReasonCode]) -> str | None:
    """Why `code` cannot approve a line of `kind` (None: it can), naming what would fit."""
    why = code_problem(code, codes)
    if why is None and codes[code.strip()].fits(kind):
        return None
    if why is None:
        why = f"reason code {code.strip()!r} does not fit a {kind.value} line"
    would = ", ".join(fitting(kind, codes.values())) or "none (add one to the reason codes)"
    return f"{why}; codes that fit a {kind.value} line: {would}"
