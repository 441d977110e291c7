"""Pack limits: a pack the engine could not handle is refused before the engine sees it.

Each limit of docs/rules.md ("Limits") has a pack exactly at the limit, which
loads and assesses, and one just over it, which is refused with a RulePackError
of type "limit" that names the limit, the file, the rule and the field.  Packs
are built from the bundled ``rules/default.yaml`` (29 rules, 47 comparisons,
33 terms) and written as JSON, which reads fast even when large.
"""

from __future__ import annotations

import copy
import gc
import io
import json
import pickle
import re
import subprocess
import sys
import tempfile
import textwrap
import time
import weakref
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from builders import case, contact
from hypothesis import event, given, settings
from hypothesis import strategies as st

import stalkrisk
from stalkrisk import RulePackError, _cli, _engine, _registry, _yaml
from stalkrisk._fields import fields_for
from stalkrisk._limits import LIMITS
from stalkrisk._packmodel import OPERATORS
from stalkrisk.strategies import cases

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TEXT = (ROOT / "rules" / "default.yaml").read_text(encoding="utf-8")
_DEFAULT = yaml.safe_load(DEFAULT_TEXT)
DAY_PARAMETERS = (
    "pattern_min_span_days",
    "episode_max_gap_days",
    "recent_days",
    "history_after_days",
    "ongoing_max_days",
)
DEFAULT_RULES, DEFAULT_COMPARISONS, DEFAULT_TERMS = 47, 101, 59


# --- helpers -----------------------------------------------------------------------


def default_doc(name: str = "limits") -> dict[str, Any]:
    doc: dict[str, Any] = copy.deepcopy(_DEFAULT)
    doc["name"] = name
    return doc


def write(tmp_path: Path, doc: Any, name: str = "pack.json") -> Path:
    path = tmp_path / name
    if name.endswith(".json"):
        path.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def rule(rule_id: str, when: dict[str, Any], fact: str = "grade") -> dict[str, Any]:
    then = {"note": f"Note {rule_id}."} if fact == "grade" else {"element": "fear"}
    return {
        "id": rule_id,
        "title": "Generated",
        "fact": fact,
        "when": when,
        "then": then,
        "rationale": "A generated rule.",
        "source": "test",
    }


def compare(field: str, op: str, value: Any) -> dict[str, Any]:
    return {"field": field, op: value}


def exclusive(count: int, start: int = 1000) -> list[dict[str, Any]]:
    """``count`` tests of which one fact meets at most one (``contacts = n``)."""
    return [compare("contacts", "eq", start + n) for n in range(count)]


def chain(count: int) -> dict[str, Any]:
    """An all of ``count`` comparisons: one term, and one engine node per comparison."""
    return {"all": [compare("contacts", "gte", 1)] * count}


def nested(depth: int) -> dict[str, Any]:
    """``depth`` all/any groups, each inside the one before."""
    condition: dict[str, Any] = {"all": [compare("contacts", "gte", 1)]}
    for level in range(depth - 1):
        condition = {"any" if level % 2 == 0 else "all": [condition]}
    return condition


def with_rules(*added: dict[str, Any], name: str = "limits") -> dict[str, Any]:
    doc = default_doc(name)
    doc["rules"].extend(added)
    return doc


def with_comparisons(total: int, name: str) -> dict[str, Any]:
    """The bundled pack with chains added until its rules hold ``total`` comparisons."""
    left, added = total - DEFAULT_COMPARISONS, list[dict[str, Any]]()
    while left:
        size = min(left, LIMITS["max_comparisons_per_rule"])
        added.append(rule(f"note.n{len(added)}", chain(size)))
        left -= size
    return with_rules(*added, name=name)


def refusal(path: Path) -> RulePackError:
    with pytest.raises(RulePackError) as info:
        stalkrisk.load_rule_pack(path)
    return info.value


def limit_of(error: RulePackError) -> str:
    found = re.search(r"\[limit: (\w+)\]$", error.msg)
    assert found, error.msg
    assert error.type == "limit"
    return found.group(1)


def one_episode(contacts: int) -> dict[str, Any]:
    """``contacts`` stalking contacts an hour apart: one episode."""
    return case(
        *(contact(f"c{n}", n / 24, ("following", "surveillance")[n % 2]) for n in range(contacts))
    )


