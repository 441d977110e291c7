"""The performance table of docs/performance.md, measured on this machine.

Run by hand (not a test):  .venv/bin/python bench/performance.py [--quick]

Reports medians over repeated runs of:
* one ``assess()`` call for 1, 10, 20, 100, 1,000 and 10,000 contacts, and its three
  phases timed in the same runs: the plain-Python feature extraction, the engine
  session, and the explanation (findings and the Assessment model);
* the growth from 1,000 to 10,000 contacts against n and n log n;
* batch throughput of ``assess_many`` on all cores for 20-contact cases, given as
  models and as JSON text, on the first call and with the workers kept;
* ``import stalkrisk`` in a fresh interpreter;
* ``stalkrisk assess`` end to end on the bundled example;
* peak resident memory of this process.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import stalkrisk
from stalkrisk import _evaluate, _registry
from stalkrisk.batch import stop_workers

ROOT = Path(__file__).resolve().parents[1]
CODES = [
    b.value
    for b in stalkrisk.Behaviour
    if b.value not in ("threat", "physical_violence", "property_damage")
]


def make_case(n: int, seed: int = 1) -> stalkrisk.Case:
    """``n`` contacts spread over a year, no threats, a former client."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    contacts = [
        {
            "id": f"c{i}",
            "at": start + timedelta(seconds=rng.randrange(365 * 86_400)),
            "behaviours": rng.sample(CODES, rng.randint(1, 2)),
            "note": "free text " * 5,
        }
        for i in range(n)
    ]
    return stalkrisk.Case.model_validate(
        {
            "assessed_at": start + timedelta(days=366),
            "client": {"relationship": "former"},
            "contacts": contacts,
            "fear": {"level": "some"},
        }
    )


def median_seconds(run: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def phase_medians(case: stalkrisk.Case, repeat: int) -> tuple[float, float, float, float]:
    """Medians of the three phases of one assess() call, timed in the same runs."""
    compiled = _registry.compiled(stalkrisk.default_rule_pack())
    clock = time.perf_counter
    phases: list[list[float]] = [[], [], [], []]
    for _ in range(repeat):
        t0 = clock()
        features = compiled.extractor.extract(case)
        t1 = clock()
        firings, present = _evaluate._run_engine(compiled, features)
        t2 = clock()
        _evaluate.assessment(
            compiled, _evaluate._explain(case, compiled, features, firings, present)
        )
        t3 = clock()
        for phase, seconds in zip(phases, (t1 - t0, t2 - t1, t3 - t2, t3 - t0), strict=True):
            phase.append(seconds)
    features_s, engine_s, explain_s, total_s = (statistics.median(p) for p in phases)
    return total_s, features_s, engine_s, explain_s


def assess_rows(sizes: list[int], budget: float) -> dict[int, float]:
    print("| contacts | assess() median | features | engine | explanation | engine : features |")
    print("|---:|---:|---:|---:|---:|---:|")
    medians = {}
    for n in sizes:
        case = make_case(n)
        stalkrisk.assess(case)
        single = median_seconds(partial(stalkrisk.assess, case), 3)
        repeat = max(7, min(2_000, int(budget / max(single, 1e-6))))
        total = median_seconds(partial(stalkrisk.assess, case), repeat)
        _, features, engine, explain = phase_medians(case, repeat)
        medians[n] = total
        print(
            f"| {n:,} | {total * 1e3:.3f} ms | {features * 1e3:.3f} ms | {engine * 1e3:.3f} ms "
            f"| {explain * 1e3:.3f} ms | {engine / features:.2f} |"
        )
    return medians


def scaling(medians: dict[int, float]) -> None:
    ratio = medians[10_000] / medians[1_000]
    nlogn = (10_000 * math.log(10_000)) / (1_000 * math.log(1_000))
    print(f"\n1,000 → 10,000 contacts: time ×{ratio:.1f} (n: ×10.0, n log n: ×{nlogn:.1f})")


def _cpu() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def batch_throughput(count: int) -> None:
    """Cold (first call, workers start) and warm (workers kept) throughput, two input forms."""
    models = [make_case(20, seed) for seed in range(count)]
    texts = [case.model_dump_json(exclude_defaults=True) for case in models]
    cores = os.cpu_count()
    print(f"\nbatch: {count:,} cases of 20 contacts on {cores} cores, default workers")
    for label, cases in (("Case models", models), ("JSON text", texts)):
        stop_workers()
        gc.collect()
        started = time.perf_counter()
        stalkrisk.assess_many(cases)
        cold = time.perf_counter() - started
        gc.collect()
        own0, _ = _cpu()
        started = time.perf_counter()
        stalkrisk.assess_many(cases)
        warm = time.perf_counter() - started
        own1, _ = _cpu()
        stop_workers()
        print(
            f"  {label}: warm {count / warm:,.0f} cases/s, first call {count / cold:,.0f} "
            f"cases/s (with worker start-up); caller CPU {(own1 - own0) / count * 1e6:.0f} µs/case"
        )


def fresh(command: list[str], repeat: int) -> float:
    def run() -> None:
        subprocess.run(command, check=True, capture_output=True, cwd=ROOT)

    return median_seconds(run, repeat)


_PEAK = """
import sys
sys.path.insert(0, {bench!r})
from performance import make_case
import stalkrisk

def high_water_mb():
    # VmHWM belongs to this process; ru_maxrss would carry the parent's over exec.
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024

stalkrisk.assess(make_case(20))
case = make_case(10_000)
before = high_water_mb()
stalkrisk.assess(case)
print(f"{{high_water_mb():.0f}} MB (the assessment itself: +{{high_water_mb() - before:.1f}} MB)")
"""


def peak_mb() -> str:
    script = _PEAK.format(bench=str(ROOT / "bench"))
    run = [sys.executable, "-c", script]
    return subprocess.run(run, check=True, capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller counts, shorter budget")
    args = parser.parse_args()
    budget = 0.5 if args.quick else 2.0
    sizes = [1, 10, 20, 100, 1_000, 10_000]
    print(f"stalkrisk {stalkrisk.__version__}, Python {sys.version.split()[0]}, "
          f"{os.cpu_count()} cores\n")  # fmt: skip
    medians = assess_rows(sizes, budget)
    scaling(medians)
    batch_throughput(2_000 if args.quick else 20_000)
    python = sys.executable
    baseline = fresh([python, "-c", "pass"], 5)
    imported = fresh([python, "-c", "import stalkrisk"], 7)
    print(f"\nimport stalkrisk: {(imported - baseline) * 1e3:.0f} ms "
          f"(interpreter start {baseline * 1e3:.0f} ms not counted)")  # fmt: skip
    example = ROOT / "src" / "stalkrisk" / "examples" / "former_client.json"
    cli = fresh([python, "-m", "stalkrisk", "assess", str(example)], 5)
    print(f"stalkrisk assess (end to end, bundled example): {cli * 1e3:.0f} ms")
    print(f"peak resident memory, one 10,000-contact case in a fresh process: {peak_mb()}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of this benchmark (all its cases held): {peak:.0f} MB")


if __name__ == "__main__":
    main()
