"""What every feature's use cases may need from persistence: a transaction, the code lookup,
the posting engine's writer. Each feature's own ports are in its `ports` module."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from types import TracebackType
from typing import Protocol, Self

from server.domain.masterdata import Tracking
from server.domain.posting import LocationSide, PostingResult


class Transaction(Protocol):
    """One database transaction. Leaving the block without commit() rolls back."""

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    async def commit(self) -> None: ...


class CodeLookup(Protocol):
    async def location_id(self, code: str) -> int | None: ...


class FrozenBins(Protocol):
    """The bins a stock count in process freezes (server.counts.sql.frozen.SqlFrozenBins),
    by number of the count; `exempt_count` is a count finalizing into its own bins."""

    async def frozen_bins(
        self, location_codes: Collection[str], exempt_count: int | None = None
    ) -> dict[tuple[str, str], str]: ...
    async def frozen_bins_at(
        self, bins: Collection[tuple[str, str]], locations: Collection[str] = ()
    ) -> dict[tuple[str, str], str]:
        """Those of `bins` (location code, bin label) that a count freezes, and every
        frozen bin of `locations` (whole: for a side that names no bin), by count number."""
        ...

    async def frozen_bin_ids(self, bin_ids: Collection[int]) -> dict[int, str]: ...


@dataclass(frozen=True, slots=True)
class PostingIds:
    """The database ids of every code a posting names (items with their tracking,
    locations, bins by (location, label)), resolved once (`PostingPort.resolve`) and
    shared by whatever the caller writes beside the posting (a count's documents)."""

    items: Mapping[str, int]
    tracking: Mapping[str, Tracking]
    locations: Mapping[str, int]
    bins: Mapping[tuple[str, str], int]

    def bin_of(self, side: LocationSide) -> int:
        assert side.bin is not None  # require_bins: checked when resolved
        return self.bins[(side.location, side.bin)]


class PostingPort(FrozenBins, Protocol):
    """server.db.posting.SqlPostings: the one writer of posted documents."""

    async def resolve(
        self,
        results: Sequence[PostingResult],
        *,
        items: Collection[str] = (),
        bins: Collection[tuple[str, str]] = (),
    ) -> PostingIds:
        """The ids of every code the results name, and of `items` and (location, label)
        `bins` besides; ValidationFailed naming the unknown ones."""
        ...

    async def apply(
        self, result: PostingResult, context: PostingContext, ids: PostingIds | None = None
    ) -> None:
        """Write `result`; `ids` from `resolve` (None: resolved here)."""
        ...


@dataclass(frozen=True, slots=True)
class FrozenBinsJudged:
    """The frozen-bin rule is already applied to a posting: the stock count `count_id`
    read the bins frozen by *other* counts in this very transaction and the domain's
    `post` refused the result against them (finalize, into the count's own bins). The
    writer then does not read them again. A journal save does the same with the bins it
    posts to, and every frozen bin of a location it names without a bin (`count_id` None:
    no count is exempt); every other posting leaves this None."""

    count_id: int | None


@dataclass(frozen=True, slots=True)
class PostingContext:
    """Where a posting result comes from and how the GL history names it."""

    document_kind: str
    document_id: int
    document_number: str
    posted_at: datetime
    posting_date: date
    journal_name: str
    period: str | None = None
    frozen_bins_judged: FrozenBinsJudged | None = None  # None: the writer refuses them


# -- what every import and posting writes into the shared tables (server.db.writes) --


# (item id, serial number, bin id, actual cost) and (item id, bin id, lot, quantity):
# plain tuples, because an import writes a million of them.
NewSerial = tuple[int, str, int, Decimal]


NewBalance = tuple[int, int, str, Decimal]


Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class MasterDataChangeRecord:
    """One field of an existing record that an update import changed (the change log).
    `id` is 0 until stored."""

    kind: str
    code: str
    parent_code: str
    field: str
    old_value: str | None
    new_value: str | None
    changed_by: str
    changed_at: datetime
    import_id: str
    source: str
    id: int = 0


class AuditAction(StrEnum):
    """What a supervisor or an admin did, as the audit trail names it."""

    APPROVE = "approve"
    CLEAR = "clear"
    SELECT = "select"
    PICK = "pick"
    RECOUNT = "recount"
    COUNTED = "counted"
    FINALIZE = "finalize"
    CANCEL = "cancel"
    REVOKE_DEVICE = "revoke-device"
    REVOKE_TOKENS = "revoke-tokens"
    IMPORT = "import"
    UPDATE = "update"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One act of the audit trail: who (`user_id`), when, what, on which count or thing."""

    action: AuditAction
    user_id: int | None
    at: datetime
    count_number: str | None = None
    subject: str = ""  # what was acted on besides the count: a device, a user, a bin, a file
    detail: str = ""
    caller: str = ""  # who acted when it was no user: `cli:LOGIN` or the CLI's `--by NAME`


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts and when, for the audit trail: a user (`user_id`) or, from the CLI, no user
    and a `caller` (`cli:LOGIN`, or `--by NAME`)."""

    user_id: int | None
    at: datetime
    caller: str = ""


class AuditTrail(Protocol):
    """Where use cases record supervisor and admin acts, in their own transaction
    (server.audit.sql.SqlAuditTrail): an act and its entry commit or roll back together."""

    async def record(self, entry: AuditEntry) -> None: ...
