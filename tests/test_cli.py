"""The ``stalkrisk`` command: exit codes 0 ok, 1 internal error, 2 invalid input.

Most tests call :func:`stalkrisk._cli.main` in-process; a few run the real
``python -m stalkrisk`` in a subprocess.  Case text is sensitive: no message
may quote it, so free-text fields carry a sentinel that must never be printed.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from builders import case, contact

import stalkrisk
import stalkrisk.fhir
from stalkrisk import _cli

SENTINEL = "SENTINEL-SECRET-TEXT"
DEFAULT_PACK = Path(__file__).resolve().parents[1] / "rules" / "default.yaml"


# --- helpers ---------------------------------------------------------------


def run(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *argv: str,
    stdin: str | io.TextIOBase | None = None,
) -> tuple[int, str, str]:
    """Run the command in-process; returns (exit code, stdout, stderr)."""
    if stdin is not None:
        stream = io.StringIO(stdin) if isinstance(stdin, str) else stdin
        monkeypatch.setattr("sys.stdin", stream)
    code = _cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write_case(tmp_path: Path, data: Any, name: str = "case.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def threat_case() -> dict[str, Any]:
    """A single threat: graded police."""
    return case(contact("c1", 0, "threat", channel="phone"))


def case_with_secrets() -> dict[str, Any]:
    """A valid case whose free-text fields all hold the sentinel."""
    return case(
        contact(
            "c1",
            0,
            "unwanted_calls",
            note=SENTINEL,
            location=SENTINEL,
            response=SENTINEL,
            witnesses=[SENTINEL],
            evidence=[SENTINEL],
        ),
        contact("c2", 3, "gift", note=SENTINEL),
    )


def fhir_level(resource: dict[str, Any]) -> str:
    """The ladder level of a FHIR RiskAssessment, from its prediction's extension."""
    [code] = [
        coding["code"]
        for extension in resource["prediction"][0]["extension"]
        for coding in extension.get("valueCodeableConcept", {}).get("coding", [])
        if coding["system"] == stalkrisk.fhir.LEVEL_SYSTEM
    ]
    return str(code)


def assert_clean_failure(out: str, err: str) -> None:
    """A user-facing failure: no traceback, nothing on stdout."""
    assert "Traceback" not in out + err
    assert out == ""
    assert err.startswith("stalkrisk: ")


# --- assess ------------------------------------------------------------------


def test_assess_file_prints_text_report_with_level_and_recommendation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_case(tmp_path, threat_case())

    code, out, err = run(monkeypatch, capsys, "assess", str(path))

    assert code == 0
    assert err == ""
    assert "Recommendation: police" in out
    assert "[POLICE]" in out


def test_assess_text_report_matches_the_library_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_case(tmp_path, threat_case())

    _, out, _ = run(monkeypatch, capsys, "assess", str(path))

    assert out == str(stalkrisk.assess(threat_case())) + "\n"


def test_assess_stdin_as_json_has_the_output_contract(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        monkeypatch, capsys, "assess", "-", "--format", "json", stdin=json.dumps(threat_case())
    )

    assert code == 0
    assert err == ""
    document = json.loads(out)
    assert {
        "level",
        "urgent",
        "elements",
        "threshold",
        "rules_fired",
        "actions",
        "raise_if",
        "rule_pack",
    } <= set(document)
    assert document["level"] == "police"
    assert document["urgent"] is False
    for name in ("pattern", "threat", "fear"):
        assert {"present", "evidence"} <= set(document["elements"][name])
    assert document["elements"]["threat"] == {
        "present": True,
        "evidence": ["c1"],
        "rules": ["element.threat.behaviour"],
    }
    assert {"met", "distinct_behaviours", "span_days"} <= set(document["threshold"])
    assert document["rules_fired"]
    assert all("id" in rule for rule in document["rules_fired"])
    assert "grade.police.threat" in [rule["id"] for rule in document["rules_fired"]]
    assert all({"id", "text"} <= set(action) for action in document["actions"])
    assert isinstance(document["raise_if"], list)
    pack = stalkrisk.default_rule_pack()
    assert document["rule_pack"] == {
        "name": pack.name,
        "version": pack.version,
        "sha256": pack.sha256,
    }


def test_assess_json_equals_the_library_assessment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(
        monkeypatch, capsys, "assess", "-", "--format", "json", stdin=json.dumps(threat_case())
    )

    assert json.loads(out) == stalkrisk.assess(threat_case()).model_dump(mode="json")


def test_assess_with_a_custom_rule_pack_names_that_pack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = yaml.safe_load(DEFAULT_PACK.read_text(encoding="utf-8"))
    doc["version"] = "2.0.0-cli"
    pack_path = tmp_path / "pack.yaml"
    pack_path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    case_path = write_case(tmp_path, threat_case())

    code, out, _ = run(
        monkeypatch, capsys, "assess", str(case_path), "--format", "json", "--rules", str(pack_path)
    )

    assert code == 0
    document = json.loads(out)
    assert document["rule_pack"]["version"] == "2.0.0-cli"
    assert document["rule_pack"]["sha256"] == stalkrisk.load_rule_pack(pack_path).sha256


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_assess_output_never_echoes_free_text(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fmt: str,
) -> None:
    path = write_case(tmp_path, case_with_secrets())

    code, out, err = run(monkeypatch, capsys, "assess", str(path), "--format", fmt)

    assert code == 0
    assert SENTINEL not in out + err


# --- invalid input ---------------------------------------------------------------


