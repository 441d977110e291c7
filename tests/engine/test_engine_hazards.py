"""One regression test per durable-rules hazard the adapter could meet (docs/engine.md).

Scenarios that could crash the interpreter run in a subprocess and assert exit
code 0, so a segfault fails the test instead of killing the test run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from builders import assess, at, case, contact, fired, pack_without_episode_ages
from subprocess_run import describe, run_isolated

import stalkrisk
from stalkrisk import _engine, _registry, vignettes
from stalkrisk._fields import FactKind, fields_for
from stalkrisk._packmodel import FieldTest


def facts_sent(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    """Every fact the adapter sends to the engine from now on, decoded."""
    sent: list[dict[str, object]] = []
    original = _engine._NATIVE.assert_fact

    def spy(handle: int, text: str) -> object:
        sent.append(json.loads(text))
        return original(handle, text)

    monkeypatch.setattr(_engine._NATIVE, "assert_fact", spy)
    return sent


def test_threads_finishing_out_of_order_do_not_crash_and_match_sequential_results() -> None:
    """Guard: own host without background threads, one process-wide session lock."""
    done = run_isolated(
        """
        import random, threading, time
        import stalkrisk
        from builders import case, contact

        def make(n):
            rng = random.Random(n)
            codes = [b.value for b in stalkrisk.Behaviour]
            return stalkrisk.parse_case(case(*(
                contact(f"c{i}", rng.uniform(0, 60), *rng.sample(codes, 2))
                for i in range(rng.randint(0, 40))
            ), assessed_at=61))

        cases = [make(n) for n in range(400)]
        expected = [stalkrisk.assess(c).model_dump_json() for c in cases]
        got, errors = {}, []

        def work(worker):
            rng = random.Random(worker)
            order = list(range(len(cases)))
            rng.shuffle(order)
            for i in order:
                try:
                    got[(worker, i)] = stalkrisk.assess(cases[i]).model_dump_json()
                except BaseException as error:
                    errors.append(repr(error))
                time.sleep(rng.random() / 10000)

        threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
        for t in threads: t.start()
        for t in threads: t.join()
        assert not errors, errors[:3]
        assert len(got) == 8 * len(cases)
        assert all(got[(w, i)] == expected[i] for (w, i) in got)
        """
    )

    assert done.returncode == 0, describe(done)


def test_sessions_in_which_no_rule_fires_are_deleted_without_crashing() -> None:
    """Guard: the sentinel fact makes an action run in every session before it is deleted."""
    done = run_isolated(
        """
        import stalkrisk
        from builders import case, contact
        empty = stalkrisk.parse_case(case(assessed_at=0))
        gift = stalkrisk.parse_case(case(contact("a", 0, "gift")))
        for _ in range(3000):
            assert stalkrisk.assess(empty).rules_fired == ()
            stalkrisk.assess(gift)
        """
    )

    assert done.returncode == 0, describe(done)


def test_an_empty_case_fires_no_rule_and_grades_none() -> None:
    """Guard: the sentinel's own firing is never reported as a rule."""
    result = assess(assessed_at=0)

    assert result.level is stalkrisk.Level.NONE
    assert fired(result) == []


def test_two_contacts_with_identical_content_are_both_counted() -> None:
    """Guard: facts carry no `id`; contacts are summed in Python, never one fact each."""
    twins = assess(
        contact("a", 0, "unwanted_calls"),
        contact("b", 0, "unwanted_calls"),
        contact("c", 0, "unwanted_calls"),
    )

    assert "grade.boundaries.repeated_contact" in fired(twins)
    [rule] = [r for r in twins.rules_fired if r.id == "grade.boundaries.repeated_contact"]
    assert rule.evidence == ("a", "b", "c")


def test_two_episodes_with_identical_figures_both_reach_the_engine(tmp_path: Path) -> None:
    """Guard: episode facts differ by index, so the engine never sees a duplicate fact."""
    result = stalkrisk.assess(
        case(
            contact("a", 0, "following"),
            contact("b", 14, "surveillance"),
            contact("c", 200, "following"),
            contact("d", 214, "surveillance"),
        ),
        rule_pack=pack_without_episode_ages(tmp_path),
    )

    assert result.threshold.episodes == 2
    assert result.elements.pattern.evidence == ("a", "b", "c", "d")


