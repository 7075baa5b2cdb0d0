"""The review of a stock count (the Reviews port, server.counts.ports): a decision per
discrepancy line (cleared, approved with a reason code), the tolerances per location, the
reason codes to approve with (the master data's list, server.db.reasons) and the names
of the lines' items."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import (
    delete,
    insert,
    select,
)

from server.counts.ports import LineReview
from server.counts.tables import (
    CountLineReview,
    ToleranceRule,
)
from server.db.reasons import ReasonCodeStore
from server.db.session import Session
from server.db.tables import (
    Item,
    User,
)
from server.db.writes import LOOKUP_CHUNK, chunks
from server.domain.counting import (
    Approval,
    Review,
    ToleranceRules,
)

_CHUNK = 1_000  # line ids per statement (each up to 600 characters)


class SqlReviews(ReasonCodeStore):
    """The supervisor's decisions per line, and a location's tolerances."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- review ----------------------------------------------------------------------

    async def review(self, count_id: int) -> Review:
        rows = await self.session.execute(
            select(
                CountLineReview.line_id,
                CountLineReview.cleared,
                User.username,
                CountLineReview.reason_code,
            )
            .outerjoin(User, User.id == CountLineReview.approved_by)
            .where(CountLineReview.count_id == count_id)
        )
        cleared: set[str] = set()
        approvals: dict[str, Approval] = {}
        for line_id, is_cleared, approver, reason in rows:
            if is_cleared:
                cleared.add(str(line_id))
            if approver is not None:
                approvals[str(line_id)] = Approval(str(line_id), str(approver), str(reason or ""))
        return Review(frozenset(cleared), approvals)

    async def set_reviews(
        self, count_id: int, decisions: Sequence[LineReview], user_id: int, now: datetime
    ) -> None:
        """Replace the decisions on these lines: one lookup of the approvers, then a
        delete and an insert per chunk of lines (set-based, whatever the number)."""
        if not decisions:
            return
        names = {d.approved_by for d in decisions if d.approved_by is not None}
        approvers: dict[str, int] = {}
        if names:
            found = await self.session.execute(
                select(User.username, User.id).where(User.username.in_(sorted(names)))
            )
            approvers = {str(name): int(id_) for name, id_ in found}
        for batch in chunks(decisions, _CHUNK):
            await self.session.execute(
                delete(CountLineReview).where(
                    CountLineReview.count_id == count_id,
                    CountLineReview.line_id.in_([d.line_id for d in batch]),
                )
            )
            await self.session.execute(
                insert(CountLineReview),
                [
                    {
                        "count_id": count_id,
                        "line_id": d.line_id,
                        "cleared": d.cleared,
                        "approved_by": None if d.approved_by is None else approvers[d.approved_by],
                        "reason_code": d.reason_code,
                        "decided_by": user_id,
                        "decided_at": now,
                    }
                    for d in batch
                ],
            )

    async def tolerances(self, location_id: int) -> ToleranceRules:
        row = (
            await self.session.execute(
                select(ToleranceRule.quantity, ToleranceRule.percent, ToleranceRule.value).where(
                    ToleranceRule.location_id == location_id
                )
            )
        ).first()
        return ToleranceRules() if row is None else ToleranceRules(row[0], row[1], row[2])

    async def set_tolerances(
        self, location_id: int, rules: ToleranceRules, user_id: int, now: datetime
    ) -> None:
        await self.session.execute(
            delete(ToleranceRule).where(ToleranceRule.location_id == location_id)
        )
        await self.session.execute(
            insert(ToleranceRule).values(
                location_id=location_id,
                quantity=rules.quantity,
                percent=rules.percent,
                value=rules.value,
                updated_by=user_id,
                updated_at=now,
            )
        )

    async def item_labels(self, codes: Collection[str]) -> dict[str, tuple[str, str]]:
        """Each item's name and unit of measure, by code, for people to read."""
        found: dict[str, tuple[str, str]] = {}
        for batch in chunks(codes, LOOKUP_CHUNK):
            rows = await self.session.execute(
                select(Item.code, Item.name, Item.uom).where(Item.code.in_(batch))
            )
            found.update((str(c), (str(n), str(u))) for c, n, u in rows)
        return found
