"""A trajectory against one assessment and against naive prefix re-assessment (issue #15).

Run by hand (not a test):  .venv/bin/python bench/trajectory.py [--quick]

Each row builds a former client's case from JSON text and times, in the same run:
``stalkrisk.trajectory(text)``; one ``stalkrisk.assess(text)`` of the whole case
(the ratio trajectory / assess is the figure to compare between runs); and the
naive way, ``assess(case.as_of(t))`` for every step time (measured on at most
1,000 contacts, and extrapolated from a prefix of the steps beyond that).
Targets: 1,000 contacts within 25 times one assessment; 10,000 contacts within 10 s.
"""

from __future__ import annotations

import argparse
import sys
import time

from full_path import case_text, interleaved

import stalkrisk


def naive(text: str, limit: int | None) -> tuple[float, int, int]:
    """Seconds for ``assess(case.as_of(t))`` over the first ``limit`` steps, and the counts."""
    case = stalkrisk.parse_case(text)
    times = sorted({c.at for c in case.contacts} | {case.assessed_at})
    chosen = times if limit is None else times[:: max(len(times) // limit, 1)][:limit]
    started = time.perf_counter()
    for moment in chosen:
        stalkrisk.assess(case.as_of(moment))
    return time.perf_counter() - started, len(chosen), len(times)


def row(count: int, repeat: int, *, spacing_days: float | None = None, label: str = "") -> None:
    text = case_text(count, seed=count, spacing_days=spacing_days)
    stalkrisk.trajectory(text)  # warm up: the pack is compiled once
    # In turns, so that the ratio holds while the machine drifts.
    one, whole = interleaved(
        [(lambda: stalkrisk.assess(text), 3), (lambda: stalkrisk.trajectory(text), 1)], repeat
    )
    spent, measured, steps = naive(text, None if count <= 1_000 else 200)
    naive_total = spent * steps / measured
    estimate = "" if measured == steps else f" (from {measured} of {steps} steps)"
    print(
        f"| {count:,} contacts{label} | {steps:,} | {whole * 1e3:,.1f} ms | {one * 1e3:.2f} ms "
        f"| {whole / one:.1f} | {naive_total * 1e3:,.0f} ms{estimate} | {naive_total / whole:.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, no 10,000 row")
    args = parser.parse_args()
    repeat = 3 if args.quick else 7
    print(f"stalkrisk {stalkrisk.__version__}, Python {sys.version.split()[0]}\n")
    print(
        "| case | steps | trajectory(text) median | assess(text) median | ratio "
        "| naive as_of re-assessment | naive / trajectory |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    row(100, repeat)
    row(1_000, repeat)
    row(1_000, repeat, spacing_days=100, label=", 1,000 episodes")
    if not args.quick:
        row(10_000, 3)
        row(10_000, 3, spacing_days=100, label=", 10,000 episodes")


if __name__ == "__main__":
    main()
