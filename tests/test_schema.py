"""The committed JSON Schemas (docs/schema/) match the models, and real documents fit them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from builders import BUNDLED_VIGNETTES, case, contact

import stalkrisk
from stalkrisk import _cli

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "docs" / "schema"
VIGNETTES = BUNDLED_VIGNETTES
TARGETS = [
    ("--case", stalkrisk.Case, "case.schema.json"),
    ("--assessment", stalkrisk.Assessment, "assessment.schema.json"),
    ("--trajectory", stalkrisk.Trajectory, "trajectory.schema.json"),
]


def schema_output(capsys: pytest.CaptureFixture[str], *flags: str) -> str:
    """What ``stalkrisk schema FLAGS`` prints."""
    code = _cli.main(["schema", *flags])
    out, err = capsys.readouterr()
    assert code == 0
    assert err == ""
    return out


def load(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return schema


@pytest.mark.parametrize(
    ("flag", "model", "name"), TARGETS, ids=["case", "assessment", "trajectory"]
)
def test_committed_schema_matches_the_model(
    capsys: pytest.CaptureFixture[str], flag: str, model: Any, name: str
) -> None:
    committed = (SCHEMAS / name).read_text(encoding="utf-8")

    printed = schema_output(capsys, flag)

    assert committed == printed, (
        f"docs/schema/{name} is stale; regenerate it from the repository root with "
        f"`python -m stalkrisk schema {flag} > docs/schema/{name}`"
    )
    assert json.loads(printed) == model.model_json_schema()


def test_schema_output_is_sorted_indented_and_ends_with_a_newline(
    capsys: pytest.CaptureFixture[str],
) -> None:
    printed = schema_output(capsys, "--assessment")

    expected = json.dumps(stalkrisk.Assessment.model_json_schema(), indent=2, sort_keys=True)
    assert printed == expected + "\n"


def test_plain_schema_prints_the_case_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert schema_output(capsys) == schema_output(capsys, "--case")


def test_case_and_assessment_together_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as info:
        _cli.main(["schema", "--case", "--assessment"])

    assert info.value.code == 2
    assert "not allowed with" in capsys.readouterr().err


# --- real documents fit the schemas (with jsonschema, when it is installed) ------------------


@pytest.fixture(scope="module")
def validators() -> dict[str, Any]:
    jsonschema = pytest.importorskip("jsonschema")
    found = {}
    for name in ("case.schema.json", "assessment.schema.json"):
        schema = load(name)
        jsonschema.Draft202012Validator.check_schema(schema)
        found[name] = jsonschema.Draft202012Validator(schema)
    return found


def errors(validator: Any, document: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


def test_the_bundled_example_case_fits_the_case_schema(validators: dict[str, Any]) -> None:
    document = json.loads(stalkrisk.example_case().model_dump_json())
    bundled = json.loads(
        (ROOT / "src" / "stalkrisk" / "examples" / "former_client.json").read_text("utf-8")
    )

    assert errors(validators["case.schema.json"], bundled) == []
    assert errors(validators["case.schema.json"], document) == []


@pytest.mark.parametrize("path", VIGNETTES, ids=lambda p: p.stem)
def test_vignettes_and_their_assessments_fit_the_schemas(
    validators: dict[str, Any], path: Path
) -> None:
    text = path.read_text(encoding="utf-8")
    assessment = stalkrisk.assess(text).model_dump(mode="json")

    assert errors(validators["case.schema.json"], json.loads(text)) == []
    assert errors(validators["assessment.schema.json"], assessment) == []


def test_the_example_assessment_fits_the_assessment_schema(validators: dict[str, Any]) -> None:
    result = stalkrisk.assess(stalkrisk.example_case())

    assert errors(validators["assessment.schema.json"], result.model_dump(mode="json")) == []
    assert errors(validators["assessment.schema.json"], json.loads(result.model_dump_json())) == []


def test_the_schemas_refuse_what_the_models_refuse(validators: dict[str, Any]) -> None:
    bad_case = case(contact("c1", 0, "gift"))
    bad_case["client"]["relationship"] = "friend"
    del bad_case["assessed_at"]
    bad_assessment = stalkrisk.assess(stalkrisk.example_case()).model_dump(mode="json")
    bad_assessment["level"] = "severe"
    bad_assessment["unexpected"] = True

    assert len(errors(validators["case.schema.json"], bad_case)) == 2
    assert len(errors(validators["assessment.schema.json"], bad_assessment)) == 2
