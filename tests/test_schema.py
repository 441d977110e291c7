"""The committed JSON Schemas (docs/schema/) match the models, and real documents fit them."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from builders import BUNDLED_VIGNETTES, case, contact
from jsonschema import Draft202012Validator
from test_docs import fenced_blocks

import stalkrisk
from stalkrisk import _cli, vignettes
from stalkrisk._packschema import rulepack_schema

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "docs" / "schema"
VIGNETTES = BUNDLED_VIGNETTES
TARGETS: list[tuple[str, Callable[[], dict[str, Any]], str]] = [
    ("--case", stalkrisk.Case.model_json_schema, "case.schema.json"),
    ("--assessment", stalkrisk.Assessment.model_json_schema, "assessment.schema.json"),
    ("--trajectory", stalkrisk.Trajectory.model_json_schema, "trajectory.schema.json"),
    ("--rulepack", rulepack_schema, "rulepack.schema.json"),
    ("--vignette", vignettes.schema, "vignette.schema.json"),
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
    ("flag", "schema", "name"),
    TARGETS,
    ids=["case", "assessment", "trajectory", "rulepack", "vignette"],
)
def test_committed_schema_matches_the_model(
    capsys: pytest.CaptureFixture[str],
    flag: str,
    schema: Callable[[], dict[str, Any]],
    name: str,
) -> None:
    committed = (SCHEMAS / name).read_text(encoding="utf-8")

    printed = schema_output(capsys, flag)

    assert committed == printed, (
        f"docs/schema/{name} is stale; regenerate it from the repository root with "
        f"`python -m stalkrisk schema {flag} > docs/schema/{name}`"
    )
    assert json.loads(printed) == schema()


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


# --- real documents fit the schemas, with formats checked ---------------------------------

PUBLISHED = ("case", "assessment", "trajectory", "rulepack", "vignette")


@pytest.fixture(scope="module")
def validators() -> dict[str, Draft202012Validator]:
    found = {}
    for name in PUBLISHED:
        schema = load(f"{name}.schema.json")
        Draft202012Validator.check_schema(schema)
        found[f"{name}.schema.json"] = Draft202012Validator(
            schema, format_checker=Draft202012Validator.FORMAT_CHECKER
        )
    return found


def errors(validator: Draft202012Validator, document: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


@pytest.mark.parametrize("name", PUBLISHED)
def test_every_published_schema_names_its_dialect_and_a_stable_id(name: str) -> None:
    schema = load(f"{name}.schema.json")

    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://stalkrisk.example/schema/{name}.schema.json"


def test_only_the_top_of_a_schema_has_an_id() -> None:
    # An $id inside $defs would change the base its $refs resolve against.
    for name in PUBLISHED:
        assert "$id" not in json.dumps(load(f"{name}.schema.json").get("$defs", {}))


def test_the_format_checker_checks_date_times() -> None:
    # Without its optional dependencies jsonschema checks no date-time at all.
    assert "date-time" in Draft202012Validator.FORMAT_CHECKER.checkers


def test_the_bundled_example_case_fits_the_case_schema(
    validators: dict[str, Draft202012Validator],
) -> None:
    document = json.loads(stalkrisk.example_case().model_dump_json())
    bundled = json.loads(
        (ROOT / "src" / "stalkrisk" / "examples" / "former_client.json").read_text("utf-8")
    )

    assert errors(validators["case.schema.json"], bundled) == []
    assert errors(validators["case.schema.json"], document) == []


@pytest.mark.parametrize("path", VIGNETTES, ids=lambda p: p.stem)
def test_vignettes_and_their_assessments_fit_the_schemas(
    validators: dict[str, Draft202012Validator], path: Path
) -> None:
    text = path.read_text(encoding="utf-8")
    assessment = stalkrisk.assess(text).model_dump(mode="json")

    assert errors(validators["case.schema.json"], json.loads(text)) == []
    assert errors(validators["assessment.schema.json"], assessment) == []


def test_the_example_assessment_fits_the_assessment_schema(
    validators: dict[str, Draft202012Validator],
) -> None:
    result = stalkrisk.assess(stalkrisk.example_case())

    assert errors(validators["assessment.schema.json"], result.model_dump(mode="json")) == []
    assert errors(validators["assessment.schema.json"], json.loads(result.model_dump_json())) == []


def test_the_schemas_refuse_what_the_models_refuse(
    validators: dict[str, Draft202012Validator],
) -> None:
    bad_case = case(contact("c1", 0, "gift"))
    bad_case["client"]["relationship"] = "friend"
    del bad_case["assessed_at"]
    bad_assessment = stalkrisk.assess(stalkrisk.example_case()).model_dump(mode="json")
    bad_assessment["level"] = "severe"
    bad_assessment["unexpected"] = True

    assert len(errors(validators["case.schema.json"], bad_case)) == 2
    assert len(errors(validators["assessment.schema.json"], bad_assessment)) == 2


@pytest.mark.parametrize(
    ("at", "fits"),
    [
        ("2025-03-01T09:00:00+01:00", True),
        ("2025-03-01T09:00:00Z", True),
        ("2025-03-01T09:00:00", False),
        ("2025-03-01T09:00:00+15:00", False),
        ("2025-03-01", False),
    ],
)
def test_the_case_schema_requires_an_offset_on_every_time(
    validators: dict[str, Draft202012Validator], at: str, fits: bool
) -> None:
    document = case(contact("c1", 0, "gift"))
    document["contacts"][0]["at"] = at

    assert (errors(validators["case.schema.json"], document) == []) is fits
    without_format = Draft202012Validator(load("case.schema.json"))
    assert (list(without_format.iter_errors(document)) == []) is fits


@pytest.mark.parametrize(
    "repeat",
    [
        lambda d: d["contacts"][0].update(behaviours=["gift", "gift"]),
        lambda d: d["contacts"][0].update(targets=["family", "family"]),
        lambda d: d["client"].update(clinical_state=["dependency", "dependency"]),
        lambda d: d.update(contacts=[d["contacts"][0], d["contacts"][0]]),
        lambda d: d["fear"].update(reports=[{"at": d["assessed_at"], "level": "some"}] * 2),
    ],
    ids=["behaviours", "targets", "clinical_state", "contacts", "fear.reports"],
)
def test_the_case_schema_refuses_repeats_the_model_refuses(
    validators: dict[str, Draft202012Validator], repeat: Callable[[dict[str, Any]], None]
) -> None:
    document = case(contact("c1", 0, "gift"))
    del document["fear"]["level"], document["fear"]["family_afraid"]
    repeat(document)

    with pytest.raises(stalkrisk.CaseValidationError):
        stalkrisk.parse_case(document)
    assert any("non-unique" in e for e in errors(validators["case.schema.json"], document))


@pytest.mark.parametrize("path", VIGNETTES, ids=lambda p: p.stem)
def test_every_vignette_trajectory_fits_the_trajectory_schema(
    validators: dict[str, Draft202012Validator], path: Path
) -> None:
    trajectory = stalkrisk.trajectory(path.read_text(encoding="utf-8"), full=True)

    assert errors(validators["trajectory.schema.json"], trajectory.model_dump(mode="json")) == []


def _docs_json_documents() -> list[tuple[str, Any]]:
    """Every ```json block of the docs that is a case, an assessment or a trajectory."""
    found = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for info, line, source in fenced_blocks(page.read_text(encoding="utf-8")):
            if info.split()[:1] == ["json"]:
                document = json.loads(source)
                kind = _kind(document)
                if kind is not None:
                    found.append((f"{page.name}:{line}:{kind}", document))
    return found


def _kind(document: Any) -> str | None:
    if not isinstance(document, dict):
        return None
    if "level_title" in document:
        return "assessment"
    if "steps" in document and "summary" in document:
        return "trajectory"
    if "client" in document and "assessed_at" in document:
        return "case"
    return None


DOCS_DOCUMENTS = _docs_json_documents()


def test_the_docs_show_an_assessment_to_check() -> None:
    assert any(label.endswith(":assessment") for label, _ in DOCS_DOCUMENTS)


@pytest.mark.parametrize(("label", "document"), DOCS_DOCUMENTS, ids=[x for x, _ in DOCS_DOCUMENTS])
def test_the_docs_json_examples_fit_their_schemas(
    validators: dict[str, Draft202012Validator], label: str, document: Any
) -> None:
    kind = label.rsplit(":", 1)[1]

    assert errors(validators[f"{kind}.schema.json"], document) == []


# --- rule packs fit the rule-pack schema ---------------------------------------------


def default_pack_document() -> dict[str, Any]:
    return copy.deepcopy(stalkrisk.default_rule_pack().to_dict())


@pytest.mark.parametrize("pack", stalkrisk.bundled_packs(), ids=lambda pack: pack.name)
def test_every_bundled_pack_fits_the_rulepack_schema(
    validators: dict[str, Draft202012Validator], pack: stalkrisk.RulePack
) -> None:
    written = yaml.safe_load(Path(pack.file).read_text(encoding="utf-8"))

    assert errors(validators["rulepack.schema.json"], written) == []
    assert errors(validators["rulepack.schema.json"], pack.to_dict()) == []


def test_a_pack_with_changed_parameters_fits_the_rulepack_schema(
    validators: dict[str, Draft202012Validator],
) -> None:
    changed = stalkrisk.default_rule_pack().with_parameters(pattern_min_span_days=21)

    assert errors(validators["rulepack.schema.json"], changed.to_dict()) == []


def _misspelt_field(document: dict[str, Any]) -> None:
    document["rules"][0]["when"]["all"][1]["field"] = "span_day"  # rule element.pattern


def _unknown_key(document: dict[str, Any]) -> None:
    document["rules"][0]["rationel"] = "typo"


def _two_effects(document: dict[str, Any]) -> None:
    document["rules"][0]["then"]["level"] = "police"


def _urgent_without_police(document: dict[str, Any]) -> None:
    document["rules"][0]["then"] = {"element": "pattern", "urgent": True}


def _day_past_its_limit(document: dict[str, Any]) -> None:
    document["parameters"]["recent_days"]["value"] = 40_000


def _behaviour_missing(document: dict[str, Any]) -> None:
    document["behaviours"].pop()


def _ladder_out_of_order(document: dict[str, Any]) -> None:
    document["levels"].reverse()


@pytest.mark.parametrize(
    "defect",
    [
        _misspelt_field,
        _unknown_key,
        _two_effects,
        _urgent_without_police,
        _day_past_its_limit,
        _behaviour_missing,
        _ladder_out_of_order,
    ],
    ids=lambda defect: defect.__name__.strip("_"),
)
def test_the_rulepack_schema_refuses_what_the_loader_refuses(
    validators: dict[str, Draft202012Validator], defect: Callable[[dict[str, Any]], None]
) -> None:
    document = default_pack_document()
    defect(document)

    assert errors(validators["rulepack.schema.json"], document) != []
    with pytest.raises(stalkrisk.RulePackError):
        stalkrisk.load_rule_pack(document)


def test_the_rulepack_schema_knows_the_fields_of_each_fact() -> None:
    schema = rulepack_schema()

    episode = schema["$defs"]["EpisodeCondition"]["anyOf"][1]["properties"]["field"]["enum"]
    assert "span_days" in episode
    assert "relationship" not in episode
