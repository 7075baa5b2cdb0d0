"""Group commit of device pushes, for a database with one writer (SQLite).

SQLite takes one write transaction at a time, so a server process writes its pushes one
after another. Each would pay its own transaction: the write lock, a handful of statements
through the driver's thread, and a COMMIT that waits for the disk (synchronous=FULL).
`PushGroups` writes the pushes that queued while the previous transaction ran in ONE
transaction instead, with one COMMIT, and only then answers each of them:

    push A ──► queue ──► writer: [A]          BEGIN A COMMIT ─► answer A
    push B ──► queue ─┐
    push C ──► queue ─┴► writer: [B, C]       BEGIN B C COMMIT ─► answer B, C

No push is answered before the COMMIT that stored it, so exactly-once is the one-push
argument of `server.sync.usecases` unchanged: a crash before COMMIT leaves none of the
group, and every device re-sends and gets its events stored once; after it, duplicates.

With a `TransactionRunner` (on SQLite: `server.db.blocking.BlockingWriter`), each group's
transaction runs where the runner puts it (its own thread and blocking connection), and
`uow` makes units of work that are valid there; without one, on the caller's loop.

When a group fails (any exception: a bug in one push, a busy database), nothing of it is
stored, and its pushes are written again one per transaction, each answered with its own
result or error: one failing push never takes the others down. Refusals that need no
database (another device's credential, too many events) are raised before a push queues.

One writer task per `PushGroups` runs while the queue holds pushes and ends when it is
empty; a request that goes away (cancelled) leaves the others' writes alone.

Fairness. Every push waits for the group being written when it arrives, then for its
own: at most one round of the others. So a group is taken first in, first out, with at
most ONE push of each device (a device's second push, such as a retry sent while its
first still waits, waits for the next group, in its order: it cannot make the others wait
twice for it, and one device's pushes are stored in the order they came), and at most
`max_group` pushes and `max_events` events (a bounded wait for the pushes that come
after it). A push left out stays at the head of the queue for the next group.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from server.domain.auth import Caller
from server.domain.sync import PushBatch, PushResult
from server.sync import usecases as sync
from server.sync.ports import EventBinder, SyncUnitOfWork, TransactionRunner

# At most 32 pushes and 10,000 events (twenty full pushes) a transaction: the group waits
# for one COMMIT, so a bound keeps the first push's answer from waiting on many more
# behind it.
MAX_GROUP = 32
MAX_GROUP_EVENTS = 10_000


@dataclass(frozen=True, slots=True)
class _Queued:
    push: sync.Push
    answer: asyncio.Future[PushResult]


class PushGroups:
    """Pushes of one process, written in groups (see the module docstring)."""

    def __init__(
        self,
        uow: Callable[[], SyncUnitOfWork],
        max_group: int = MAX_GROUP,
        bind: EventBinder | None = None,
        runner: TransactionRunner | None = None,
        max_events: int = MAX_GROUP_EVENTS,
    ) -> None:
        self._uow = uow
        self._bind = bind
        self._runner = runner
        self._max_group = max_group
        self._max_events = max_events
        self._queue: list[_Queued] = []
        self._writer: asyncio.Task[None] | None = None

    async def push(self, caller: Caller, batch: PushBatch, now: datetime) -> PushResult:
        """The push made ready (`sync.prepare_push`, which raises the refusals that need no
        database), queued for the next group."""
        push = sync.prepare_push(caller, batch, now, self._bind)
        queued = _Queued(push, asyncio.get_running_loop().create_future())
        self._queue.append(queued)
        writer = self._writer
        if writer is None or writer.done() or writer.get_loop() is not asyncio.get_running_loop():
            self._writer = asyncio.create_task(self._write_queue(), name="sync push writer")
        return await queued.answer

    async def _write_queue(self) -> None:
        group: list[_Queued] = []
        try:
            while self._queue:
                group = self._next_group()
                if group:
                    await self._write(group)
        except BaseException:
            # The writer itself was stopped (the server shutting down): nothing of this
            # group committed, and no queued push is left waiting for an answer.
            for queued in [*group, *self._queue]:
                if not queued.answer.done():
                    queued.answer.cancel()
            self._queue.clear()
            raise

    def _next_group(self) -> list[_Queued]:
        """The next group, taken from the queue (see Fairness in the module docstring):
        first in, first out, one push per device, within `max_group` pushes and
        `max_events` events (a push larger than that alone still goes, alone)."""
        group: list[_Queued] = []
        left: list[_Queued] = []
        devices: set[int] = set()
        events = 0
        full = False
        for queued in self._queue:
            if queued.answer.done():  # cancelled: gone
                continue
            device, size = queued.push.batch.device_id, len(queued.push.events)
            full = full or len(group) >= self._max_group
            full = full or (bool(group) and events + size > self._max_events)
            if full or device in devices:  # once full, none overtakes the first left out
                left.append(queued)
                continue
            group.append(queued)
            devices.add(device)
            events += size
        self._queue[:] = left
        return group

    async def _together(self, pushes: Sequence[sync.Push]) -> list[PushResult]:
        def work() -> Coroutine[Any, Any, list[PushResult]]:
            return sync.push_together(self._uow(), pushes)

        if self._runner is None:
            return await work()
        return await self._runner.run(work)

    async def _write(self, group: list[_Queued]) -> None:
        try:
            responses = await self._together([q.push for q in group])
        except Exception as exc:
            if len(group) == 1:
                _answer(group[0], error=exc)
                return
            # Nothing of the group is stored: each alone, with its own result or error.
            for queued in group:
                if queued.answer.done():
                    continue
                try:
                    (alone,) = await self._together([queued.push])
                except Exception as failed:
                    _answer(queued, error=failed)
                else:
                    _answer(queued, response=alone)
            return
        for queued, response in zip(group, responses, strict=True):
            _answer(queued, response=response)


class PushOneByOne:
    """Each push in its own transaction, side by side (PostgreSQL: many writers)."""

    def __init__(self, uow: Callable[[], SyncUnitOfWork], bind: EventBinder | None = None) -> None:
        self._uow = uow
        self._bind = bind

    async def push(self, caller: Caller, batch: PushBatch, now: datetime) -> PushResult:
        return await sync.push(self._uow(), caller, batch, now, self._bind)


def _answer(
    queued: _Queued, *, response: PushResult | None = None, error: Exception | None = None
) -> None:
    if queued.answer.done():  # its request went away; what committed stays committed
        return
    if error is not None:
        queued.answer.set_exception(error)
    else:
        assert response is not None
        queued.answer.set_result(response)
