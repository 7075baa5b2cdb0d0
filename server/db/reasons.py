"""The managed list of reason codes: SqlReasonCodes for the master data's use cases; the
counts' SqlReviews (server.counts.sql.review) reads it to approve with.

A code's kinds are stored `|`-joined in the reconciliation's order ("" fits every
adjustable kind); `kinds_text` and `kinds_of` are the only two places that know it
(`kinds_column` goes through the first). The importer writes the same table through
server.db.writes."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import insert, select, update

from server.db.session import Session
from server.db.tables import ReasonCodeEntry
from server.domain.counting import LineKind, ReasonCode


def kinds_text(code: ReasonCode) -> str:
    return "|".join(code.kind_values)


def kinds_column(kinds: object) -> str:
    """The stored text of a set of line kinds (an update import's new `kinds`)."""
    assert isinstance(kinds, frozenset)
    return kinds_text(ReasonCode("", "", kinds))


def kinds_of(text: str) -> frozenset[LineKind]:
    return frozenset(LineKind(k) for k in text.split("|") if k)


def reason_code_values(code: ReasonCode) -> dict[str, object]:
    return {
        "code": code.code,
        "description": code.description,
        "kinds": kinds_text(code),
        "active": code.active,
    }


class ReasonCodeStore:
    session: Session

    async def reason_codes(self, codes: Collection[str] | None = None) -> dict[str, ReasonCode]:
        """The list by code (all of it, or the codes asked for); a few dozen rows."""
        query = select(
            ReasonCodeEntry.code,
            ReasonCodeEntry.description,
            ReasonCodeEntry.kinds,
            ReasonCodeEntry.active,
        ).order_by(ReasonCodeEntry.code)
        if codes is not None:
            query = query.where(ReasonCodeEntry.code.in_(list(codes)))
        rows = await self.session.execute(query)
        return {
            str(c): ReasonCode(str(c), str(d), kinds_of(str(k)), bool(a)) for c, d, k, a in rows
        }

    async def add_reason_codes(self, codes: Sequence[ReasonCode]) -> None:
        await self.session.execute(insert(ReasonCodeEntry), [reason_code_values(c) for c in codes])

    async def update_reason_code(self, code: ReasonCode) -> None:
        await self.session.execute(
            update(ReasonCodeEntry)
            .where(ReasonCodeEntry.code == code.code)
            .values(description=code.description, kinds=kinds_text(code), active=code.active)
        )


class SqlReasonCodes(ReasonCodeStore):
    """The list on its own, for the master data's use cases."""

    def __init__(self, session: Session) -> None:
        self.session = session
