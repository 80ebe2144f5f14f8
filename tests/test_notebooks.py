"""The notebooks are tutorials: saved as executed at full size, with every figure explained and
the checks labelled; here they run from top to bottom at reduced size, and their checks pass."""

import base64
import io
import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
IDS = [p.stem for p in NOTEBOOKS]


def _text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", ()))


def _code(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def _numbers_found(nb):
    """The code cell under the "Numbers found" heading."""
    for k, cell in enumerate(nb.cells[:-1]):
        if cell.cell_type == "markdown" and cell.source.startswith("## Numbers found"):
            assert nb.cells[k + 1].cell_type == "code"
            return nb.cells[k + 1]
    raise AssertionError("no '## Numbers found' section")


def test_there_are_notebooks():
    assert len(NOTEBOOKS) == 4


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_is_a_tutorial(path):
    nb = nbformat.read(path, as_version=4)
    intro = nb.cells[0]
    assert intro.cell_type == "markdown"
    assert "**Reproduces**" in intro.source                  # says what it reproduces
    assert "COMMONS_NOTEBOOK_SIZE" in intro.source            # and documents the size switch
    setup = _code(nb)[0]
    assert 'os.environ.get("COMMONS_NOTEBOOK_SIZE", "full")' in setup.source
    assert nb.cells[-1].cell_type == "markdown"
    assert nb.cells[-1].source.startswith("## What to try next")
    # saved executed, at full size, ending with what it found
    assert all(c.execution_count is not None for c in _code(nb))
    assert "size: full" in _text(setup)
    assert _text(_numbers_found(nb)).strip()
    # the checks are few, labelled and the only cells that assert
    checks = [c for c in _code(nb) if c.source.startswith("# Check")]
    assert 1 <= len(checks) <= 6
    for cell in _code(nb):
        assert ("assert " in cell.source) == (cell in checks), cell.source[:60]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_figures_are_explained_and_sharp(path):
    PIL = pytest.importorskip("PIL.Image")
    nb = nbformat.read(path, as_version=4)
    figures = 0
    for k, cell in enumerate(nb.cells):
        images = [o["data"]["image/png"] for o in cell.get("outputs", ())
                  if "image/png" in o.get("data", {})]
        for png in images:
            figures += 1
            dpi = PIL.open(io.BytesIO(base64.b64decode(png))).info.get("dpi", (0, 0))
            assert min(dpi) >= 149, (k, dpi)
        if images:   # what the figure shows comes right after it
            after = nb.cells[k + 1]
            assert after.cell_type == "markdown", k
            assert "**Reading the figure.**" in after.source, k
    assert figures >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_executes(path, tmp_path, monkeypatch):
    monkeypatch.setenv("COMMONS_NOTEBOOK_SIZE", "reduced")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    # the kernel runs in a temporary directory: it imports the same commons as this process
    import commons
    here = str(Path(commons.__file__).resolve().parents[1])
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [here, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]))
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()                                        # raises on any failed cell
    assert "size: reduced" in _text(_code(nb)[0])
    checks = [c for c in _code(nb) if c.source.startswith("# Check")]
    assert all("passed" in _text(c) for c in checks)
    assert _text(_numbers_found(nb)).strip()
