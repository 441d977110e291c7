"""One assessment: case features → engine session → explained assessment."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from functools import lru_cache

from ._assessment import (
    Action,
    Assessment,
    ElementFinding,
    Elements,
    FiredRule,
    RaiseIf,
    RulePackInfo,
    Threshold,
)
from ._case import Case, Relationship
from ._engine import CompiledRuleset, EngineRule, Firing, compile_ruleset
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

__all__ = ["compile_pack", "evaluate"]

_PHASES = {"episode": 0, "case": 0, "grade": 1}


def compile_pack(pack: RulePack) -> CompiledRuleset:
    """The engine ruleset for ``pack``, registered once per distinct content."""
    rules = [EngineRule(rule.id, rule.on, rule.when) for rule in pack.rules]
    return compile_ruleset(f"stalkrisk_{pack.sha256[:32]}", pack.name, rules)


@lru_cache(maxsize=64)
def _extractor(pack: RulePack) -> Extractor:
    return Extractor(
        groups={spec.code: spec.group for spec in pack.behaviours},
        pursuit=frozenset(spec.code for spec in pack.behaviours if spec.pursuit),
        episode_max_gap_days=pack.parameter("episode_max_gap_days"),
        recent_days=pack.parameter("recent_days"),
    )


def _features(case: Case, pack: RulePack) -> CaseFeatures:
    return _extractor(pack).extract(case)


def _run_engine(
    ruleset: CompiledRuleset, features: CaseFeatures, pack: RulePack
) -> tuple[list[Firing], dict[str, bool]]:
    with ruleset.session() as session:
        for episode in features.episodes:
            session.assert_fact({"kind": "episode", **episode.fact()})
        session.assert_fact({"kind": "case", "index": 0, **features.values})
        present = dict.fromkeys(ELEMENTS, False)
        for firing in session.firings:
            element = pack.rule(firing.rule_id).element
            if element is not None:
                present[element] = True
        grade_fact = {"kind": "grade", "index": 0, **features.values}
        grade_fact.update({name: int(flag) for name, flag in present.items()})
        session.assert_fact(grade_fact)
        return list(session.firings), present


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


def _threshold(features: CaseFeatures, pack: RulePack) -> Threshold:
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
    return Threshold(
        met=bool(meeting),
        distinct_behaviours=len(episode.behaviours) if episode else 0,
        span_days=episode.span_days if episode else 0.0,
        behaviours=episode.behaviours if episode else (),
        course_of_conduct=tuple([features.chronological_ids[p] for p in episode.positions])
        if episode
        else (),
        min_distinct_behaviours=minimum,
        min_span_days=span_days,
        episodes=len(features.episodes),
    )


def _actions(
    pack: RulePack, level: Level, case: Case, flags: Mapping[str, bool]
) -> tuple[Action, ...]:
    present = frozenset(name for name, on in flags.items() if on)
    return _actions_for(pack, level, case.client.relationship, present)


@lru_cache(maxsize=4096)
def _actions_for(
    pack: RulePack, level: Level, relationship: Relationship, present: frozenset[str]
) -> tuple[Action, ...]:
    # Few distinct inputs recur across cases, so the (immutable) result is cached.
    return tuple(
        Action(id=spec.id, text=spec.text)
        for spec in pack.actions
        if spec.min_level.rank <= level.rank <= spec.max_level.rank
        and relationship in spec.relationships
        and spec.requires <= present
    )


def _raise_if(pack: RulePack, fired: set[str], level: Level, urgent: bool) -> tuple[RaiseIf, ...]:
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


def evaluate(case: Case, pack: RulePack, ruleset: CompiledRuleset) -> Assessment:
    """Assess a validated case with a validated, compiled pack."""
    features = _features(case, pack)
    firings, present = _run_engine(ruleset, features, pack)
    firings.sort(key=lambda f: (_PHASES[f.kind], pack.rule(f.rule_id).position, f.index))

    evidence = _Evidence(features)
    fired: dict[str, set[int]] = {}
    element_rules: dict[str, list[str]] = {name: [] for name in ELEMENTS}
    for firing in firings:
        rule = pack.rule(firing.rule_id)
        ids = evidence.for_firing(rule, firing)
        fired.setdefault(rule.id, set()).update(ids)
        if rule.element is not None:
            evidence.elements[rule.element] |= ids
            if rule.id not in element_rules[rule.element]:
                element_rules[rule.element].append(rule.id)

    # Grade-rule evidence can cite elements, so resolve it after all elements are known.
    rules_fired = []
    for rule_id, ids in fired.items():
        rule = pack.rule(rule_id)
        if rule.on == "grade":
            ids = evidence.for_firing(rule, Firing(rule_id, "grade", 0))
        rules_fired.append(
            FiredRule(
                id=rule.id,
                title=rule.title,
                effect=rule.effect,
                element=rule.element,
                level=rule.level,
                urgent=rule.urgent,
                rationale=rule.rationale,
                source=rule.source,
                evidence=evidence.ids(ids),
            )
        )

    level_rules = [r for r in rules_fired if r.level is not None]
    level = max(
        (r.level for r in level_rules if r.level), key=lambda lv: lv.rank, default=Level.NONE
    )
    urgent = any(r.urgent for r in rules_fired)
    elements = Elements(
        **{
            name: ElementFinding(
                present=present[name],
                evidence=evidence.ids(evidence.elements[name]),
                rules=tuple(element_rules[name]),
            )
            for name in ELEMENTS
        }
    )
    flags = dict(present)
    flags["urgent"] = urgent
    flags["family"] = bool(features.values["family_contacts"]) or case.fear.family_afraid
    return Assessment(
        level=level,
        level_title=pack.level(level).title,
        urgent=urgent,
        picture="criminal" if pack.level(level).picture == "criminal" else "clinical",
        elements=elements,
        threshold=_threshold(features, pack),
        rules_fired=tuple(rules_fired),
        actions=_actions(pack, level, case, flags),
        raise_if=_raise_if(pack, set(fired), level, urgent),
        notes=tuple(pack.rule(r.id).note or "" for r in rules_fired if r.effect == "note"),
        assessed_at=case.assessed_at,
        rule_pack=RulePackInfo(name=pack.name, version=pack.version, sha256=pack.sha256),
        library_version=__version__,
    )
