"""A training exercise: answer a vignette, reveal the grade, then ask what if.

The state lives here, free of widgets, so it is tested in plain Python; the
ipywidgets view (``_exercise_view``) only forwards values and clicks to it.

The case is described from its coded fields only: a contact's note, location,
witnesses, evidence and response are never shown.  The vignette's source and
teaching note wait for the reveal, since every bundled one names or paraphrases
the grade.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from ._api import assess
from ._assessment import Assessment
from ._case import Behaviour, Case, Contact, FearLevel
from ._compare import Comparison, compare
from ._fields import ELEMENTS
from ._ladder import Level
from ._packmodel import RulePack
from ._registry import default_rule_pack
from ._wording import behaviour_labels, grade_line
from .vignettes import Vignette, load

__all__ = ["Exercise", "ExerciseAnswer", "ExerciseFeedback", "WhatIf", "contact_line"]

_BOX = "font-family:system-ui,sans-serif;font-size:13px;line-height:1.4;max-width:860px"
_CELL = "border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top"
_RIGHT = "#2e7d32"
_WRONG = "#c62828"


@dataclass(frozen=True)
class ExerciseAnswer:
    """The trainee's answer: a level and the elements of stalking they see."""

    level: Level
    elements: frozenset[str]


def _rungs(count: int) -> str:
    return f"{count} rung{'s' if count != 1 else ''}"


@dataclass(frozen=True)
class ExerciseFeedback:
    """What the reveal says: the grade, its explanation and where the answer differs."""

    vignette: Vignette
    answer: ExerciseAnswer
    assessment: Assessment

    @property
    def level_difference(self) -> int:
        """Rungs from the grade to the answer: negative too low, positive too high."""
        return self.answer.level.rank - self.assessment.level.rank

    @property
    def missed(self) -> tuple[str, ...]:
        """Elements present that the answer left out."""
        return tuple(
            e
            for e in ELEMENTS
            if getattr(self.assessment.elements, e).present and e not in self.answer.elements
        )

    @property
    def wrongly_seen(self) -> tuple[str, ...]:
        """Elements the answer gave that are not present."""
        return tuple(
            e
            for e in ELEMENTS
            if e in self.answer.elements and not getattr(self.assessment.elements, e).present
        )

    @property
    def correct(self) -> bool:
        """True if the level and every element are right."""
        return not (self.level_difference or self.missed or self.wrongly_seen)

    def verdicts(self) -> tuple[str, str]:
        """The level verdict and the elements verdict, in words."""
        difference = self.level_difference
        if difference == 0:
            level = "Level: right."
        else:
            side = "low" if difference < 0 else "high"
            level = f"Level: {_rungs(abs(difference))} too {side}."
        wrong = [f"missed {e}" for e in self.missed]
        wrong += [f"saw {e}, which is not present" for e in self.wrongly_seen]
        elements = f"Elements: {'; '.join(wrong)}." if wrong else "Elements: all right."
        return level, elements

    def __str__(self) -> str:
        present = [e for e in ELEMENTS if getattr(self.assessment.elements, e).present]
        return "\n".join(
            [
                f"Your answer: {self.answer.level.value}; "
                f"elements {', '.join(sorted(self.answer.elements)) or 'none'}.",
                f"The grade: {grade_line(self.assessment)}; "
                f"elements {', '.join(present) or 'none'}.",
                *self.verdicts(),
                "",
                str(self.assessment),
                "",
                f"Teaching note: {self.vignette.teaching_note}",
                f"Source: {self.vignette.source}",
            ]
        )

    def __repr__(self) -> str:
        return (
            f"<ExerciseFeedback answered {self.answer.level.value}, "
            f"graded {self.assessment.level.value}, {'right' if self.correct else 'differs'}>"
        )

    def _repr_html_(self) -> str:
        level, elements = self.verdicts()
        rows = [
            (level, self.level_difference == 0),
            (elements, not (self.missed or self.wrongly_seen)),
        ]
        verdicts = "".join(
            f'<li style="color:{_RIGHT if right else _WRONG}">{escape(text)}</li>'
            for text, right in rows
        )
        return (
            f'<div style="{_BOX}"><b>Your answer</b>: {escape(self.answer.level.value)}. '
            f"<b>The grade</b>: {escape(grade_line(self.assessment))}."
            f"<ul>{verdicts}</ul></div>"
            f"{self.assessment._repr_html_()}"
            f'<div style="{_BOX}"><p><b>Teaching note</b>: {escape(self.vignette.teaching_note)}'
            f"</p><p><small>Source: {escape(self.vignette.source)}</small></p></div>"
        )


