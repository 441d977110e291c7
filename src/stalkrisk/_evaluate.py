"""One assessment: case features → engine session → explained assessment."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from operator import is_
from typing import TypedDict

from ._assessment import Assessment
from ._case import Case, Relationship
from ._compiled import CompiledPack
from ._engine import Firing, run
from ._features import EPISODE_FIELDS, MICROSECONDS_PER_DAY, CaseFeatures
from ._fields import ELEMENTS, fields_for
from ._ladder import Level, by_rank
from ._packmodel import Rule
from ._version import __version__

__all__ = [
    "ElementFindings",
    "Findings",
    "ThresholdFindings",
    "assessment",
    "evaluate",
    "findings",
    "grade",
]

_PHASES = {"episode": 0, "case": 0, "grade": 1}


class ElementFindings(TypedDict):
    present: bool
    evidence: tuple[str, ...]
    rules: tuple[str, ...]


class ThresholdFindings(TypedDict):
    met: bool
    distinct_behaviours: int
    span_days: float
    behaviours: tuple[str, ...]
    course_of_conduct: tuple[str, ...]
    min_distinct_behaviours: int
    min_span_days: float
    min_contacts: int | None
    episodes: int


class Findings(TypedDict):
    """What the engine found for one case: compact, plain data, pack-free.

    The contract between a batch worker and its caller: ``batch.py`` returns a
    chunk's findings from the worker for the pool to pickle, and the caller expands
    each with :func:`assessment`.
    """

    rules_fired: list[tuple[str, tuple[str, ...]]]
    elements: dict[str, ElementFindings]
    threshold: ThresholdFindings
    relationship: str
    family: bool
    colleagues: bool
    ages: dict[str, float | None]
    assessed_at: datetime
    ref: str | None


def _run_engine(compiled: CompiledPack, features: CaseFeatures) -> tuple[list[Firing], set[str]]:
    """The rules that fire on the case's facts, and the elements present."""
    rule = compiled.pack.rule
    values = features.values

    def work() -> tuple[list[Firing], set[str]]:
        with compiled.ruleset.session() as session:
            session.assert_rows(
                "episode", EPISODE_FIELDS, [(e.index, e.row()) for e in features.episodes]
            )
            session.assert_fact("case", 0, values)
            present = {
                element
                for element in (rule(firing.rule_id).element for firing in session.firings)
                if element is not None
            }
            grade = {**values, **{name: name in present for name in ELEMENTS}}
            session.assert_fact("grade", 0, grade)
            return list(session.firings), present

    # Off the main thread, so that an interrupt cannot stop a session half-way.
    return run(work)


class _Evidence:
    """The contacts behind fields, elements and episodes, as chronological positions.

    Evidence is gathered as its sources: the ascending position sequences of the
    features (a field's contacts, an episode's).  Positions become contact ids
    (oldest first) only in :meth:`ids`, once for each distinct set of sources,
    and a single source needs no union and no sort.
    """

    def __init__(self, features: CaseFeatures) -> None:
        self._features = features
        self.elements: dict[str, list[Sequence[int]]] = {name: [] for name in ELEMENTS}
        # By the identities of the sources, all alive while this object is.
        self._named: dict[tuple[int, ...], tuple[str, ...]] = {}
        # Single sources already named, by length, first and last position: an
        # episode and a field often hold the very same position objects.
        self._alike: dict[tuple[int, int, int], list[tuple[Sequence[int], tuple[str, ...]]]] = {}

    def ids(self, sources: Sequence[Sequence[int]]) -> tuple[str, ...]:
        if len(sources) == 1:  # most rules cite one field or one episode
            (source,) = sources
            distinct = {id(source): source} if source else {}
            key: tuple[int, ...] = (id(source),) if source else ()
        else:
            distinct = {id(source): source for source in sources if source}
            key = tuple(sorted(distinct))
        named = self._named.get(key)
        if named is None:
            chronological = self._features.chronological_ids
            if not distinct:
                named = ()
            elif len(distinct) > 1:
                union = sorted(set().union(*distinct.values()))
                named = tuple(map(chronological.__getitem__, union))
            else:
                (positions,) = distinct.values()
                named = self._single(positions)
            self._named[key] = named
        return named

    def _single(self, positions: Sequence[int]) -> tuple[str, ...]:
        chronological = self._features.chronological_ids
        if isinstance(positions, range) and positions.step == 1:
            return chronological[positions.start : positions.stop]
        alike = self._alike.setdefault((len(positions), positions[0], positions[-1]), [])
        for other, named in alike:
            # The same objects in the same order: equal without reading a value.
            if all(map(is_, other, positions)):
                return named
        named = tuple(map(chronological.__getitem__, positions))
        alike.append((positions, named))
        return named

    def of_episode(self, index: int) -> Sequence[int]:
        return self._features.episodes[index].positions

    def of_fields(self, rule: Rule) -> list[Sequence[int]]:
        """What the fields of a case or grade rule count; an element cites its evidence."""
        sources: list[Sequence[int]] = []
        specs = fields_for(rule.on)
        for name in rule.fields:
            if name in self.elements:
                sources += self.elements[name]
            elif specs[name].evidence:
                sources.append(self._features.evidence[name])
        return sources


