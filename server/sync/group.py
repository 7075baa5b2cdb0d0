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
after it). A push left out stays at the head of the queue for the next group. With a
runner, the writer takes group after group on the runner's thread, so that a busy event
loop does not hold up the next group (it only answers).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

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
    loop: asyncio.AbstractEventLoop  # the answer's: answered there, whichever thread writes


class PushGroups:
    """Pushes of one process, written in groups (see the module docstring).

    The writer takes group after group until the queue is empty. With a runner, that loop
    runs on the runner's thread: the next group starts right after the last COMMIT, not
    once the server's event loop (busy decoding the next pushes) gets round to it, and
    each answer is handed to its request's loop. The queue is shared with that thread,
    under a lock."""

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
        self._lock = threading.Lock()
        self._queue: list[_Queued] = []  # under the lock
        self._writing = False  # a writer takes from the queue (under the lock)
        self._writer: asyncio.Task[None] | None = None

    async def push(self, caller: Caller, batch: PushBatch, now: datetime) -> PushResult:
        """The push made ready (`sync.prepare_push`, which raises the refusals that need no
        database), queued for the next group."""
        push = sync.prepare_push(caller, batch, now, self._bind)
        loop = asyncio.get_running_loop()
        queued = _Queued(push, loop.create_future(), loop)
        with self._lock:
            self._queue.append(queued)
            writer = self._writer
            # On the caller's loop, a writer left on a loop that is gone writes no more.
            stale = self._runner is None and (
                writer is None or writer.done() or writer.get_loop() is not loop
            )
            start, self._writing = not self._writing or stale, True
        if start:
            self._writer = asyncio.create_task(self._write_queue(), name="sync push writer")
        return await queued.answer

    async def _write_queue(self) -> None:
        try:
            if self._runner is None:
                await self._drain()
            else:
                await self._runner.run(self._drain)
        except BaseException:
            # The writer was stopped (the server shutting down): no queued push is left
            # waiting for an answer, and none is written after this (a group already
            # being written on the runner's thread runs to its end, answered if it can).
            with self._lock:
                left, self._queue[:] = list(self._queue), []
                self._writing = False
            for queued in left:
                _answer(queued, error=None)
            raise

    async def _drain(self) -> None:
        """Group after group until the queue is empty (see Fairness)."""
        group: list[_Queued] = []
        try:
            while True:
                with self._lock:
                    group = self._next_group()
                    if not group and not self._queue:
                        self._writing = False
                        return
                if group:
                    await self._write(group)
                group = []
        except BaseException:
            with self._lock:
                left, self._queue[:] = [*group, *self._queue], []
                self._writing = False
            for queued in left:
                _answer(queued, error=None)
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

    async def _write(self, group: list[_Queued]) -> None:
        try:
            responses = await sync.push_together(self._uow(), [q.push for q in group])
        except Exception as exc:
            if len(group) == 1:
                _answer(group[0], error=exc)
                return
            # Nothing of the group is stored: each alone, with its own result or error.
            for queued in group:
                if queued.answer.done():
                    continue
                try:
                    (alone,) = await sync.push_together(self._uow(), [queued.push])
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
    """Answer on the push's own loop (from the runner's thread too); no response and no
    error: cancelled. A loop that is gone (its server stopped) has no one to answer."""
    try:
        if queued.loop is _running_loop():
            _set(queued, response, error)
        else:
            queued.loop.call_soon_threadsafe(_set, queued, response, error)
    except RuntimeError:  # the loop is closed
        pass


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _set(queued: _Queued, response: PushResult | None, error: Exception | None) -> None:
    if queued.answer.done():  # its request went away; what committed stays committed
        return
    if error is not None:
        queued.answer.set_exception(error)
    elif response is not None:
        queued.answer.set_result(response)
    else:
        queued.answer.cancel()
