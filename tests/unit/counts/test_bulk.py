"""The cycle collector is paused while any bulk step of a count runs and runs again
when the last one ends, as it was before (server.counts.usecases.bulk)."""

from __future__ import annotations

import asyncio
import gc

from server.counts.usecases.bulk import collector_paused


async def test_overlapping_steps_pause_the_collector_until_the_last_ends() -> None:
    assert gc.isenabled()
    first_in, second_done = asyncio.Event(), asyncio.Event()
    seen: list[bool] = []

    async def first() -> None:
        with collector_paused():
            first_in.set()
            await second_done.wait()  # the second step ends while this one runs
            seen.append(gc.isenabled())
        seen.append(gc.isenabled())

    async def second() -> None:
        await first_in.wait()
        with collector_paused():
            seen.append(gc.isenabled())
        seen.append(gc.isenabled())
        second_done.set()

    await asyncio.gather(first(), second())
    assert seen == [False, False, False, True]
    assert gc.isenabled()


def test_a_step_that_raises_leaves_the_collector_running() -> None:
    try:
        with collector_paused():
            raise RuntimeError("refused")
    except RuntimeError:
        pass
    assert gc.isenabled()


def test_a_collector_turned_off_by_someone_else_stays_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
