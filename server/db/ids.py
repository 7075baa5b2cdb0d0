"""The ids of codes already read in this transaction, kept on its session.

A journal save reads its items, locations, bins, periods, GL accounts and entities once,
with their facts (server.journal.sql.facts), and every later step of the same save (the
header, the lines, the posting writer's `resolve`, the GL history's companies) takes the
ids from here instead of looking the codes up again. Only ids that were found are kept;
a code not here is looked up as before. A session is one transaction (one unit of
work), and codes do not change ids within it, so nothing here goes stale.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from server.db.session import Session
from server.domain.masterdata import Tracking

_KEY = "known_ids"


@dataclass(slots=True)
class KnownIds:
    items: dict[str, int] = field(default_factory=dict)
    tracking: dict[str, Tracking] = field(default_factory=dict)
    locations: dict[str, int] = field(default_factory=dict)
    bins: dict[tuple[str, str], int] = field(default_factory=dict)
    # Other coded tables, by table name: code -> id (accounting_period, gl_account, ...).
    codes: dict[str, dict[str, int]] = field(default_factory=dict)
    # GL entity code -> its company's code (the GL history names the company).
    entity_companies: dict[str, str] = field(default_factory=dict)

    def of(self, table: str) -> dict[str, int]:
        return self.codes.setdefault(table, {})


def known_ids(session: Session) -> KnownIds:
    """This transaction's known ids (created empty on first use)."""
    found = session.info.get(_KEY)
    if found is None:
        found = session.info[_KEY] = KnownIds()
    assert isinstance(found, KnownIds)
    return found
