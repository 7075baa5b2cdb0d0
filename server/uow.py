"""The unit of work: one session, one transaction, the repositories on top of it."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
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
        # The repositories are made on first use, on this session (a request uses two or
        # three of its twenty-two); those of an earlier `async with` are dropped.
        for name in _REPOSITORIES:
            self.__dict__.pop(name, None)
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

    @cached_property
    def users(self) -> SqlUsers:
        return SqlUsers(self.session)

    @cached_property
    def counters(self) -> SqlCounters:
        return SqlCounters(self.session)

    @cached_property
    def devices(self) -> SqlDevices:
        return SqlDevices(self.session)

    @cached_property
    def codes(self) -> SqlCodes:
        return SqlCodes(self.session)

    @cached_property
    def throttle(self) -> SqlThrottle:
        return SqlThrottle(self.session)

    @cached_property
    def audit(self) -> SqlAuditTrail:
        return SqlAuditTrail(self.session)

    @cached_property
    def masterdata(self) -> SqlMasterData:
        return SqlMasterData(self.session)

    @cached_property
    def counts(self) -> SqlCounts:
        return SqlCounts(self.session)

    @cached_property
    def snapshots(self) -> SqlSnapshots:
        return SqlSnapshots(self.session)

    @cached_property
    def bin_counts(self) -> SqlBinCounts:
        return SqlBinCounts(self.session)

    @cached_property
    def reviews(self) -> SqlReviews:
        return SqlReviews(self.session)

    @cached_property
    def count_documents(self) -> SqlCountDocuments:
        return SqlCountDocuments(self.session)

    @cached_property
    def postings(self) -> SqlPostings:
        return SqlPostings(self.session, SqlFrozenBins(self.session))

    @cached_property
    def journal(self) -> SqlJournal:
        return SqlJournal(self.session)

    @cached_property
    def sync(self) -> SqlSync:
        return SqlSync(self.session)

    @cached_property
    def reason_codes(self) -> SqlReasonCodes:
        return SqlReasonCodes(self.session)

    @cached_property
    def sync_counts(self) -> SqlCountsForSync:
        return SqlCountsForSync(self.session)

    @cached_property
    def count_progress(self) -> SqlCountProgress:
        return SqlCountProgress(self.session)

    @cached_property
    def document_list(self) -> SqlDocumentList:
        return SqlDocumentList(self.session)

    @cached_property
    def unknown_barcodes(self) -> SqlUnknownBarcodes:
        return SqlUnknownBarcodes(self.session)

    @cached_property
    def count_sheets(self) -> SqlCountSheets:
        return SqlCountSheets(self.session)

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
        session = self.session
        if (
            isinstance(session, AsyncSession)
            and not session.in_transaction()
            and not (session.new or session.dirty or session.deleted)
        ):
            # Nothing begun and nothing to flush (a save committed by
            # server.db.direct.together): no hand-over to a greenlet to commit nothing.
            return
        await session.commit()


_REPOSITORIES = tuple(
    name for name, value in vars(SqlUnitOfWork).items() if isinstance(value, cached_property)
)