def test_a_case_where_only_the_grade_fact_matches_still_fires_its_rule() -> None:
    """Guard: facts are asserted one by one, never in a batch that can drop actions."""
    result = assess(contact("a", 0, "gift"))

    assert fired(result) == ["grade.reflective.boundary_crossing"]
    assert result.level is stalkrisk.Level.REFLECTIVE


def test_a_case_where_only_one_episode_fact_matches_fires_the_pattern() -> None:
    """Guard: an unmatched fact is dropped alone; the matched one still fires."""
    result = assess(
        contact("old", -200, "gift"),
        contact("x", -100, "following"),
        contact("a", 0, "following"),
        contact("b", 14, "surveillance"),
    )

    assert result.elements.pattern.rules == ("element.pattern",)
    assert result.threshold.course_of_conduct == ("a", "b")


def _compiled_pack() -> _engine.CompiledRuleset:
    return _registry.compiled(stalkrisk.default_rule_pack()).ruleset


def test_booleans_are_compiled_as_numbers() -> None:
    """Guard: the engine compares mixed types as strings, so true/false travel as 1/0."""
    condition = _engine._compile_condition(FieldTest(field="pattern", op="eq", value=True))

    assert condition == {"pattern": 1}


def test_conditions_use_only_supported_operators() -> None:
    """Guard: no `$in`, `$mt` or `$iany`; only comparisons, `$and` and `$or`."""
    allowed = {"$and", "$or", "$neq", "$gt", "$gte", "$lt", "$lte"}

    def keys(node: object) -> set[str]:
        if isinstance(node, dict):
            return {k for k in node if k.startswith("$")} | {
                k for v in node.values() for k in keys(v)
            }
        if isinstance(node, list):
            return {k for item in node for k in keys(item)}
        return set()

    pack = stalkrisk.default_rule_pack()
    used = set().union(*(keys(_engine._compile_condition(rule.when)) for rule in pack.rules))
    assert used <= allowed


@pytest.mark.parametrize("kind", ["episode", "case", "grade"])
def test_fact_fields_are_few_and_never_named_id_or_sid(kind: FactKind) -> None:
    """Guard: at most 255 properties per fact; `id` would collapse facts."""
    names = set(fields_for(kind)) | {"kind", "index", "sid", "salt"}

    assert len(names) < 255
    assert not {"id", "sid", "salt"} & set(fields_for(kind))


def _fnv1_32(text: str) -> int:
    value = 0x811C9DC5
    for byte in text.encode():
        value = (value ^ byte) * 0x01000193 % 2**32
    return value


@pytest.mark.parametrize("kind", ["episode", "case", "grade"])
def test_fact_property_names_have_distinct_engine_hashes(kind: FactKind) -> None:
    """Guard: the engine finds properties by 32-bit FNV-1 hash without comparing names."""
    names = [*fields_for(kind), "kind", "index", "sid", "salt"]

    assert len({_fnv1_32(name) for name in names}) == len(names)


def test_fact_values_sent_to_the_engine_are_numbers_or_strings_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Guard: null never passes a numeric test and bools would compare as strings.

    The features hold Python booleans and ``None`` (an unknown therapy length); the
    adapter sends them as 1/0 and -1.
    """
    sent = facts_sent(monkeypatch)
    case = stalkrisk.parse_case(
        stalkrisk.example_case().model_dump(mode="json")
        | {"client": {"relationship": "current", "weapon_access": True}}
    )
    stalkrisk.assess(case)
    grade = next(fact for fact in sent if fact.get("kind") == "grade")

    assert all(type(v) in (int, float, str) for fact in sent for v in fact.values())
    assert grade["weapon_access"] == 1
    assert grade["therapy_months"] == -1


def test_a_fact_lacking_a_field_its_rules_test_fails_closed() -> None:
    """Guard: a missing field would make every comparison on it silently false."""
    with (
        _compiled_pack().session() as session,
        pytest.raises(stalkrisk.EngineError, match="lacks the field"),
    ):
        session.assert_fact("episode", 0, {"contacts": 1})


def test_episodes_with_equal_facts_are_asserted_once_and_each_gets_the_firings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Engine work is bounded by distinct fact contents, not by the number of episodes."""
    pack = pack_without_episode_ages(tmp_path, episode_max_gap_days=30)
    contacts = [
        contact(f"{tag}{n}", 100 * n + day, code)
        for n in range(5)
        for tag, day, code in (("a", 0, "following"), ("b", 14, "surveillance"))
    ]
    sent = facts_sent(monkeypatch)
    result = stalkrisk.assess(case(*contacts), rule_pack=pack)

    assert sum(fact.get("kind") == "episode" for fact in sent) == 1
    assert result.threshold.episodes == 5
    assert result.elements.pattern.evidence == tuple(
        c["id"] for c in sorted(contacts, key=lambda c: str(c["at"]))
    )


