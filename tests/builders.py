"""Small builders so that tests state only what matters to them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

import stalkrisk
from stalkrisk import vignettes

DEFAULT_PACK_FILE = Path(__file__).resolve().parents[1] / "rules" / "default.yaml"
T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
"""The time of day 0 in every built case."""


def at(days: float = 0, **delta: float) -> datetime:
    """T0 plus ``days`` (and any other timedelta keywords)."""
    return T0 + timedelta(days=days, **delta)


def contact(cid: str, when: datetime | float, *behaviours: str, **fields: Any) -> dict[str, Any]:
    """A contact mapping; ``when`` is a datetime or a number of days after T0."""
    moment = when if isinstance(when, datetime) else at(when)
    return {"id": cid, "at": moment.isoformat(), "behaviours": list(behaviours), **fields}


def case(
    *contacts: dict[str, Any],
    relationship: str = "current",
    assessed_at: datetime | float | None = None,
    fear: str = "none",
    family_afraid: bool = False,
    history: dict[str, Any] | None = None,
    boundaries: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A case mapping; assessed one day after the last contact unless given."""
    if assessed_at is None:
        last = max((datetime.fromisoformat(c["at"]) for c in contacts), default=T0)
        moment = last + timedelta(days=1)
    elif isinstance(assessed_at, datetime):
        moment = assessed_at
    else:
        moment = at(assessed_at)
    data: dict[str, Any] = {
        "assessed_at": moment.isoformat(),
        "client": {"relationship": relationship, **(history or {})},
        "contacts": list(contacts),
        "fear": {"level": fear, "family_afraid": family_afraid},
    }
    if boundaries is not None:
        data["boundaries"] = boundaries
    return data


def assess(*contacts: dict[str, Any], **kwargs: Any) -> stalkrisk.Assessment:
    """Build a case with :func:`case` and assess it with the bundled pack."""
    return stalkrisk.assess(case(*contacts, **kwargs))


def fired(assessment: stalkrisk.Assessment) -> list[str]:
    """The ids of the rules that fired, in order."""
    return [rule.id for rule in assessment.rules_fired]


def pack_without_episode_ages(folder: Path, **parameters: float) -> stalkrisk.RulePack:
    """The default pack with no episode rule testing the episode's age, and ``parameters`` set.

    Facts carry only the fields some rule tests, so under this pack episodes with the
    same contacts, behaviours and span make facts that are equal but for ``index``,
    and episodes of any age fire the pattern.
    """
    doc = yaml.safe_load(DEFAULT_PACK_FILE.read_text(encoding="utf-8"))
    doc["name"] = "no-episode-ages"
    for rule in doc["rules"]:
        if rule["fact"] == "episode":
            rule["when"]["all"] = [
                c for c in rule["when"]["all"] if c["field"] not in ("age_days", "current")
            ]
    for name, value in parameters.items():
        doc["parameters"][name]["value"] = value
    path = folder / "no-episode-ages.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return stalkrisk.load_rule_pack(path)


@dataclass(frozen=True)
class BundledVignette:
    """A bundled vignette's case where a test wants a file-like source (``stem``, ``read_text``)."""

    stem: str

    def read_text(self, encoding: str = "utf-8") -> str:
        return vignettes.load(self.stem).case.model_dump_json()


BUNDLED_VIGNETTES = [BundledVignette(name) for name in vignettes.names()]