def _threshold(
    features: CaseFeatures, compiled: CompiledPack, evidence: _Evidence
) -> ThresholdFindings:
    """The pack's threshold figures, measured on the latest current episode that meets them.

    ``met`` is the pack's own definition: its threshold parameters (distinct
    behaviours, span, and contacts if it sets them) met by an episode that is
    still current (within ``history_after_days``; an older one is a past
    pattern).  The pattern *element* is decided by the pack's rules: with the
    bundled packs the two coincide, and a custom pack may add other ways to
    find a pattern.
    """
    meets = compiled.extractor.meets_threshold
    meeting = [e for e in features.episodes if e.current and meets(e)]
    episode = meeting[-1] if meeting else features.widest
    return {
        "met": bool(meeting),
        "distinct_behaviours": len(episode.behaviours) if episode else 0,
        "span_days": episode.span_days if episode else 0.0,
        "behaviours": episode.behaviours if episode else (),
        "course_of_conduct": evidence.ids([episode.positions]) if episode else (),
        "min_distinct_behaviours": compiled.min_distinct_behaviours,
        "min_span_days": compiled.min_span_days,
        "min_contacts": compiled.min_contacts,
        "episodes": len(features.episodes),
    }


def evaluate(case: Case, compiled: CompiledPack) -> Assessment:
    """Assess a validated case with a compiled pack."""
    return assessment(compiled, findings(case, compiled))


def findings(case: Case, compiled: CompiledPack) -> Findings:
    """What the engine found for ``case``, in the compact form :func:`assessment` expands.

    Everything the pack itself determines (titles, rationales, actions, the
    grade) is left out, so the findings of many cases travel cheaply between
    processes as JSON (see ``batch.py``).
    """
    features = compiled.extractor.extract(case)
    firings, present = _run_engine(compiled, features)
    return _explain(case, compiled, features, firings, present)


def _explain(
    case: Case,
    compiled: CompiledPack,
    features: CaseFeatures,
    firings: list[Firing],
    present: set[str],
) -> Findings:
    """The findings: the fired rules with their evidence, the elements, the threshold."""
    rule = compiled.pack.rule
    ordered = sorted(firings, key=lambda f: (_PHASES[f.kind], rule(f.rule_id).position, f.index))

    evidence = _Evidence(features)
    fired: dict[str, list[Sequence[int]]] = {}
    element_rules: dict[str, list[str]] = {name: [] for name in ELEMENTS}
    for firing in ordered:
        found = rule(firing.rule_id)
        sources = fired.setdefault(found.id, [])
        # Grade rules can cite elements: their evidence is resolved below, once
        # every element rule (on episode and case facts, sorted first) is known.
        if found.on == "grade":
            continue
        added = (
            [evidence.of_episode(firing.index)]
            if found.on == "episode"
            else evidence.of_fields(found)
        )
        sources += added
        if found.element is not None:
            evidence.elements[found.element] += added
            if found.id not in element_rules[found.element]:
                element_rules[found.element].append(found.id)

    rules_fired = []
    for rule_id, sources in fired.items():
        found = rule(rule_id)
        if found.on == "grade":
            sources = evidence.of_fields(found)
        rules_fired.append((rule_id, evidence.ids(sources)))
    return {
        "rules_fired": rules_fired,
        "elements": {
            name: {
                "present": name in present,
                "evidence": evidence.ids(evidence.elements[name]),
                "rules": tuple(element_rules[name]),
            }
            for name in ELEMENTS
        },
        "threshold": _threshold(features, compiled, evidence),
        "relationship": case.client.relationship.value,
        "family": bool(features.values["family_contacts"]) or case.fear.family_afraid,
        "colleagues": bool(features.values["colleague_contacts"]),
        "ages": _ages(case, features),
        "assessed_at": case.assessed_at,
        "ref": case.ref,
    }


