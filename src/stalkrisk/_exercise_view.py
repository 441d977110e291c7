"""The notebook face of an exercise: ipywidgets over :class:`Exercise`.

A thin view: every control forwards its value to the :class:`Exercise` and
shows what comes back; the behaviour lives (and is tested) in ``_exercise``.
ipywidgets is imported on first use and comes with the ``notebook`` extra.
"""

from __future__ import annotations

import math
import os
from functools import partial
from typing import Any

from ._case import Behaviour, Contact, FearLevel
from ._exercise import Exercise, WhatIf, contact_line
from ._packmodel import RulePack
from .vignettes import Vignette

__all__ = ["ExerciseView", "exercise"]

_INSTALL_HINT = (
    "stalkrisk.exercise needs ipywidgets; install it with pip install 'stalkrisk[notebook]'"
)
# How far the assessed_at slider reaches past the vignette's: beyond a year, so
# the rules that look back one year can be seen to lapse.
_LATEST_DAYS = 400
_FALLBACK_NOTE = (
    "<p><small>The interactive exercise (choose a level, reveal, what-if) needs a "
    "running kernel with ipywidgets.</small></p>"
)


def _ipywidgets() -> Any:
    try:
        import ipywidgets  # type: ignore[import-untyped]  # ships no type information
    except ImportError as error:
        raise ImportError(_INSTALL_HINT) from error
    return ipywidgets


class ExerciseView:
    """An :class:`Exercise` as notebook widgets; :attr:`widget` is the whole panel.

    Every control is an attribute, so a script can set a ``value`` or
    ``click()`` a button just as a trainee would.  The what-if controls appear
    after the reveal.
    """

    def __init__(self, exercise: Exercise) -> None:
        w = self._widgets = _ipywidgets()
        self.exercise = exercise
        case = exercise.vignette.case
        self.case = w.HTML(exercise._repr_html_())
        self.level = w.RadioButtons(
            options=[(f"{code.value} — {title}", code) for code, title in exercise.ladder],
            value=None,
            description="Level",
            layout=w.Layout(width="auto"),
        )
        self.elements = {
            name: w.Checkbox(value=False, description=name, indent=False)
            for name in exercise.elements
        }
        self.reveal_button = w.Button(description="Reveal", button_style="primary")
        self.feedback = w.HTML()
        self.fear = w.Dropdown(
            options=[level.value for level in FearLevel],
            value=case.fear.level.value,
            description="Fear",
        )
        self.contacts: dict[str, Any] = {}
        self.contact_list = w.VBox()
        for contact in case.contacts:
            self._add_contact_box(contact)
        self.new_behaviour = w.Dropdown(
            options=[(self.exercise.labels[b], b.value) for b in Behaviour],
            description="Behaviour",
        )
        self.new_days = w.BoundedFloatText(
            value=1.0, min=0.0, max=3650.0, step=1.0, description="Days before"
        )
        self.add_button = w.Button(description="Add contact")
        earliest = min((c.at for c in case.contacts), default=case.assessed_at)
        self.assessed_at = w.IntSlider(
            value=0,
            min=-max(1, math.ceil((case.assessed_at - earliest).total_seconds() / 86_400)),
            max=_LATEST_DAYS,
            description="Move (days)",
            continuous_update=False,
        )
        self.what_if = w.HTML()
        self.what_if_panel = w.VBox(
            [
                w.HTML("<b>What if?</b> Each change is graded at once."),
                self.fear,
                w.HTML("Contacts (untick to remove):"),
                self.contact_list,
                w.HBox([self.new_behaviour, self.new_days, self.add_button]),
                self.assessed_at,
                self.what_if,
            ],
            layout=w.Layout(display="none"),
        )
        self.widget = w.VBox(
            [
                self.case,
                self.level,
                w.HBox([w.Label("Elements you see:"), *self.elements.values()]),
                self.reveal_button,
                self.feedback,
                self.what_if_panel,
            ]
        )
        self.reveal_button.on_click(self._on_reveal)
        self.fear.observe(self._on_fear, names="value")
        self.add_button.on_click(self._on_add)
        self.assessed_at.observe(self._on_move, names="value")

    def _add_contact_box(self, contact: Contact) -> None:
        box = self._widgets.Checkbox(
            value=True,
            description=contact_line(
                contact, self.exercise.vignette.case.assessed_at, self.exercise.labels
            ),
            indent=False,
            layout={"width": "auto"},
        )
        box.observe(partial(self._on_contact, contact.id), names="value")
        self.contacts[contact.id] = box
        self.contact_list.children = (*self.contact_list.children, box)

    def _on_reveal(self, _button: Any) -> None:
        if self.level.value is None:
            self.feedback.value = "<p>Choose a level first.</p>"
            return
        seen = [name for name, box in self.elements.items() if box.value]
        self.exercise.answer(self.level.value, seen)
        self.feedback.value = self.exercise.reveal()._repr_html_()
        self.what_if_panel.layout.display = ""

    def _on_fear(self, change: dict[str, Any]) -> None:
        self._show(self.exercise.set_fear(change["new"]))

    def _on_contact(self, contact_id: str, _change: dict[str, Any]) -> None:
        self._show(self.exercise.toggle_contact(contact_id))

    def _on_add(self, _button: Any) -> None:
        what = self.exercise.add_contact(self.new_behaviour.value, self.new_days.value)
        for contact in self.exercise.contacts:
            if contact.id not in self.contacts:
                self._add_contact_box(contact)
        self._show(what)

    def _on_move(self, change: dict[str, Any]) -> None:
        self._show(self.exercise.move_assessed_at(change["new"]))

    def _show(self, what: WhatIf) -> None:
        self.what_if.value = what._repr_html_()
        self.case.value = self.exercise._repr_html_()
        # A ticked contact may still be out of the variant: dated after assessed_at.
        for contact_id, box in self.contacts.items():
            label = box.description.removesuffix(" (after assessed_at)")
            late = box.value and not self.exercise.is_included(contact_id)
            box.description = label + (" (after assessed_at)" if late else "")

    def __repr__(self) -> str:
        return f"<ExerciseView {self.exercise!r}>"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        # The live widget where a frontend can draw it; elsewhere (a static render
        # of the notebook, a headless run) the case without its grade.
        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        bundle["text/plain"] = str(self.exercise)
        bundle["text/html"] = self.exercise._repr_html_() + _FALLBACK_NOTE
        return bundle


def exercise(
    vignette: Vignette | str | os.PathLike[str], *, rule_pack: RulePack | None = None
) -> ExerciseView:
    """An interactive exercise on a training vignette, for a notebook.

    Shows the case without its grade; the trainee picks a level on the ladder
    and the elements of stalking they see, then *Reveal* shows the grade, its
    explanation and where the answer differs.  What-if controls follow: the
    fear reported, contacts removed or added, assessed_at moved; each change is
    graded at once.  ``vignette`` is a :class:`stalkrisk.vignettes.Vignette`,
    a bundled vignette's name or the path of a vignette file of your own.
    Needs ipywidgets: ``pip install 'stalkrisk[notebook]'`` (raises
    ``ImportError`` saying so without it).  :class:`Exercise` is the
    same exercise without widgets.
    """
    return ExerciseView(Exercise(vignette, rule_pack=rule_pack))