def test_every_asserted_fact_carries_every_field_its_kinds_rules_test(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Guard: `$neq` on a missing field does not match, so no tested field may be absent."""
    pack = stalkrisk.default_rule_pack()
    tested: dict[str, set[str]] = {"episode": set(), "case": set(), "grade": set()}
    for rule in pack.rules:
        tested[rule.on].update(rule.fields)
    asserted = facts_sent(monkeypatch)
    for name in vignettes.names():
        stalkrisk.assess(vignettes.load(name).case)

    kinds = [fact["kind"] for fact in asserted if "kind" in fact]
    assert {"episode", "case", "grade"} <= set(kinds)
    for fact in asserted:
        if "kind" in fact:
            assert tested[str(fact["kind"])] <= set(fact), fact["kind"]


def test_session_ids_are_unique_and_engine_state_is_gone_after_each_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Guard: a fresh session id per call, deleted in `finally`."""
    ruleset = _compiled_pack()
    sent = facts_sent(monkeypatch)
    for n in range(50):
        assess(contact("a", 0, "gift"), contact("b", n, "following"))

    sids = list(dict.fromkeys(str(fact["sid"]) for fact in sent))
    assert len(sids) == 50
    assert not any(ruleset.session_exists(sid) for sid in sids)


def test_a_session_exists_while_it_is_open() -> None:
    """Guard check: `session_exists` sees live sessions, so the test above means something."""
    ruleset = _compiled_pack()

    with ruleset.session() as session:
        assert ruleset.session_exists(session.sid)
    assert not ruleset.session_exists(session.sid)


def test_no_host_and_no_dispatch_threads_are_created() -> None:
    """Guard: the adapter never loads durable's Host, so no dispatch thread can exist.

    The one thread it starts is its own engine thread, which runs the main
    thread's sessions synchronously and calls none of the engine's walkers.
    """
    done = run_isolated(
        """
        import sys, threading
        import durable_rules_engine as core
        for walker in ("start_action", "assert_timers", "dispatch"):
            if hasattr(core, walker):
                setattr(core, walker, None)
        import stalkrisk
        from builders import case, contact
        stalkrisk.assess(case(contact("a", 0, "threat")))
        assert "durable.engine" not in sys.modules, "the Host module was imported"
        names = sorted(t.name for t in threading.enumerate())
        assert names == ["MainThread", "stalkrisk-engine"], names
        """
    )

    assert done.returncode == 0, describe(done)


def test_ruleset_names_are_unique_per_pack_content() -> None:
    """Guard: the engine cannot register a name twice; names come from the content hash."""
    pack = stalkrisk.default_rule_pack()

    assert _compiled_pack().name == f"stalkrisk_{pack.sha256[:32]}"


def test_boundary_at_a_fraction_of_a_day_survives_the_engine() -> None:
    """Guard: spans travel as exact floats, compared numerically by the engine."""
    inside = assess(contact("a", 0, "following"), contact("b", at(14), "surveillance"))
    outside = assess(
        contact("a", 0, "following"), contact("b", at(14, microseconds=-1), "gift", "surveillance")
    )

    assert inside.threshold.met
    assert not outside.threshold.met
