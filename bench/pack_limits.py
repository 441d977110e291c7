"""How the cost of a rule pack grows with its size, and where durable-rules breaks.

Run by hand (not a test):

    .venv/bin/python bench/pack_limits.py [--quick] [--packs N]

It prints one table per question behind the limits of docs/rules.md ("Limits"):

1. engine compile: ``create_ruleset`` of the bare engine (no stalkrisk guards)
   against the number of rules, comparisons per condition, nesting depth and
   all/any groups, up to and past the engine's own limits (a hang, an engine
   error code, or a table overrun that still "works");
2. engine evaluation: one fact against DNF terms that all hold, against rules
   whose first comparisons differ, and against tests that it meets at once
   (the engine's 64-node stack);
3. loading with stalkrisk: ``load_rule_pack`` against file size (libyaml,
   PyYAML's Python parser, JSON), the pattern span (contacts in the safety
   probe) and parameter magnitude;
4. assessing: every DNF term a pack may hold, all true on each of many
   episodes; a pack near every limit on 10,000 contacts and on 2,000 episodes;
5. memory: resident memory after loading N distinct packs, with the bounded
   cache and with the cache made unbounded (as before the limit).

Each measurement runs in a child process (``--child NAME ARG``) with a timeout:
past its limits the engine spins forever holding the GIL, and ignores SIGINT.
A child that times out is reported as ``HANG`` (killed with SIGKILL).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 20.0


# --- building rulesets and packs -------------------------------------------------------


def engine_rules(rules: list[tuple[str, Any]]) -> str:
    """A ruleset in the adapter's shape: sentinel and sweep rules, then ``kind`` + condition."""
    definition: dict[str, Any] = {
        "sentinel": {"all": [{"m": {"$begin": 1}}]},
        "sweep": {"all": [{"m": {"$sweep": 1}}]},
    }
    for position, (kind, condition) in enumerate(rules):
        body = {"$and": [{"kind": kind}, condition]}
        definition[f"r{position}"] = {"all": [{"m": body}]}
    return json.dumps(definition)


def gte(value: int) -> dict[str, Any]:
    return {"$gte": {"contacts": value}}


def eq(value: int) -> dict[str, Any]:
    return {"contacts": value}


def nested_groups(groups: int) -> dict[str, Any]:
    condition: dict[str, Any] = gte(1)
    for level in range(groups):
        condition = {"$or" if level % 2 else "$and": [condition, gte(level + 2)]}
    return condition


ENGINE_SHAPES: dict[str, Callable[[int], list[tuple[str, Any]]]] = {
    # n rules whose first comparisons differ: n nodes follow one condition.
    "distinct rules": lambda n: [("case", {"$and": [eq(i)]}) for i in range(n)],
    # n rules with the same condition: n rules listed on one node.
    "identical rules": lambda n: [("case", {"$and": [gte(1)]}) for _ in range(n)],
    "any of n (exclusive)": lambda n: [("case", {"$or": [eq(i) for i in range(n)]})],
    "all of n (chain)": lambda n: [("case", {"$and": [gte(1)] * n})],
    # The adapter adds one $and of its own around each condition.
    "n nested groups": lambda n: [("case", nested_groups(n))],
    "all of n any-groups": lambda n: [
        ("case", {"$and": [{"$or": [eq(i), gte(i)]} for i in range(n)]})
    ],
}


