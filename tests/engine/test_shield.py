"""Work that a signal handler must not interrupt runs where no handler runs.

Python runs signal handlers only in the main thread.  ``shielded`` hands the
main thread's work to the ``stalkrisk-engine`` thread and, if the wait is
interrupted, raises the interrupt only once the work is done.
"""

from __future__ import annotations

import threading

import pytest
from subprocess_run import describe, run_isolated

from stalkrisk._shield import shielded


def test_work_from_the_main_thread_runs_on_the_engine_thread() -> None:
    assert shielded(lambda: threading.current_thread().name) == "stalkrisk-engine"


def test_work_from_another_thread_runs_in_that_thread() -> None:
    names: list[str] = []
    thread = threading.Thread(
        target=lambda: names.append(shielded(lambda: threading.current_thread().name)),
        name="caller",
    )
    thread.start()
    thread.join()

    assert names == ["caller"]


def test_the_work_s_own_exception_reaches_the_caller() -> None:
    def failing() -> None:
        raise LookupError("from the work")

    with pytest.raises(LookupError, match="from the work"):
        shielded(failing)


def test_an_interrupt_of_the_wait_is_raised_unchanged_once_the_work_is_done() -> None:
    done = run_isolated(
        """
        import signal, time
        from stalkrisk._shield import shielded

        class RequestTimeout(Exception):
            pass

        def on_alarm(signum, frame):
            raise RequestTimeout("deadline")

        finished = []

        def work():
            time.sleep(0.3)
            finished.append(time.monotonic())
            return "result"

        signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        try:
            shielded(work)
        except RequestTimeout as error:
            raised = time.monotonic()
            assert str(error) == "deadline"
            assert finished and finished[0] <= raised, "raised before the work ended"
        else:
            raise AssertionError("the interrupt was lost")
        assert shielded(lambda: "again") == "again"
        """
    )

    assert done.returncode == 0, describe(done)
