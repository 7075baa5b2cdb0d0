"""The unit of work: one session, one transaction, the repositories on top of it."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from sqlalchemy.ext.asyncio import AsyncSession

from server.audit.sql import SqlAuditTrail
from server.auth.sql import SqlCodes, SqlCounters, SqlDevices, SqlThrottle, SqlUsers
from server.counts.sql.bincounts import SqlBinCounts
from server.counts.sql.counts import SqlCounts
from server.counts.sql.document_list import SqlDocumentList
from server.counts.sql.documents import SqlCountDocuments
from server.counts.sql.for_sync import SqlCountsForSync
from server.counts.sql.frozen import SqlFrozenBins
from server.counts.sql.progress import SqlCountProgress
from server.counts.sql.review import SqlReviews
from server.counts.sql.sheets import SqlCountSheets
from server.counts.sql.snapshot import SqlSnapshots
from server.counts.sql.unknown import SqlUnknownBarcodes
from server.counts.usecases.cache import ReconciliationCache
from server.db.blocking import BlockingWriter
from server.db.posting import SqlPostings
from server.db.reasons import SqlReasonCodes
from server.db.session import Session
from server.journal.sql.journal import SqlJournal
from server.masterdata.sql.masterdata import SqlMasterData
from server.sync.sql import SqlSync


class SqlUnitOfWork:
    """Use once per `async with`; leaving without commit() rolls back."""

    session: Session
    users: SqlUsers
    counters: SqlCounters
    devices: SqlDevices
    codes: SqlCodes
    throttle: SqlThrottle
    audit: SqlAuditTrail
    masterdata: SqlMasterData
    counts: SqlCounts
    snapshots: SqlSnapshots
    bin_counts: SqlBinCounts
    reviews: SqlReviews
    count_documents: SqlCountDocuments
    postings: SqlPostings
    journal: SqlJournal
    sync: SqlSync
    reason_codes: SqlReasonCodes
    sync_counts: SqlCountsForSync
    count_progress: SqlCountProgress
    document_list: SqlDocumentList
    unknown_barcodes: SqlUnknownBarcodes
    count_sheets: SqlCountSheets

    def __init__(
        self,
        sessionmaker: Callable[[], Session],
        reconciliations: ReconciliationCache[Any] | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        # The process's cache (server.bootstrap's Runtime), or one of this unit's own.
        self.reconciliations = ReconciliationCache() if reconciliations is None else reconciliations

    async def __aenter__(self) -> Self:
        self.session = self._sessionmaker()
        self.users = SqlUsers(self.session)
        self.counters = SqlCounters(self.session)
        self.devices = SqlDevices(self.session)
        self.codes = SqlCodes(self.session)
        self.throttle = SqlThrottle(self.session)
        self.audit = SqlAuditTrail(self.session)
        self.masterdata = SqlMasterData(self.session)
        self.counts = SqlCounts(self.session)
        self.snapshots = SqlSnapshots(self.session)
        self.bin_counts = SqlBinCounts(self.session)
        self.reviews = SqlReviews(self.session)
        self.count_documents = SqlCountDocuments(self.session)
        self.postings = SqlPostings(self.session, SqlFrozenBins(self.session))
        self.journal = SqlJournal(self.session)
        self.sync = SqlSync(self.session)
        self.reason_codes = SqlReasonCodes(self.session)
        self.sync_counts = SqlCountsForSync(self.session)
        self.count_progress = SqlCountProgress(self.session)
        self.document_list = SqlDocumentList(self.session)
        self.unknown_barcodes = SqlUnknownBarcodes(self.session)
        self.count_sheets = SqlCountSheets(self.session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        if isinstance(session, AsyncSession) and not session.in_transaction():
            # Committed (or never begun): the rollback would do nothing and closing does
            # no I/O (no connection is held), so neither takes a hand-over to a greenlet
            # (~25 us each, every request).
            session.sync_session.close()
            return
        try:
            await session.rollback()
        finally:
            await session.close()

    @classmethod
    def blocking(
        cls, writer: BlockingWriter, reconciliations: ReconciliationCache[Any] | None = None
    ) -> SqlUnitOfWork:
        """A unit of work on the blocking writer's thread and connection (SQLite).

        A BlockingSession is a `Session` as an AsyncSession is: mypy checks that it has
        every method the repositories call (tests/integration/test_sync_group_commit.py,
        the stateful sync test and the e2e sync tests run the whole push path through it
        on SQLite)."""
        return cls(writer.session, reconciliations)

    async def commit(self) -> None:
        await self.session.commit()
