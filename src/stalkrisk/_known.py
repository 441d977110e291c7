"""What was known when: a case cut back to what the clinician knew at an earlier time."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from ._exceptions import CaseValidationError, Problem

if TYPE_CHECKING:
    from ._case import Boundaries, Case, ClientHistory, Fear

__all__ = ["as_of", "known_parts"]


def as_of(case: Case, at: datetime) -> Case:
    """``case`` as it stood at ``at``, assessed at ``at``.

    Kept: the contacts, warnings, fear reports, agreement and protection order
    dated at or before ``at``, and the risk factors known by then (a factor
    without a ``known_since`` date counts as known all along).  An undated fear
    report belongs to ``assessed_at`` only.  Therapy dates after ``at``'s day
    are left out, and with them the relationship goes back to what it was then:
    a former client whose therapy ended later was a current client, and a client
    whose therapy started later was a prospective one.
    """
    from ._case import Case

    if at.tzinfo is None or at.utcoffset() is None:
        raise CaseValidationError(
            [Problem(loc="at", type="timezone_aware", msg="needs a timezone, as the case's times")]
        )  # fmt: skip
    if at > case.assessed_at:
        raise CaseValidationError(
            [Problem(loc="at", type="after_assessed_at",
                     msg="is after the case's assessed_at; a case knows nothing later")]
        )  # fmt: skip
    client, boundaries, fear = known_parts(case, at)
    return Case.model_validate(
        {
            "assessed_at": at,
            "client": client,
            "boundaries": boundaries,
            "contacts": tuple(c for c in case.contacts if c.at <= at),
            "fear": fear,
            "ref": case.ref,
        }
    )


def known_parts(case: Case, at: datetime) -> tuple[ClientHistory, Boundaries, Fear]:
    """The client history, boundaries and fear of ``case`` as known at ``at`` (see as_of)."""
    from ._case import Boundaries, ClientHistory, Fear, Relationship

    boundaries = case.boundaries
    agreement = boundaries.agreement_at
    client = case.client
    changes: dict[str, Any] = {}
    day = at.date()
    relationship = client.relationship
    if client.therapy_start is not None and client.therapy_start > day:
        changes.update(therapy_start=None, therapy_end=None)
        if relationship in (Relationship.CURRENT, Relationship.FORMER):
            changes["relationship"] = Relationship.PROSPECTIVE
    elif client.therapy_end is not None and client.therapy_end > day:
        changes["therapy_end"] = None
        if relationship is Relationship.FORMER:
            changes["relationship"] = Relationship.CURRENT
    since = client.protection_order_since
    if since is not None and since > at:
        changes.update(protection_order_since=None, protection_order_until=None)
    unknown = {
        name
        for name, known in client.known_since.model_dump().items()
        if known is not None and known > at
    }
    for name in unknown:
        changes[name] = ClientHistory.model_fields[name].default
    if unknown:
        changes["known_since"] = client.known_since.model_copy(update=dict.fromkeys(unknown))
    fear = case.fear
    if fear.reports:
        reports = tuple(r for r in fear.reports if r.at <= at)
        if len(reports) < len(fear.reports):
            fear = Fear(reports=reports) if reports else Fear()
    elif at != case.assessed_at:
        fear = Fear()
    warnings = tuple(w for w in boundaries.warnings if w.at <= at)
    if len(warnings) < len(boundaries.warnings) or (agreement is not None and agreement > at):
        boundaries = Boundaries(
            agreement_at=agreement if agreement is not None and agreement <= at else None,
            warnings=warnings,
        )
    return (client.model_copy(update=changes) if changes else client), boundaries, fear
