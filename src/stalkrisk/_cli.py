"""The ``stalkrisk`` command.

Exit codes: 0 ok, 1 internal error, 2 invalid input (the message names the JSON
path, the linkId of a FHIR QuestionnaireResponse item or the rule-pack field, one
problem per line, and never quotes case text)
or a standard stream that cannot be used: standard input closed or unreadable,
standard output closed or failing (a full disk).  Both are for the user to fix;
1 is kept for faults of the program.  With several cases (several FILEs, or
``--jsonl``), 2 if any was invalid: the others are still assessed and written, and
an internal error stops them all.  A closed standard error only silences the
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
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TextIO, TypeVar

from pydantic import BaseModel

from ._api import assess
from ._assessment import Assessment
from ._case import Case
from ._examples import example_json
from ._exceptions import CaseValidationError, EngineError, Problem, RulePackError
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

_FHIR_OPTIONS = ("subject", "performer", "basis", "status", "id")  # of --format fhir
_FHIR_VERSIONS = ("R4", "R4B", "R5")
_FHIR_ARGUMENTS = (
    ("subject_reference", "--subject"),
    ("performer_reference", "--performer"),
    ("basis", "--basis"),
    ("status", "--status"),
    ("id", "--id"),
)
_NOT_IN_A_BUNDLE = ("basis", "id")  # fhir.bundle() has no per-resource basis or id


class _InvalidInput(Exception):
    """Input the user can fix; the message is safe to print.

    ``type`` is the stable code of the problem in the JSON report of ``--format json``.
    """

    def __init__(self, message: str, *, type: str = "invalid") -> None:
        super().__init__(message)
        self.type = type


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
            raise _InvalidInput("cannot read standard input (it is closed)", type="unreadable")
        stream = getattr(stdin, "buffer", None)  # a text-only stand-in has none
        try:
            return stream.read().decode("utf-8-sig") if stream is not None else stdin.read()
        except UnicodeDecodeError:
            raise _InvalidInput("standard input is not UTF-8 text", type="not_utf8") from None
        except (OSError, ValueError) as error:
            raise _InvalidInput(
                f"cannot read standard input ({_why(error)})", type="unreadable"
            ) from None
    try:
        return Path(source).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise _InvalidInput(f"{source}: no such file", type="not_found") from None
    except IsADirectoryError:
        raise _InvalidInput(
            f"{source}: is a directory, expected a JSON file", type="is_a_directory"
        ) from None
    except UnicodeDecodeError:
        raise _InvalidInput(f"{source}: not UTF-8 text", type="not_utf8") from None
    except OSError as error:
        raise _InvalidInput(
            f"{source}: cannot read ({error.strerror})", type="unreadable"
        ) from None


def _pack(path: str | None) -> RulePack:
    return load_rule_pack(path) if path else default_rule_pack()


_Result = TypeVar("_Result")


@dataclass(frozen=True)
class _Input:
    """Where a case comes from: a FILE argument (``-`` for standard input) and its line."""

    source: str
    line: int | None = None  # with --jsonl

    @property
    def label(self) -> str:
        name = "standard input" if self.source == "-" else self.source
        return name if self.line is None else f"{name}, line {self.line}"

    def report(self, problems: Sequence[Problem]) -> str:
        """The JSON problem report of ``--format json``: one line, naming this input."""
        document: dict[str, object] = {"input": self.source}
        if self.line is not None:
            document["line"] = self.line
        document["problems"] = [
            {"loc": problem.loc, "type": problem.type, "msg": problem.msg} for problem in problems
        ]
        return json.dumps(document, ensure_ascii=False)


class _Batch:
    """The cases of ``assess`` and ``trajectory``, each reported on standard error if invalid.

    With several FILEs or ``--jsonl`` the command runs in batch mode: every case is
    tried, text results and messages name their input, and JSON results are JSON Lines.
    """

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.several = bool(args.jsonl) or len(args.files) > 1
        self.as_json = args.format == "json"
        self.invalid = False
        # What each input holds, as the messages name it.
        self.noun = "QuestionnaireResponse" if args.input == "fhir" else "case"

    def cases(self) -> Iterator[tuple[_Input, str]]:
        """Each case's input and text, in input order; the unreadable ones are reported."""
        for source in self.args.files:
            whole = _Input(source)
            try:
                text = _read_input(source)
            except _InvalidInput as error:
                self.reject(whole, str(error), [Problem("", error.type, str(error))])
                continue
            if not self.args.jsonl:
                yield whole, text
                continue
            # Split on "\n" only: JSON text may hold U+2028, which splitlines() would cut.
            lines = enumerate(text.split("\n"), 1)
            cases = [(number, line) for number, line in lines if line.strip()]
            if not cases:
                noun = self.noun
                message = f"{whole.label}: no {noun}s; expected one {noun} as JSON per line"
                self.reject(whole, message, [Problem("", "empty", message)])
            for number, line in cases:
                yield _Input(source, number), line

    def results(self, make: Callable[[str], _Result]) -> Iterator[tuple[_Input, _Result]]:
        """``make`` applied to each valid case; invalid cases are reported and skipped."""
        for where, text in self.cases():
            prefix = f"{where.label}: " if self.several else ""
            if not text.strip():
                message = f"the input is empty; expected a {self.noun} as JSON"
                self.reject(where, prefix + message, [Problem("", "empty", message)])
                continue
            try:
                result = make(text)
            except CaseValidationError as error:
                count = len(error.problems)
                plural = "s" if count != 1 else ""
                lines = [f"{prefix}invalid {self.noun} ({count} problem{plural})"]
                lines += [f"  {problem}" for problem in error.problems]
                self.reject(where, "\n".join(lines), error.problems)
                continue
            yield where, result

    def reject(self, where: _Input, message: str, problems: Sequence[Problem]) -> None:
        self.invalid = True
        _say(where.report(problems) if self.as_json else f"stalkrisk: {message}")

    def write(self, out: TextIO, results: Iterable[tuple[_Input, BaseModel]]) -> int:
        """Write the results as ``--format`` text or JSON; the exit code for the batch."""
        for index, (where, result) in enumerate(results):
            if self.as_json:
                # Shielded: pydantic would turn a Ctrl-C while it serialises into its own error.
                dump = partial(result.model_dump_json, indent=None if self.several else 2)
                out.write(shielded(dump) + "\n")
                continue
            if self.several:
                out.write(("\n" if index else "") + f"==> {where.label} <==\n")
            out.write(str(result) + "\n")
        return self.code()

    def code(self) -> int:
        return EXIT_INVALID if self.invalid else EXIT_OK