def many_episodes(episodes: int) -> dict[str, Any]:
    """``episodes`` two-behaviour episodes 14 days long, 31 days of silence apart."""
    return case(
        *(
            contact(f"c{n}", (n // 2) * 45 + (n % 2) * 14, ("following", "surveillance")[n % 2])
            for n in range(2 * episodes)
        )
    )


def load_in_subprocess(path: Path) -> str:
    """Load ``path`` in a fresh interpreter; the engine hangs holding the GIL past its limits."""
    code = f"""
        import stalkrisk
        try:
            stalkrisk.load_rule_pack({str(path)!r})
        except stalkrisk.RulePackError as error:
            print(error.msg)
        """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


# --- what was observed -----------------------------------------------------------------


def test_a_rule_whose_any_holds_1000_comparisons_is_refused_before_the_engine(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, with_rules(rule("note.wide", {"any": exclusive(1000)})))

    assert "[limit: max_comparisons_per_rule]" in load_in_subprocess(path)


def test_600_rules_with_distinct_first_conditions_are_refused_before_the_engine(
    tmp_path: Path,
) -> None:
    added = [rule(f"note.n{n}", {"all": exclusive(1, start=1000 + n)}) for n in range(600)]
    path = write(tmp_path, with_rules(*added))

    assert "[limit: max_rules]" in load_in_subprocess(path)


def test_5000_rules_are_refused_before_the_engine(tmp_path: Path) -> None:
    # Written out, 5,000 rules are also too large a file, which is checked first.
    added = [rule(f"note.n{n}", {"all": exclusive(1, start=n)}) for n in range(5000)]
    path = write(tmp_path, with_rules(*added))

    assert "[limit: max_file_bytes]" in load_in_subprocess(path)


def test_300_identical_rules_are_refused_naming_the_limit(tmp_path: Path) -> None:
    added = [rule(f"note.n{n}", {"all": [compare("contacts", "gte", 1)]}) for n in range(300)]

    error = refusal(write(tmp_path, with_rules(*added)))

    assert limit_of(error) == "max_rules"
    assert error.field == "rules"
    assert error.msg.startswith(f"{DEFAULT_RULES + 300} rules")


def test_conditions_nested_16_levels_deep_are_refused_naming_rule_and_field(
    tmp_path: Path,
) -> None:
    error = refusal(write(tmp_path, with_rules(rule("note.deep", nested(16)))))

    assert limit_of(error) == "max_condition_depth"
    assert error.rule_id == "note.deep"
    assert error.field is not None
    assert error.field.startswith(f"rules[{DEFAULT_RULES}].when")


def test_16_any_groups_in_a_rule_are_refused_naming_the_limit(tmp_path: Path) -> None:
    groups = [{"any": [compare("contacts", "gte", n)]} for n in range(16)]

    error = refusal(write(tmp_path, with_rules(rule("note.groups", {"all": groups}))))

    assert limit_of(error) == "max_groups_per_rule"
    assert error.rule_id == "note.groups"
    assert error.field == f"rules[{DEFAULT_RULES}].when"


def test_99_rules_testing_contacts_with_gte_are_refused_at_load_not_at_assess(
    tmp_path: Path,
) -> None:
    # A case with 100 contacts meets every test at once: the engine's stack overflows.
    added = [rule(f"note.n{n}", {"all": [compare("contacts", "gte", n + 1)]}) for n in range(99)]

    error = refusal(write(tmp_path, with_rules(*added)))

    assert limit_of(error) == "max_simultaneous_matches"
    assert error.rule_id is not None
    assert error.rule_id.startswith("note.n")
    assert error.field == f"rules[{DEFAULT_RULES + int(error.rule_id[6:])}].when"


def test_a_pattern_span_of_ten_million_days_is_refused_at_once(tmp_path: Path) -> None:
    doc = default_doc()
    doc["parameters"]["pattern_min_span_days"]["value"] = 1e7

    started = time.perf_counter()
    error = refusal(write(tmp_path, doc))

    assert time.perf_counter() - started < 1
    assert limit_of(error) == "max_days"
    assert error.field == "parameters.pattern_min_span_days.value"


def test_a_20_mb_pack_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text(DEFAULT_TEXT + f"# {'x' * 20_000_000}\n", encoding="utf-8")

    started = time.perf_counter()
    error = refusal(path)

    assert time.perf_counter() - started < 1
    assert limit_of(error) == "max_file_bytes"
    assert f"{path.stat().st_size:,} bytes" in error.msg


def test_yaml_nested_5000_levels_deep_is_a_rule_pack_error_not_a_recursion_error(
    tmp_path: Path,
) -> None:
    text = DEFAULT_TEXT.replace("name: stalkrisk-default", "name: deep", 1)
    path = tmp_path / "deep.yaml"
    path.write_text(text + "description: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")

    assert limit_of(refusal(path)) == "max_document_depth"


def test_json_nested_50000_levels_deep_is_a_rule_pack_error_not_a_recursion_error(
    tmp_path: Path,
) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 50_000 + "]" * 50_000, encoding="utf-8")

    assert limit_of(refusal(path)) == "max_document_depth"


def test_an_integer_of_5000_digits_is_a_rule_pack_error_not_a_value_error(
    tmp_path: Path,
) -> None:
    path = tmp_path / "digits.yaml"
    path.write_text(DEFAULT_TEXT.replace("value: 14\n", f"value: {'9' * 5000}\n", 1), "utf-8")

    error = refusal(path)

    assert "too many digits" in error.msg


@pytest.mark.parametrize(
    ("parameter", "limit"),
    [("recent_days", "max_days"), ("long_relationship_months", "max_number")],
)
def test_a_parameter_of_1e300_is_refused_naming_the_parameter(
    tmp_path: Path, parameter: str, limit: str
) -> None:
    doc = default_doc()
    doc["parameters"][parameter]["value"] = 1e300

    error = refusal(write(tmp_path, doc))

    assert limit_of(error) == limit
    assert error.field == f"parameters.{parameter}.value"


@pytest.mark.parametrize("loader", _yaml.LOADERS, ids=lambda loader: loader.__name__)
def test_every_yaml_reader_reads_the_bundled_pack_and_stops_at_the_depth_limit(
    loader: type[Any],
) -> None:
    limit = LIMITS["max_document_depth"]

    assert _yaml.load_yaml(DEFAULT_TEXT, max_depth=limit, loader=loader) == _DEFAULT
    at = "[" * (limit - 1) + "1" + "]" * (limit - 1)  # the 1 is at the limit's depth
    assert _yaml.load_yaml(at, max_depth=limit, loader=loader)
    with pytest.raises(_yaml.TooDeep):
        _yaml.load_yaml("[" * limit + "1" + "]" * limit, max_depth=limit, loader=loader)


def test_a_limit_error_keeps_its_type_through_pickling() -> None:
    error = RulePackError("1,000 rules [limit: max_rules]", file="p.json", type="limit")

    assert pickle.loads(pickle.dumps(error)).type == "limit"


def test_a_limit_is_reported_only_once_the_structure_is_valid(tmp_path: Path) -> None:
    doc = default_doc()
    doc["parameters"]["recent_days"]["value"] = 1e300
    doc["rules"][0]["priority"] = 1

    error = refusal(write(tmp_path, doc))

    assert [(p.field, p.type) for p in error.problems] == [("rules[0].priority", "unknown_key")]


def test_every_limit_a_valid_pack_passes_is_listed_the_rule_count_first(tmp_path: Path) -> None:
    added = [rule(f"note.n{n}", {"all": [compare("contacts", "gte", 1)]}) for n in range(300)]

    error = refusal(write(tmp_path, with_rules(*added)))

    assert [limit_of(RulePackError.from_problems([p])) for p in error.problems] == [
        "max_rules",
        "max_dnf_terms_per_pack",
    ]


# --- the command line ------------------------------------------------------------------


def _deep(tmp_path: Path) -> Path:
    return write(tmp_path, with_rules(rule("note.deep", nested(16))))


def _huge_integer(tmp_path: Path) -> Path:
    path = tmp_path / "digits.yaml"
    path.write_text(DEFAULT_TEXT.replace("value: 14\n", f"value: {'9' * 5000}\n", 1), "utf-8")
    return path


def _huge_float(tmp_path: Path) -> Path:
    doc = default_doc()
    doc["parameters"]["long_relationship_months"]["value"] = 1e300
    return write(tmp_path, doc)


def _too_many_rules(tmp_path: Path) -> Path:
    added = [rule(f"note.n{n}", {"all": exclusive(1, start=n)}) for n in range(300)]
    return write(tmp_path, with_rules(*added))


def _too_big(tmp_path: Path) -> Path:
    path = tmp_path / "huge.yaml"
    path.write_text(DEFAULT_TEXT + f"# {'x' * 300_000}\n", encoding="utf-8")
    return path


def _identical_rules(tmp_path: Path) -> Path:
    added = [rule(f"note.n{n}", {"all": [compare("contacts", "gte", 1)]}) for n in range(300)]
    return write(tmp_path, with_rules(*added))


BAD_PACKS: dict[str, Callable[[Path], Path]] = {
    "nesting": _deep,
    "huge integer": _huge_integer,
    "1e300": _huge_float,
    "too many rules": _too_many_rules,
    "too big a file": _too_big,
    "identical rules": _identical_rules,
}


@pytest.mark.parametrize("kind", list(BAD_PACKS))
@pytest.mark.parametrize("command", ["rules", "assess"])
def test_the_command_line_exits_2_for_each_kind_of_bad_pack(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    kind: str,
    command: str,
) -> None:
    pack = BAD_PACKS[kind](tmp_path)
    argv = [command, "--rules", str(pack)] + (["-"] if command == "assess" else [])
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(one_episode(2))))

    code = _cli.main(argv)

    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    first, *more = err.splitlines()
    assert first.startswith(f"stalkrisk: {pack}")
    assert all(line.startswith("  ") and "[limit: " in line for line in more)
    assert "internal error" not in err