@dataclass(frozen=True)
class WhatIf:
    """One what-if change, re-graded: the variant and what changed."""

    change: str
    case: Case
    step: Comparison
    overall: Comparison

    @property
    def assessment(self) -> Assessment:
        """The variant's assessment."""
        return self.step.after

    def _against_vignette(self) -> str:
        o = self.overall
        return (
            f"Against the vignette as written: {o.before.level.value} → {o.after.level.value} "
            f"({o.level_change:+d} rung{'s' if abs(o.level_change) != 1 else ''})."
        )

    def __str__(self) -> str:
        return "\n".join(
            [
                f"{self.change}: now {grade_line(self.assessment)}.",
                str(self.step),
                self._against_vignette(),
            ]
        )

    def __repr__(self) -> str:
        before, after = self.step.before.level.value, self.assessment.level.value
        return f"<WhatIf {self.change}: {before} → {after}>"

    def _repr_html_(self) -> str:
        return (
            f'<div style="{_BOX}"><b>{escape(self.change)}</b>: now '
            f"<b>{escape(grade_line(self.assessment))}</b>.</div>"
            f"{self.step._repr_html_()}"
            f'<div style="{_BOX}"><small>{escape(self._against_vignette())}</small></div>'
        )


def _days_phrase(days: float) -> str:
    return f"{days:g} day{'' if days == 1 else 's'}"


def _days(delta: timedelta) -> str:
    days = delta.total_seconds() / 86_400
    return f"{days:.1f} d"


def _behaviours(contact: Contact, labels: Mapping[str, str]) -> str:
    flags = [f.replace("_", " ") for f in ("ongoing", "weapon", "specific_threat")
             if getattr(contact, f)]  # fmt: skip
    extra = f" [{', '.join(flags)}]" if flags else ""
    return ", ".join(labels[b] for b in contact.behaviours) + extra


def contact_line(contact: Contact, assessed_at: datetime, labels: Mapping[str, str]) -> str:
    """A contact in one line from its coded fields only (never its free text).

    ``labels`` name the behaviours (:func:`behaviour_labels` of the pack).
    """
    before = _days(assessed_at - contact.at)
    shown = _behaviours(contact, labels)
    return f"{contact.id}: {contact.at:%Y-%m-%d %H:%M}, {before} before, {shown}"


def _case_facts(case: Case) -> list[tuple[str, str]]:
    """The case's coded facts as labelled lines; free text is left out."""
    client = case.client
    therapy = client.relationship.value + " client"
    if client.therapy_start:
        therapy += f", therapy since {client.therapy_start.isoformat()}"
    if client.therapy_end:
        therapy += f" until {client.therapy_end.isoformat()}"
    facts = [("Assessed at", f"{case.assessed_at:%Y-%m-%d %H:%M %z}"), ("Client", therapy)]
    factors = [
        name.replace("_", " ")
        for name in ("prior_violence", "prior_stalking", "substance_misuse", "weapon_access")
        if getattr(client, name)
    ]
    if client.motive:
        factors.append(f"motive {client.motive.value.replace('_', ' ')}")
    factors += [state.value for state in client.clinical_state]
    if factors:
        facts.append(("Known about the client", ", ".join(factors)))
    if client.protection_order_since:
        until = client.protection_order_until
        facts.append(
            (
                "Protection order",
                f"since {client.protection_order_since:%Y-%m-%d}"
                + (f" until {until:%Y-%m-%d}" if until else ""),
            )
        )
    boundaries = case.boundaries
    if boundaries.agreement_at:
        facts.append(("Agreement on boundaries", f"{boundaries.agreement_at:%Y-%m-%d}"))
    for warning in boundaries.warnings:
        backed = ", backed by a supervisor" if warning.supervisor else ""
        facts.append(("Warning given", f"{warning.at:%Y-%m-%d}{backed}"))
    fear = case.fear
    facts.append(
        ("Fear reported", fear.level.value + (", family afraid" if fear.family_afraid else ""))
    )
    for report in fear.reports:
        family = ", family afraid" if report.family_afraid else ""
        facts.append(("Fear report", f"{report.at:%Y-%m-%d}: {report.level.value}{family}"))
    return facts


def _when(contact: Contact) -> tuple[datetime, str]:
    return contact.at, contact.id


