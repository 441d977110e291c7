"""A rule pack compiled for assessing: everything derived from the pack, built once.

The registry builds one :class:`CompiledPack` when a pack is first used and
keeps it while the pack is cached; when the pack is evicted, the compiled pack
goes with it, so no module-level cache holds pack data.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from ._assessment import Action, RaiseIf, RulePackInfo
from ._case import Relationship
from ._engine import CompiledRuleset, EngineRule, compile_ruleset
from ._features import Extractor
from ._ladder import Level
from ._packmodel import RulePack
from ._wording import plain_conditions

__all__ = ["CompiledPack", "compile_pack"]

V = TypeVar("V")

# Most cases share their actions and raise-if list; a bound, not an eviction policy.
_MEMO_SIZE = 4096


def _optional(pack: RulePack, name: str) -> float | None:
    found = pack.parameters.get(name)
    return None if found is None else found.value


class CompiledPack:
    """A validated pack with its engine ruleset, feature extractor and fixed outputs."""

    __slots__ = (
        "_memo",
        "conditions",
        "extractor",
        "info",
        "min_contacts",
        "min_distinct_behaviours",
        "min_span_days",
        "pack",
        "rule_outputs",
        "ruleset",
    )

    def __init__(self, pack: RulePack, ruleset: CompiledRuleset) -> None:
        self.pack = pack
        self.ruleset = ruleset
        self.extractor = Extractor(
            groups={spec.code: spec.group for spec in pack.behaviours},
            pursuit=frozenset(spec.code for spec in pack.behaviours if spec.pursuit),
            episode_max_gap_days=pack.parameter("episode_max_gap_days"),
            recent_days=pack.parameter("recent_days"),
            pattern_min_distinct_behaviours=pack.parameter("pattern_min_distinct_behaviours"),
            pattern_min_span_days=pack.parameter("pattern_min_span_days"),
            pattern_min_contacts=_optional(pack, "pattern_min_contacts") or 0,
            history_after_days=_optional(pack, "history_after_days"),
            ongoing_max_days=_optional(pack, "ongoing_max_days"),
        )
        self.info = RulePackInfo(name=pack.name, version=pack.version, sha256=pack.sha256)
        self.min_distinct_behaviours = int(pack.parameter("pattern_min_distinct_behaviours"))
        self.min_span_days = pack.parameter("pattern_min_span_days")
        found = _optional(pack, "pattern_min_contacts")
        self.min_contacts = None if found is None else int(found)
        self.rule_outputs: dict[str, dict[str, Any]] = {
            rule.id: {
                "id": rule.id,
                "title": rule.title,
                "effect": rule.effect,
                "element": rule.element,
                "level": rule.level,
                "urgent": rule.urgent,
                "rationale": rule.rationale,
                "source": rule.source,
            }
            for rule in pack.rules
        }
        # Plain words for people; RaiseIf.expression keeps the engine's form for audit.
        self.conditions = plain_conditions(pack)
        self._memo: dict[Hashable, Any] = {}

    def _remember(self, key: Hashable, make: Callable[[], V]) -> V:
        found: V | None = self._memo.get(key)
        if found is None:
            found = make()
            if len(self._memo) >= _MEMO_SIZE:
                self._memo.clear()
            self._memo[key] = found
        return found

    def actions(
        self, level: Level, relationship: Relationship, present: frozenset[str]
    ) -> tuple[Action, ...]:
        """The pack's actions for ``level``, the relationship and the flags ``present``."""
        return self._remember(
            ("actions", level, relationship, present),
            lambda: self._actions(level, relationship, present),
        )

    def _actions(
        self, level: Level, relationship: Relationship, present: frozenset[str]
    ) -> tuple[Action, ...]:
        chosen = [
            Action(id=spec.id, text=spec.text, source=spec.source)
            for spec in self.pack.actions
            if spec.min_level.rank <= level.rank <= spec.max_level.rank
            and relationship in spec.relationships
            and spec.requires <= present
        ]
        # What must be done now comes first, whatever the pack's order (a stable sort).
        urgent = {spec.id for spec in self.pack.actions if "urgent" in spec.requires}
        return tuple(sorted(chosen, key=lambda action: action.id not in urgent))

    def raise_if(self, fired: frozenset[str], level: Level, urgent: bool) -> tuple[RaiseIf, ...]:
        """The rules that did not fire and would raise the grade next."""
        return self._remember(
            ("raise_if", fired, level, urgent), lambda: self._raise_if(fired, level, urgent)
        )

    def _raise_if(self, fired: frozenset[str], level: Level, urgent: bool) -> tuple[RaiseIf, ...]:
        waiting = [r for r in self.pack.rules if r.level is not None and r.id not in fired]
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
                condition=self.conditions[rule.id],
                expression=rule.when_text,
            )
            for rule in candidates
        )


def compile_pack(pack: RulePack) -> CompiledPack:
    """Register ``pack``'s rules with the engine (once per content) and derive the rest."""
    rules = [EngineRule(rule.id, rule.on, rule.when) for rule in pack.rules]
    ruleset = compile_ruleset(f"stalkrisk_{pack.sha256[:32]}", pack.name, rules)
    return CompiledPack(pack, ruleset)