def _days(later: datetime, earlier: datetime | None) -> float | None:
    if earlier is None:
        return None
    return ((later - earlier) // timedelta(microseconds=1)) / MICROSECONDS_PER_DAY


def _ages(case: Case, features: CaseFeatures) -> dict[str, float | None]:
    """How old the contacts, threats, warnings, agreement and protection order are."""
    at = case.assessed_at
    times, assessed = features.times, features.assessed_microseconds
    threatening = [
        p
        for name in ("threat_contacts", "escalation_contacts", "weapon_contacts")
        for p in features.evidence[name][-1:]
    ]
    threatening += list(features.evidence["protection_order_breach_contacts"])[-1:]
    warnings = [w.at for w in case.boundaries.warnings]
    client = case.client
    return {
        "last_contact": (assessed - times[-1]) / MICROSECONDS_PER_DAY if times else None,
        "last_threat": (
            (assessed - times[max(threatening)]) / MICROSECONDS_PER_DAY if threatening else None
        ),
        "first_warning": _days(at, min(warnings, default=None)),
        "last_warning": _days(at, max(warnings, default=None)),
        "agreement": _days(at, case.boundaries.agreement_at),
        "protection_order_since": _days(at, client.protection_order_since),
        "protection_order_ends": _days(at, client.protection_order_until),
    }


def assessment(compiled: CompiledPack, found: Findings) -> Assessment:
    """The full assessment: ``found`` plus what the pack says about it.

    The grade is the highest level among the fired rules; the actions, the
    raise-if list and the notes follow from the grade and the fired rules.
    """
    pack = compiled.pack
    fired = [pack.rule(rule_id) for rule_id, _ in found["rules_fired"]]
    level, urgent = grade(fired)
    flags = {name for name, element in found["elements"].items() if element["present"]}
    if urgent:
        flags.add("urgent")
    if found["family"]:
        flags.add("family")
    if found["colleagues"]:
        flags.add("colleagues")
    level_spec = pack.level(level)
    outputs = compiled.rule_outputs
    return Assessment.model_validate(
        {
            "level": level,
            "level_title": level_spec.title,
            "urgent": urgent,
            "picture": "criminal" if level_spec.picture == "criminal" else "clinical",
            "elements": found["elements"],
            "threshold": found["threshold"],
            "rules_fired": [
                {**outputs[rule.id], "evidence": ids, "sets_grade": rule.level is level}
                for rule, (_, ids) in zip(fired, found["rules_fired"], strict=True)
            ],
            "actions": compiled.actions(
                level, Relationship(found["relationship"]), frozenset(flags)
            ),
            "raise_if": compiled.raise_if(frozenset(r.id for r in fired), level, urgent),
            "notes": tuple(r.note or "" for r in fired if r.effect == "note"),
            "ages": found["ages"],
            "assessed_at": found["assessed_at"],
            "ref": found["ref"],
            "rule_pack": compiled.info,
            "library_version": __version__,
        }
    )


def grade(fired: Iterable[Rule]) -> tuple[Level, bool]:
    """The grade the fired rules set: their highest level (none if no level rule), and urgent."""
    rules = list(fired)
    ranked = [r.level for r in rules if r.level is not None]
    return max(ranked, key=by_rank, default=Level.NONE), any(r.urgent for r in rules)
