"""The soak in CI: 20,000 generated assessments on 8 threads, in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SOAK = Path(__file__).with_name("soak.py")


@pytest.mark.slow
def test_soak_of_twenty_thousand_cases_on_eight_threads_matches_sequential_results() -> None:
    done = subprocess.run(
        [sys.executable, str(SOAK), "--cases", "20000", "--threads", "8", "--sample", "2000"],
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr[-2000:]}"
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["cases"] == 20_000
    assert report["compared"] == 2_000
    assert report["mismatches"] == 0
    assert report["failures"] == []