# --- the safety floors are never skipped -------------------------------------------------


def test_more_distinct_behaviours_than_stalking_codes_is_refused_saying_why(
    tmp_path: Path,
) -> None:
    doc = default_doc()
    doc["parameters"]["pattern_min_distinct_behaviours"]["value"] = 11

    error = refusal(write(tmp_path, doc))

    assert error.type == "safety_floor"
    assert error.field == "parameters.pattern_min_distinct_behaviours"
    assert "asks for 11 distinct stalking behaviours, but only 10" in error.msg


def test_a_catalogue_without_stalking_behaviours_is_refused_saying_why(tmp_path: Path) -> None:
    doc = default_doc()
    for behaviour in doc["behaviours"]:
        if behaviour["group"] == "stalking":
            behaviour["group"] = "boundary"

    error = refusal(write(tmp_path, doc))

    assert error.type == "safety_floor"
    assert error.field == "behaviours"
    assert "no behaviour is in the 'stalking' group" in error.msg


def test_episodes_that_can_never_span_the_pattern_are_refused_saying_why(
    tmp_path: Path,
) -> None:
    doc = default_doc()
    doc["parameters"]["episode_max_gap_days"]["value"] = 0

    error = refusal(write(tmp_path, doc))

    assert error.type == "safety_floor"
    assert error.field == "parameters.episode_max_gap_days"