def _contacts_in_order(case: Case) -> list[Contact]:
    return sorted(case.contacts, key=_when)


class Exercise:
    """One trainee's go at a vignette: an answer, the reveal, then what-if variants.

    Answer with :meth:`answer`, then :meth:`reveal` the grade.  After the
    reveal, :meth:`set_fear`, :meth:`toggle_contact`, :meth:`add_contact` and
    :meth:`move_assessed_at` each change a variant of the case, re-grade it and
    say what changed.  The variant is always rebuilt from the vignette's case,
    so every change can be undone by changing it back.
    """

    def __init__(
        self, vignette: Vignette | str | os.PathLike[str], *, rule_pack: RulePack | None = None
    ) -> None:
        if isinstance(vignette, str | os.PathLike):
            vignette = load(vignette)
        elif not isinstance(vignette, Vignette):
            raise TypeError(
                "vignette must be a Vignette, a bundled vignette's name or the path of a "
                f"vignette file, not {type(vignette).__name__}"
            )
        self.vignette = vignette
        self.rule_pack = rule_pack or default_rule_pack()
        # Each behaviour code's label in the pack, as the exercise shows it.
        self.labels = behaviour_labels(self.rule_pack)
        self._graded = assess(vignette.case, rule_pack=self.rule_pack)
        self._answer: ExerciseAnswer | None = None
        self._revealed = False
        self._fear: FearLevel | None = None
        self._removed: set[str] = set()
        self._added: list[Contact] = []
        self._shift_days = 0
        self._variant = vignette.case
        self._now = self._graded

    @property
    def ladder(self) -> tuple[tuple[Level, str], ...]:
        """Each level with its title in the rule pack, lowest first."""
        return tuple((spec.code, spec.title) for spec in self.rule_pack.levels)

    @property
    def elements(self) -> tuple[str, ...]:
        """The elements of stalking a trainee may tick."""
        return ELEMENTS

    @property
    def revealed(self) -> bool:
        """True once :meth:`reveal` has been called."""
        return self._revealed

    @property
    def case(self) -> Case:
        """The case as it stands now: the vignette's, or the what-if variant."""
        return self._variant

    @property
    def contacts(self) -> tuple[Contact, ...]:
        """The vignette's contacts and those added, included or not, oldest first."""
        return tuple(sorted((*self.vignette.case.contacts, *self._added), key=_when))

    def is_included(self, contact_id: str) -> bool:
        """True if the contact is in the variant (not removed, not after assessed_at)."""
        return any(c.id == contact_id for c in self._variant.contacts)

    def answer(self, level: Level | str, elements: Iterable[str] = ()) -> ExerciseAnswer:
        """Record the trainee's answer: a ladder level and the elements they see."""
        try:
            chosen = Level(level)
        except ValueError:
            codes = ", ".join(code.value for code, _ in self.ladder)
            raise ValueError(f"level must be one of {codes}") from None
        seen = frozenset(elements)
        unknown = sorted(seen - set(ELEMENTS))
        if unknown:
            raise ValueError(
                f"elements must be among {', '.join(ELEMENTS)}; not {', '.join(unknown)}"
            )
        self._answer = ExerciseAnswer(chosen, seen)
        return self._answer

    def reveal(self) -> ExerciseFeedback:
        """The grade of the vignette's case and where the answer differs from it."""
        if self._answer is None:
            raise RuntimeError("answer first: call answer(level, elements)")
        self._revealed = True
        return ExerciseFeedback(self.vignette, self._answer, self._graded)

    def set_fear(self, level: FearLevel | str) -> WhatIf:
        """What if the clinician reported fear at ``level``?"""
        self._fear = FearLevel(level)
        return self._regrade(f"fear set to {self._fear.value}")

    def toggle_contact(self, contact_id: str) -> WhatIf:
        """Remove a contact from the variant, or restore one removed."""
        if contact_id not in {c.id for c in self.contacts}:
            # Not echoed, as the library does with ids: a trainer may have typed anything.
            raise KeyError("no contact with that id; contacts lists them")
        if contact_id in self._removed:
            self._removed.discard(contact_id)
            return self._regrade(f"contact {contact_id} restored")
        self._removed.add(contact_id)
        return self._regrade(f"contact {contact_id} removed")

    def add_contact(self, behaviour: Behaviour | str, days_before: float) -> WhatIf:
        """What if the client had also done ``behaviour`` ``days_before`` assessed_at?

        The contact is dated from the variant's assessed_at as it is now.
        """
        code = Behaviour(behaviour)
        if not math.isfinite(days_before) or days_before < 0:
            raise ValueError(f"{days_before=} must be a number of days, 0 or more")
        taken = {c.id for c in self.contacts}
        number = len(self._added) + 1
        while f"w{number}" in taken:
            number += 1
        at = self._variant.assessed_at - timedelta(days=days_before)
        self._added.append(Contact(id=f"w{number}", at=at, behaviours=(code,)))
        return self._regrade(
            f"contact w{number} added: {self.labels[code]}, "
            f"{_days_phrase(days_before)} before assessed_at"
        )

    def move_assessed_at(self, days: int) -> WhatIf:
        """Assess the case ``days`` after (or, negative, before) the vignette's assessed_at.

        Earlier, the case is as the clinician knew it then (:meth:`Case.as_of`):
        later contacts, warnings and dated fear reports drop out.  A fear report
        without a date moves with assessed_at.
        """
        if isinstance(days, bool) or not isinstance(days, int):
            raise TypeError(f"days must be a whole number of days, not {type(days).__name__}")
        self._shift_days = days
        if days == 0:
            return self._regrade("assessed_at back to the vignette's")
        side = "later" if days > 0 else "earlier"
        return self._regrade(f"assessed_at moved {_days_phrase(abs(days))} {side}")

    def _rebuild(self) -> Case:
        case = original = self.vignette.case
        if self._shift_days:
            at = original.assessed_at + timedelta(days=self._shift_days)
            case = original.as_of(at) if self._shift_days < 0 else original.assessed_on(at)
        present = {c.id for c in case.contacts}
        removed = sorted(self._removed & present)
        if removed:
            case = case.without_contacts(*removed)
        added = [c for c in self._added if c.id not in self._removed and c.at <= case.assessed_at]
        if added:
            case = case.with_contacts(*added)
        fear = self._fear
        if fear is None and self._shift_days < 0 and not original.fear.reports:
            fear = original.fear.level
        if fear is not None:
            family = None if original.fear.reports else original.fear.family_afraid
            case = case.with_fear(fear, family_afraid=family)
        return case

    def _regrade(self, change: str) -> WhatIf:
        if not self._revealed:
            raise RuntimeError("reveal the grade first: a what-if shows grades")
        before = self._now
        self._variant = self._rebuild()
        self._now = assess(self._variant, rule_pack=self.rule_pack)
        return WhatIf(
            change, self._variant, compare(before, self._now), compare(self._graded, self._now)
        )

    def __repr__(self) -> str:
        answered = f"answered {self._answer.level.value}" if self._answer else "not answered"
        state = ", revealed" if self._revealed else ""
        return f"<Exercise {self.vignette.name}: {answered}{state}>"

    def __str__(self) -> str:
        lines = [self.vignette.title, ""]
        lines += [f"{label}: {value}" for label, value in _case_facts(self._variant)]
        lines.append("Contacts:")
        lines += [
            f"  {contact_line(c, self._variant.assessed_at, self.labels)}"
            for c in _contacts_in_order(self._variant)
        ]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """The case without its grade: title and coded facts (what a trainee answers on)."""
        facts = "".join(
            f'<tr><th style="{_CELL}">{escape(label)}</th><td style="{_CELL}">{escape(value)}</td>'
            "</tr>"
            for label, value in _case_facts(self._variant)
        )
        header = "".join(
            f'<th style="{_CELL}">{name}</th>'
            for name in ("id", "when", "before assessed_at", "behaviours", "channel", "targets")
        )
        rows = "".join(
            "<tr>"
            + "".join(
                f'<td style="{_CELL}">{escape(cell)}</td>'
                for cell in (
                    c.id,
                    f"{c.at:%Y-%m-%d %H:%M}",
                    _days(self._variant.assessed_at - c.at),
                    _behaviours(c, self.labels),
                    c.channel.value if c.channel else "—",
                    ", ".join(t.value for t in c.targets),
                )
            )
            + "</tr>"
            for c in _contacts_in_order(self._variant)
        )
        table = "border-collapse:collapse;margin:4px 0"
        contacts = (
            f'<table style="{table}"><tr>{header}</tr>{rows}</table>'
            if rows
            else "<p>No contacts recorded.</p>"
        )
        return (
            f'<div style="{_BOX}"><h4>{escape(self.vignette.title)}</h4>'
            f'<table style="{table}">{facts}</table>{contacts}</div>'
        )
