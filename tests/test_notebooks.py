"""The notebooks run from top to bottom (reduced sizes), and their own checks pass."""

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert len(NOTEBOOKS) == 4


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path, tmp_path, monkeypatch):
    monkeypatch.delenv("COMMONS_NOTEBOOK_FULL", raising=False)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    # the kernel runs in a temporary directory: it imports the same commons as this process
    import commons
    here = str(Path(commons.__file__).resolve().parents[1])
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [here, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]))
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[0].cell_type == "markdown"
    assert "**Reproduces**" in nb.cells[0].source       # says what it reproduces
    assert "Numbers found" in nb.cells[-2].source          # ends with what it found
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()                                        # raises on any failed cell
    outputs = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    assert outputs.strip()
