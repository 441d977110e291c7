"""The safety rules of the domain design (DOMAIN.md §4) hold on the bundled pack.

A pack that breaks them is refused with every floor it breaks listed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from builders import assess, at, contact, fired

import stalkrisk

RELATIONSHIPS = [r.value for r in stalkrisk.Relationship]
POLICE = stalkrisk.Level.POLICE
DEFAULT_PACK = Path(__file__).resolve().parents[1] / "rules" / "default.yaml"


def refusal(tmp_path: Path, doc: dict[str, Any]) -> stalkrisk.RulePackError:
    path = tmp_path / "pack.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(stalkrisk.RulePackError) as caught:
        stalkrisk.load_rule_pack(path)
    return caught.value


def without_police_grades(name: str) -> dict[str, Any]:
    """The bundled pack without its grade.police.* rules: several floors break."""
    doc: dict[str, Any] = yaml.safe_load(DEFAULT_PACK.read_text(encoding="utf-8"))
    doc["name"] = name
    doc["rules"] = [rule for rule in doc["rules"] if not rule["id"].startswith("grade.police.")]
    return doc


@pytest.mark.parametrize("relationship", RELATIONSHIPS)
@pytest.mark.parametrize("behaviour", ["threat", "physical_violence", "property_damage"])
def test_threat_violence_and_damage_are_never_below_police(
    behaviour: str, relationship: str
) -> None:
    result = assess(contact("a", 0, behaviour), relationship=relationship)

    assert result.level is POLICE
    assert result.elements.threat.present
    assert result.elements.threat.evidence == ("a",)


@pytest.mark.parametrize("relationship", RELATIONSHIPS)
def test_a_protection_order_breach_is_never_below_police(relationship: str) -> None:
    result = assess(
        contact("a", 10, "gift"),
        relationship=relationship,
        history={"protection_order_since": at(1).isoformat()},
    )

    assert result.level is POLICE
    assert "element.threat.protection_order_breach" in result.elements.threat.rules


def test_contact_before_a_protection_order_is_not_a_breach() -> None:
    result = assess(contact("a", 0, "gift"), history={"protection_order_since": at(1).isoformat()})

    assert not result.elements.threat.present


def test_a_threat_exactly_a_year_old_still_gives_police() -> None:
    result = assess(contact("a", 0, "threat"), assessed_at=365)

    assert result.level is POLICE
    assert result.elements.threat.present


def test_a_threat_older_than_a_year_is_a_past_threat_and_gives_consultation() -> None:
    result = assess(contact("a", 0, "threat"), assessed_at=at(365, microseconds=1))

    assert result.level is stalkrisk.Level.CONSULTATION
    assert not result.elements.threat.present
    assert "grade.consultation.past_threat" in fired(result)


def test_contact_again_after_a_past_threat_gives_referral_and_states_the_age() -> None:
    result = assess(
        contact("threat", 0, "threat"), contact("card", 7 * 365, "unwanted_correspondence")
    )

    assert result.level is stalkrisk.Level.REFERRAL
    assert "grade.referral.contact_after_past_threat" in fired(result)
    assert result.ages.last_threat is not None
    assert result.ages.last_threat > 7 * 365
    assert "latest threat, escalation, weapon or breach 7.0 years ago" in " ".join(
        str(result).split()
    )


def test_a_breach_after_the_protection_order_ended_is_not_a_breach() -> None:
    result = assess(
        contact("a", 10, "gift"),
        history={
            "protection_order_since": at(1).isoformat(),
            "protection_order_until": at(10).isoformat(),
        },
    )

    assert not result.elements.threat.present
    assert result.level is not POLICE


def test_a_long_relationship_does_not_lower_the_grade_and_is_called_out() -> None:
    contacts = (contact("a", 0, "following"), contact("b", 14, "unwanted_calls"))
    short = assess(*contacts)
    long = assess(*contacts, history={"therapy_start": "2020-01-01"})

    assert long.level.rank >= short.level.rank
    assert any("not reassuring" in note for note in long.notes)
    assert not any("not reassuring" in note for note in short.notes)


@pytest.mark.parametrize(
    "extra",
    [
        {"fear": "significant"},
        {"fear": "severe"},
        {"family_afraid": True},
    ],
)
def test_reflective_never_appears_with_fear(extra: dict[str, object]) -> None:
    result = assess(contact("a", 0, "gift"), **extra)

    assert result.elements.fear.present
    assert result.level is not stalkrisk.Level.REFLECTIVE


def test_reflective_never_appears_with_pattern() -> None:
    result = assess(contact("a", 0, "surveillance"), contact("b", 14, "surveillance", "following"))

    assert result.elements.pattern.present
    assert result.level.rank >= stalkrisk.Level.CONSULTATION.rank


def test_reflective_is_for_a_current_client_only() -> None:
    current = assess(contact("a", 0, "gift"))
    former = assess(contact("a", 0, "gift"), relationship="former")

    assert current.level is stalkrisk.Level.REFLECTIVE
    assert former.level is stalkrisk.Level.BOUNDARIES


def test_adding_a_contact_never_lowers_the_grade() -> None:
    base = [contact("a", 0, "following"), contact("b", 14, "surveillance")]
    before = assess(*base)
    after = assess(*base, contact("c", 15, "gift"))

    assert after.level.rank >= before.level.rank


def test_raising_fear_never_lowers_the_grade() -> None:
    grades = [
        assess(contact("a", 0, "gift"), fear=f).level.rank
        for f in ("none", "some", "significant", "severe")
    ]

    assert grades == sorted(grades)


@pytest.mark.parametrize(
    "factor", ["prior_violence", "prior_stalking", "substance_misuse", "weapon_access"]
)
def test_setting_a_risk_factor_never_lowers_the_grade(factor: str) -> None:
    contacts = (contact("a", 0, "gift"), contact("b", 2, "unwanted_calls"))

    before = assess(*contacts)
    after = assess(*contacts, history={factor: True})

    assert after.level.rank >= before.level.rank


def test_no_contacts_and_no_fear_gives_none() -> None:
    result = assess(assessed_at=0)

    assert result.level is stalkrisk.Level.NONE
    assert result.rules_fired == ()
    assert [action.id for action in result.actions] == ["keep_notes"]


# --- packs that break a floor ------------------------------------------------------------


def test_every_floor_a_pack_breaks_is_reported(tmp_path: Path) -> None:
    error = refusal(tmp_path, without_police_grades("no-police"))

    assert [(p.type, p.field) for p in error.problems] == [("safety_floor", "rules")] * 3
    assert [p.msg.split(" is graded ")[0] for p in error.problems] == [
        "breaks a safety floor: a single 'threat' contact",
        "breaks a safety floor: a single 'property_damage' contact",
        "breaks a safety floor: a gift while a protection order is in force",
    ]


def test_a_pattern_probe_that_cannot_be_built_is_reported_with_the_broken_floors(
    tmp_path: Path,
) -> None:
    doc = without_police_grades("no-police-no-gap")
    doc["parameters"]["episode_max_gap_days"]["value"] = 0

    error = refusal(tmp_path, doc)

    assert [p.type for p in error.problems] == ["safety_floor"] * 4
    assert error.problems[-1].field == "parameters.episode_max_gap_days"
    assert "the pattern safety probe cannot be built" in error.problems[-1].msg


def test_an_engine_failure_in_a_probe_is_reported_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: Any) -> Any:
        raise stalkrisk.EngineError("the engine failed (error)", rule_pack="probe")

    monkeypatch.setattr("stalkrisk._registry.evaluate", fail)

    error = refusal(tmp_path, without_police_grades("engine-fails"))

    assert [p.type for p in error.problems] == ["engine"]
    assert "a single 'threat' contact" in error.msg
