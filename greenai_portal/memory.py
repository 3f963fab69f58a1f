"""Pausing Python's cyclic garbage collector around allocation-heavy batch work."""

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_paused = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection while the block runs (reference counting still frees memory).

    A bulk batch allocates a few hundred thousand dicts and tuples that live until the batch
    is stored, none in a cycle; the collector walks them again and again as they pile up
    (about a tenth of a batch's time). Threads may nest these blocks: the collector runs
    again once the last one ends, if it ran before the first began.
    """
    global _paused, _was_enabled
    with _lock:
        if _paused == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _lock:
            _paused -= 1
            if _paused == 0 and _was_enabled:
                gc.enable()
