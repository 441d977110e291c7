"""A case re-assessed at every step in time, without starting over at each step.

The contacts are read into columns once (:meth:`Extractor.columns`).  A step is
the first ``p`` contacts in chronological order, assessed at time ``t`` with
what was known by then; each case field is a count over a column cut at ``p``
and at the start of its window, so it costs a bisection instead of a pass.
Episodes do not move as the journal grows (a cut depends only on the gap
between two neighbours): a step sees the complete ones and at most one that is
still growing.

The engine is asked only about fact contents whose test outcomes it has not
seen: a value is reduced to where it stands among the constants the pack
compares its field with, and the rules a reduced content fires are kept.  A
step is therefore exactly ``assess(case.as_of(t))`` (the property test in
``tests/properties/test_trajectory_equivalence.py`` checks it).  A pack whose
episode rules test ``age_days`` makes every episode differ at every step; each
step then sends all of them, which is correct but grows with the square.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import NamedTuple

from ._case import Boundaries, Case, ClientHistory, Fear
from ._compiled import CompiledPack
from ._engine import FieldValue, engine_value, run
from ._features import (
    _SLOT,
    _SLOTS,
    EPISODE_FIELDS,
    MICROSECONDS_PER_DAY,
    _microseconds,
    history_values,
)
from ._fields import ELEMENTS
from ._known import known_parts
from ._packmodel import condition_tests

__all__ = ["Step", "Stepper"]

_DAY_24H = 24 * 3_600 * 10**6


class Step(NamedTuple):
    """What the engine found at one step, with the threshold figures."""

    fired: frozenset[str]
    present: frozenset[str]
    met: bool
    distinct_behaviours: int
    span_days: float
    episodes: int
    course: tuple[int, int] | None  # first and last chronological position


class _Growing(NamedTuple):
    """The episode still growing at a prefix: its figures so far."""

    distinct: int
    span: int  # microseconds
    size: int
    start: int  # its first and last stalking contact (indices among the stalking ones)
    last: int

    @property
    def figures(self) -> tuple[int, int, int, int]:
        return self.distinct, self.span, self.start, self.last


class _Reducer:
    """Fact contents reduced to what the pack's comparisons can tell apart.

    For a field compared only with numbers, a value becomes its place among
    those numbers (below, equal to or above each); any other field keeps its
    value.  Two contents with the same reduction meet the same comparisons, so
    they fire the same rules.
    """

    def __init__(self, pack: CompiledPack) -> None:
        constants: dict[tuple[str, str], set[int | float | str]] = {}
        for rule in pack.pack.rules:
            for test in condition_tests(rule.when):
                constants.setdefault((rule.on, test.field), set()).add(engine_value(test.value))
        self.reads = pack.ruleset.reads
        self._fields: dict[str, list[tuple[str, list[int | float] | None]]] = {}
        for kind, names in self.reads.items():
            fields: list[tuple[str, list[int | float] | None]] = []
            for name in names:
                found = constants.get((kind, name), set())
                numbers = [c for c in found if not isinstance(c, str)]
                fields.append((name, sorted(numbers) if len(numbers) == len(found) else None))
            self._fields[kind] = fields

    def key(self, kind: str, values: Mapping[str, FieldValue]) -> tuple[object, ...]:
        key: list[object] = []
        for name, numbers in self._fields.get(kind, ()):
            value = engine_value(values[name])
            if numbers is None or isinstance(value, str):
                key.append(value)
            else:
                place = bisect_left(numbers, value)
                key.append(2 * place + (place < len(numbers) and numbers[place] == value))
        return tuple(key)


class _Oracle:
    """The rules each reduced fact content fires, asking the engine once per content."""

    def __init__(self, pack: CompiledPack) -> None:
        self._pack = pack
        self.reducer = _Reducer(pack)
        self._fired: dict[tuple[str, tuple[object, ...]], frozenset[str]] = {}

    def fired(self, kind: str, facts: Sequence[Mapping[str, FieldValue]]) -> frozenset[str]:
        """Every rule that some fact in ``facts`` of ``kind`` fires."""
        if kind not in self.reducer.reads:
            return frozenset()
        keys = [self.reducer.key(kind, values) for values in facts]
        missing = {key: values for key, values in zip(keys, facts, strict=True)
                   if (kind, key) not in self._fired}  # fmt: skip
        if missing:
            self._ask(kind, missing)
        found: set[str] = set()
        for key in keys:
            found |= self._fired[(kind, key)]
        return frozenset(found)

    def _ask(
        self, kind: str, missing: Mapping[tuple[object, ...], Mapping[str, FieldValue]]
    ) -> None:
        ruleset = self._pack.ruleset
        asked = list(missing.items())

        def work() -> list[frozenset[str]]:
            with ruleset.session() as session:
                for index, (_, values) in enumerate(asked):
                    session.assert_fact(kind, index, values)
                by_index: list[set[str]] = [set() for _ in asked]
                for firing in session.firings:
                    by_index[firing.index].add(firing.rule_id)
            return [frozenset(rules) for rules in by_index]

        # Off the main thread, as every session runs (see _evaluate._run_engine).
        for (key, _), rules in zip(asked, run(work), strict=True):
            self._fired[(kind, key)] = rules


class _SparseMax:
    """Range maxima of a fixed list in O(1) per query after O(n log n) set-up."""

    def __init__(self, values: list[int]) -> None:
        self._levels = [values]
        width = 1
        while 2 * width <= len(values):
            below = self._levels[-1]
            self._levels.append(
                [max(below[i], below[i + width]) for i in range(len(values) - 2 * width + 1)]
            )
            width *= 2

    def max(self, start: int, stop: int, default: int = 0) -> int:
        if stop <= start:
            return default
        level = (stop - start).bit_length() - 1
        row = self._levels[level]
        return max(row[start], row[stop - (1 << level)])


class Stepper:
    """The findings of ``case`` at any step: its first ``p`` contacts at time ``t``."""

    def __init__(self, pack: CompiledPack, case: Case) -> None:
        self._pack = pack
        self._case = case
        self._oracle = _Oracle(pack)
        extractor = pack.extractor
        self._windows = extractor.windows
        ids, order, times, columns, stalking, masks = extractor.columns(case)
        self.chronological_ids = [ids[i] for i in order]
        # The contacts' own times (with their offsets), in the same order.
        self.chronological_times = [case.contacts[i].at for i in order]
        self.times = times
        self._column = {name: columns[_SLOT[name]] for name in _SLOTS}
        self._third_party = sorted(
            {
                p
                for name in ("family_contacts", "colleague_contacts", "other_target_contacts")
                for p in self._column[name]
            }
        )
        self._stalking = stalking
        at = self._at = [times[p] for p in stalking]
        self._dense: dict[int, _SparseMax] = {}
        for width in (_DAY_24H, 7 * _DAY_24H):
            ends = [bisect_right(at, t + width) for t in at]
            self._dense[width] = _SparseMax([end - i for i, end in enumerate(ends)])
        self._episodes(at, masks)

    def _episodes(self, at: list[int], masks: list[int]) -> None:
        """Episode boundaries, running behaviour masks and prefix summaries."""
        windows = self._windows
        cuts = [n for n in range(1, len(at)) if at[n] - at[n - 1] > windows.gap]
        # No stalking contact, no episode.
        self._starts = starts = [0, *cuts] if at else []
        self._ends = ends = [*cuts, len(at)] if at else []
        self._episode_of = episode_of = [0] * len(at)
        self._running = running = [0] * len(at)  # behaviours of the episode so far
        for index, (start, end) in enumerate(zip(starts, ends, strict=True)):
            mask = 0
            for i in range(start, end):
                mask |= masks[i]
                running[i] = mask
                episode_of[i] = index
        # Complete-episode summaries, and prefix summaries over the first j episodes.
        count = len(starts)
        self._size = [ends[j] - starts[j] for j in range(count)]
        self._distinct = [running[ends[j] - 1].bit_count() for j in range(count)]
        self._span = [at[ends[j] - 1] - at[starts[j]] for j in range(count)]
        self._last = [at[ends[j] - 1] for j in range(count)]
        self._meets = [
            self._meets_threshold(self._distinct[j], self._span[j], self._size[j])
            for j in range(count)
        ]
        self._pattern_size = [0]  # contacts in meeting episodes among the first j
        self._last_meeting = [-1]
        self._widest = [-1]
        self._longest = [-1]
        for j in range(count):
            self._pattern_size.append(
                self._pattern_size[-1] + (self._size[j] if self._meets[j] else 0)
            )
            self._last_meeting.append(j if self._meets[j] else self._last_meeting[-1])
            wide, long = self._widest[-1], self._longest[-1]
            if wide < 0 or (self._distinct[j], self._span[j]) >= (
                self._distinct[wide],
                self._span[wide],
            ):
                wide = j
            if long < 0 or self._span[j] >= self._span[long]:
                long = j
            self._widest.append(wide)
            self._longest.append(long)
        # Episodes grouped by what the engine can tell apart in the fields that do
        # not change with time (at one age, so only those fields differ).
        self._groups: dict[tuple[object, ...], list[int]] = {}
        reducer = self._oracle.reducer
        for j in range(count):
            row = self._row(self._size[j], self._distinct[j], self._span[j], 0)
            self._groups.setdefault(reducer.key("episode", row), []).append(j)

    def _meets_threshold(self, distinct: int, span: int, contacts: int) -> bool:
        windows = self._windows
        return (
            distinct >= windows.min_distinct
            and span >= windows.min_span
            and contacts >= windows.min_contacts
        )

    # --- one step ---------------------------------------------------------------------------

    def step(
        self, p: int, at: datetime, parts: tuple[ClientHistory, Boundaries, Fear] | None = None
    ) -> Step:
        """The findings for the first ``p`` contacts at ``at``, with what was known then.

        ``parts`` are the client history, boundaries and fear to use (by
        default those known at ``at``).
        """
        client, boundaries, fear = parts or known_parts(self._case, at)
        t = _microseconds(at)
        stalking_count = bisect_left(self._stalking, p)
        episodes = self._episode_rows(stalking_count, t)
        values = self._values(p, t, stalking_count, client, boundaries)
        values.update(history_values(client, fear, at))
        oracle, rule = self._oracle, self._pack.pack.rule
        fired = oracle.fired("episode", episodes) | oracle.fired("case", [values])
        present = frozenset(
            element for element in (rule(r).element for r in fired) if element is not None
        )
        grade = {**values, **{name: name in present for name in ELEMENTS}}
        fired |= oracle.fired("grade", [grade])
        return Step(fired, present, *self._threshold(stalking_count, t))

    def _growing(self, stalking_count: int) -> _Growing | None:
        """The episode still growing at the prefix, if its end lies beyond it."""
        if not stalking_count:
            return None
        j = self._episode_of[stalking_count - 1]
        if self._ends[j] == stalking_count:
            return None
        start, last = self._starts[j], stalking_count - 1
        return _Growing(
            self._running[last].bit_count(),
            self._at[last] - self._at[start],
            stalking_count - start,
            start,
            last,
        )

    def _current(self, age: int) -> bool:
        """Whether an episode whose last contact is ``age`` old is current (not history)."""
        history = self._windows.history
        return history is None or age <= history

    def _complete(self, stalking_count: int) -> int:
        """How many episodes lie wholly within the prefix."""
        if not stalking_count:
            return 0
        j = self._episode_of[stalking_count - 1]
        return j + 1 if self._ends[j] == stalking_count else j

    def _episode_rows(self, stalking_count: int, t: int) -> list[dict[str, FieldValue]]:
        """Episode facts standing for every reduced episode content present at the step."""
        if "episode" not in self._pack.ruleset.reads:
            return []
        complete = self._complete(stalking_count)
        by_age = "age_days" in self._pack.ruleset.reads["episode"]
        rows = []
        for members in self._groups.values():
            upto = bisect_left(members, complete)
            if not upto:
                continue
            # Within a group only the age differs, and the oldest episode is past
            # before any newer one is: the oldest and the newest cover "current".
            chosen = members[:upto] if by_age else {members[0], members[upto - 1]}
            for j in chosen:
                rows.append(
                    self._row(self._size[j], self._distinct[j], self._span[j], t - self._last[j])
                )
        growing = self._growing(stalking_count)
        if growing is not None:
            rows.append(
                self._row(growing.size, growing.distinct, growing.span, t - self._at[growing.last])
            )
        return rows

    def _row(self, size: int, distinct: int, span: int, age: int) -> dict[str, FieldValue]:
        row: dict[str, FieldValue] = dict(
            zip(
                EPISODE_FIELDS,
                (
                    size,
                    distinct,
                    span / MICROSECONDS_PER_DAY,
                    age / MICROSECONDS_PER_DAY,
                    self._current(age),
                ),
                strict=True,
            )
        )
        return row

    def _threshold(
        self, stalking_count: int, t: int
    ) -> tuple[bool, int, float, int, tuple[int, int] | None]:
        """The threshold figures: the latest current meeting episode, else the widest."""
        complete = self._complete(stalking_count)
        growing = self._growing(stalking_count)
        count = complete + (growing is not None)
        if (
            growing is not None
            and self._current(t - self._at[growing.last])
            and self._meets_threshold(growing.distinct, growing.span, growing.size)
        ):
            return self._figures(True, growing.figures, count)
        # The latest meeting episode is the newest: if it is past, all are.
        meeting = self._last_meeting[complete]
        if meeting >= 0 and self._current(t - self._last[meeting]):
            return self._figures(True, self._episode_figures(meeting), count)
        wide = self._widest[complete]
        if growing is not None and (
            wide < 0 or (growing.distinct, growing.span) >= (self._distinct[wide], self._span[wide])
        ):
            return self._figures(False, growing.figures, count)
        if wide >= 0:
            return self._figures(False, self._episode_figures(wide), count)
        return False, 0, 0.0, count, None

    def _episode_figures(self, j: int) -> tuple[int, int, int, int]:
        return self._distinct[j], self._span[j], self._starts[j], self._ends[j] - 1

    def _figures(
        self, met: bool, figures: tuple[int, int, int, int], count: int
    ) -> tuple[bool, int, float, int, tuple[int, int] | None]:
        distinct, span, first, last = figures
        course = (self._stalking[first], self._stalking[last])
        return met, distinct, span / MICROSECONDS_PER_DAY, count, course

    def _values(
        self, p: int, t: int, stalking_count: int, client: ClientHistory, boundaries: Boundaries
    ) -> dict[str, FieldValue]:
        """The counting fields of the case fact at the step (see Extractor._features)."""
        windows, times, column = self._windows, self.times, self._column

        def within(positions: Sequence[int], first: int = 0) -> int:
            stop = bisect_left(positions, p)
            start = bisect_left(positions, first) if first else 0
            return stop - start if stop > start else 0

        recent = bisect_left(times, t - windows.recent)
        current = 0 if windows.history is None else bisect_left(times, t - windows.history)
        fresh = 0 if windows.ongoing is None else bisect_left(times, t - windows.ongoing)
        values: dict[str, FieldValue] = {name: within(column[name]) for name in _SLOTS}
        values["contacts"] = p

        since, until = client.protection_order_since, client.protection_order_until
        breach_start, breach_stop = p, p
        if since is not None:
            breach_start = bisect_left(times, _microseconds(since))
            if until is not None:
                breach_stop = min(p, bisect_left(times, _microseconds(until)))
        values["protection_order_breach_contacts"] = max(breach_stop - breach_start, 0)
        agreement = boundaries.agreement_at
        values["contacts_after_agreement"] = (
            0 if agreement is None else p - bisect_right(times, _microseconds(agreement))
        )
        warnings = [w.at for w in boundaries.warnings]
        supervised = [w.at for w in boundaries.warnings if w.supervisor]
        values["contacts_after_warning"] = (
            p - bisect_right(times, _microseconds(min(warnings))) if warnings else 0
        )
        values["contacts_after_supervisor_warning"] = (
            p - bisect_right(times, _microseconds(min(supervised))) if supervised else 0
        )
        for name, source in (
            ("recent_physical_violence_contacts", "physical_violence_contacts"),
            ("recent_weapon_contacts", "weapon_contacts"),
            ("recent_armed_contacts", "armed"),
            ("recent_threat_contacts", "threat_contacts"),
            ("recent_specific_threat_contacts", "specific_threat"),
        ):
            values[name] = within(column[source], recent)
        recent_stalking = within(self._stalking, recent)
        values["recent_stalking_contacts"] = recent_stalking
        values["ongoing_pursuit_contacts"] = within(column["ongoing_pursuit"], fresh)
        values["ongoing_contacts"] = within(column["ongoing_stalking"], fresh)
        values["stale_ongoing_contacts"] = bisect_left(column["ongoing"], fresh)

        values["current_contacts"] = p - current
        for name, source in (
            ("current_threat_contacts", "threat_contacts"),
            ("current_pursuit_contacts", "pursuit"),
            ("current_escalation_contacts", "escalation_contacts"),
            ("current_weapon_contacts", "weapon_contacts"),
            ("current_boundary_contacts", "boundary_contacts"),
        ):
            values[name] = within(column[source], current)
        values["current_stalking_contacts"] = within(self._stalking, current)
        values["current_third_party_target_contacts"] = within(self._third_party, current)
        values["current_protection_order_breach_contacts"] = max(
            breach_stop - max(breach_start, current), 0
        )
        threatening = column["threatening"]
        high = min(breach_stop, current)
        past = bisect_left(threatening, current)
        if high > breach_start:
            past += (high - breach_start) - (
                bisect_left(threatening, high) - bisect_left(threatening, breach_start)
            )
        values["past_threat_contacts"] = past
        values["past_pattern_contacts"] = self._past_pattern(stalking_count, t)

        first_current = bisect_left(self._stalking, current)
        values["max_contacts_24h"] = self._densest(_DAY_24H, first_current, stalking_count)
        values["max_contacts_7d"] = self._densest(7 * _DAY_24H, first_current, stalking_count)

        distinct, span = self._widest_and_longest(stalking_count)
        values["max_distinct_behaviours"] = distinct
        values["max_span_days"] = span / MICROSECONDS_PER_DAY

        before = bisect_left(times, t - 2 * windows.recent)
        earlier = stalking_count - bisect_left(self._stalking, before) - recent_stalking
        before_latest = stalking_count - recent_stalking
        values["frequency_ratio"] = recent_stalking / max(earlier, 1) if before_latest else 0.0
        return values

    def _past_pattern(self, stalking_count: int, t: int) -> int:
        """Contacts in episodes that met the threshold and are no longer current."""
        history = self._windows.history
        if history is None:
            return 0
        complete = self._complete(stalking_count)
        past = bisect_left(self._last, t - history, 0, complete)
        total = self._pattern_size[past]
        growing = self._growing(stalking_count)
        if (
            growing is not None
            and not self._current(t - self._at[growing.last])
            and self._meets_threshold(growing.distinct, growing.span, growing.size)
        ):
            total += growing.size
        return total

    def _densest(self, width: int, first: int, stop: int) -> int:
        """The most current stalking contacts within ``width`` of the first of them."""
        if stop <= first:
            return 0
        spans = self._dense[width]
        growing = max(bisect_left(self._at, self._at[stop - 1] - width), first)
        return max(spans.max(first, growing), stop - growing)

    def _widest_and_longest(self, stalking_count: int) -> tuple[int, int]:
        complete = self._complete(stalking_count)
        wide, long = self._widest[complete], self._longest[complete]
        distinct = self._distinct[wide] if wide >= 0 else 0
        span = self._span[long] if long >= 0 else 0
        growing = self._growing(stalking_count)
        if growing is not None:
            if wide < 0 or (growing.distinct, growing.span) >= (distinct, self._span[wide]):
                distinct = growing.distinct
            span = max(span, growing.span)
        return distinct, span
