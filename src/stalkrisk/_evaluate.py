"""One assessment: case features → engine session → explained assessment."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from ._assessment import Action, Ages, Assessment, RaiseIf, RulePackInfo
from ._case import Case, Relationship
from ._engine import CompiledRuleset, EngineRule, Firing, compile_ruleset, run
from ._features import (
    ELEMENTS,
    MICROSECONDS_PER_DAY,
    CaseFeatures,
    Extractor,
    fields_for,
    widest_episode,
)
from ._ladder import Level
from ._rulepack import Rule, RulePack
from ._version import __version__

__all__ = ["Findings", "assessment", "compile_pack", "evaluate", "findings", "forget_packs"]

# The compact, JSON-encodable result of one evaluation (see findings()).
Findings = dict[str, Any]

_PHASES = {"episode": 0, "case": 0, "grade": 1}


def compile_pack(pack: RulePack) -> CompiledRuleset:
    """The engine ruleset for ``pack``, registered once per distinct content."""
    rules = [EngineRule(rule.id, rule.on, rule.when) for rule in pack.rules]
    return compile_ruleset(f"stalkrisk_{pack.sha256[:32]}", pack.name, rules)


def _optional(pack: RulePack, name: str) -> float | None:
    found = pack.parameters.get(name)
    return None if found is None else found.value


@lru_cache(maxsize=64)
def _extractor(pack: RulePack) -> Extractor:
    return Extractor(
        groups={spec.code: spec.group for spec in pack.behaviours},
        pursuit=frozenset(spec.code for spec in pack.behaviours if spec.pursuit),
        episode_max_gap_days=pack.parameter("episode_max_gap_days"),
        recent_days=pack.parameter("recent_days"),
        pattern_min_distinct_behaviours=pack.parameter("pattern_min_distinct_behaviours"),
        pattern_min_span_days=pack.parameter("pattern_min_span_days"),
        history_after_days=_optional(pack, "history_after_days"),
        ongoing_max_days=_optional(pack, "ongoing_max_days"),
    )


def _features(case: Case, pack: RulePack) -> CaseFeatures:
    return _extractor(pack).extract(case)


@lru_cache(maxsize=64)
def _read_fields(pack: RulePack) -> dict[str, tuple[str, ...]]:
    """For each fact kind, the fields that at least one of the pack's rules tests.

    Facts carry only these: a field no condition tests cannot change what fires,
    and every field a condition tests is always present (a missing one would
    make the rule silently false).
    """
    read: dict[str, set[str]] = {kind: set() for kind in _PHASES}
    for rule in pack.rules:
        read[rule.on].update(rule.fields)
    return {kind: tuple(sorted(names)) for kind, names in read.items()}


def _run_engine(
    ruleset: CompiledRuleset, features: CaseFeatures, pack: RulePack
) -> tuple[list[Firing], dict[str, bool]]:
    read = _read_fields(pack)
    values = features.values
    case_fact: dict[str, int | float | str] = {"kind": "case", "index": 0}
    case_fact.update({name: values[name] for name in read["case"]})

    def work() -> tuple[list[Firing], dict[str, bool]]:
        with ruleset.session() as session:
            for episode in features.episodes:
                fields = episode.values()
                episode_fact: dict[str, int | float | str] = {
                    "kind": "episode",
                    "index": episode.index,
                }
                episode_fact.update({name: fields[name] for name in read["episode"]})
                session.assert_fact(episode_fact)
            session.assert_fact(case_fact)
            present = dict.fromkeys(ELEMENTS, False)
            for firing in session.firings:
                element = pack.rule(firing.rule_id).element
                if element is not None:
                    present[element] = True
            grade_fact: dict[str, int | float | str] = {"kind": "grade", "index": 0}
            grade_fact.update(
                {
                    name: int(present[name]) if name in present else values[name]
                    for name in read["grade"]
                }
            )
            session.assert_fact(grade_fact)
            return list(session.firings), present

    # Off the main thread, so that an interrupt cannot stop a session half-way.
    return run(work)


class _Evidence:
    """The contacts behind fields, elements and episodes, as chronological positions.

    Positions are plain integers, so unions and sorting stay cheap for long
    cases; they become contact ids (oldest first) only in :meth:`ids`.
    """

    def __init__(self, features: CaseFeatures) -> None:
        self._features = features
        self.elements: dict[str, set[int]] = {name: set() for name in ELEMENTS}

    def ids(self, positions: Collection[int]) -> tuple[str, ...]:
        chronological = self._features.chronological_ids
        return tuple([chronological[p] for p in sorted(positions)])

    def for_firing(self, rule: Rule, firing: Firing) -> set[int]:
        if firing.kind == "episode":
            return set(self._features.episodes[firing.index].positions)
        positions: set[int] = set()
        specs = fields_for(rule.on)
        for name in rule.fields:
            if name in self.elements:
                positions |= self.elements[name]
            elif specs[name].evidence:
                positions.update(self._features.evidence[name])
        return positions


def _threshold(features: CaseFeatures, pack: RulePack) -> dict[str, object]:
    """The pack's threshold figures, measured on the latest episode that meets them.

    ``met`` reports the threshold parameters themselves; the pattern *element* is
    decided by the pack's rules (with the bundled pack the two coincide, and a
    custom pack may add other ways to find a pattern).
    """
    minimum = int(pack.parameter("pattern_min_distinct_behaviours"))
    span_days = pack.parameter("pattern_min_span_days")
    span = round(span_days * MICROSECONDS_PER_DAY)
    meeting = [
        e for e in features.episodes if len(e.behaviours) >= minimum and e.span_microseconds >= span
    ]
    episode = meeting[-1] if meeting else widest_episode(features.episodes)
    ids = features.chronological_ids
    return {
        "met": bool(meeting),
        "distinct_behaviours": len(episode.behaviours) if episode else 0,
        "span_days": episode.span_days if episode else 0.0,
        "behaviours": episode.behaviours if episode else (),
        "course_of_conduct": tuple([ids[p] for p in episode.positions]) if episode else (),
        "min_distinct_behaviours": minimum,
        "min_span_days": span_days,
        "episodes": len(features.episodes),
    }


# The results below depend on few, recurring inputs and are immutable, so they
# are cached: most cases share their actions, raise-if list and pack details.


@lru_cache(maxsize=4096)
def _actions(
    pack: RulePack, level: Level, relationship: Relationship, present: frozenset[str]
) -> tuple[Action, ...]:
    chosen = [
        Action(id=spec.id, text=spec.text, source=spec.source)
        for spec in pack.actions
        if spec.min_level.rank <= level.rank <= spec.max_level.rank
        and relationship in spec.relationships
        and spec.requires <= present
    ]
    # What must be done now comes first, whatever the pack's order (a stable sort).
    urgent = {spec.id for spec in pack.actions if "urgent" in spec.requires}
    return tuple(sorted(chosen, key=lambda action: action.id not in urgent))


@lru_cache(maxsize=4096)
def _raise_if(
    pack: RulePack, fired: frozenset[str], level: Level, urgent: bool
) -> tuple[RaiseIf, ...]:
    waiting = [r for r in pack.rules if r.level is not None and r.id not in fired]
    higher = [r for r in waiting if r.level is not None and r.level.rank > level.rank]
    if higher:
        nearest = min(r.level.rank for r in higher if r.level is not None)
        candidates = [r for r in higher if r.level is not None and r.level.rank == nearest]
    elif not urgent:
        candidates = [r for r in waiting if r.urgent]
    else:
        candidates = []
    return tuple(
        RaiseIf(
            level=rule.level or level,
            urgent=rule.urgent,
            rule_id=rule.id,
            title=rule.title,
            condition=rule.when_text,
        )
        for rule in candidates
    )


@lru_cache(maxsize=64)
def _pack_info(pack: RulePack) -> RulePackInfo:
    return RulePackInfo(name=pack.name, version=pack.version, sha256=pack.sha256)


def forget_packs() -> None:
    """Drop every cached result that holds a pack, so an evicted pack can be freed.

    The caches are keyed by pack; clearing them all is simpler than picking out
    one pack's entries, and they refill on the next calls.
    """
    for cached in (_extractor, _read_fields, _actions, _raise_if, _pack_info, _rule_output):
        cached.cache_clear()


def evaluate(case: Case, pack: RulePack, ruleset: CompiledRuleset) -> Assessment:
    """Assess a validated case with a validated, compiled pack."""
    return assessment(pack, findings(case, pack, ruleset))


def findings(case: Case, pack: RulePack, ruleset: CompiledRuleset) -> Findings:
    """What the engine found for ``case``, in the compact form :func:`assessment` expands.

    Everything the pack itself determines (titles, rationales, actions, the
    grade) is left out, so the findings of many cases travel cheaply between
    processes as JSON (see ``batch.py``).
    """
    features = _features(case, pack)
    firings, present = _run_engine(ruleset, features, pack)
    return _explain(case, pack, features, firings, present)


def _explain(
    case: Case,
    pack: RulePack,
    features: CaseFeatures,
    firings: list[Firing],
    present: dict[str, bool],
) -> Findings:
    """The findings: the fired rules with their evidence, the elements, the threshold."""
    rule = pack.rule
    firings.sort(key=lambda f: (_PHASES[f.kind], rule(f.rule_id).position, f.index))

    evidence = _Evidence(features)
    fired: dict[str, set[int]] = {}
    element_rules: dict[str, list[str]] = {name: [] for name in ELEMENTS}
    for firing in firings:
        found = rule(firing.rule_id)
        positions = fired.setdefault(found.id, set())
        # Grade rules can cite elements: their evidence is resolved below, once
        # every element rule (on episode and case facts, sorted first) is known.
        if found.on == "grade":
            continue
        positions |= evidence.for_firing(found, firing)
        if found.element is not None:
            evidence.elements[found.element] |= positions
            if found.id not in element_rules[found.element]:
                element_rules[found.element].append(found.id)

    rules_fired = []
    for rule_id, positions in fired.items():
        found = rule(rule_id)
        if found.on == "grade":
            positions = evidence.for_firing(found, Firing(rule_id, "grade", 0))
        rules_fired.append((rule_id, evidence.ids(positions)))
    return {
        "rules_fired": rules_fired,
        "elements": {
            name: {
                "present": present[name],
                "evidence": evidence.ids(evidence.elements[name]),
                "rules": tuple(element_rules[name]),
            }
            for name in ELEMENTS
        },
        "threshold": _threshold(features, pack),
        "relationship": case.client.relationship.value,
        "family": bool(features.values["family_contacts"]) or case.fear.family_afraid,
        "colleagues": bool(features.values["colleague_contacts"]),
        "ages": _ages(case, features),
        "assessed_at": case.assessed_at,
    }


def _days(later: datetime, earlier: datetime | None) -> float | None:
    if earlier is None:
        return None
    return ((later - earlier) // timedelta(microseconds=1)) / MICROSECONDS_PER_DAY


def _ages(case: Case, features: CaseFeatures) -> dict[str, float | None]:
    """How old the contacts, threats, warnings, agreement and protection order are."""
    at = case.assessed_at
    by_id = {contact.id: contact for contact in case.contacts}
    ids = features.chronological_ids
    threatening = [
        p
        for name in ("threat_contacts", "escalation_contacts", "weapon_contacts")
        for p in features.evidence[name][-1:]
    ]
    threatening += list(features.evidence["protection_order_breach_contacts"])[-1:]
    warnings = [w.at for w in case.boundaries.warnings]
    client = case.client
    return {
        "last_contact": _days(at, by_id[ids[-1]].at) if ids else None,
        "last_threat": _days(at, by_id[ids[max(threatening)]].at) if threatening else None,
        "first_warning": _days(at, min(warnings, default=None)),
        "last_warning": _days(at, max(warnings, default=None)),
        "agreement": _days(at, case.boundaries.agreement_at),
        "protection_order_since": _days(at, client.protection_order_since),
        "protection_order_ends": _days(at, client.protection_order_until),
    }


@lru_cache(maxsize=1024)
def _rule_output(pack: RulePack, rule_id: str) -> dict[str, Any]:
    found = pack.rule(rule_id)
    return {
        "id": found.id,
        "title": found.title,
        "effect": found.effect,
        "element": found.element,
        "level": found.level,
        "urgent": found.urgent,
        "rationale": found.rationale,
        "source": found.source,
    }


def assessment(pack: RulePack, found: Findings) -> Assessment:
    """The full assessment: ``found`` plus what the pack says about it.

    The grade is the highest level among the fired rules; the actions, the
    raise-if list and the notes follow from the grade and the fired rules.
    """
    fired = [pack.rule(rule_id) for rule_id, _ in found["rules_fired"]]
    level = max((r.level for r in fired if r.level is not None), key=_rank, default=Level.NONE)
    urgent = any(r.urgent for r in fired)
    flags = {name for name, element in found["elements"].items() if element["present"]}
    if urgent:
        flags.add("urgent")
    if found["family"]:
        flags.add("family")
    if found["colleagues"]:
        flags.add("colleagues")
    relationship = Relationship(found["relationship"])
    level_spec = pack.level(level)
    return Assessment.model_validate(
        {
            "level": level,
            "level_title": level_spec.title,
            "urgent": urgent,
            "picture": "criminal" if level_spec.picture == "criminal" else "clinical",
            "elements": found["elements"],
            "threshold": found["threshold"],
            "rules_fired": [
                {
                    **_rule_output(pack, rule_id),
                    "evidence": ids,
                    "sets_grade": _sets_grade(pack.rule(rule_id), level),
                }
                for rule_id, ids in found["rules_fired"]
            ],
            "actions": _actions(pack, level, relationship, frozenset(flags)),
            "raise_if": _raise_if(pack, frozenset(r.id for r in fired), level, urgent),
            "notes": tuple(r.note or "" for r in fired if r.effect == "note"),
            "ages": Ages(**found["ages"]),
            "assessed_at": found["assessed_at"],
            "rule_pack": _pack_info(pack),
            "library_version": __version__,
        }
    )


def _sets_grade(rule: Rule, level: Level) -> bool:
    """A level rule sets the grade when its level is the grade (urgent or not)."""
    return rule.level is level


def _rank(level: Level) -> int:
    return level.rank