def test_an_engine_failure_in_a_safety_probe_is_a_rule_pack_error_naming_the_probe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: Any) -> Any:
        raise stalkrisk.EngineError("the engine failed (error)", rule_pack="limits")

    monkeypatch.setattr("stalkrisk._registry.evaluate", fail)

    error = refusal(write(tmp_path, default_doc("probe-fails")))

    assert error.type == "engine"
    assert "the engine failed on the safety probe" in error.msg


def test_an_engine_refusal_at_compile_time_is_a_rule_pack_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any) -> Any:
        raise stalkrisk.EngineError("the engine refused the ruleset (error)", rule_pack="limits")

    monkeypatch.setattr("stalkrisk._registry.compile_pack", refuse)

    error = refusal(write(tmp_path, default_doc("compile-fails")))

    assert error.type == "engine"
    assert error.field == "rules"


# --- the cache ------------------------------------------------------------------------


def _distinct_packs(tmp_path: Path, count: int) -> list[stalkrisk.RulePack]:
    packs = []
    for n in range(count):
        doc = default_doc(f"cached-{n}")
        doc["parameters"]["pattern_min_span_days"]["value"] = 7 + n / 64
        packs.append(stalkrisk.load_rule_pack(write(tmp_path, doc, f"p{n}.json")))
    return packs


def test_loading_more_packs_than_the_cache_holds_frees_the_oldest_engine_rulesets(
    tmp_path: Path,
) -> None:
    packs = _distinct_packs(tmp_path, _registry.CACHE_SIZE + 2)
    names = [f"stalkrisk_{pack.sha256[:32]}" for pack in packs]

    assert not set(names[:2]) & set(_engine._REGISTRY)
    assert set(names[2:]) <= set(_engine._REGISTRY)


def test_an_evicted_pack_is_freed_once_the_caller_lets_it_go(tmp_path: Path) -> None:
    """Nothing of the library's keeps it: not the registry, not a result cache."""
    doc = default_doc("freed")
    first = stalkrisk.load_rule_pack(write(tmp_path, doc, "freed.json"))
    stalkrisk.assess(case(contact("a", 0, "following")), rule_pack=first)
    freed = weakref.ref(first)
    del first
    _distinct_packs(tmp_path, _registry.CACHE_SIZE + 1)
    gc.collect()

    assert freed() is None


def test_the_cache_also_bounds_the_comparisons_its_packs_hold(tmp_path: Path) -> None:
    # Engine memory grows with comparisons: ten packs at the limit fill the cache.
    count = _registry.CACHE_COMPARISONS // LIMITS["max_comparisons_per_pack"] + 1
    paths = [
        write(
            tmp_path, with_comparisons(LIMITS["max_comparisons_per_pack"], f"big-{n}"), f"{n}.json"
        )
        for n in range(count)
    ]
    names = [f"stalkrisk_{stalkrisk.load_rule_pack(path).sha256[:32]}" for path in paths]

    assert names[0] not in _engine._REGISTRY
    assert set(names[1:]) <= set(_engine._REGISTRY)


