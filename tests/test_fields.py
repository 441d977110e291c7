"""The fact-field catalogue (``_fields.py``) and the feature extraction agree exactly."""

from __future__ import annotations

import pytest
from hypothesis import given

import stalkrisk
from stalkrisk import Case, _registry, vignettes
from stalkrisk._fields import ELEMENTS, evidence_fields, fields_for
from stalkrisk.strategies import cases

EXTRACTOR = _registry.compiled(stalkrisk.default_rule_pack()).extractor


def check_catalogue(case: Case) -> None:
    features = EXTRACTOR.extract(case)

    assert set(features.values) == set(fields_for("case"))
    assert set(features.evidence) == set(evidence_fields("case"))
    for episode in features.episodes:
        assert set(episode.values()) == set(fields_for("episode"))


@pytest.mark.parametrize("name", vignettes.names())
def test_the_extractor_produces_exactly_the_catalogued_fields_for_each_vignette(name: str) -> None:
    check_catalogue(vignettes.load(name).case)


@given(cases())
def test_the_extractor_produces_exactly_the_catalogued_fields_for_generated_cases(
    case: Case,
) -> None:
    check_catalogue(case)


def test_the_grade_fact_is_the_case_fact_plus_the_three_elements() -> None:
    assert list(fields_for("grade")) == [*fields_for("case"), *ELEMENTS]


def test_every_counting_field_of_an_episode_cites_its_episode() -> None:
    assert set(evidence_fields("episode")) <= set(fields_for("episode"))
