"""The preview's per-process memo: a value is made once however many requests ask it
while it is being made, is kept for the next, and a key not the same is made anew."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass

import pytest

from server.counts.usecases.preview import _Memo


@dataclass(frozen=True)
class Key:
    name: str

    def same(self, other: Key) -> bool:
        return self.name == other.name


async def test_requests_asking_a_value_being_made_wait_for_it() -> None:
    made: list[str] = []
    release = threading.Event()

    def make(key: Key) -> str:
        release.wait(5)
        made.append(key.name)
        return key.name.upper()

    memo: _Memo[Key, str] = _Memo()
    asking = [asyncio.create_task(memo.get(Key("a"), lambda: make(Key("a")))) for _ in range(3)]
    await asyncio.sleep(0.05)  # all three are waiting
    release.set()
    assert await asyncio.gather(*asking) == ["A", "A", "A"]
    assert made == ["a"]  # made once
    assert await memo.get(Key("a"), lambda: make(Key("a"))) == "A" and made == ["a"]  # kept
    assert await memo.get(Key("b"), lambda: make(Key("b"))) == "B"  # another key: made
    assert made == ["a", "b"]


async def test_a_value_whose_making_failed_is_not_kept() -> None:
    calls: list[str] = []

    def make(key: Key) -> str:
        calls.append(key.name)
        if len(calls) == 1:
            raise RuntimeError("broken")
        return key.name

    memo: _Memo[Key, str] = _Memo()
    with pytest.raises(RuntimeError):
        await memo.get(Key("a"), lambda: make(Key("a")))
    assert await memo.get(Key("a"), lambda: make(Key("a"))) == "a" and calls == ["a", "a"]
