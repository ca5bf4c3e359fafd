"""Python's cyclic garbage collector, held off while a sweep builds its answer.

A full sweep builds an object or more for every active course and keeps them
all until it has compared them with what is stored: nothing it allocates is
garbage before it ends. The collector does not know that. Every 700 new
objects it looks for cycles among the young ones, and as the survivors pile
up it walks the whole heap, the worker's Django and every long-lived object
with it, again and again. In a worker that has served a while that was a
third of the due-visit sweep's Python time (issue 9's profile, medium
network). Held off, the same objects are examined once, when the sweep is
over, by the next ordinary collection. Reference counting frees what it
always frees meanwhile; only cycles wait.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_held() -> Iterator[None]:
    """No cyclic collection inside the block. For bounded batch work only: the setting is the whole
    process's, so a request thread would feel it too. Nests, and leaves the collector as it found it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
