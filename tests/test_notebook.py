"""The training notebook: committed with its outputs, and still running from top to bottom.

After a change to the library or the notebook, execute it again and save it with
its outputs (run from the repository root)::

    .venv/bin/python tests/test_notebook.py
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "docs" / "notebooks" / "training.ipynb"
MAX_BYTES = 1_500_000
# A live widget's output names a model in a kernel that is gone by the time the
# notebook is read; its id changes on every run.  The HTML fallback beside it stays.
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _read() -> Any:
    return nbformat.read(NOTEBOOK, as_version=4)  # type: ignore[no-untyped-call]  # untyped


def _code_cells(notebook: Any) -> list[Any]:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def _outputs(notebook: Any) -> list[Any]:
    return [output for cell in _code_cells(notebook) for output in cell.outputs]


def execute(notebook: Any, cwd: Path) -> None:
    """Run every cell in a fresh kernel; raises on the first cell that fails."""
    client = NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": cwd}},
        record_timing=False,  # no timestamps in the committed file
        store_widget_state=False,
    )
    client.execute()


def rewrite() -> None:
    """Execute the committed notebook and save it with its outputs, as CI checks them."""
    notebook = _read()
    metadata = copy.deepcopy(notebook.metadata)
    execute(notebook, ROOT / "docs" / "notebooks")
    # The kernel fills in its Python version; the committed file stays machine-neutral.
    notebook.metadata = metadata
    for output in _outputs(notebook):
        output.get("data", {}).pop(WIDGET_VIEW, None)
    nbformat.write(notebook, NOTEBOOK)  # type: ignore[no-untyped-call]  # untyped


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The committed notebook, executed once for the tests below."""
    notebook = _read()
    execute(notebook, tmp_path_factory.mktemp("notebook"))
    return notebook


def test_training_notebook_runs_without_errors(executed: Any) -> None:
    outputs = _outputs(executed)

    assert not [o for o in outputs if o.output_type == "error"]
    rich = [o for o in outputs if "text/html" in o.get("data", {})]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(rich) >= 4
    assert len(images) >= 2


def test_the_exercise_renders_without_a_frontend(executed: Any) -> None:
    shown = [
        o.data
        for cell in _code_cells(executed)
        if "stalkrisk.exercise(" in cell.source
        for o in cell.outputs
        if o.output_type == "execute_result"
    ]

    assert shown
    assert all(WIDGET_VIEW in data and "text/html" in data for data in shown)


def test_committed_notebook_carries_the_outputs_of_every_code_cell() -> None:
    cells = _code_cells(_read())

    assert [cell.execution_count for cell in cells] == list(range(1, len(cells) + 1))
    assert all(cell.outputs for cell in cells)
    outputs = [o for cell in cells for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert not [o for o in outputs if o.get("name") == "stderr"]
    assert not [o for o in outputs if WIDGET_VIEW in o.get("data", {})]


def test_committed_notebook_is_small_and_machine_neutral() -> None:
    text = NOTEBOOK.read_text(encoding="utf-8")

    assert len(text.encode()) < MAX_BYTES
    assert str(ROOT) not in text
    assert "site-packages" not in text
    assert '"execution": {' not in text  # no cell timings


if __name__ == "__main__":
    rewrite()