def test_a_pack_whose_ruleset_was_freed_still_assesses_with_its_own_rules(
    tmp_path: Path,
) -> None:
    evicted = _distinct_packs(tmp_path, _registry.CACHE_SIZE + 1)[0]
    ten_days = case(contact("a", 0, "following"), contact("b", 10, "surveillance"))

    result = stalkrisk.assess(ten_days, rule_pack=evicted)

    assert result.threshold.met
    assert result.rule_pack.sha256 == evicted.sha256


def test_the_bundled_pack_is_never_evicted(tmp_path: Path) -> None:
    default = stalkrisk.default_rule_pack()
    _distinct_packs(tmp_path, _registry.CACHE_SIZE + 1)

    assert f"stalkrisk_{default.sha256[:32]}" in _engine._REGISTRY


# --- each limit: at it loads and assesses, past it is refused -------------------------------


def assesses(path: Path, *cases: dict[str, Any]) -> stalkrisk.RulePack:
    pack = stalkrisk.load_rule_pack(path)
    for each in cases or (one_episode(3),):
        stalkrisk.assess(each, rule_pack=pack)
    return pack


def test_every_limit_is_documented_with_its_value_and_has_a_test() -> None:
    docs = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")

    for name, value in LIMITS.items():
        assert f"| `{name}` | {value:,} |" in docs
        assert f"| `test_{name}` |" in docs
        assert callable(globals().get(f"test_{name}"))


def test_max_file_bytes(tmp_path: Path) -> None:
    text = DEFAULT_TEXT.replace("name: stalkrisk-default", "name: at-size", 1) + "# "
    at = tmp_path / "at.yaml"
    padding = "x" * (LIMITS["max_file_bytes"] - len(text.encode()) - 1)
    at.write_text(text + padding + "\n", encoding="utf-8")
    over = tmp_path / "over.yaml"
    over.write_text(text + padding + "\n\n", encoding="utf-8")

    assert at.stat().st_size == LIMITS["max_file_bytes"]
    assesses(at)
    assert limit_of(refusal(over)) == "max_file_bytes"


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_max_document_depth(tmp_path: Path, suffix: str) -> None:
    def deep(levels: int) -> Path:
        doc = default_doc(f"depth-{levels}")
        inner: Any = "text"
        for _ in range(levels - 2):  # the top mapping is level 1, its values level 2
            inner = [inner]
        doc["description"] = inner
        return write(tmp_path, doc, f"d{levels}{suffix}")

    assesses(deep(LIMITS["max_document_depth"]))
    assert limit_of(refusal(deep(LIMITS["max_document_depth"] + 1))) == "max_document_depth"


def test_max_rules(tmp_path: Path) -> None:
    def rules(count: int) -> Path:
        added = [
            rule(f"note.n{n}", {"all": exclusive(1, start=1000 + n)})
            for n in range(count - DEFAULT_RULES)
        ]
        return write(tmp_path, with_rules(*added, name=f"rules-{count}"), f"r{count}.json")

    assesses(rules(LIMITS["max_rules"]))
    error = refusal(rules(LIMITS["max_rules"] + 1))
    assert limit_of(error) == "max_rules"
    assert error.msg.startswith(f"{LIMITS['max_rules'] + 1:,} rules")


def test_max_comparisons_per_rule(tmp_path: Path) -> None:
    limit = LIMITS["max_comparisons_per_rule"]
    at = write(tmp_path, with_rules(rule("note.long", chain(limit)), name="at"), "at.json")
    over = write(tmp_path, with_rules(rule("note.long", chain(limit + 1)), name="o"), "o.json")

    assesses(at)
    error = refusal(over)
    assert limit_of(error) == "max_comparisons_per_rule"
    assert (error.rule_id, error.field) == ("note.long", f"rules[{DEFAULT_RULES}].when")
    assert error.msg.startswith(f"{limit + 1:,} comparisons")


def test_max_comparisons_per_pack(tmp_path: Path) -> None:
    limit = LIMITS["max_comparisons_per_pack"]

    assesses(write(tmp_path, with_comparisons(limit, name="at"), "at.json"))
    error = refusal(write(tmp_path, with_comparisons(limit + 1, name="over"), "over.json"))
    assert limit_of(error) == "max_comparisons_per_pack"


