"""The cycle collector paused around a count's bulk work (a lot of bin counts, a
reconciliation, finalize).

That work allocates hundreds of thousands of short-lived tuples, sets and lines and keeps
tens of thousands (the lines, the documents): each time the survivors pile up, CPython runs
a full collection over every object of the process, several times a step (10-15% of a
step at 200,000 serials, measured; more at 1,000,000). None of it makes reference cycles,
so reference counting frees it all: the collector is paused while any such step runs (a
count of the steps in flight: steps of other requests may interleave at their awaits) and
runs again when the last one ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_in_flight = 0
_paused_here = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection inside; the collector's state as before after the
    last of the overlapping steps ends (it stays off if it was off)."""
    global _in_flight, _paused_here
    if _in_flight == 0 and gc.isenabled():
        gc.disable()
        _paused_here = True
    _in_flight += 1
    try:
        yield
    finally:
        _in_flight -= 1
        if _in_flight == 0 and _paused_here:
            _paused_here = False
            gc.enable()
