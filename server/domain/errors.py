"""Domain errors: every refusal the product makes, as a type with a code and details.

    StockcountError                 code            HTTP (mapped once, in server.api.errors)
    ├── ValidationFailed            validation      422   bad field values, bad import rows
    ├── NotFound                    not-found       404   an unknown reference
    ├── Conflict                    conflict        409   duplicates, state that forbids the act
    ├── NotAuthenticated            unauthenticated 401   no, bad, expired or revoked credential
    ├── PermissionDenied            forbidden       403   authenticated, but the role may not
    └── TooManyAttempts             too-many-attempts 429 failed sign-ins: wait `retry_after` s

Each carries a human message that says what to do next, and `details`: a list of
`FieldProblem`s (where in the input, what is wrong) that the API and the CLI show as-is.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One thing wrong with the input: `location` names the field (and file/row for imports)."""

    location: str
    message: str


@dataclass(eq=False)
class StockcountError(Exception):
    message: str
    details: list[FieldProblem] = field(default_factory=list)
    code: str = "error"

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        if not self.details:
            return self.message
        first = self.details[0]
        more = f" (and {len(self.details) - 1} more)" if len(self.details) > 1 else ""
        return f"{self.message}: {first.location}: {first.message}{more}"


@dataclass(eq=False)
class ValidationFailed(StockcountError):
    code: str = "validation"


@dataclass(eq=False)
class NotFound(StockcountError):
    code: str = "not-found"


@dataclass(eq=False)
class Conflict(StockcountError):
    code: str = "conflict"


@dataclass(eq=False)
class NotAuthenticated(StockcountError):
    code: str = "unauthenticated"


@dataclass(eq=False)
class PermissionDenied(StockcountError):
    code: str = "forbidden"


@dataclass(eq=False)
class TooManyAttempts(StockcountError):
    """Too many failed sign-ins, enrollments or credentials: wait `retry_after` seconds."""

    code: str = "too-many-attempts"
    retry_after: int = 1
