"""Running work where no signal handler can interrupt it.

Python runs signal handlers only in the main thread, between two bytecodes, so
a ``KeyboardInterrupt`` from Ctrl-C or an exception raised by a ``SIGALRM``
timeout handler can land anywhere in the main thread's code.  Most code does
not mind.  Some does: an engine session stopped half-way crashes the engine on
delete (docs/engine.md, hazard 10), and pydantic turns an exception raised
while it serialises an enum into a ``PydanticSerializationError``, so the
caller's interrupt would come back as something else.

:func:`shielded` runs such work on the ``stalkrisk-engine`` thread, where no
handler ever runs, while the main thread waits.  An interrupt stops only the
wait: the main thread waits on until the work is done and then raises the
interrupt, unchanged.  Other threads never run signal handlers and run the work
themselves.
"""

from __future__ import annotations

import _thread
import contextlib
import os
import sys
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["shielded"]

T = TypeVar("T")


class _Job(Generic[T]):
    """One piece of work handed to the thread, and its outcome."""

    __slots__ = ("done", "error", "finished", "result", "work")

    def __init__(self, work: Callable[[], T]) -> None:
        self.work = work
        self.result: T | None = None
        self.error: BaseException | None = None
        self.finished = False
        self.done = _thread.allocate_lock()
        self.done.acquire()


class _Worker:
    """The thread and its queue; a forked child builds a new one."""

    def __init__(self) -> None:
        # A deque and a wake-up lock hand work over about twice as fast as a queue.
        self.jobs: deque[_Job[Any]] = deque()
        self.wake = _thread.allocate_lock()
        self.wake.acquire()
        self.thread: threading.Thread | None = None
        self.starting = threading.Lock()

    def serve(self) -> None:
        jobs, wake = self.jobs, self.wake
        while True:
            wake.acquire()
            while jobs:
                job = jobs.popleft()
                try:
                    job.result = job.work()
                except BaseException as error:
                    job.error = error
                finally:
                    job.finished = True
                    job.done.release()

    def submit(self, job: _Job[Any]) -> None:
        if self.thread is None:
            with self.starting:
                if self.thread is None:
                    thread = threading.Thread(
                        target=self.serve, name="stalkrisk-engine", daemon=True
                    )
                    thread.start()
                    self.thread = thread
        self.jobs.append(job)
        # The thread drains every queued job after each wake-up, so a wake-up
        # that is already pending is enough.
        with contextlib.suppress(RuntimeError):
            self.wake.release()


_WORKER = _Worker()


def _after_fork_in_child() -> None:
    # Only the forking thread survives a fork: the child needs its own worker.
    global _WORKER
    _WORKER = _Worker()


os.register_at_fork(after_in_child=_after_fork_in_child)


def shielded(work: Callable[[], T], *, on_interrupt: Callable[[], None] | None = None) -> T:
    """Run ``work`` where no signal handler can interrupt it, and return its result.

    From the main thread the work runs on the ``stalkrisk-engine`` thread; an
    interrupt of the wait is raised, unchanged, once the work is done, and
    ``on_interrupt`` is called (in the main thread, so it should only set a
    flag) so that long work can stop early.  From any other thread the work
    runs in place.  The work's own exception, if it raises one, is raised here.
    """
    # While the interpreter shuts down its daemon threads are frozen, so the work
    # runs in place (a stream left open at exit is closed then).
    if threading.current_thread() is not threading.main_thread() or sys.is_finalizing():
        return work()
    job = _Job(work)
    _WORKER.submit(job)
    interrupt: BaseException | None = None
    # `finished`, not the lock, decides: an interrupt can land just after the
    # lock was taken, and taking it again would then wait for ever.
    while not job.finished:
        try:
            job.done.acquire()
        except BaseException as error:  # raised once the work is done
            interrupt = interrupt or error
            if on_interrupt is not None:
                on_interrupt()
    if interrupt is not None:
        raise interrupt
    if job.error is not None:
        raise job.error
    return job.result  # type: ignore[return-value]
