"""Run a scenario in a fresh interpreter, so that a segfault fails one test, not the run."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def run_isolated(code: str, *, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``code`` with the tests' helpers importable; never raises on failure."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=TESTS,
        env=None,
    )


def describe(done: subprocess.CompletedProcess[str]) -> str:
    """The exit status and the tail of stderr, for assertion messages."""
    status = f"signal {-done.returncode}" if done.returncode < 0 else f"exit {done.returncode}"
    return f"{status}\n{done.stderr[-2000:]}"
