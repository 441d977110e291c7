"""The documentation stays true: its Python examples run, and it covers what it must.

Every fenced ```python block in README.md and docs/*.md runs, in order, in one fresh
namespace per file, from the repository root.  A block whose fence line is
```python no-run is skipped on purpose (for snippets that cannot run).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import stalkrisk

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
DOC_FILES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
# The pages whose runnable examples are part of the contract; other pages run any they have.
MUST_HAVE_EXAMPLES = {"README.md", "input.md", "output.md", "rules.md", "cli.md"}

_FENCE = re.compile(r"^\s*(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
_LINK = re.compile(r"\[[^\]]*\]\((?P<target>[^)\s]+)\)")


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def fenced_blocks(text: str) -> list[tuple[str, int, str]]:
    """Every fenced block as (info string, line number of its first line, source)."""
    blocks = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence = opening["fence"]
        end = index + 1
        while end < len(lines):
            stripped = lines[end].strip()
            if stripped.startswith(fence) and set(stripped) == {fence[0]}:
                break
            end += 1
        source = textwrap.dedent("\n".join(lines[index + 1 : end]))
        blocks.append((opening["info"].strip(), index + 2, source))
        index = end + 1
    return blocks


def python_blocks(text: str) -> list[tuple[int, str]]:
    """The ```python blocks to run, as (line number, source); ```python no-run is skipped."""
    runnable = []
    for info, line, source in fenced_blocks(text):
        words = info.split()
        if words[:1] == ["python"] and "no-run" not in words[1:]:
            runnable.append((line, source))
    return runnable


def test_block_collection_runs_python_and_skips_no_run() -> None:
    text = "\n".join([
        "Intro.", "```python", "x = 1", "```",
        "```python no-run", "open('/nowhere')", "```",
        "```sh", "make demo", "```",
        "````python", "y = '```'", "````",
    ])  # fmt: skip

    assert python_blocks(text) == [(3, "x = 1"), (12, "y = '```'")]


@pytest.mark.parametrize("path", DOC_FILES, ids=_name)
def test_examples_run(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = python_blocks(path.read_text(encoding="utf-8"))
    if path.name in MUST_HAVE_EXAMPLES:
        assert blocks, f"{_name(path)} has lost its runnable ```python examples"
    monkeypatch.chdir(ROOT)  # examples read rules/default.yaml from a source checkout
    namespace: dict[str, object] = {"__name__": f"docs_{path.stem}"}
    for line, source in blocks:
        # Pad with blank lines so that tracebacks point at the line in the Markdown file.
        code = compile("\n" * (line - 1) + source, str(path), "exec")
        exec(code, namespace)


def test_readme_gives_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = [
        source.strip()
        for info, _, source in fenced_blocks(readme)
        if info in ("sh", "bash", "console", "shell") and source.strip().startswith("make")
    ]

    assert commands == ["make demo", "make test"]


def test_readme_ladder_table_matches_the_pack() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")

    for spec in stalkrisk.default_rule_pack().levels:
        assert f"| `{spec.code.value}` | {spec.title} |" in readme


def test_every_default_rule_is_documented() -> None:
    rules_md = (DOCS / "rules.md").read_text(encoding="utf-8")

    missing = [r.id for r in stalkrisk.default_rule_pack().rules if f"`{r.id}`" not in rules_md]
    assert not missing, f"docs/rules.md does not mention {missing}"


def _effect(rule: Any) -> str:
    element, level, urgent = (getattr(rule, name) for name in ("element", "level", "urgent"))
    if element is not None:
        return f"element {element}"
    if level is not None:
        return f"level {level.value}" + (", urgent" if urgent else "")
    return "note"


def test_default_rules_table_matches_the_pack() -> None:
    rows = {}
    for line in (DOCS / "rules.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and re.fullmatch(r"`[a-z][a-z0-9._-]*`", cells[0]):
            rows[cells[0].strip("`")] = (cells[1], cells[2])
    pack = stalkrisk.default_rule_pack()

    expected = {rule.id: (rule.on, _effect(rule)) for rule in pack.rules}
    assert {rule_id: rows.get(rule_id) for rule_id in expected} == expected
    assert list(rows) == [rule.id for rule in pack.rules], "keep the table in pack order"


def test_every_fact_field_is_documented() -> None:
    listing = subprocess.run(
        [sys.executable, "-m", "stalkrisk", "rules", "--fields"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    fields = set(re.findall(r"^  (\w+) \((?:count|number|bool|enum)\):", listing, re.M))
    rules_md = (DOCS / "rules.md").read_text(encoding="utf-8")

    assert len(fields) > 40
    assert sorted(name for name in fields if f"`{name}`" not in rules_md) == []


def test_output_example_is_the_real_output() -> None:
    output_md = (DOCS / "output.md").read_text(encoding="utf-8")
    [shown] = [source for info, _, source in fenced_blocks(output_md) if info == "json"]
    real = stalkrisk.assess(stalkrisk.example_case()).model_dump(mode="json")

    assert json.loads(shown) == real, (
        "docs/output.md is stale; regenerate its JSON block with "
        "`stalkrisk example | stalkrisk assess - --format json`"
    )


@pytest.mark.parametrize("path", DOC_FILES, ids=_name)
def test_relative_links_resolve(path: Path) -> None:
    broken = []
    for match in _LINK.finditer(path.read_text(encoding="utf-8")):
        target = match["target"]
        if re.match(r"[a-z]+:", target):
            continue  # an external link
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        unknown_anchor = bool(anchor) and linked.suffix == ".md"
        if not linked.exists() or (unknown_anchor and anchor not in _anchors(linked)):
            broken.append(target)

    assert not broken, f"{_name(path)} links to missing targets: {broken}"


def _anchors(path: Path) -> set[str]:
    """GitHub-style anchors of the Markdown headings in ``path``."""
    anchors = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^#{1,6}\s+(.*)$", line)
        if heading:
            slug = re.sub(r"[^\w\- ]", "", heading[1].strip().lower()).replace(" ", "-")
            anchors.add(slug)
    return anchors
