"""The process's cache of counts' snapshots and reconciliations, by snapshot token.

A large count's reconciliation holds tens of thousands of lines, so only the last few
counts stay. The composition root (`server.bootstrap`) makes one per process.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

T = TypeVar("T")

DEFAULT_SIZE = 4


class ReconciliationCache(Generic[T]):
    """Least recently used first out, at most `size` counts."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self._size = size
        self._entries: OrderedDict[str, T] = OrderedDict()

    def get(self, token: str) -> T | None:
        found = self._entries.get(token)
        if found is not None:
            self._entries.move_to_end(token)
        return found

    def put(self, token: str, entry: T) -> None:
        self._entries[token] = entry
        self._entries.move_to_end(token)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget everything (a benchmark's cold start)."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
