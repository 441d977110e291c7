"""Interrupt storms, long form: every target, three seeds, in fresh interpreters.

Runs ``tests/engine/storm.py`` for each target and seed and prints one row each:
calls, calls that returned, calls interrupted, mismatched results, sessions left
behind, interrupts lost, and the exit status (a crash shows as a signal).  Exits non-zero if any
run failed.  Run by hand::

    .venv/bin/python bench/interrupt_storm.py --seconds 20
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STORM = ROOT / "tests" / "engine" / "storm.py"
sys.path.insert(0, str(STORM.parent))

from storm import TARGETS  # noqa: E402 - found through the line above


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    failed = 0
    print(
        f"{'target':15} {'seed':>4} {'calls':>8} {'returned':>8} {'interrupted':>11} "
        f"{'mismatch':>8} {'lost':>5} {'left':>5}  status"
    )
    for target in TARGETS:
        for seed in args.seeds:
            done = subprocess.run(
                [sys.executable, str(STORM), "--target", target, "--seed", str(seed),
                 "--seconds", str(args.seconds)],
                capture_output=True, text=True, cwd=STORM.parents[1],
                timeout=args.seconds * 4 + 120,
            )  # fmt: skip
            code = done.returncode
            status = f"signal {-code}" if code < 0 else f"exit {code}"
            failed += done.returncode != 0
            try:
                f = json.loads(done.stdout.strip().splitlines()[-1])
            except (IndexError, json.JSONDecodeError):
                print(f"{target:15} {seed:>4} {'(no figures)':>45}  {status}")
                continue
            left = f["sessions_left"] + f["undeleted_sessions"] + f["open_sessions"]
            print(
                f"{target:15} {seed:>4} {f['calls']:>8} {f['returned']:>8} "
                f"{f['interrupted']:>11} {f['mismatches']:>8} {f['swallowed']:>5} {left:>5}  "
                f"{status}"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
