"""Training vignettes: whole cases drawn from the source articles, with teaching notes.

    >>> import stalkrisk
    >>> from stalkrisk import vignettes
    >>> vignettes.names()[:2]
    ('assault_in_the_office_yesterday', 'calls_continue_after_supervisor_warning')
    >>> v = vignettes.load("frail_client_drives_past_house")
    >>> stalkrisk.assess(v.case).level == v.expected_level
    True

Each vignette is a JSON data file shipped inside the package.  Together they
cover every grade on the ladder, the exact threshold boundary, a former client,
a frail client's regressive contact, a protection-order breach and urgent cases.
"""

from __future__ import annotations

import html
import json
from functools import cache
from importlib import resources

from pydantic import BaseModel, ConfigDict

from ._case import Case, parse_case
from ._ladder import Level
from ._suggest import did_you_mean

__all__ = ["Vignette", "load", "names"]

_FOLDER = "_vignettes"


class Vignette(BaseModel):
    """A training case with its source, teaching note and expected grade."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    title: str
    source: str
    teaching_note: str
    expected_level: Level
    expected_urgent: bool
    case: Case

    def __repr__(self) -> str:
        return f"<Vignette {self.name}: expected {self.expected_level.value}>"

    def _repr_html_(self) -> str:
        urgent = ", urgent" if self.expected_urgent else ""
        return (
            f"<div><h4>{html.escape(self.title)}</h4>"
            f"<p>{html.escape(self.teaching_note)}</p>"
            f"<p><small>Source: {html.escape(self.source)}. Expected: "
            f"<b>{self.expected_level.value}</b>{urgent}; "
            f"{len(self.case.contacts)} contacts.</small></p></div>"
        )


def _files() -> dict[str, str]:
    folder = resources.files("stalkrisk").joinpath(_FOLDER)
    return {
        entry.name.removesuffix(".json"): entry.name
        for entry in folder.iterdir()
        if entry.name.endswith(".json")
    }


@cache
def names() -> tuple[str, ...]:
    """The names of all bundled vignettes, sorted."""
    return tuple(sorted(_files()))


@cache
def load(name: str) -> Vignette:
    """The vignette called ``name`` (see :func:`names`); ``KeyError`` if there is none."""
    files = _files()
    if name not in files:
        hint = did_you_mean(name, files) or "names() lists them"
        raise KeyError(f"no vignette named {name!r}; {hint}")
    text = resources.files("stalkrisk").joinpath(_FOLDER, files[name]).read_text(encoding="utf-8")
    document = json.loads(text)
    return Vignette(
        name=name,
        title=document["title"],
        source=document["source"],
        teaching_note=document["teaching_note"],
        expected_level=Level(document["expected"]["level"]),
        expected_urgent=document["expected"]["urgent"],
        case=parse_case(document["case"]),
    )
