"""docs/lecture.ipynb runs, cell by cell, in a real Jupyter kernel (nbclient + ipykernel, the
notebook extra), so it cannot rot; and it is committed with its outputs, so it reads on GitHub."""

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).parents[2] / "docs" / "lecture.ipynb"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The notebook run top to bottom in a new kernel (a cell that raises fails here, naming it)."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cwd = tmp_path_factory.mktemp("lecture")  # anything it writes lands here, not in docs/
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", coalesce_streams=True,
                            resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


def _text(cell):
    """The text a cell showed: its streams and the plain text of its results."""
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", "") + out.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def test_every_code_cell_runs_and_shows_something(executed):
    code = [c for c in executed.cells if c.cell_type == "code"]
    assert all(c.outputs for c in code)
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]


def test_the_sweep_shows_its_progress_bar_in_the_notebook(executed):
    [sweep] = [c for c in executed.cells if "bench.run_sweep(" in c.source]
    bar = [o.text for o in sweep.outputs if o.get("name") == "stderr"]
    assert bar and "points" in bar[0]


def test_the_figures_are_drawn_inline(executed):
    pictures = [o for c in executed.cells for o in c.get("outputs", [])
                if "image/png" in o.get("data", {})]
    assert len(pictures) == 3  # time, local exponents, the training race


def test_the_race_follows_one_trajectory(executed):
    [race] = [c for c in executed.cells if "race.run(" in c.source]
    assert "the same trajectory" in _text(race)


def test_the_committed_notebook_carries_its_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs for c in code)
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))  # run in order, once
