"""The ``stalkrisk`` command.

Exit codes: 0 ok, 1 internal error, 2 invalid input (the message names the JSON
path or the rule-pack field, one problem per line, and never quotes case text)
or a standard stream that cannot be used: standard input closed or unreadable,
standard output closed or failing (a full disk).  Both are for the user to fix;
1 is kept for faults of the program.  A closed standard error only silences the
messages; the exit code still tells.  130 means interrupted (Ctrl-C): nothing is
printed but one line on standard error.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from pydantic import BaseModel

from ._api import assess
from ._assessment import Assessment
from ._case import Case
from ._examples import example_json
from ._exceptions import CaseValidationError, EngineError, RulePackError
from ._fields import fields_for
from ._packmodel import RulePack
from ._registry import default_rule_pack, load_rule_pack
from ._shield import shielded
from ._trajectory import Trajectory, trajectory
from ._version import __version__
from ._wording import describe_effect

__all__ = ["main"]

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_INVALID = 2
EXIT_INTERRUPTED = 130  # the shells' code for a command ended by SIGINT

_DEFAULT_SUBJECT = "Patient/unknown"
_FHIR_OPTIONS = ("subject", "performer", "basis", "fhir_version")
_FHIR_ARGUMENTS = (
    ("subject_reference", "--subject"),
    ("performer_reference", "--performer"),
    ("basis", "--basis"),
)


class _InvalidInput(Exception):
    """Input the user can fix; the message is safe to print."""


def _why(error: Exception) -> str:
    """Why a standard stream failed, in words safe to print."""
    if isinstance(error, UnicodeError):
        return "its encoding cannot represent the text; set PYTHONIOENCODING=utf-8"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return "it is closed"


def _read_input(source: str) -> str:
    # utf-8-sig: a byte-order mark, as some Windows editors write, is dropped.
    if source == "-":
        stdin = sys.stdin
        if stdin is None:  # Python sets None when the process starts without it
            raise _InvalidInput("cannot read standard input (it is closed)")
        stream = getattr(stdin, "buffer", None)  # a text-only stand-in has none
        try:
            return stream.read().decode("utf-8-sig") if stream is not None else stdin.read()
        except UnicodeDecodeError:
            raise _InvalidInput("standard input is not UTF-8 text") from None
        except (OSError, ValueError) as error:
            raise _InvalidInput(f"cannot read standard input ({_why(error)})") from None
    try:
        return Path(source).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise _InvalidInput(f"{source}: no such file") from None
    except IsADirectoryError:
        raise _InvalidInput(f"{source}: is a directory, expected a case JSON file") from None
    except UnicodeDecodeError:
        raise _InvalidInput(f"{source}: not UTF-8 text") from None
    except OSError as error:
        raise _InvalidInput(f"{source}: cannot read ({error.strerror})") from None


def _pack(path: str | None) -> RulePack:
    return load_rule_pack(path) if path else default_rule_pack()


def _fhir_resource(result: Assessment, args: argparse.Namespace) -> str:
    from . import fhir

    try:
        resource = fhir.to_risk_assessment(
            result,
            subject_reference=args.subject or _DEFAULT_SUBJECT,
            performer_reference=args.performer,
            basis=args.basis or (),
            version=args.fhir_version or "R4",
        )
    except ImportError as error:
        raise _InvalidInput(str(error)) from None
    except ValueError as error:
        # Only the references given on the command line can be wrong here; the message
        # names the argument (renamed to its option) and quotes only what the user typed.
        message = str(error).splitlines()[0]
        for argument, option in _FHIR_ARGUMENTS:
            message = re.sub(rf"^{argument}\b(\[\d+\])?", option, message)
        raise _InvalidInput(message) from None
    return json.dumps(resource, indent=2, ensure_ascii=False) + "\n"


def _case_input(args: argparse.Namespace) -> tuple[RulePack, str]:
    """The rule pack (``--rules``) and the case text (``FILE``) of ``assess`` and ``trajectory``."""
    pack = _pack(args.rules)
    text = _read_input(args.file)
    if not text.strip():
        raise _InvalidInput("the input is empty; expected a case as JSON")
    return pack, text


def _cmd_assess(args: argparse.Namespace, out: TextIO) -> int:
    if args.format != "fhir":
        given = [name for name in _FHIR_OPTIONS if getattr(args, name) is not None]
        if given:
            options = ", ".join("--" + name.replace("_", "-") for name in given)
            raise _InvalidInput(f"{options}: only with --format fhir")
    pack, text = _case_input(args)
    result = assess(text, rule_pack=pack)
    if args.format == "json":
        # Shielded: pydantic would turn a Ctrl-C while it serialises into its own error.
        out.write(shielded(lambda: result.model_dump_json(indent=2)) + "\n")
    elif args.format == "fhir":
        out.write(_fhir_resource(result, args))
    else:
        out.write(str(result) + "\n")
    return EXIT_OK


def _cmd_trajectory(args: argparse.Namespace, out: TextIO) -> int:
    pack, text = _case_input(args)
    result = trajectory(text, rule_pack=pack, full=args.full)
    if args.format == "json":
        # Shielded: pydantic would turn a Ctrl-C while it serialises into its own error.
        out.write(shielded(lambda: result.model_dump_json(indent=2)) + "\n")
    else:
        out.write(str(result) + "\n")
    return EXIT_OK


def _schema_text(model: type[BaseModel]) -> str:
    """The JSON Schema of ``model`` exactly as ``stalkrisk schema`` prints it."""
    return json.dumps(model.model_json_schema(), indent=2, sort_keys=True) + "\n"


def _cmd_schema(args: argparse.Namespace, out: TextIO) -> int:
    if args.rulepack:
        from ._packschema import rulepack_schema

        out.write(json.dumps(rulepack_schema(), indent=2, sort_keys=True) + "\n")
        return EXIT_OK
    model: type[BaseModel] = Case
    if args.assessment:
        model = Assessment
    elif args.trajectory:
        model = Trajectory
    out.write(_schema_text(model))
    return EXIT_OK


def _cmd_rules(args: argparse.Namespace, out: TextIO) -> int:
    pack = _pack(args.rules)
    if args.format == "json":
        document = {
            "name": pack.name,
            "version": pack.version,
            "sha256": pack.sha256,
            "parameters": {name: p.value for name, p in pack.parameters.items()},
            "rules": [
                {
                    "id": rule.id,
                    "title": rule.title,
                    "fact": rule.on,
                    "when": rule.when_text,
                    "effect": rule.effect,
                    "element": rule.element,
                    "level": rule.level.value if rule.level else None,
                    "urgent": rule.urgent,
                    "rationale": rule.rationale,
                    "source": rule.source,
                }
                for rule in pack.rules
            ],
        }
        out.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        return EXIT_OK
    out.write(f"{pack.name} {pack.version} (sha256 {pack.sha256})\n")
    out.write(f"{pack.description}\n\nParameters\n")
    for parameter in pack.parameters.values():
        out.write(f"  {parameter.name} = {parameter.value:g}\n")
    out.write("\nRules\n")
    for rule in pack.rules:
        effect = describe_effect(rule.element, rule.level, rule.urgent)
        out.write(f"\n  {rule.id} — {rule.title}\n")
        out.write(f"    fact {rule.on}: when {rule.when_text} → {effect}\n")
        out.write(f"    why: {' '.join(rule.rationale.split())}\n")
        out.write(f"    source: {rule.source}\n")
    if args.fields:
        for kind in ("episode", "case", "grade"):
            out.write(f"\nFields of the {kind} fact\n")
            for spec in fields_for(kind).values():
                out.write(f"  {spec.name} ({spec.type}): {spec.description}\n")
    return EXIT_OK


def _cmd_example(args: argparse.Namespace, out: TextIO) -> int:
    out.write(example_json())
    return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stalkrisk",
        description="Graded, explained recommendations for clinicians stalked by a client.",
        epilog=(
            "Exit codes: 0 ok, 1 internal error, 2 invalid input or a standard stream "
            "that cannot be read or written, 130 interrupted."
        ),
    )
    parser.add_argument("--version", action="version", version=f"stalkrisk {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p_assess = commands.add_parser("assess", help="assess a case given as JSON")
    p_assess.add_argument("file", metavar="FILE", help="case JSON file, or - for standard input")
    p_assess.add_argument("--format", choices=("text", "json", "fhir"), default="text")
    p_assess.add_argument(
        "--rules", metavar="PACK", help="a rule pack file instead of the bundled one"
    )
    fhir_options = p_assess.add_argument_group(
        "FHIR output", "with --format fhir: a FHIR RiskAssessment (needs stalkrisk[fhir])"
    )
    fhir_options.add_argument(
        "--subject",
        metavar="REF",
        help=f"the client, Patient/ID or Group/ID (default {_DEFAULT_SUBJECT})",
    )
    fhir_options.add_argument(
        "--performer", metavar="REF", help="who assessed, such as Practitioner/ID"
    )
    fhir_options.add_argument(
        "--basis",
        metavar="REF",
        action="append",
        help="a record the assessment rests on, such as DocumentReference/ID (repeatable)",
    )
    fhir_options.add_argument(
        "--fhir-version",
        choices=("R4", "R4B", "R5"),
        help="FHIR version (default R4, validated with the R4B models)",
    )
    p_assess.set_defaults(run=_cmd_assess)

    p_trajectory = commands.add_parser(
        "trajectory", help="re-assess a case at every contact: the grade as the journal grew"
    )
    p_trajectory.add_argument(
        "file", metavar="FILE", help="case JSON file, or - for standard input"
    )
    p_trajectory.add_argument("--format", choices=("text", "json"), default="text")
    p_trajectory.add_argument(
        "--full", action="store_true", help="give each step its whole assessment"
    )
    p_trajectory.add_argument(
        "--rules", metavar="PACK", help="a rule pack file instead of the bundled one"
    )
    p_trajectory.set_defaults(run=_cmd_trajectory)

    p_schema = commands.add_parser(
        "schema", help="print the JSON Schema of a case (or of an assessment or a trajectory)"
    )
    which = p_schema.add_mutually_exclusive_group()
    which.add_argument("--case", action="store_true", help="the case input (the default)")
    which.add_argument("--assessment", action="store_true", help="the assessment output")
    which.add_argument("--trajectory", action="store_true", help="the trajectory output")
    which.add_argument(
        "--rulepack", action="store_true", help="a rule-pack document (rules/*.yaml)"
    )
    p_schema.set_defaults(run=_cmd_schema)

    p_rules = commands.add_parser("rules", help="list the loaded rules with their rationale")
    p_rules.add_argument("--format", choices=("text", "json"), default="text")
    p_rules.add_argument(
        "--rules", metavar="PACK", help="a rule pack file instead of the bundled one"
    )
    p_rules.add_argument(
        "--fields", action="store_true", help="also list the fields rules may test"
    )
    p_rules.set_defaults(run=_cmd_rules)

    p_example = commands.add_parser("example", help="print the bundled example case")
    p_example.set_defaults(run=_cmd_example)
    return parser


def _say(message: str) -> None:
    """Write ``message`` to standard error if it can be written; the exit code tells anyway."""
    stream = sys.stderr
    if stream is None:
        return
    try:
        stream.write(message + "\n")
        stream.flush()
    except (OSError, ValueError):
        _discard(stream)


def _discard(stream: TextIO | None) -> None:
    # Later writes, and Python's flush at exit, then go nowhere instead of failing again.
    if stream is None:
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass  # not a real file (a test's capture): nothing is left to flush at exit


def _write_output(text: str) -> int:
    stdout = sys.stdout
    if stdout is None:  # Python sets None when the process starts without it
        _say("stalkrisk: cannot write to standard output (it is closed)")
        return EXIT_INVALID
    try:
        stdout.write(text)
        stdout.flush()
    except BrokenPipeError:
        # The reader went away (`stalkrisk rules | head`): not an error of ours.
        _discard(stdout)
        return EXIT_OK
    except (OSError, ValueError) as error:
        _discard(stdout)
        _say(f"stalkrisk: cannot write to standard output ({_why(error)})")
        return EXIT_INVALID
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    # The output is written only once the command has succeeded, so that a failure
    # to write it is told apart from a failure to make it.
    out = io.StringIO()
    try:
        code: int = args.run(args, out)
    except CaseValidationError as error:
        count = len(error.problems)
        lines = [f"stalkrisk: invalid case ({count} problem{'s' if count != 1 else ''})"]
        _say("\n".join(lines + [f"  {problem}" for problem in error.problems]))
        return EXIT_INVALID
    except (RulePackError, _InvalidInput) as error:
        _say(f"stalkrisk: {error}")
        return EXIT_INVALID
    except EngineError as error:
        _say(f"stalkrisk: internal error: {error}")
        return EXIT_INTERNAL
    except Exception as error:
        _say(f"stalkrisk: internal error ({type(error).__name__}); please report it")
        return EXIT_INTERNAL
    except KeyboardInterrupt:
        _say("stalkrisk: interrupted")
        return EXIT_INTERRUPTED
    written = _write_output(out.getvalue())
    return code if written == EXIT_OK else written


if __name__ == "__main__":
    sys.exit(main())
