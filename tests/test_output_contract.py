"""The JSON output contract integrators rely on (docs/output.md)."""

from __future__ import annotations

import json

from builders import assess, contact

import stalkrisk

CONTRACT_KEYS = {
    "level", "urgent", "elements", "threshold", "rules_fired", "actions", "raise_if", "rule_pack",
}  # fmt: skip


def _dump() -> dict[str, object]:
    return stalkrisk.assess(stalkrisk.example_case()).model_dump(mode="json")


def test_top_level_keys_include_the_contract() -> None:
    assert set(_dump()) >= CONTRACT_KEYS


def test_level_is_a_ladder_code_and_urgent_a_bool() -> None:
    data = _dump()

    assert data["level"] in [level.value for level in stalkrisk.Level]
    assert isinstance(data["urgent"], bool)


def test_each_element_has_present_and_evidence() -> None:
    elements = _dump()["elements"]

    assert isinstance(elements, dict)
    for name in ("pattern", "threat", "fear"):
        assert isinstance(elements[name]["present"], bool)
        assert all(isinstance(cid, str) for cid in elements[name]["evidence"])


def test_threshold_has_met_distinct_behaviours_and_span_days() -> None:
    threshold = _dump()["threshold"]

    assert isinstance(threshold, dict)
    assert isinstance(threshold["met"], bool)
    assert isinstance(threshold["distinct_behaviours"], int)
    assert isinstance(threshold["span_days"], float)


def test_rules_fired_each_have_an_id_and_rationale() -> None:
    rules = _dump()["rules_fired"]

    assert isinstance(rules, list)
    assert rules
    assert all(rule["id"] and rule["rationale"] and rule["source"] for rule in rules)


def test_rule_pack_names_name_version_and_sha256() -> None:
    pack = _dump()["rule_pack"]
    default = stalkrisk.default_rule_pack()

    assert pack == {"name": default.name, "version": default.version, "sha256": default.sha256}
    assert len(default.sha256) == 64


def test_assess_json_matches_model_dump() -> None:
    text = stalkrisk.example_case().model_dump_json()

    assert json.loads(stalkrisk.assess_json(text)) == _dump()


def test_assessment_round_trips_through_json() -> None:
    result = stalkrisk.assess(stalkrisk.example_case())

    assert stalkrisk.Assessment.model_validate_json(result.model_dump_json()) == result


def test_same_case_gives_byte_identical_json() -> None:
    case = stalkrisk.example_case()

    assert stalkrisk.assess(case).model_dump_json() == stalkrisk.assess(case).model_dump_json()


def test_evidence_ids_are_contact_ids_of_the_case() -> None:
    case = stalkrisk.example_case()
    result = stalkrisk.assess(case)
    ids = {c.id for c in case.contacts}

    cited = {cid for rule in result.rules_fired for cid in rule.evidence}
    cited |= set(result.threshold.course_of_conduct)
    for name in ("pattern", "threat", "fear"):
        cited |= set(getattr(result.elements, name).evidence)
    assert cited <= ids


def test_raise_if_names_the_nearest_higher_level() -> None:
    result = assess(contact("a", 0, "gift"))

    assert result.level is stalkrisk.Level.REFLECTIVE
    assert {item.level for item in result.raise_if} == {stalkrisk.Level.BOUNDARIES}
    assert "grade.boundaries.repeated_contact" in {item.rule_id for item in result.raise_if}


def test_raise_if_at_police_lists_the_urgent_rules() -> None:
    result = assess(contact("a", 0, "threat"))

    assert result.raise_if
    assert all(item.urgent for item in result.raise_if)


def test_actions_for_a_former_client_do_not_end_therapy() -> None:
    former = assess(
        contact("a", 0, "following"),
        contact("b", 14, "surveillance"),
        relationship="former",
        fear="severe",
    )
    current = assess(
        contact("a", 0, "following"),
        contact("b", 14, "surveillance"),
        relationship="current",
        fear="severe",
    )

    assert "end_and_refer" not in {a.id for a in former.actions}
    assert "no_new_therapy" in {a.id for a in former.actions}
    assert "end_and_refer" in {a.id for a in current.actions}


def test_urgent_assessment_leads_with_emergency_actions_in_the_report() -> None:
    result = assess(contact("a", 0, "following", ongoing=True))

    assert result.urgent
    assert "call_emergency" in {a.id for a in result.actions}
    assert str(result).startswith("!! URGENT")


def test_repr_stays_short() -> None:
    assert len(repr(stalkrisk.assess(stalkrisk.example_case()))) < 80


def test_raise_if_gives_the_condition_in_words_and_the_engine_expression() -> None:
    [repeated] = [
        item
        for item in assess(contact("a", 0, "gift")).model_dump(mode="json")["raise_if"]
        if item["rule_id"] == "grade.boundaries.repeated_contact"
    ]

    assert repeated["condition"] == "at least 3 stalking contacts"
    assert repeated["expression"] == "stalking_contacts ≥ repeated_contacts_min = 3"