def test_invalid_case_lists_one_line_per_problem_with_its_json_path(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = case(contact("c1", 0, "gift"), contact("c2", 1, "unwanted_calls"))
    data["contacts"][0]["at"] = "2025-01-06T09:00:00"  # no timezone
    data["contacts"][1]["behaviours"] = ["waving"]
    data["fear"]["level"] = "terrified"

    code, out, err = run(monkeypatch, capsys, "assess", "-", stdin=json.dumps(data))

    assert code == 2
    assert_clean_failure(out, err)
    lines = err.splitlines()
    assert lines[0] == "stalkrisk: invalid case (3 problems)"
    problems = lines[1:]
    assert len(problems) == 3
    assert [line.split(":")[0].strip() for line in problems] == [
        "contacts.0.at",
        "contacts.1.behaviours.0",
        "fear.level",
    ]


def test_invalid_case_never_echoes_free_text(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = case_with_secrets()
    first = data["contacts"][0]
    first["at"] = SENTINEL
    first["behaviours"] = [SENTINEL]
    first["channel"] = SENTINEL
    first["targets"] = [SENTINEL]
    first["weapon"] = SENTINEL
    first["id"] = SENTINEL + " with spaces"
    data["contacts"][1]["note"] = SENTINEL * 1_001  # too long
    data["client"]["therapy_start"] = SENTINEL
    data["client"]["motive"] = SENTINEL
    data["fear"]["level"] = SENTINEL
    data["assessed_at"] = SENTINEL

    code, out, err = run(monkeypatch, capsys, "assess", "-", stdin=json.dumps(data))

    assert code == 2
    assert_clean_failure(out, err)
    assert SENTINEL not in out + err
    assert "contacts.0.at" in err
    assert "contacts.1.note" in err


def test_case_with_contact_after_assessment_names_the_contact(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = case(contact("c1", 5, "gift", note=SENTINEL), assessed_at=1)

    code, out, err = run(monkeypatch, capsys, "assess", "-", stdin=json.dumps(data))

    assert code == 2
    assert_clean_failure(out, err)
    assert "contacts.0.at: is after assessed_at" in err
    assert SENTINEL not in err


def test_non_json_input_exits_2_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(monkeypatch, capsys, "assess", "-", stdin=f"not json {SENTINEL}\n")

    assert code == 2
    assert_clean_failure(out, err)
    assert "Invalid JSON" in err
    assert SENTINEL not in err


def test_json_that_is_not_an_object_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(monkeypatch, capsys, "assess", "-", stdin=json.dumps([SENTINEL]))

    assert code == 2
    assert_clean_failure(out, err)
    assert SENTINEL not in err


@pytest.mark.parametrize("text", ["", "   \n\t\n"])
def test_empty_input_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    code, out, err = run(monkeypatch, capsys, "assess", "-", stdin=text)

    assert code == 2
    assert_clean_failure(out, err)
    assert "the input is empty" in err


def test_empty_file_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "empty.json"
    path.write_text("", encoding="utf-8")

    code, out, err = run(monkeypatch, capsys, "assess", str(path))

    assert code == 2
    assert_clean_failure(out, err)
    assert "the input is empty" in err


def test_missing_file_exits_2_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "absent.json"

    code, out, err = run(monkeypatch, capsys, "assess", str(path))

    assert code == 2
    assert_clean_failure(out, err)
    assert f"{path}: no such file" in err


def test_directory_exits_2_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(monkeypatch, capsys, "assess", str(tmp_path))

    assert code == 2
    assert_clean_failure(out, err)
    assert f"{tmp_path}: is a directory" in err


def test_file_that_is_not_utf8_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "case.json"
    path.write_bytes(b'{"note": "\xff\xfe"}')

    code, out, err = run(monkeypatch, capsys, "assess", str(path))

    assert code == 2
    assert_clean_failure(out, err)
    assert "not UTF-8" in err


def test_stdin_that_is_not_utf8_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The same bytes as a file exit 2 (invalid input); on stdin they must not count as a crash.
    stdin = io.TextIOWrapper(io.BytesIO(b'{"note": "\xff\xfe"}'), encoding="utf-8")

    code, out, err = run(monkeypatch, capsys, "assess", "-", stdin=stdin)

    assert code == 2
    assert_clean_failure(out, err)


# --- broken rule packs -------------------------------------------------------------


def _broken_pack(tmp_path: Path) -> Path:
    doc = yaml.safe_load(DEFAULT_PACK.read_text(encoding="utf-8"))
    doc["rules"][0]["when"]["all"][0]["field"] = "distinct_behaviour"
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def test_assess_with_broken_rule_pack_exits_2_naming_file_rule_and_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = _broken_pack(tmp_path)
    case_path = write_case(tmp_path, threat_case())

    code, out, err = run(monkeypatch, capsys, "assess", str(case_path), "--rules", str(pack))

    assert code == 2
    assert_clean_failure(out, err)
    assert str(pack) in err
    assert "rule 'element.pattern'" in err
    assert "rules[0].when.all[0].field" in err
    assert "did you mean 'distinct_behaviours'?" in err
    assert len(err.splitlines()) == 1


def test_rules_with_broken_rule_pack_exits_2_naming_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = _broken_pack(tmp_path)

    code, out, err = run(monkeypatch, capsys, "rules", "--rules", str(pack))

    assert code == 2
    assert_clean_failure(out, err)
    assert str(pack) in err


def test_missing_rule_pack_exits_2_naming_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = tmp_path / "absent.yaml"
    case_path = write_case(tmp_path, threat_case())

    code, out, err = run(monkeypatch, capsys, "assess", str(case_path), "--rules", str(pack))

    assert code == 2
    assert_clean_failure(out, err)
    assert str(pack) in err


# --- internal errors -----------------------------------------------------------------


def test_internal_error_exits_1_without_traceback_or_detail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(SENTINEL)

    monkeypatch.setattr("stalkrisk._cli.assess", explode)
    path = write_case(tmp_path, threat_case())

    code, out, err = run(monkeypatch, capsys, "assess", str(path))

    assert code == 1
    assert_clean_failure(out, err)
    assert "internal error" in err
    assert "RuntimeError" in err
    assert SENTINEL not in out + err


def test_engine_error_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise stalkrisk.EngineError("the engine failed (KeyError)", rule_pack="stalkrisk-default")

    monkeypatch.setattr("stalkrisk._cli.assess", fail)
    path = write_case(tmp_path, threat_case())

    code, out, err = run(monkeypatch, capsys, "assess", str(path))

    assert code == 1
    assert_clean_failure(out, err)
    assert "internal error" in err


# --- schema, rules, example, version --------------------------------------------------


def test_schema_prints_the_json_schema_of_a_case(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(monkeypatch, capsys, "schema")

    assert code == 0
    assert err == ""
    schema = json.loads(out)
    assert {"assessed_at", "client", "contacts", "fear", "boundaries"} <= set(schema["properties"])
    assert "assessed_at" in schema["required"]
    assert "client" in schema["required"]


def test_rules_lists_every_rule_id_of_the_default_pack(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(monkeypatch, capsys, "rules")

    assert code == 0
    pack = stalkrisk.default_rule_pack()
    assert pack.sha256 in out
    for rule in pack.rules:
        assert f"  {rule.id} — {rule.title}" in out


def test_rules_json_is_valid_json_with_every_rule(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(monkeypatch, capsys, "rules", "--format", "json")

    assert code == 0
    document = json.loads(out)
    pack = stalkrisk.default_rule_pack()
    assert document["name"] == pack.name
    assert document["sha256"] == pack.sha256
    assert [rule["id"] for rule in document["rules"]] == [rule.id for rule in pack.rules]
    assert document["parameters"]["pattern_min_span_days"] == 14


def _condition_fields(condition: Any) -> set[str]:
    if "field" in condition:
        return {condition["field"]}
    items = condition.get("all", condition.get("any", []))
    return set().union(*(_condition_fields(item) for item in items))


def test_rules_fields_lists_the_field_names(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = yaml.safe_load(DEFAULT_PACK.read_text(encoding="utf-8"))
    used = set().union(*(_condition_fields(rule["when"]) for rule in doc["rules"]))

    code, out, _ = run(monkeypatch, capsys, "rules", "--fields")

    assert code == 0
    for kind in ("episode", "case", "grade"):
        assert f"Fields of the {kind} fact" in out
    for name in used | {"span_days", "max_span_days", "pattern", "threat", "fear"}:
        assert f"  {name} (" in out


def test_rules_without_fields_omits_the_field_list(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(monkeypatch, capsys, "rules")

    assert "Fields of a" not in out


def test_example_prints_a_case_that_parse_case_accepts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(monkeypatch, capsys, "example")

    assert code == 0
    assert err == ""
    parsed = stalkrisk.parse_case(out)
    assert parsed == stalkrisk.example_case()


def test_version_prints_the_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        _cli.main(["--version"])

    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"stalkrisk {stalkrisk.__version__}"


def test_unknown_command_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        _cli.main(["grade"])

    assert info.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


# --- the real command ---------------------------------------------------------------------


def _stalkrisk(*argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stalkrisk", *argv],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


def test_module_assesses_the_example_from_stdin() -> None:
    example = _stalkrisk("example")
    assert example.returncode == 0

    result = _stalkrisk("assess", "-", "--format", "json", stdin=example.stdout)

    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["level"] == stalkrisk.assess(stalkrisk.example_case()).level.value
    assert document["rule_pack"]["sha256"] == stalkrisk.default_rule_pack().sha256


def test_module_invalid_input_exits_2_without_traceback_or_secrets() -> None:
    data = case_with_secrets()
    data["contacts"][0]["at"] = SENTINEL

    result = _stalkrisk("assess", "-", stdin=json.dumps(data))

    assert result.returncode == 2
    assert "contacts.0.at" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert SENTINEL not in result.stdout + result.stderr


def test_module_prints_the_version() -> None:
    result = _stalkrisk("--version")

    assert result.returncode == 0
    assert result.stdout.strip() == f"stalkrisk {stalkrisk.__version__}"


def test_output_piped_into_a_closed_reader_exits_quietly() -> None:
    done = subprocess.run(
        f"{sys.executable} -m stalkrisk rules --fields | head -1",
        shell=True,
        capture_output=True,
        text=True,
    )

    assert "internal error" not in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout.startswith("stalkrisk-default")


# --- FHIR output and the assessment schema ----------------------------------------------------


def test_schema_assessment_prints_the_json_schema_of_an_assessment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(monkeypatch, capsys, "schema", "--assessment")

    assert code == 0
    assert err == ""
    schema = json.loads(out)
    assert schema == stalkrisk.Assessment.model_json_schema()
    assert {"level", "urgent", "elements", "threshold", "rule_pack"} <= set(schema["required"])


def test_schema_case_equals_plain_schema(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, plain, _ = run(monkeypatch, capsys, "schema")
    code, flagged, _ = run(monkeypatch, capsys, "schema", "--case")

    assert code == 0
    assert flagged == plain
    assert json.loads(flagged) == stalkrisk.Case.model_json_schema()


def test_assess_format_fhir_prints_a_risk_assessment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_case(tmp_path, threat_case())

    code, out, err = run(
        monkeypatch, capsys, "assess", str(path), "--format", "fhir", "--subject", "Patient/42"
    )

    assert code == 0
    assert err == ""
    assert json.loads(out) == stalkrisk.fhir.to_risk_assessment(
        stalkrisk.assess(threat_case()), subject_reference="Patient/42"
    )


def test_assess_format_fhir_never_echoes_free_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_case(tmp_path, case_with_secrets())

    code, out, err = run(
        monkeypatch, capsys, "assess", str(path), "--format", "fhir", "--subject", "Patient/1"
    )

    assert code == 0
    assert SENTINEL not in out + err


def test_assess_fhir_option_without_format_fhir_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_case(tmp_path, threat_case())

    code, out, err = run(monkeypatch, capsys, "assess", str(path), "--performer", "Device/d1")

    assert code == 2
    assert_clean_failure(out, err)
    assert "--performer" in err


def test_module_assess_format_fhir_exits_0() -> None:
    example = _stalkrisk("example")

    result = _stalkrisk(
        "assess",
        *("-", "--format", "fhir", "--subject", "Group/g1", "--fhir-version", "R4B"),
        stdin=example.stdout,
    )

    assert result.returncode == 0, result.stderr
    resource = json.loads(result.stdout)
    assert resource["subject"] == {"reference": "Group/g1"}
    assert fhir_level(resource) == "referral"


def test_an_interrupt_exits_130_with_one_line_and_no_output(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(*args: object, **kwargs: object) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr(_cli, "assess", interrupted)
    monkeypatch.setattr(sys, "stdin", io.StringIO(stalkrisk.example_case().model_dump_json()))

    code = _cli.main(["assess", "-"])

    captured = capsys.readouterr()
    assert code == 130
    assert captured.out == ""
    assert captured.err == "stalkrisk: interrupted\n"


# --- trajectory ------------------------------------------------------------------------------


def test_trajectory_prints_the_library_text_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_case(tmp_path, threat_case())

    code, out, err = run(monkeypatch, capsys, "trajectory", str(path))

    assert code == 0
    assert err == ""
    assert out == str(stalkrisk.trajectory(threat_case())) + "\n"
    assert out.startswith("Grade over time: 1 contact in 2 steps")


def test_trajectory_json_round_trips_through_the_model(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        monkeypatch, capsys, "trajectory", "-", "--format", "json", stdin=json.dumps(threat_case())
    )

    assert code == 0
    assert err == ""
    assert stalkrisk.Trajectory.model_validate_json(out) == stalkrisk.trajectory(threat_case())


def test_trajectory_full_gives_every_step_its_assessment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(
        monkeypatch,
        capsys,
        "trajectory",
        "-",
        "--format",
        "json",
        "--full",
        stdin=json.dumps(threat_case()),
    )

    steps = stalkrisk.Trajectory.model_validate_json(out).steps
    assert [step.assessment is not None for step in steps] == [True, True]
    assert steps[-1].assessment == stalkrisk.assess(threat_case())


def test_trajectory_with_a_custom_rule_pack_names_that_pack(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(
        monkeypatch,
        capsys,
        "trajectory",
        "-",
        "--format",
        "json",
        "--rules",
        str(DEFAULT_PACK),
        stdin=json.dumps(threat_case()),
    )

    assert json.loads(out)["rule_pack"]["sha256"] == stalkrisk.default_rule_pack().sha256


def test_trajectory_of_an_invalid_case_exits_2_with_its_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = case_with_secrets()
    bad["client"]["relationship"] = "friend"
    path = write_case(tmp_path, bad)

    code, out, err = run(monkeypatch, capsys, "trajectory", str(path))

    assert code == 2
    assert_clean_failure(out, err)
    assert err.startswith("stalkrisk: invalid case (1 problem)\n  client.relationship: ")
    assert SENTINEL not in err


def test_trajectory_of_a_missing_file_exits_2_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "absent.json"

    code, out, err = run(monkeypatch, capsys, "trajectory", str(path))

    assert code == 2
    assert_clean_failure(out, err)
    assert f"{path}: no such file" in err


def test_trajectory_of_empty_input_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(monkeypatch, capsys, "trajectory", "-", stdin="  \n")

    assert code == 2
    assert_clean_failure(out, err)
    assert "the input is empty" in err


@pytest.mark.parametrize("output", ["text", "json"])
def test_trajectory_output_never_echoes_free_text(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], output: str
) -> None:
    code, out, err = run(
        monkeypatch,
        capsys,
        "trajectory",
        "-",
        "--format",
        output,
        stdin=json.dumps(case_with_secrets()),
    )

    assert code == 0
    assert SENTINEL not in out + err


def test_schema_trajectory_prints_the_json_schema_of_a_trajectory(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(monkeypatch, capsys, "schema", "--trajectory")

    assert code == 0
    assert err == ""
    schema = json.loads(out)
    assert schema == stalkrisk.Trajectory.model_json_schema()
    assert {"steps", "summary", "rules", "level_titles", "rule_pack"} <= set(schema["required"])


def test_module_trajectory_of_the_example_exits_0() -> None:
    example = _stalkrisk("example")

    result = _stalkrisk("trajectory", "-", stdin=example.stdout)

    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("Final grade on 2025-03-24: referral — End therapy and refer\n")


# --- the rule-pack schema ----------------------------------------------------------------------


def test_schema_rulepack_prints_the_json_schema_of_a_rule_pack(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(monkeypatch, capsys, "schema", "--rulepack")

    assert code == 0
    assert err == ""
    schema = json.loads(out)
    assert schema["title"] == "stalkrisk rule pack"
    assert {"name", "version", "parameters", "rules", "actions"} <= set(schema["required"])


def test_schema_rulepack_with_another_schema_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as info:
        _cli.main(["schema", "--rulepack", "--case"])

    assert info.value.code == 2
    assert "not allowed with" in capsys.readouterr().err


# --- several cases: FILEs, JSON Lines, -o ------------------------------------------------------


def gift_case() -> dict[str, Any]:
    """A single gift from a current client: graded reflective."""
    return case(contact("c1", 0, "gift"))


def invalid_case() -> dict[str, Any]:
    """Two problems: assessed_at missing, client.relationship not allowed; a secret note."""
    return {
        "client": {"relationship": "friend"},
        "contacts": [contact("c1", 0, "gift", note=SENTINEL)],
    }


def jsonl(*cases: dict[str, Any]) -> str:
    return "".join(json.dumps(data) + "\n" for data in cases)


def levels(json_lines: str) -> list[str]:
    return [json.loads(line)["level"] for line in json_lines.splitlines()]


def test_assess_several_files_heads_each_text_report_with_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    first = write_case(tmp_path, threat_case(), "a.json")
    second = write_case(tmp_path, gift_case(), "b.json")

    code, out, err = run(monkeypatch, capsys, "assess", str(first), str(second))

    assert code == 0
    assert err == ""
    assert out == (
        f"==> {first} <==\n{stalkrisk.assess(threat_case())}\n"
        f"\n==> {second} <==\n{stalkrisk.assess(gift_case())}\n"
    )


def test_assess_several_files_as_json_prints_one_line_per_case_in_input_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = [
        write_case(tmp_path, gift_case(), "a.json"),
        write_case(tmp_path, threat_case(), "b.json"),
        write_case(tmp_path, gift_case(), "c.json"),
    ]

    code, out, _ = run(monkeypatch, capsys, "assess", *map(str, paths), "--format", "json")

    assert code == 0
    assert [stalkrisk.Assessment.model_validate_json(line) for line in out.splitlines()] == [
        stalkrisk.assess(gift_case()),
        stalkrisk.assess(threat_case()),
        stalkrisk.assess(gift_case()),
    ]


def test_assess_jsonl_file_gives_one_result_per_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text(jsonl(threat_case(), gift_case()), encoding="utf-8")

    code, out, err = run(monkeypatch, capsys, "assess", "--jsonl", str(path), "--format", "json")

    assert code == 0
    assert err == ""
    assert levels(out) == ["police", "reflective"]


def test_assess_jsonl_from_stdin_gives_one_result_per_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin = jsonl(gift_case(), threat_case(), gift_case())

    code, out, _ = run(
        monkeypatch, capsys, "assess", "--jsonl", "-", "--format", "json", stdin=stdin
    )

    assert code == 0
    assert levels(out) == ["reflective", "police", "reflective"]


def test_assess_jsonl_text_heads_each_report_with_its_line_and_skips_blank_lines(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin = "\n" + jsonl(gift_case()) + "  \n" + jsonl(threat_case())

    code, out, _ = run(monkeypatch, capsys, "assess", "--jsonl", "-", stdin=stdin)

    assert code == 0
    headers = [line for line in out.splitlines() if line.startswith("==> ")]
    assert headers == ["==> standard input, line 2 <==", "==> standard input, line 4 <=="]


def test_assess_jsonl_without_a_case_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(monkeypatch, capsys, "assess", "--jsonl", "-", stdin="\n  \n")

    assert code == 2
    assert_clean_failure(out, err)
    assert err == "stalkrisk: standard input: no cases; expected one case as JSON per line\n"


def test_assess_mix_of_valid_and_invalid_files_exits_2_and_prints_the_valid_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write_case(tmp_path, threat_case(), "good.json")
    bad = write_case(tmp_path, invalid_case(), "bad.json")
    absent = tmp_path / "absent.json"
    last = write_case(tmp_path, gift_case(), "last.json")
    argv = [str(good), str(bad), str(absent), str(last)]

    code, out, err = run(monkeypatch, capsys, "assess", *argv, "--format", "json")

    assert code == 2
    assert levels(out) == ["police", "reflective"]
    assert [json.loads(line)["input"] for line in err.splitlines()] == [str(bad), str(absent)]


def test_assess_mix_in_text_names_each_invalid_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write_case(tmp_path, threat_case(), "good.json")
    bad = write_case(tmp_path, invalid_case(), "bad.json")
    empty = tmp_path / "empty.json"
    empty.write_text("", encoding="utf-8")

    code, out, err = run(monkeypatch, capsys, "assess", str(bad), str(good), str(empty))

    assert code == 2
    assert out.startswith(f"==> {good} <==\nRecommendation: police")
    assert err.splitlines() == [
        f"stalkrisk: {bad}: invalid case (2 problems)",
        "  assessed_at: Field required [missing]",
        "  client.relationship: Input should be 'current', 'former', 'prospective' or 'unknown'"
        " [enum]",
        f"stalkrisk: {empty}: the input is empty; expected a case as JSON",
    ]


def test_assess_jsonl_mix_reports_the_invalid_line_and_prints_the_others(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin = jsonl(threat_case(), invalid_case()) + f"not json {SENTINEL}\n" + jsonl(gift_case())

    code, out, err = run(
        monkeypatch, capsys, "assess", "--jsonl", "-", "--format", "json", stdin=stdin
    )

    assert code == 2
    assert levels(out) == ["police", "reflective"]
    assert [(report["input"], report["line"]) for report in map(json.loads, err.splitlines())] == [
        ("-", 2),
        ("-", 3),
    ]
    assert SENTINEL not in out + err


def test_json_format_problems_go_to_stderr_as_json_naming_loc_and_type(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        monkeypatch, capsys, "assess", "-", "--format", "json", stdin=json.dumps(invalid_case())
    )

    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1
    report = json.loads(err)
    assert report["input"] == "-"
    assert [(problem["loc"], problem["type"]) for problem in report["problems"]] == [
        ("assessed_at", "missing"),
        ("client.relationship", "enum"),
    ]
    assert all(problem["msg"] for problem in report["problems"])
    assert SENTINEL not in err


def test_json_format_problem_of_an_unreadable_file_is_json_with_its_type(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    absent = tmp_path / "absent.json"

    code, _, err = run(monkeypatch, capsys, "assess", str(absent), "--format", "json")

    assert code == 2
    assert json.loads(err) == {
        "input": str(absent),
        "problems": [{"loc": "", "type": "not_found", "msg": f"{absent}: no such file"}],
    }


def test_json_format_rule_pack_problems_are_json_naming_the_pack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = _broken_pack(tmp_path)
    case_path = write_case(tmp_path, threat_case())

    code, out, err = run(
        monkeypatch, capsys, "assess", str(case_path), "--rules", str(pack), "--format", "json"
    )

    assert code == 2
    assert out == ""
    report = json.loads(err)
    assert report["rule_pack"] == str(pack)
    [problem] = report["problems"]
    assert (problem["loc"], problem["type"]) == ("rules[0].when.all[0].field", "unknown_field")


def test_rules_json_format_reports_a_bad_pack_as_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = _broken_pack(tmp_path)

    code, out, err = run(monkeypatch, capsys, "rules", "--rules", str(pack), "--format", "json")

    assert code == 2
    assert out == ""
    assert json.loads(err)["rule_pack"] == str(pack)


def test_output_option_writes_the_file_and_nothing_on_stdout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_case(tmp_path, threat_case())
    target = tmp_path / "assessment.json"

    code, out, err = run(
        monkeypatch, capsys, "assess", str(path), "--format", "json", "-o", str(target)
    )

    assert code == 0
    assert (out, err) == ("", "")
    assessment = stalkrisk.Assessment.model_validate_json(target.read_text(encoding="utf-8"))
    assert assessment == stalkrisk.assess(threat_case())


def test_output_option_replaces_a_file_and_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_case(tmp_path, gift_case())
    target = tmp_path / "report.txt"
    target.write_text("an earlier, longer report\n" * 100, encoding="utf-8")

    code, _, _ = run(monkeypatch, capsys, "assess", str(path), "--output", str(target))

    assert code == 0
    assert target.read_text(encoding="utf-8") == str(stalkrisk.assess(gift_case())) + "\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.json", "report.txt"]


def test_output_option_keeps_the_valid_results_of_a_mix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "cases.jsonl"
    source.write_text(jsonl(invalid_case(), gift_case()), encoding="utf-8")
    target = tmp_path / "out.jsonl"

    code, out, _ = run(
        monkeypatch, capsys, "assess", "--jsonl", str(source), "--format", "json", "-o", str(target)
    )

    assert code == 2
    assert out == ""
    assert levels(target.read_text(encoding="utf-8")) == ["reflective"]


def test_output_option_leaves_an_earlier_file_when_no_case_is_valid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_case(tmp_path, invalid_case())
    target = tmp_path / "out.json"
    target.write_text("earlier\n", encoding="utf-8")

    code, _, _ = run(monkeypatch, capsys, "assess", str(path), "-o", str(target))

    assert code == 2
    assert target.read_text(encoding="utf-8") == "earlier\n"


def test_output_option_writes_nothing_on_an_internal_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(SENTINEL)

    monkeypatch.setattr("stalkrisk._cli.assess", explode)
    path = write_case(tmp_path, threat_case())
    target = tmp_path / "out.json"

    code, _, _ = run(monkeypatch, capsys, "assess", str(path), "-o", str(target))

    assert code == 1
    assert not target.exists()


def test_output_option_into_a_missing_directory_exits_2_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_case(tmp_path, threat_case())
    target = tmp_path / "absent" / "out.json"

    code, out, err = run(monkeypatch, capsys, "assess", str(path), "-o", str(target))

    assert code == 2
    assert_clean_failure(out, err)
    assert err == f"stalkrisk: cannot write {target} (No such file or directory)\n"


def test_format_fhir_without_subject_exits_2_before_reading_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_case(tmp_path, threat_case())

    code, out, err = run(monkeypatch, capsys, "assess", str(path), "--format", "fhir")

    assert code == 2
    assert_clean_failure(out, err)
    assert err == ("stalkrisk: --format fhir needs --subject, the client: Patient/ID or Group/ID\n")


def test_format_fhir_of_several_files_gives_one_transaction_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    first = write_case(tmp_path, threat_case(), "a.json")
    second = write_case(tmp_path, gift_case(), "b.json")

    code, out, _ = run(
        monkeypatch,
        capsys,
        *("assess", str(first), str(second), "--format", "fhir", "--subject", "Patient/7"),
    )

    assert code == 0
    assert json.loads(out) == stalkrisk.fhir.bundle(
        [stalkrisk.assess(threat_case()), stalkrisk.assess(gift_case())],
        subject_reference="Patient/7",
    )
    assert len(out.splitlines()) == 1


def test_format_fhir_of_a_jsonl_mix_bundles_the_valid_cases_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin = jsonl(invalid_case(), threat_case())

    code, out, err = run(
        monkeypatch,
        capsys,
        *("assess", "--jsonl", "-", "--format", "fhir", "--subject", "Patient/7"),
        stdin=stdin,
    )

    assert code == 2
    assert err.startswith("stalkrisk: standard input, line 1: invalid case")
    [entry] = json.loads(out)["entry"]
    assert fhir_level(entry["resource"]) == "police"


def test_format_fhir_passes_status_and_id_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_case(tmp_path, threat_case())
    options = ("--subject", "Patient/7", "--status", "final", "--id", "ra-1")

    code, out, _ = run(monkeypatch, capsys, "assess", str(path), "--format", "fhir", *options)

    assert code == 0
    assert json.loads(out) == stalkrisk.fhir.to_risk_assessment(
        stalkrisk.assess(threat_case()), subject_reference="Patient/7", status="final", id="ra-1"
    )


def test_format_fhir_with_a_bad_status_exits_2_naming_the_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_case(tmp_path, threat_case())
    options = ("--subject", "Patient/7", "--status", "signed")

    code, out, err = run(monkeypatch, capsys, "assess", str(path), "--format", "fhir", *options)

    assert code == 2
    assert_clean_failure(out, err)
    assert err.startswith("stalkrisk: --status must be one of ")


def test_format_fhir_refuses_id_and_basis_for_a_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_case(tmp_path, threat_case())
    options = ("--subject", "Patient/7", "--id", "ra-1", "--basis", "DocumentReference/d1")

    code, out, err = run(
        monkeypatch, capsys, "assess", "--jsonl", str(path), "--format", "fhir", *options
    )

    assert code == 2
    assert_clean_failure(out, err)
    assert err == "stalkrisk: --basis, --id: only with one case, not in a bundle\n"


def test_trajectory_of_several_files_as_json_prints_one_line_per_case(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    first = write_case(tmp_path, gift_case(), "a.json")
    second = write_case(tmp_path, threat_case(), "b.json")

    code, out, _ = run(
        monkeypatch, capsys, "trajectory", str(first), str(second), "--format", "json"
    )

    assert code == 0
    assert [stalkrisk.Trajectory.model_validate_json(line) for line in out.splitlines()] == [
        stalkrisk.trajectory(gift_case()),
        stalkrisk.trajectory(threat_case()),
    ]


def test_trajectory_jsonl_mix_exits_2_and_writes_the_valid_ones_to_the_output_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "trajectories.txt"
    stdin = jsonl(threat_case(), invalid_case())

    code, out, err = run(
        monkeypatch, capsys, "trajectory", "--jsonl", "-", "-o", str(target), stdin=stdin
    )

    assert code == 2
    assert out == ""
    assert err.startswith("stalkrisk: standard input, line 2: invalid case (2 problems)\n")
    written = target.read_text(encoding="utf-8")
    assert written == f"==> standard input, line 1 <==\n{stalkrisk.trajectory(threat_case())}\n"


# --- FHIR intake: the Questionnaire and --input fhir -------------------------------------------


def example_response(version: stalkrisk.fhir.FhirVersion = "R4") -> dict[str, Any]:
    """The bundled example case as a completed QuestionnaireResponse."""
    return stalkrisk.fhir.response_from_case(stalkrisk.example_case(), version=version)


def response_of(data: dict[str, Any]) -> dict[str, Any]:
    return stalkrisk.fhir.response_from_case(data)


def with_answer(response: dict[str, Any], link_id: str, answer: dict[str, Any]) -> dict[str, Any]:
    """``response`` with the answer of its top-level question ``link_id`` replaced."""
    changed: dict[str, Any] = json.loads(json.dumps(response))
    [item] = [item for item in changed["item"] if item["linkId"] == link_id]
    item["answer"] = [answer]
    return changed


@pytest.mark.parametrize("version", ["R4", "R4B", "R5"])
def test_fhir_questionnaire_prints_the_valid_questionnaire_of_each_version(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], version: str
) -> None:
    from fhir.resources import get_fhir_model_class
    from fhir.resources.R4B import get_fhir_model_class as get_r4b_class

    code, out, err = run(monkeypatch, capsys, "fhir", "questionnaire", "--fhir-version", version)

    assert code == 0
    assert err == ""
    document = json.loads(out)
    model = get_fhir_model_class if version == "R5" else get_r4b_class
    model("Questionnaire").model_validate(document)
    assert document == stalkrisk.fhir.questionnaire(version=version)  # type: ignore[arg-type]


def test_fhir_questionnaire_defaults_to_r4(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(monkeypatch, capsys, "fhir", "questionnaire")

    assert code == 0
    assert json.loads(out) == stalkrisk.fhir.questionnaire(version="R4")


def test_fhir_questionnaire_output_option_writes_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "questionnaire.json"

    code, out, _ = run(monkeypatch, capsys, "fhir", "questionnaire", "-o", str(target))

    assert code == 0
    assert out == ""
    assert json.loads(target.read_text(encoding="utf-8")) == stalkrisk.fhir.questionnaire()


def test_fhir_without_a_resource_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _cli.main(["fhir"])

    assert exit_info.value.code == 2
    assert "RESOURCE" in capsys.readouterr().err


def test_assess_input_fhir_gives_the_json_assessment_of_the_case(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    response = write_case(tmp_path, example_response(), "response.json")
    case_file = tmp_path / "case.json"
    case_file.write_text(stalkrisk.example_case().model_dump_json(), encoding="utf-8")

    code, out, err = run(
        monkeypatch, capsys, "assess", "--input", "fhir", str(response), "--format", "json"
    )
    _, from_case, _ = run(monkeypatch, capsys, "assess", str(case_file), "--format", "json")

    assert code == 0
    assert err == ""
    assert out == from_case


def test_assess_input_fhir_reads_the_response_of_the_fhir_version(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin = json.dumps(example_response("R5"))

    code, out, _ = run(
        monkeypatch,
        capsys,
        *("assess", "--input", "fhir", "--fhir-version", "R5", "-", "--format", "json"),
        stdin=stdin,
    )

    assert code == 0
    assert stalkrisk.Assessment.model_validate_json(out) == stalkrisk.assess(
        stalkrisk.example_case()
    )


def test_assess_input_fhir_to_format_fhir_gives_the_risk_assessment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    options = ("--format", "fhir", "--subject", "Patient/7")

    code, out, _ = run(
        monkeypatch,
        capsys,
        *("assess", "--input", "fhir", "-", *options),
        stdin=json.dumps(example_response()),
    )

    assert code == 0
    assert json.loads(out) == stalkrisk.fhir.to_risk_assessment(
        stalkrisk.assess(stalkrisk.example_case()), subject_reference="Patient/7"
    )


def test_assess_input_fhir_of_a_bad_response_exits_2_with_linkid_locs_in_json(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = with_answer(example_response(), "assessed_at", {"valueDateTime": "2025-03-24T09:00:00"})

    code, out, err = run(
        monkeypatch,
        capsys,
        *("assess", "--input", "fhir", "-", "--format", "json"),
        stdin=json.dumps(bad),
    )

    assert code == 2
    assert out == ""
    report = json.loads(err)
    assert report["input"] == "-"
    assert [(p["loc"], p["type"]) for p in report["problems"]] == [
        ("assessed_at", "timezone_aware")
    ]


def test_assess_input_fhir_reports_a_bad_response_as_text_naming_the_linkid(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = with_answer(example_response(), "assessed_at", {"valueString": SENTINEL})

    code, out, err = run(
        monkeypatch, capsys, "assess", "--input", "fhir", "-", stdin=json.dumps(bad)
    )

    assert code == 2
    assert_clean_failure(out, err)
    assert err.splitlines() == [
        "stalkrisk: invalid QuestionnaireResponse (1 problem)",
        "  assessed_at: needs a valueDateTime answer, not valueString [answer_type]",
    ]
    assert SENTINEL not in err


def test_assess_input_fhir_refuses_a_case(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        monkeypatch,
        capsys,
        *("assess", "--input", "fhir", "-", "--format", "json"),
        stdin=json.dumps(threat_case()),
    )

    assert code == 2
    assert out == ""
    assert [p["type"] for p in json.loads(err)["problems"]] == ["resource_type"]


def test_assess_input_fhir_with_jsonl_assesses_each_line_and_reports_the_bad_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = with_answer(response_of(gift_case()), "assessed_at", {"valueBoolean": True})
    stdin = jsonl(response_of(threat_case()), bad, response_of(gift_case()))

    code, out, err = run(
        monkeypatch,
        capsys,
        *("assess", "--input", "fhir", "--jsonl", "-", "--format", "json"),
        stdin=stdin,
    )

    assert code == 2
    assert levels(out) == ["police", "reflective"]
    [report] = [json.loads(line) for line in err.splitlines()]
    assert (report["line"], report["problems"][0]["loc"]) == (2, "assessed_at")


def test_assess_input_fhir_of_several_files_gives_one_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    first = write_case(tmp_path, response_of(threat_case()), "a.json")
    second = write_case(tmp_path, response_of(gift_case()), "b.json")
    options = ("--format", "fhir", "--subject", "Patient/7")

    code, out, _ = run(
        monkeypatch, capsys, "assess", "--input", "fhir", str(first), str(second), *options
    )

    assert code == 0
    assert json.loads(out) == stalkrisk.fhir.bundle(
        [stalkrisk.assess(threat_case()), stalkrisk.assess(gift_case())],
        subject_reference="Patient/7",
    )


def test_assess_input_fhir_with_jsonl_and_no_response_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        monkeypatch, capsys, "assess", "--input", "fhir", "--jsonl", "-", stdin="\n"
    )

    assert code == 2
    assert_clean_failure(out, err)
    assert err == (
        "stalkrisk: standard input: no QuestionnaireResponses; "
        "expected one QuestionnaireResponse as JSON per line\n"
    )


def test_trajectory_input_fhir_gives_the_trajectory_of_the_case(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        monkeypatch,
        capsys,
        *("trajectory", "--input", "fhir", "-", "--format", "json"),
        stdin=json.dumps(example_response()),
    )

    assert code == 0
    assert stalkrisk.Trajectory.model_validate_json(out) == stalkrisk.trajectory(
        stalkrisk.example_case()
    )


def test_trajectory_fhir_version_without_input_fhir_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        monkeypatch,
        capsys,
        "trajectory",
        "-",
        "--fhir-version",
        "R5",
        stdin=stalkrisk.example_case().model_dump_json(),
    )

    assert code == 2
    assert_clean_failure(out, err)
    assert err == "stalkrisk: --fhir-version: only with --input fhir\n"


# --- the help pasted in docs/cli.md -----------------------------------------------------------


CLI_MD = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


def _words(text: str) -> str:
    return " ".join(text.split())


def _help(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit):
        _cli.main([*argv, "--help"])
    return capsys.readouterr().out


def _text_blocks() -> list[str]:
    return re.findall(r"^```text\n(.*?)^```", CLI_MD.read_text(encoding="utf-8"), re.M | re.S)


def test_docs_list_each_command_with_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    listing = _text_blocks()[0].splitlines()[2:]

    help_text = _words(_help(capsys))

    assert len(listing) == 6
    assert [line for line in listing if _words(line) not in help_text] == []


@pytest.mark.parametrize("command", ["assess", "trajectory", "fhir questionnaire"])
def test_docs_give_each_command_with_options_its_current_usage(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    usage = _help(capsys, *command.split()).split("\n\n")[0].removeprefix("usage: ")

    assert _words(usage) in [_words(block) for block in _text_blocks()]