def _fhir_output(results: Sequence[Assessment], args: argparse.Namespace, several: bool) -> str:
    """One RiskAssessment as indented JSON, or a transaction Bundle of several as one line."""
    from . import fhir

    # Options left out take the library's defaults (status preliminary, version R4).
    given = {
        "performer_reference": args.performer,
        "status": args.status,
        "version": args.fhir_version,
    }
    options: dict[str, Any] = {name: value for name, value in given.items() if value is not None}
    try:
        if several:
            document = fhir.bundle(results, subject_reference=args.subject, **options)
            return json.dumps(document, ensure_ascii=False) + "\n"
        [result] = results
        resource = fhir.to_risk_assessment(
            result, subject_reference=args.subject, basis=args.basis or (), id=args.id, **options
        )
        return json.dumps(resource, indent=2, ensure_ascii=False) + "\n"
    except ImportError as error:
        raise _InvalidInput(str(error)) from None
    except ValueError as error:
        # Only the options given on the command line can be wrong here; the message
        # names the argument (renamed to its option) and quotes only what the user typed.
        message = re.sub(r"^assessments\[\d+\]: ", "", str(error).splitlines()[0])
        for argument, option in _FHIR_ARGUMENTS:
            message = re.sub(rf"^{argument}\b(\[\d+\])?", option, message)
        raise _InvalidInput(message) from None


def _reader(args: argparse.Namespace) -> Callable[[str], str | Case]:
    """What ``assess`` and ``trajectory`` take for the text of one input: the case JSON as
    it is, or with ``--input fhir`` the Case read from a QuestionnaireResponse."""
    if args.input != "fhir":
        return lambda text: text
    from . import fhir

    options = {} if args.fhir_version is None else {"version": args.fhir_version}

    def read(text: str) -> Case:
        try:
            return fhir.case_from_response(text, **options)
        except ImportError as error:
            raise _InvalidInput(str(error)) from None

    return read


