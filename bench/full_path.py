"""The full path against its floor: JSON text in, ``Assessment`` out (issue #14 targets).

Run by hand (not a test):  .venv/bin/python bench/full_path.py [--quick]

Each row times what a user calls, ``stalkrisk.assess(text)``, and in the same run
its floor: ``json.loads`` of the same text, a sort of its contact times (the least
computation any grading needs), and a bare engine session asserting the facts the
adapter would send, already encoded.  The ratio full / floor is what to compare
between runs: this machine is shared and noisy.

Rows: 20 contacts; 10,000 contacts; 100,000 contacts against ten times the
10,000 row (cyclic garbage collector in its default state); 10,000 contacts in
10,000 separate episodes; ``assess_many`` of 20-contact JSON cases on 2 workers;
``import stalkrisk`` against importing its dependencies.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import stalkrisk
from stalkrisk import _engine, _registry

CODES = ["following", "surveillance", "unwanted_calls", "unwanted_correspondence", "gift"]
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def case_text(count: int, *, seed: int, spacing_days: float | None = None) -> str:
    """A former client's case: ``count`` contacts over a year, or ``spacing_days`` apart."""
    rng = random.Random(seed)
    contacts = []
    times = []
    for n in range(count):
        if spacing_days is None:
            at = T0 + timedelta(seconds=rng.uniform(0, 365 * 86_400))
        else:
            at = T0 + timedelta(days=spacing_days * n)
        shown = rng.sample(CODES, rng.randint(1, 2))
        contacts.append({"id": f"c{n}", "at": at.isoformat(), "behaviours": shown})
        times.append(at)
    last = max(times)
    return json.dumps(
        {
            "assessed_at": (last + timedelta(days=1)).isoformat(),
            "client": {"relationship": "former"},
            "contacts": contacts,
        }
    )


def seconds(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def interleaved(works: list[tuple[Callable[[], object], int]], rounds: int) -> list[float]:
    """The median of each work, run in turns (each ``count`` times a round).

    Taking turns puts the machine's drift into every work alike, so their
    ratios hold even while the milliseconds wander.
    """
    samples: list[list[float]] = [[] for _ in works]
    for _ in range(rounds):
        for (work, count), found in zip(works, samples, strict=True):
            found.extend(seconds(work) for _ in range(count))
    return [statistics.median(found) for found in samples]


def floor_work(text: str) -> Callable[[], object]:
    """json.loads, a sort of the contact times, and a bare session with the same facts."""
    compiled = _registry.compiled(stalkrisk.default_rule_pack())
    case = stalkrisk.parse_case(text)
    features = compiled.extractor.extract(case)
    reads = compiled.ruleset.reads
    values = features.values
    grade = {**values, "pattern": False, "threat": False, "fear": False}
    facts: list[dict[str, object]] = []
    seen = set()
    for episode in features.episodes:
        content = tuple(episode.values()[name] for name in reads["episode"])
        if content not in seen:  # the adapter sends each distinct content once
            seen.add(content)
            facts.append(
                {
                    "kind": "episode",
                    "index": episode.index,
                    **dict(zip(reads["episode"], content, strict=True)),
                }
            )
    for kind, source in (("case", values), ("grade", grade)):
        fact: dict[str, object] = {"kind": kind, "index": 0}
        for name in reads[kind]:
            value = source[name]
            fact[name] = -1 if value is None else int(value) if isinstance(value, bool) else value
        facts.append(fact)

    def work() -> object:
        data = json.loads(text)
        sorted(c["at"] for c in data["contacts"])
        with compiled.ruleset.session() as session:
            for fact in facts:
                session._assert(fact)  # type: ignore[arg-type]
        return data

    return work


def row(label: str, text: str, repeat: int, target_ms: float | None) -> None:
    stalkrisk.assess(text)  # warm up: the pack is compiled once
    full, floor = interleaved(
        [(lambda: stalkrisk.assess(text), 1), (_engine_run(floor_work(text)), 1)], repeat
    )
    verdict = "" if target_ms is None else ("met" if full * 1e3 <= target_ms else "NOT met")
    target = f"≤ {target_ms:g} ms" if target_ms is not None else "—"
    print(
        f"| {label} | {full * 1e3:.3f} ms | {floor * 1e3:.3f} ms | {full / floor:.2f} "
        f"| {target} | {verdict} |"
    )


def _engine_run(work: Callable[[], object]) -> Callable[[], object]:
    # The floor's session runs as assess() runs it: under the engine lock, handed over.
    return lambda: _engine.run(work)


def batch_row(count: int) -> None:
    texts = [case_text(20, seed=n) for n in range(count)]
    stalkrisk.assess_many(texts[:100], workers=2)  # start the workers
    started = time.perf_counter()
    stalkrisk.assess_many(texts, workers=2)
    rate = count / (time.perf_counter() - started)
    started = time.perf_counter()
    for text in texts:
        json.loads(text)
    floor = count / (time.perf_counter() - started) * 2  # two workers' worth of json.loads
    verdict = "met" if rate >= 4_000 else "NOT met"
    print(
        f"| assess_many, {count:,} JSON cases of 20 contacts, 2 workers | {rate:,.0f} cases/s | "
        f"{floor:,.0f} cases/s (json.loads ×2) | {floor / rate:.1f} | ≥ 4,000 cases/s | {verdict} |"
    )


def import_row() -> None:
    def seconds(statement: str) -> float:
        code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
        runs = [
            float(
                subprocess.run(
                    [sys.executable, "-c", code], capture_output=True, text=True, check=True
                ).stdout
            )
            for _ in range(7)
        ]
        return statistics.median(runs)

    full = seconds("import stalkrisk")
    floor = seconds("import pydantic, durable_rules_engine, yaml")
    verdict = "met" if full <= 0.25 else "NOT met"
    print(
        f"| import stalkrisk | {full * 1e3:.0f} ms | {floor * 1e3:.0f} ms (its dependencies) | "
        f"{full / floor:.2f} | ≤ 250 ms | {verdict} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and no 100,000 row")
    args = parser.parse_args()
    repeat = 5 if args.quick else 15
    print(f"stalkrisk {stalkrisk.__version__}, Python {sys.version.split()[0]}\n")
    print("| case | assess(text) median | floor | ratio | target | |")
    print("|---|---:|---:|---:|---|---|")
    row("20 contacts", case_text(20, seed=1), repeat * 40, 0.33)
    row("10,000 contacts", case_text(10_000, seed=2), repeat, 50)
    if not args.quick:
        hundred_text = case_text(100_000, seed=3)
        row("100,000 contacts", hundred_text, 3, None)
        # The ratio from 10,000 and 100,000 contacts timed in turns, so drift cancels.
        ten_text = case_text(10_000, seed=2)
        ten, hundred = interleaved(
            [(lambda: stalkrisk.assess(ten_text), 3), (lambda: stalkrisk.assess(hundred_text), 1)],
            5,
        )
        ten_floor, hundred_floor = interleaved(
            [(_engine_run(floor_work(ten_text)), 3), (_engine_run(floor_work(hundred_text)), 1)],
            5,
        )
        print(
            f"\n100,000 / (10 × 10,000), timed in turns: {hundred / (10 * ten):.2f} "
            f"(target ≤ 1.2); the floor's: {hundred_floor / (10 * ten_floor):.2f}\n"
        )
    row("10,000 contacts, 10,000 episodes", case_text(10_000, seed=4, spacing_days=100), repeat, 60)
    batch_row(4_000 if args.quick else 20_000)
    import_row()


if __name__ == "__main__":
    main()
