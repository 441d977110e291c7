"""Pausing CPython's cyclic garbage collector while acyclic results are built."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ._shield import shielded

__all__ = ["collector_paused"]

_GC_LOCK = threading.Lock()
_gc_pauses = 0
_gc_resume = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause CPython's cyclic garbage collector, then restore the state it had.

    The assessments being built are acyclic, so collections during the build
    find nothing and only re-scan them and the rest of the heap: on the 2-core
    machine kind that was a third of the batch's time.  Reference counting
    still frees memory as usual.  Concurrent calls share one pause; the last
    to finish restores the state found by the first.
    """
    paused = [False]

    def pause() -> None:
        global _gc_pauses, _gc_resume
        with _GC_LOCK:
            if _gc_pauses == 0:
                _gc_resume = gc.isenabled()
                gc.disable()
            _gc_pauses += 1
            paused[0] = True

    def resume() -> None:
        global _gc_pauses
        with _GC_LOCK:
            if paused[0]:
                paused[0] = False
                _gc_pauses -= 1
                if _gc_pauses == 0 and _gc_resume:
                    gc.enable()

    # Each step is shielded so that an interrupt cannot split the count from the
    # collector's state; the flag says whether this call has a pause to undo.
    try:
        shielded(pause)
        yield
    finally:
        shielded(resume)