def _cmd_assess(args: argparse.Namespace, out: TextIO) -> int:
    if args.format != "fhir":
        given = [name for name in _FHIR_OPTIONS if getattr(args, name) is not None]
        wrong = []
        if given:
            options = ", ".join("--" + name for name in given)
            wrong.append(f"{options}: only with --format fhir")
        # --fhir-version also tells the version of --input fhir.
        if args.fhir_version is not None and args.input != "fhir":
            wrong.append("--fhir-version: only with --format fhir or --input fhir")
        if wrong:
            raise _InvalidInput("; ".join(wrong))
    elif args.subject is None:
        # No default: a resource about "Patient/unknown" would be filed against nobody.
        raise _InvalidInput("--format fhir needs --subject, the client: Patient/ID or Group/ID")
    batch = _Batch(args)
    if args.format == "fhir" and batch.several:
        given = [name for name in _NOT_IN_A_BUNDLE if getattr(args, name) is not None]
        if given:
            options = ", ".join("--" + name for name in given)
            raise _InvalidInput(f"{options}: only with one case, not in a bundle")
    pack = _pack(args.rules)
    read = _reader(args)
    results = batch.results(lambda text: assess(read(text), rule_pack=pack))
    if args.format != "fhir":
        return batch.write(out, results)
    assessments = [result for _, result in results]
    if assessments:  # with no valid case there is nothing to write, not an empty bundle
        out.write(_fhir_output(assessments, args, batch.several))
    return batch.code()


def _cmd_trajectory(args: argparse.Namespace, out: TextIO) -> int:
    if args.fhir_version is not None and args.input != "fhir":
        raise _InvalidInput("--fhir-version: only with --input fhir")
    pack = _pack(args.rules)
    batch = _Batch(args)
    read = _reader(args)
    return batch.write(
        out, batch.results(lambda text: trajectory(read(text), rule_pack=pack, full=args.full))
    )


def _cmd_fhir_questionnaire(args: argparse.Namespace, out: TextIO) -> int:
    from . import fhir

    try:
        document = fhir.questionnaire(version=args.fhir_version)
    except ImportError as error:
        raise _InvalidInput(str(error)) from None
    out.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return EXIT_OK


def _schema_text(model: type[BaseModel]) -> str:
    """The JSON Schema of ``model`` exactly as ``stalkrisk schema`` prints it."""
    return json.dumps(model.model_json_schema(), indent=2, sort_keys=True) + "\n"


def _cmd_schema(args: argparse.Namespace, out: TextIO) -> int:
    if args.rulepack or args.vignette:
        from ._packschema import rulepack_schema
        from .vignettes import schema as vignette_schema

        document = rulepack_schema() if args.rulepack else vignette_schema()
        out.write(json.dumps(document, indent=2, sort_keys=True) + "\n")
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