def default_doc(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((ROOT / "rules" / "default.yaml").read_text("utf-8"))
    doc["name"] = name
    return doc


def note(rule_id: str, when: dict[str, Any], fact: str = "grade") -> dict[str, Any]:
    then = {"note": "Generated."} if fact == "grade" else {"element": "fear"}
    return {
        "id": rule_id,
        "title": "Generated",
        "fact": fact,
        "when": when,
        "then": then,
        "rationale": "A generated rule for the limits bench.",
        "source": "bench",
    }


def near_every_limit() -> dict[str, Any]:
    """200 rules, 2,000 comparisons, 256 DNF terms, a full stack for episode facts."""
    doc = default_doc("near-every-limit")
    doc["rules"] += [
        note(f"element.n{n}", {"all": [{"field": "contacts", "gte": n + 1}]}, "episode")
        for n in range(63)
    ]
    doc["rules"].append(
        note("note.wide", {"any": [{"field": "contacts", "eq": 1000 + n} for n in range(53)]})
    )
    doc["rules"] += [
        note(
            f"note.c{n}",
            {
                "all": [{"field": "contacts", "eq": 5000 + n}]
                + [{"field": "contacts", "gte": 1}] * (16 + (n < 18))
            },
        )
        for n in range(107)
    ]
    return doc


def one_episode(contacts: int) -> dict[str, Any]:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    return {
        "assessed_at": (start + timedelta(days=contacts)).isoformat(),
        "client": {"relationship": "current"},
        "contacts": [
            {
                "id": f"c{n}",
                "at": (start + timedelta(hours=n)).isoformat(),
                "behaviours": [("following", "surveillance")[n % 2]],
            }
            for n in range(contacts)
        ],
    }


def many_episodes(episodes: int) -> dict[str, Any]:
    start = datetime(1900, 1, 1, tzinfo=UTC)
    days = [(n // 2) * 45 + (n % 2) * 14 for n in range(2 * episodes)]
    return {
        "assessed_at": (start + timedelta(days=days[-1] + 1)).isoformat(),
        "client": {"relationship": "current"},
        "contacts": [
            {
                "id": f"c{n}",
                "at": (start + timedelta(days=day)).isoformat(),
                "behaviours": [("following", "surveillance")[n % 2]],
            }
            for n, day in enumerate(days)
        ],
    }


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 1e6


# --- children: one measurement each ----------------------------------------------------


def child_compile(shape: str, size: int) -> dict[str, Any]:
    import durable_rules_engine as core  # type: ignore[import-not-found]

    text = engine_rules(ENGINE_SHAPES[shape](size))
    started = time.perf_counter()
    try:
        core.create_ruleset("bench", text)
    except Exception as error:
        return {"ms": (time.perf_counter() - started) * 1e3, "outcome": str(error)}
    return {"ms": (time.perf_counter() - started) * 1e3, "outcome": "ok"}


def _session(core: Any, handle: int, facts: list[dict[str, Any]]) -> float:
    """Seconds to assert ``facts`` after the sentinel and drain every action."""
    started = time.perf_counter()
    for number, fact in enumerate([{"$begin": 1}, *facts]):
        code, state = core.assert_fact(handle, json.dumps({**fact, "sid": "s", "id": f"f{number}"}))
        if code == 0:
            actions = core.start_action_for_state(handle, state)
            actions = actions[1] if actions else None
            while actions:
                actions = core.complete_and_start_action(handle, state)
    elapsed = time.perf_counter() - started
    core.delete_state(handle, "s")
    return elapsed


def child_terms(groups: int, width: int) -> dict[str, Any]:
    """One fact meeting every one of width ** groups DNF terms of one rule."""
    import durable_rules_engine as core

    condition = {
        "$and": [{"$or": [gte(-1 - i - 100 * g) for i in range(width)]} for g in range(groups)]
    }
    handle = core.create_ruleset("bench", engine_rules([("episode", condition)]))
    fact = {"kind": "episode", "contacts": 5}
    times = [_session(core, handle, [fact]) for _ in range(5)]
    return {"ms": statistics.median(times) * 1e3, "outcome": "ok"}


def child_fan_out(rules: int, _: int) -> dict[str, Any]:
    """One fact against ``rules`` rules whose first comparisons differ."""
    import durable_rules_engine as core

    handle = core.create_ruleset("bench", engine_rules(ENGINE_SHAPES["distinct rules"](rules)))
    seconds = _session(core, handle, [{"kind": "case", "contacts": 7}])
    return {"ms": seconds * 1e3, "outcome": "ok"}


def child_stack(tests: int, _: int) -> dict[str, Any]:
    """One fact that meets ``tests`` tests of one field, each starting a rule."""
    import durable_rules_engine as core

    handle = core.create_ruleset(
        "bench", engine_rules([("case", {"$and": [gte(i)]}) for i in range(tests)])
    )
    try:
        seconds = _session(core, handle, [{"kind": "case", "contacts": 10**6}])
    except Exception as error:
        return {"ms": 0.0, "outcome": str(error)}
    return {"ms": seconds * 1e3, "outcome": "ok"}


def _load(doc: dict[str, Any], suffix: str, padding: int = 0) -> tuple[float, str, Any]:
    """Load ``doc``, its description padded with ``{a: 1}`` maps to ``padding`` bytes."""
    import stalkrisk

    doc = {key: value for key, value in doc.items() if key != "description"}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, f"pack{suffix}")
        if suffix == ".json":
            text = json.dumps(doc)[:-1] + ',"description":['
            maps = max(padding - len(text.encode()) - 2, 0) // 8
            text += ",".join(['{"a":1}'] * maps) + "]}"
        else:
            # Dense flow maps are the slowest YAML to read per byte.
            text = yaml.safe_dump(json.loads(json.dumps(doc)), sort_keys=False) + "description: ["
            maps = max(padding - len(text.encode()) - 2, 0) // 7
            text += ",".join(["{a: 1}"] * maps) + "]\n"
        path.write_text(text, encoding="utf-8")
        size = path.stat().st_size
        started = time.perf_counter()
        try:
            pack = stalkrisk.load_rule_pack(path)
        except stalkrisk.RulePackError as error:
            limit = (
                error.msg.rpartition("[limit: ")[2].rstrip("]")
                if error.type == "limit"
                else error.msg
            )
            return time.perf_counter() - started, f"refused: {limit}", None
        return time.perf_counter() - started, f"ok, {size / 1024:,.0f} KiB", pack


def child_file_size(kib: int, reader: int) -> dict[str, Any]:
    """The bundled pack padded to ``kib`` KiB; reader 0 libyaml, 1 Python, 2 JSON."""
    from stalkrisk import _yaml

    if reader == 1:
        _yaml.LOADERS[:] = [
            loader for loader in _yaml.LOADERS if loader.__name__ == "_PythonLoader"
        ]
    doc = default_doc(f"size-{kib}-{reader}")
    seconds, outcome, _ = _load(doc, ".json" if reader == 2 else ".yaml", kib * 1024)
    return {"ms": seconds * 1e3, "outcome": outcome}


def child_span(span: int, gap: int) -> dict[str, Any]:
    doc = default_doc(f"span-{span}-{gap}")
    doc["parameters"]["pattern_min_span_days"]["value"] = span
    doc["parameters"]["episode_max_gap_days"]["value"] = gap
    seconds, outcome, _ = _load(doc, ".json")
    return {"ms": seconds * 1e3, "outcome": outcome}


MAGNITUDES = (10**6, 10**6 + 1, 2**63, 1e300)


def child_magnitude(index: int, parameter: int) -> dict[str, Any]:
    """A parameter (0: long_relationship_months, 1: recent_days) of a large magnitude."""
    name = ("long_relationship_months", "recent_days")[parameter]
    doc = default_doc(f"magnitude-{index}-{parameter}")
    doc["parameters"][name]["value"] = MAGNITUDES[index]
    seconds, outcome, _ = _load(doc, ".json")
    return {"ms": seconds * 1e3, "outcome": outcome}


def child_episode_terms(episodes: int, _: int) -> dict[str, Any]:
    """223 more DNF terms (256 in all) on episode rules, all true for every episode.

    Each rule is an all of two any-groups, so the terms multiply while the tests
    one fact meets at once stay within max_simultaneous_matches.
    """
    import stalkrisk

    doc = default_doc(f"episode-terms-{episodes}")
    for index, (first, second) in enumerate(((8, 8), (8, 8), (8, 8), (4, 4), (3, 5))):
        when = {
            "all": [
                {"any": [{"field": "contacts", "gte": -1 - n - 10 * index} for n in range(first)]},
                {"any": [{"field": "span_days", "gte": -1 - n} for n in range(second)]},
            ]
        }
        doc["rules"].append(note(f"element.t{index}", when, "episode"))
    seconds, outcome, pack = _load(doc, ".json")
    if pack is None:
        return {"ms": seconds * 1e3, "outcome": outcome}
    case = stalkrisk.Case.model_validate(many_episodes(episodes))
    started = time.perf_counter()
    stalkrisk.assess(case, rule_pack=pack)
    return {"ms": (time.perf_counter() - started) * 1e3, "outcome": "ok"}


def child_near_limits(_: int, __: int) -> dict[str, Any]:
    import stalkrisk

    seconds, outcome, pack = _load(near_every_limit(), ".json")
    if pack is None:
        return {"ms": seconds * 1e3, "outcome": outcome}
    results: dict[str, Any] = {"load ms": round(seconds * 1e3, 1)}
    for label, case in (
        ("10,000 contacts, one episode", one_episode(10_000)),
        ("2,000 episodes", many_episodes(2_000)),
    ):
        valid = stalkrisk.Case.model_validate(case)
        started = time.perf_counter()
        level = stalkrisk.assess(valid, rule_pack=pack).level.value
        results[f"{label} ms"] = round((time.perf_counter() - started) * 1e3, 1)
        results[f"{label} level"] = level
    results["peak RSS MB"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return {"ms": seconds * 1e3, "outcome": json.dumps(results)}


def child_memory(packs: int, mode: int) -> dict[str, Any]:
    """Load and use ``packs`` distinct packs; mode bit 1: bounded cache, bit 2: large packs."""
    import stalkrisk
    from stalkrisk import _registry

    if not mode & 1:  # keep every pack, as before the limit
        _registry.CACHE_SIZE = _registry.CACHE_COMPARISONS = 10**9
    case = stalkrisk.example_case()
    stalkrisk.assess(case)
    before = rss_mb()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        for n in range(packs):
            doc = near_every_limit() if mode & 2 else default_doc("memory")
            doc["name"] = f"memory-{n}"
            path = Path(folder, f"p{n}.json")
            path.write_text(json.dumps(doc), encoding="utf-8")
            stalkrisk.assess(case, rule_pack=stalkrisk.load_rule_pack(path))
            path.unlink()
    return {
        "ms": (time.perf_counter() - started) * 1e3 / packs,
        "outcome": f"RSS {before:,.0f} -> {rss_mb():,.0f} MB",
    }


def _compiling(shape: str) -> Callable[[int, int], dict[str, Any]]:
    return lambda size, _: child_compile(shape, size)


CHILDREN: dict[str, Callable[[int, int], dict[str, Any]]] = {
    **{f"compile:{shape}": _compiling(shape) for shape in ENGINE_SHAPES},
    "terms": child_terms,
    "fan_out": child_fan_out,
    "stack": child_stack,
    "file_size": child_file_size,
    "span": child_span,
    "magnitude": child_magnitude,
    "episode_terms": child_episode_terms,
    "near_limits": child_near_limits,
    "memory": child_memory,
}


def measure(name: str, first: int, second: int = 0, timeout: float = TIMEOUT) -> dict[str, Any]:
    """Run one child; a timeout (the engine spinning with the GIL held) is a HANG."""
    command = [sys.executable, __file__, "--child", name, str(first), str(second)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"ms": timeout * 1e3, "outcome": f"HANG (killed after {timeout:.0f} s)"}
    if done.returncode != 0:
        return {"ms": 0.0, "outcome": f"crashed ({done.returncode}): {done.stderr[-80:]!r}"}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# --- the tables --------------------------------------------------------------------------


def table(title: str, rows: list[tuple[str, dict[str, Any]]]) -> None:
    print(f"\n{title}")
    print(f"  {'size':<42} {'ms':>10}  outcome")
    for label, result in rows:
        print(f"  {label:<42} {result['ms']:>10.1f}  {result['outcome']}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer sizes and packs")
    parser.add_argument("--packs", type=int, default=2000, help="packs for the memory table")
    parser.add_argument("--child", nargs=3, metavar=("NAME", "A", "B"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, first, second = args.child
        print(json.dumps(CHILDREN[name](int(first), int(second))))
        return

    sizes = {
        "distinct rules": [100, 256, 511, 512, 513],
        "identical rules": [100, 255, 256, 257, 258],
        "any of n (exclusive)": [100, 400, 512, 513],
        "all of n (chain)": [128, 1000, 5000],
        "n nested groups": [13, 14, 15],
        "all of n any-groups": [12, 13, 14],
    }
    if args.quick:
        sizes = {shape: [sizes[shape][0], sizes[shape][-1]] for shape in sizes}
    for shape, values in sizes.items():
        table(
            f"engine compile: {shape}",
            [(f"n = {n:,}", measure(f"compile:{shape}", n)) for n in values],
        )

    shapes = [(1, 8), (2, 8), (3, 8), (2, 16), (4, 8)]
    table(
        "engine evaluation: one fact meeting all DNF terms (all of G any-groups of W)",
        [(f"G={g}, W={w}: {w**g:,} terms", measure("terms", g, w)) for g, w in shapes],
    )
    table(
        "engine evaluation: one fact against n rules whose first comparisons differ",
        [(f"n = {n}", measure("fan_out", n)) for n in (256, 511, 512)],
    )
    table(
        "engine evaluation: one fact meeting n tests that each start a rule",
        [(f"n = {n}", measure("stack", n)) for n in (32, 64, 65, 99)],
    )

    readers = ("YAML (libyaml)", "YAML (PyYAML's Python parser)", "JSON")
    table(
        "load_rule_pack: the bundled pack padded with dense maps (the slowest YAML) to a size",
        [
            (f"{name}, {kib} KiB", measure("file_size", kib, reader))
            for reader, name in enumerate(readers)
            for kib in ((128, 193) if args.quick else (64, 128, 192, 193))
        ],
    )
    table(
        "load_rule_pack: pattern span and gap (contacts in the safety probe)",
        [
            (f"span {span:,} d, gap {gap:,} d", measure("span", span, gap))
            for span, gap in ((14, 30), (999, 1), (1000, 1), (36_500, 36_500), (10**7, 30))
        ],
    )
    table(
        "load_rule_pack: parameter magnitude",
        [
            (f"{name} = {value:,}", measure("magnitude", index, parameter))
            for parameter, name in enumerate(("long_relationship_months", "recent_days"))
            for index, value in enumerate(MAGNITUDES)
        ],
    )
    table(
        "assess: 223 more DNF terms (256 in all) on episode rules, all true for every episode",
        [(f"{n:,} episodes", measure("episode_terms", n)) for n in (100, 2_000, 10_000)],
    )
    table(
        "a pack near every limit: load, then assess large cases",
        [("near every limit", measure("near_limits", 0, timeout=120))],
    )
    packs = 200 if args.quick else args.packs
    table(
        "memory: distinct packs loaded and used one after another (ms per pack)",
        [
            (f"{packs:,} bundled-size packs, bounded cache", measure("memory", packs, 1, 3600)),
            (f"{packs:,} bundled-size packs, unbounded", measure("memory", packs, 0, 3600)),
            ("100 packs near every limit, bounded cache", measure("memory", 100, 3, 3600)),
            ("100 packs near every limit, unbounded", measure("memory", 100, 2, 3600)),
        ],
    )


if __name__ == "__main__":
    main()
