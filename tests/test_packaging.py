"""The rule pack ships inside the wheel and is found after a plain install."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    [built] = out.glob("stalkrisk-*.whl")
    return built


def test_wheel_contains_rule_pack_typing_marker_and_example(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())

    assert "stalkrisk/_rules/default.yaml" in names
    assert "stalkrisk/py.typed" in names
    assert "stalkrisk/examples/former_client.json" in names


def test_installed_wheel_finds_its_rule_pack_outside_the_source_tree(
    wheel: Path, tmp_path: Path
) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
         str(wheel)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    script = (
        "import stalkrisk, stalkrisk._registry as r;"
        "path, shown = r._default_path();"
        "print(stalkrisk.__file__); print(path); print(shown);"
        "print(stalkrisk.assess(stalkrisk.example_case()).level.value)"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True
    )

    assert done.returncode == 0, done.stderr
    module, pack, shown, level = done.stdout.split("\n")[:4]
    assert module.startswith(str(target))
    assert pack.startswith(str(target))
    assert shown == "stalkrisk/_rules/default.yaml"
    assert level == "referral"


def test_the_ci_test_command_runs_the_slow_tests_too() -> None:
    root = Path(__file__).resolve().parents[1]
    makefile = (root / "Makefile").read_text(encoding="utf-8")
    pyproject = (root / "pyproject.toml").read_text(encoding="utf-8")

    assert "slow:" in pyproject  # the marker is declared, so --strict-markers accepts it
    assert "not slow" not in makefile
    assert "not slow" not in pyproject.split("markers")[0]