def _case_arguments(
    parser: argparse.ArgumentParser, formats: tuple[str, ...], fhir_version_help: str
) -> None:
    """The input and output arguments shared by ``assess`` and ``trajectory``."""
    parser.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="case JSON file (a QuestionnaireResponse with --input fhir), or - for standard "
        "input; several are run in turn",
    )
    parser.add_argument(
        "--input",
        choices=("case", "fhir"),
        default="case",
        help="what each FILE holds: a case (the default) or, with fhir, a FHIR "
        "QuestionnaireResponse to the form of stalkrisk fhir questionnaire",
    )
    parser.add_argument(
        "--jsonl",
        action="store_true",
        help="each FILE holds one case (or response) per line (JSON Lines)",
    )
    parser.add_argument("--format", choices=formats, default="text")
    parser.add_argument(
        "-o", "--output", metavar="OUT", help="write the results to this file, not stdout"
    )
    parser.add_argument(
        "--rules", metavar="PACK", help="a rule pack file instead of the bundled one"
    )
    parser.add_argument("--fhir-version", choices=_FHIR_VERSIONS, help=fhir_version_help)


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

    p_assess = commands.add_parser("assess", help="assess cases given as JSON")
    _case_arguments(
        p_assess,
        ("text", "json", "fhir"),
        "FHIR version of --input fhir and --format fhir (default R4, validated with the R4B "
        "models)",
    )
    fhir_options = p_assess.add_argument_group(
        "FHIR output",
        "with --format fhir: a FHIR RiskAssessment, or a transaction Bundle of several"
        " (needs stalkrisk[fhir])",
    )
    fhir_options.add_argument(
        "--subject", metavar="REF", help="the client, Patient/ID or Group/ID (required)"
    )
    fhir_options.add_argument(
        "--performer", metavar="REF", help="who assessed, such as Practitioner/ID"
    )
    fhir_options.add_argument(
        "--basis",
        metavar="REF",
        action="append",
        help="a record the assessment rests on, as DocumentReference/ID (repeatable; one case)",
    )
    fhir_options.add_argument(
        "--status",
        metavar="CODE",
        help="the resource's status, such as final (default preliminary: awaiting sign-off)",
    )
    fhir_options.add_argument("--id", metavar="ID", help="the resource's id (only with one case)")
    p_assess.set_defaults(run=_cmd_assess)

    p_trajectory = commands.add_parser(
        "trajectory", help="re-assess cases at every contact: the grade as the journal grew"
    )
    _case_arguments(
        p_trajectory,
        ("text", "json"),
        "FHIR version of --input fhir (default R4, validated with the R4B models)",
    )
    p_trajectory.add_argument(
        "--full", action="store_true", help="give each step its whole assessment"
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
    which.add_argument(
        "--vignette", action="store_true", help="a training vignette file (vignettes.load)"
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

    p_fhir = commands.add_parser(
        "fhir", help="print FHIR resources: the case intake Questionnaire (needs stalkrisk[fhir])"
    )
    resources = p_fhir.add_subparsers(dest="resource", required=True, metavar="RESOURCE")
    p_questionnaire = resources.add_parser(
        "questionnaire", help="the case intake form as a FHIR Questionnaire (JSON)"
    )
    p_questionnaire.add_argument(
        "--fhir-version",
        choices=_FHIR_VERSIONS,
        default="R4",
        help="FHIR version (default R4, validated with the R4B models)",
    )
    p_questionnaire.add_argument(
        "-o", "--output", metavar="OUT", help="write the Questionnaire to this file, not stdout"
    )
    p_questionnaire.set_defaults(run=_cmd_fhir_questionnaire)
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


def _write_file(path: str, text: str) -> int:
    """Write ``text`` to ``path`` whole or not at all: a temporary file beside it, then a rename."""
    target = Path(path)
    try:
        # mkstemp makes the file readable by its owner only, as befits clinical data.
        handle, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
        )
    except OSError as error:
        _say(f"stalkrisk: cannot write {path} ({error.strerror})")
        return EXIT_INVALID
    done = False
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())  # on disk before the rename makes it the file
        os.replace(temporary, target)
        done = True
    except OSError as error:
        _say(f"stalkrisk: cannot write {path} ({error.strerror})")
        return EXIT_INVALID
    finally:
        if not done:
            Path(temporary).unlink(missing_ok=True)
    return EXIT_OK


def _pack_report(error: RulePackError) -> str:
    """The JSON problem report of ``--format json`` for a rule pack."""
    problems = [
        {"loc": problem.field or "", "type": problem.type, "msg": problem.msg}
        for problem in error.problems
    ]
    return json.dumps({"rule_pack": error.file, "problems": problems}, ensure_ascii=False)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    # The output is written only once the command has run, so that a failure
    # to write it is told apart from a failure to make it.
    out = io.StringIO()
    try:
        code: int = args.run(args, out)
    except RulePackError as error:
        as_json = getattr(args, "format", None) == "json"
        _say(_pack_report(error) if as_json else f"stalkrisk: {error}")
        return EXIT_INVALID
    except _InvalidInput as error:
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
    text = out.getvalue()
    output = getattr(args, "output", None)
    if output is None:
        written = _write_output(text)
    else:
        # With no result (every case invalid) an earlier file is left as it was.
        written = _write_file(output, text) if text else EXIT_OK
    return code if written == EXIT_OK else written


if __name__ == "__main__":
    sys.exit(main())