def test_max_condition_depth(tmp_path: Path) -> None:
    limit = LIMITS["max_condition_depth"]
    at = write(tmp_path, with_rules(rule("note.deep", nested(limit)), name="at"), "at.json")
    over = write(tmp_path, with_rules(rule("note.deep", nested(limit + 1)), name="o"), "o.json")

    assert "note.deep" in [
        r.id for r in stalkrisk.assess(one_episode(2), rule_pack=assesses(at)).rules_fired
    ]
    error = refusal(over)
    assert limit_of(error) == "max_condition_depth"
    assert error.field == f"rules[{DEFAULT_RULES}].when" + ".all[0].any[0]" * (limit // 2)


def test_max_groups_per_rule(tmp_path: Path) -> None:
    def groups(count: int) -> Path:
        anys = [{"any": [compare("contacts", "gte", n)]} for n in range(count - 1)]
        return write(
            tmp_path,
            with_rules(rule("note.wide", {"all": anys}), name=f"g{count}"),
            f"g{count}.json",
        )

    assesses(groups(LIMITS["max_groups_per_rule"]))
    assert limit_of(refusal(groups(LIMITS["max_groups_per_rule"] + 1))) == "max_groups_per_rule"


def test_max_dnf_terms_per_rule(tmp_path: Path) -> None:
    # An all of two any-groups of 8 is an any of 64 alls; one more branch makes 72.
    at = {"all": [{"any": exclusive(8)}, {"any": exclusive(8, start=2000)}]}
    over = {"all": [{"any": exclusive(9)}, {"any": exclusive(8, start=2000)}]}

    assesses(write(tmp_path, with_rules(rule("note.terms", at), name="at"), "at.json"))
    error = refusal(write(tmp_path, with_rules(rule("note.terms", over), name="o"), "o.json"))
    assert limit_of(error) == "max_dnf_terms_per_rule"
    assert error.msg.startswith("72 terms")


def test_max_dnf_terms_per_pack(tmp_path: Path) -> None:
    def terms(total: int) -> Path:
        left, added = total - DEFAULT_TERMS, list[dict[str, Any]]()
        while left:
            size = min(left, LIMITS["max_dnf_terms_per_rule"])
            added.append(rule(f"note.n{len(added)}", {"any": exclusive(size, 1000 * len(added))}))
            left -= size
        return write(tmp_path, with_rules(*added, name=f"t{total}"), f"t{total}.json")

    assesses(terms(LIMITS["max_dnf_terms_per_pack"]))
    assert (
        limit_of(refusal(terms(LIMITS["max_dnf_terms_per_pack"] + 1))) == "max_dnf_terms_per_pack"
    )


def test_max_simultaneous_matches(tmp_path: Path) -> None:
    # The bundled pack's episode rule starts with one test; each "contacts ≥ n" adds one
    # that an episode of 200 contacts also meets: 1 + 63 is exactly the engine's stack.
    def tests(count: int) -> Path:
        added = [
            rule(f"element.n{n}", {"all": [compare("contacts", "gte", n + 1)]}, fact="episode")
            for n in range(count - 1)
        ]
        return write(tmp_path, with_rules(*added, name=f"m{count}"), f"m{count}.json")

    limit = LIMITS["max_simultaneous_matches"]
    pack = assesses(tests(limit), one_episode(200))
    assert stalkrisk.assess(one_episode(200), rule_pack=pack).elements.fear.present
    error = refusal(tests(limit + 1))
    assert limit_of(error) == "max_simultaneous_matches"
    assert error.rule_id == f"element.n{limit - 1}"


def test_many_any_groups_sharing_a_branch_count_toward_simultaneous_matches(
    tmp_path: Path,
) -> None:
    # Each any-group is pushed with the branch it shares; past 127 the engine reads
    # beyond its table, so they are refused long before.
    added = [
        rule(f"note.n{n}", {"any": [compare("contacts", "gte", 1), *exclusive(1, 1000 + n)]})
        for n in range(90)  # 180 terms: within max_dnf_terms_per_pack with the default's
    ]

    assert limit_of(refusal(write(tmp_path, with_rules(*added)))) == "max_simultaneous_matches"


def test_max_number(tmp_path: Path) -> None:
    def number(value: int) -> Path:
        doc = with_rules(
            rule("note.big", {"all": [compare("contacts", "lt", value)]}), name=f"n{value}"
        )
        doc["parameters"]["long_relationship_months"]["value"] = value
        return write(tmp_path, doc, f"n{value}.json")

    assesses(number(LIMITS["max_number"]))
    error = refusal(number(LIMITS["max_number"] + 1))
    assert limit_of(error) == "max_number"
    assert error.field == "parameters.long_relationship_months.value"


def test_max_days(tmp_path: Path) -> None:
    def days(value: int) -> Path:
        doc = default_doc(f"days-{value}")
        for name in DAY_PARAMETERS:
            doc["parameters"][name]["value"] = value
        return write(tmp_path, doc, f"days{value}.json")

    assesses(days(LIMITS["max_days"]))
    assert limit_of(refusal(days(LIMITS["max_days"] + 1))) == "max_days"


@pytest.mark.parametrize("name", DAY_PARAMETERS)
def test_each_day_parameter_is_held_to_max_days(tmp_path: Path, name: str) -> None:
    doc = default_doc(f"day-{name}")
    doc["parameters"][name]["value"] = LIMITS["max_days"] + 1

    error = refusal(write(tmp_path, doc))

    assert limit_of(error) == "max_days"
    assert error.field == f"parameters.{name}.value"


def test_max_probe_contacts(tmp_path: Path) -> None:
    # Silences of at most one day across a span of n - 1 days take n contacts.
    def contacts(count: int) -> Path:
        doc = default_doc(f"probe-{count}")
        doc["parameters"]["pattern_min_span_days"]["value"] = count - 1
        doc["parameters"]["episode_max_gap_days"]["value"] = 1
        return write(tmp_path, doc, f"probe{count}.json")

    assesses(contacts(LIMITS["max_probe_contacts"]))
    error = refusal(contacts(LIMITS["max_probe_contacts"] + 1))
    assert limit_of(error) == "max_probe_contacts"
    assert error.field == "parameters.pattern_min_span_days"


def test_a_pack_near_every_limit_at_once_assesses_large_cases_without_engine_error(
    tmp_path: Path,
) -> None:
    # 200 rules, 2,000 comparisons, 256 terms and a full stack for episode facts.
    stack = [
        rule(f"element.n{n}", {"all": [compare("contacts", "gte", n + 1)]}, fact="episode")
        for n in range(63)
    ]
    count = LIMITS["max_rules"] - DEFAULT_RULES - 64
    # The terms left after the default pack, the stack and one term per chain.
    wide = [
        rule(
            "note.wide",
            {"any": exclusive(LIMITS["max_dnf_terms_per_pack"] - DEFAULT_TERMS - 63 - count)},
        )
    ]
    # The comparisons left, spread over the chains (each also has one exclusive test).
    spare = (
        LIMITS["max_comparisons_per_pack"]
        - DEFAULT_COMPARISONS
        - 63
        - len(wide[0]["when"]["any"])
        - count
    )
    length, longer = divmod(spare, count)
    chains = [  # distinct first tests, so no two chains share an engine node
        rule(f"note.c{n}", {"all": [*exclusive(1, 5000 + n), *chain(length + (n < longer))["all"]]})
        for n in range(count)
    ]
    path = write(tmp_path, with_rules(*stack, *wide, *chains, name="everything"))

    started = time.perf_counter()
    pack = stalkrisk.load_rule_pack(path)
    assert time.perf_counter() - started < 1
    assert len(pack.rules) == LIMITS["max_rules"]
    assert pack.comparisons == LIMITS["max_comparisons_per_pack"]
    for large in (one_episode(10_000), many_episodes(2_000)):
        assert (
            stalkrisk.assess(large, rule_pack=pack).level.rank >= stalkrisk.Level.CONSULTATION.rank
        )


# --- generated packs up to the limits ---------------------------------------------------


@st.composite
def comparisons(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    specs = fields_for("episode" if kind == "episode" else "case" if kind == "case" else "grade")
    spec = specs[draw(st.sampled_from(sorted(specs)))]
    if spec.type in ("bool", "enum"):
        values = spec.values or (True, False)
        return compare(
            spec.name, draw(st.sampled_from(("eq", "ne"))), draw(st.sampled_from(values))
        )
    bound = LIMITS["max_number"]
    # Mostly small numbers, so that generated cases meet many tests at once.
    value = draw(
        st.integers(0, 60)
        | st.sampled_from((-bound, bound))
        | st.floats(-bound, bound, allow_nan=False)
    )
    return compare(spec.name, draw(st.sampled_from(OPERATORS)), value)


def conditions(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    def group(items: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
        return st.builds(
            lambda key, listed: {key: listed},
            st.sampled_from(("all", "any")),
            st.lists(items, min_size=1, max_size=6),
        )

    return group(st.recursive(comparisons(kind), group, max_leaves=20))


@st.composite
def packs(draw: st.DrawFn) -> dict[str, Any]:
    doc = default_doc("generated")
    kinds = st.sampled_from(("episode", "case", "grade"))
    for index in range(draw(st.integers(0, 12))):
        kind = draw(kinds)
        doc["rules"].append(rule(f"gen.r{index}", draw(conditions(kind)), fact=kind))
    # Many tests of one field that one fact can meet together (the engine's stack),
    # as separate rules and as the branches of one any-group (its terms).
    kind, op = draw(kinds), draw(st.sampled_from(("gte", "eq", "lte")))
    for index in range(draw(st.integers(0, 70))):
        when = {"all": [compare("contacts", op, index)]}
        doc["rules"].append(rule(f"gen.c{index}", when, fact=kind))
    kind, op = draw(kinds), draw(st.sampled_from(("gte", "eq", "lte")))
    branches = [compare("contacts", op, n) for n in range(draw(st.integers(1, 70)))]
    doc["rules"].append(rule("gen.wide", {"any": branches}, fact=kind))
    days = LIMITS["max_days"]
    span = draw(st.sampled_from((0, 14, days)) | st.floats(0, days))
    probes = LIMITS["max_probe_contacts"] - 1
    parameters = doc["parameters"]
    parameters["pattern_min_span_days"]["value"] = span
    parameters["episode_max_gap_days"]["value"] = draw(st.floats(max(span / probes, 1), days))
    parameters["recent_days"]["value"] = draw(st.sampled_from((0, days)) | st.floats(0, days))
    parameters["pattern_min_distinct_behaviours"]["value"] = draw(st.integers(1, 10))
    parameters["repeated_contacts_min"]["value"] = draw(st.integers(0, LIMITS["max_number"]))
    return doc


# Each example loads a pack (tens of ms): an eighth of the profile's examples.
@pytest.mark.slow
@settings(max_examples=max(settings().max_examples // 8, 1))
@given(doc=packs(), data=st.data())
def test_generated_packs_load_or_are_refused_at_a_limit_and_assess_without_engine_error(
    doc: dict[str, Any], data: st.DataObject
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder), doc)
        try:
            pack = stalkrisk.load_rule_pack(path)
        except RulePackError as error:
            # Only a limit may refuse rules that add to the bundled ones.
            event(f"refused at {limit_of(error)}")
            return
    event("loaded")
    for _ in range(3):
        stalkrisk.assess(data.draw(cases(max_contacts=60)), rule_pack=pack)


@pytest.mark.parametrize("threshold", [1e-05, 1e-07, 5e-09, 1.5e-05])
def test_a_threshold_that_python_writes_with_a_bare_exponent_loads_and_compares_exactly(
    tmp_path: Path, threshold: float
) -> None:
    """`1e-05` is what Python writes for 0.00001; the engine once refused the whole pack."""
    doc = default_doc("tiny-threshold")
    doc["parameters"]["tiny"] = {"value": threshold}
    doc["rules"].append(
        {
            "id": "note.tiny_span",
            "title": "A tiny span",
            "fact": "grade",
            "when": {"all": [{"field": "max_span_days", "gte": {"param": "tiny"}}]},
            "then": {"note": "The longest episode spans at least the tiny threshold."},
            "rationale": "Checks that tiny thresholds reach the engine intact.",
            "source": "test",
        }
    )
    pack = stalkrisk.load_rule_pack(write(tmp_path, doc))
    microseconds = threshold * 86_400_000_000

    def fired(span_us: int) -> bool:
        first = datetime(2025, 3, 1, tzinfo=UTC)
        last = first + timedelta(microseconds=span_us)
        found = stalkrisk.assess(
            {
                "assessed_at": "2025-03-02T00:00:00+00:00",
                "client": {"relationship": "former"},
                "contacts": [
                    {"id": "a", "at": first.isoformat(), "behaviours": ["unwanted_calls"]},
                    {"id": "b", "at": last.isoformat(), "behaviours": ["unwanted_calls"]},
                ],
            },
            rule_pack=pack,
        )
        return "note.tiny_span" in {r.id for r in found.rules_fired}

    span = max(1, round(microseconds))
    assert fired(span) is (span / 86_400_000_000 >= threshold)
    assert fired(span + 1)
    assert not fired(0)


def test_a_threshold_of_1e16_is_refused_at_its_limit_not_by_the_engine(tmp_path: Path) -> None:
    doc = default_doc("huge-threshold")
    doc["parameters"]["recent_days"]["value"] = 1e16

    with pytest.raises(RulePackError, match="max_") as caught:
        stalkrisk.load_rule_pack(write(tmp_path, doc))
    assert caught.value.type == "limit"
