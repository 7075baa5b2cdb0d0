"""`Admission` (server/sync/group.py), PostgreSQL's bound on pushes writing at once: at
most its limit inside, the others let in first in, first out; a waiter that goes away,
before or right after its turn came, takes no place from the others."""

from __future__ import annotations

import asyncio

import pytest

from server.sync.group import Admission


async def test_at_most_the_limit_inside_and_the_others_in_their_order() -> None:
    admission = Admission(2)
    inside: list[int] = []
    order: list[int] = []
    most = 0

    async def hold(n: int) -> None:
        nonlocal most
        async with admission:
            order.append(n)
            inside.append(n)
            most = max(most, len(inside))
            await asyncio.sleep(0.01)
            inside.remove(n)

    await asyncio.gather(*(hold(n) for n in range(8)))
    assert most == 2
    assert order == list(range(8))


async def test_a_waiter_that_goes_away_gives_its_turn_to_the_next() -> None:
    admission = Admission(1)
    gone = asyncio.Event()
    order: list[str] = []

    async def hold(name: str) -> None:
        async with admission:
            order.append(name)

    async def first_holder() -> None:
        async with admission:
            order.append("first")
            await gone.wait()
        let_in.cancel()  # its turn was just handed to it; it has not run yet

    first = asyncio.create_task(first_holder())
    await asyncio.sleep(0)
    waiting = asyncio.create_task(hold("cancelled"))
    let_in = asyncio.create_task(hold("let in, then cancelled"))
    last = asyncio.create_task(hold("last"))
    await asyncio.sleep(0)
    waiting.cancel()  # before its turn
    await asyncio.sleep(0)
    gone.set()
    await first
    await asyncio.wait_for(last, 5)
    for task in (waiting, let_in):
        with pytest.raises(asyncio.CancelledError):
            await task
    assert order == ["first", "last"]
    async with admission:  # the one place is free again
        pass
    assert admission._free == 1 and not admission._waiting
