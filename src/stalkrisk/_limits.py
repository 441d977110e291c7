"""The limits a rule pack must keep, and the engine-node model that measures them.

Past its own limits the rule engine (2.0.28) hangs with the GIL held, reads past
its tables, or fails while assessing; a pack beyond any of these is refused with
a ``RulePackError`` of type ``limit`` before the engine sees it.  Each figure is
measured with ``bench/pack_limits.py`` and explained in docs/rules.md ("Limits").
"""

from __future__ import annotations

import itertools
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from ._fields import FactKind
from ._packmodel import OPERATORS, AllOf, Condition, FieldTest, Rule

__all__ = [
    "LIMITS",
    "MAX_COMPARISONS_PER_PACK",
    "MAX_COMPARISONS_PER_RULE",
    "MAX_CONDITION_DEPTH",
    "MAX_DAYS",
    "MAX_DNF_TERMS_PER_PACK",
    "MAX_DNF_TERMS_PER_RULE",
    "MAX_DOCUMENT_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_GROUPS_PER_RULE",
    "MAX_NUMBER",
    "MAX_PROBE_CONTACTS",
    "MAX_RULES",
    "MAX_SIMULTANEOUS_MATCHES",
    "stack_peak",
]

MAX_FILE_BYTES = 192 * 1024  # the densest YAML reads at about 2.5 ms per KiB
MAX_DOCUMENT_DEPTH = 64  # reading nests in Python; far below its recursion limit
MAX_RULES = 200  # the engine reads past a 256-entry table at 257 rules on one condition
MAX_COMPARISONS_PER_RULE = 128  # 512 after one condition hang the engine
MAX_COMPARISONS_PER_PACK = 2_000  # each is at most one engine node, up to 3.5 KB
MAX_CONDITION_DEPTH = 8
MAX_GROUPS_PER_RULE = 12  # the engine refuses more than 14 all/any groups in a rule
MAX_DNF_TERMS_PER_RULE = 64  # each term is one path the engine walks per fact
# Every comparison that follows a condition starts at least one term, so this also
# keeps them below the 512 at which the engine hangs.
MAX_DNF_TERMS_PER_PACK = 256
# The engine's evaluation stack holds 64 nodes.  Every any-group whose branch ends in
# a condition is pushed with it, so this also keeps those below the 128 past which
# the engine reads beyond its table.
MAX_SIMULTANEOUS_MATCHES = 64
MAX_NUMBER = 1_000_000  # every parameter and comparison value, in absolute value
MAX_DAYS = 36_500  # the day parameters: a century
MAX_PROBE_CONTACTS = 1_000  # contacts in the pattern safety probe

LIMITS: Mapping[str, int] = {
    "max_file_bytes": MAX_FILE_BYTES,
    "max_document_depth": MAX_DOCUMENT_DEPTH,
    "max_rules": MAX_RULES,
    "max_comparisons_per_rule": MAX_COMPARISONS_PER_RULE,
    "max_comparisons_per_pack": MAX_COMPARISONS_PER_PACK,
    "max_condition_depth": MAX_CONDITION_DEPTH,
    "max_groups_per_rule": MAX_GROUPS_PER_RULE,
    "max_dnf_terms_per_rule": MAX_DNF_TERMS_PER_RULE,
    "max_dnf_terms_per_pack": MAX_DNF_TERMS_PER_PACK,
    "max_simultaneous_matches": MAX_SIMULTANEOUS_MATCHES,
    "max_number": MAX_NUMBER,
    "max_days": MAX_DAYS,
    "max_probe_contacts": MAX_PROBE_CONTACTS,
}
"""Every limit by the name its error message gives (``[limit: max_rules]``)."""


class _Node:
    """A node of the engine's alpha network, built as the rule engine (2.0.28) builds it.

    In src/rules/rete.c, ``findAlpha`` reuses the child with the same field,
    operator, value type and value; an ``any`` group gets a fresh join node that
    each branch's last node lists (``createAlpha``, ``linkAlpha``).
    """

    __slots__ = ("children", "joins", "test")

    def __init__(self, test: FieldTest | None) -> None:
        self.test = test
        self.children: dict[tuple[str, str, str, int | float | str], _Node] = {}
        self.joins: list[_Node] = []

    def place(self, condition: Condition) -> _Node:
        """Add ``condition`` below this node as the engine would; return its last node."""
        if isinstance(condition, FieldTest):
            value = condition.value
            # Booleans travel as 1/0; the engine never shares an int and a float node.
            number = int(value) if isinstance(value, bool) else value
            key = (condition.field, condition.op, type(number).__name__, number)
            child = self.children.get(key)
            if child is None:
                child = self.children[key] = _Node(condition)
            return child
        if isinstance(condition, AllOf):
            node = self
            for item in condition.items:
                node = node.place(item)
            return node
        join = _Node(None)
        for item in condition.items:
            self.place(item).joins.append(join)
        return join

    def stack_peak(self, peaks: dict[int, int]) -> int:
        """The most nodes the engine's evaluation stack can hold below this node.

        ``handleAlpha`` (src/rules/events.c) pushes every join and every matching
        child before it walks the last one pushed.  ``peaks`` memoises shared nodes.
        """
        known = peaks.get(id(self))
        if known is None:
            pushed = len(self.joins) + _most_at_once(
                child.test for child in self.children.values() if child.test is not None
            )
            below = max(
                (node.stack_peak(peaks) for node in (*self.children.values(), *self.joins)),
                default=0,
            )
            known = peaks[id(self)] = max(pushed, pushed - 1 + below) if pushed else 0
        return known


def _most_at_once(tests: Iterable[FieldTest]) -> int:
    """The most of ``tests`` one fact can satisfy together (fields are independent)."""
    by_field: dict[str, list[FieldTest]] = {}
    for test in tests:
        by_field.setdefault(test.field, []).append(test)
    return sum(_most_on_one_field(group) for group in by_field.values())


def _most_on_one_field(tests: list[FieldTest]) -> int:
    values: dict[str, list[Any]] = {op: [] for op in OPERATORS}
    for test in tests:
        values[test.op].append(test.value)
    equal, unequal = Counter(values["eq"]), Counter(values["ne"])
    others = len(values["ne"])
    if any(isinstance(test.value, str) for test in tests):
        # Enum fields allow only eq and ne; some value matches none of the tests.
        return max([others, *(equal[x] + others - unequal[x] for x in equal)])
    greater, at_least = sorted(values["gt"]), sorted(values["gte"])
    less, at_most = sorted(values["lt"]), sorted(values["lte"])
    points = sorted({float(test.value) for test in tests})
    # Counts change only at the test values: try each, each gap and both ends.
    candidates = [points[0] - 1, points[-1] + 1, *points]
    candidates += [(low + high) / 2 for low, high in itertools.pairwise(points)]
    return max(
        equal[x]
        + others
        - unequal[x]
        + bisect_left(greater, x)
        + bisect_right(at_least, x)
        + len(less)
        - bisect_right(less, x)
        + len(at_most)
        - bisect_left(at_most, x)
        for x in candidates
    )


def stack_peak(kind: FactKind, rules: Iterable[Rule]) -> int:
    """The evaluation stack's peak for a fact of ``kind`` under ``rules`` (at most)."""
    start = _Node(None)
    for rule in rules:
        if rule.on == kind:
            start.place(rule.when)
    return max(1, start.stack_peak({}))
