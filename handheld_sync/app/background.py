"""Syncing beside the counting screen: one sync on a store connection of its own.

SQLite connections stay in the thread that opened them, so a sync in a worker thread opens
the store again; the counting screen's connection keeps taking scans meanwhile (WAL: a
scan waits at most for one short write of the sync, never for the network).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from handheld_sync.errors import HandheldError, SyncError, TransportError
from handheld_sync.store import Store
from handheld_sync.sync import SERVER_URL, SyncEngine, SyncReport, auth_headers

# A store in, a sync engine (and whatever it holds open) out: tests give one on their server.
EngineFactory = Callable[[Store], AbstractContextManager[SyncEngine]]


@dataclass(frozen=True, slots=True)
class SyncOutcome:
    at: datetime
    reached: bool  # the server answered (docked)
    message: str
    report: SyncReport | None = None


@contextmanager
def enrolled_engine(store: Store, *, app_version: str = "") -> Iterator[SyncEngine]:
    """The engine for the server this device enrolled with; one quick retry, short
    timeouts: the next sync comes soon anyway."""
    url = store.setting(SERVER_URL)
    if not url:
        raise HandheldError("this device is not enrolled: run 'stockcount-handheld enroll'")
    with httpx.Client(base_url=url, headers=auth_headers(store), timeout=10) as client:
        yield SyncEngine(store, client, retries=1, app_version=app_version)


def sync_once(
    store_path: Path, open_engine: EngineFactory, *, now: datetime | None = None
) -> SyncOutcome:
    """Push the outbox and pull, on a connection of this thread; never raises."""
    at = now or datetime.now(UTC)
    try:
        with Store.open(store_path) as store, open_engine(store) as engine:
            report = engine.sync()
    except SyncError as exc:  # the server refused: it was reached all the same
        return SyncOutcome(at, not isinstance(exc, TransportError), str(exc))
    except HandheldError as exc:  # not enrolled, a store problem
        return SyncOutcome(at, False, str(exc))
    rejected = f", {report.rejected} rejected" if report.rejected else ""
    return SyncOutcome(at, True, f"{report.applied} sent{rejected}", report)
