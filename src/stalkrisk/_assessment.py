"""The output model: a graded, explained assessment (the JSON output contract)."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from ._ladder import Level
from ._published import PublishedSchema

__all__ = [
    "Action",
    "Ages",
    "Assessment",
    "CaseRef",
    "ElementFinding",
    "Elements",
    "FiredRule",
    "RaiseIf",
    "RulePackInfo",
    "Threshold",
]


CaseRef = Annotated[
    str | None,
    Field(description="The case's own reference (``Case.ref``), if it gave one."),
]
"""The ``ref`` an output carries back from its case."""


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ElementFinding(_Out):
    """Whether one element of stalking is present, and what shows it."""

    present: bool
    evidence: tuple[str, ...] = Field(description="Contact ids, oldest first.")
    rules: tuple[str, ...] = Field(description="Ids of the rules that found the element.")


class Elements(_Out):
    """The three elements of stalking."""

    pattern: ElementFinding
    threat: ElementFinding
    fear: ElementFinding


class Threshold(_Out):
    """The course-of-conduct threshold and the episode it was measured on."""

    met: bool
    distinct_behaviours: int = Field(description="Distinct stalking behaviours in the episode.")
    span_days: float = Field(description="First to last contact of the episode, in days.")
    behaviours: tuple[str, ...] = Field(description="The distinct behaviour codes.")
    course_of_conduct: tuple[str, ...] = Field(description="Contact ids of the episode.")
    min_distinct_behaviours: int = Field(description="The pack's threshold.")
    min_span_days: float = Field(description="The pack's threshold.")
    min_contacts: int | None = Field(
        default=None,
        description="The pack's least number of contacts in the episode, if it sets one "
        "(parameter pattern_min_contacts).",
    )
    episodes: int = Field(description="How many separate episodes of stalking contacts.")


class FiredRule(_Out):
    """A rule that fired, with its reason and the contacts behind it."""

    id: str
    title: str
    effect: Literal["element", "level", "note"]
    element: str | None = None
    level: Level | None = None
    urgent: bool = False
    rationale: str
    source: str
    evidence: tuple[str, ...]
    sets_grade: bool = Field(
        default=False,
        description="True for a level rule whose level is the grade (urgent or not); a level "
        "rule that fired with False was outranked by a higher one.",
    )


class Action(_Out):
    """One concrete thing to do, with where the advice comes from."""

    id: str
    text: str
    source: str = ""


class Ages(_Out):
    """How long before ``assessed_at`` things happened, in days (None: not recorded).

    A negative ``protection_order_ends`` means the order is still to end.
    """

    last_contact: float | None = None
    last_threat: float | None = Field(
        default=None,
        description="The latest contact with a threat, property damage, violence, a weapon "
        "or a protection-order breach.",
    )
    first_warning: float | None = None
    last_warning: float | None = None
    agreement: float | None = None
    protection_order_since: float | None = None
    protection_order_ends: float | None = None


class RaiseIf(_Out):
    """A rule that did not fire and would raise the grade if its condition held."""

    level: Level
    urgent: bool
    rule_id: str
    title: str
    condition: str = Field(
        description="The rule's condition in plain words, from the pack's behaviour labels "
        "and parameter values, such as 'at least 3 stalking contacts'."
    )
    expression: str = Field(
        description="The same condition as the engine tests it, for auditors: fact fields, "
        "operators and parameters, such as 'stalking_contacts ≥ repeated_contacts_min = 3'."
    )


class RulePackInfo(_Out):
    """Which rule pack decided, for audit."""

    name: str
    version: str
    sha256: str


class Assessment(PublishedSchema, _Out):
    """A graded, explained recommendation.

    ``str(assessment)`` is a short plain-language report; ``model_dump(mode="json")``
    is the JSON output contract of docs/output.md.
    """

    schema_name: ClassVar[str] = "assessment"

    level: Level
    level_title: str
    urgent: bool
    picture: Literal["clinical", "criminal"]
    elements: Elements
    threshold: Threshold
    rules_fired: tuple[FiredRule, ...]
    actions: tuple[Action, ...]
    raise_if: tuple[RaiseIf, ...]
    notes: tuple[str, ...]
    ages: Ages = Ages()
    assessed_at: AwareDatetime
    rule_pack: RulePackInfo
    library_version: str
    ref: CaseRef = None

    def __str__(self) -> str:
        from ._report import render_text

        return render_text(self)

    def _repr_html_(self) -> str:
        from ._html import assessment_html

        return assessment_html(self)

    def __repr__(self) -> str:
        urgent = ", urgent" if self.urgent else ""
        return f"<Assessment {self.level.value}{urgent}: {len(self.rules_fired)} rules fired>"
