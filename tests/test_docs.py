"""The documentation site builds with warnings as errors, and its key pages say what they must.

The site is built once, from a copy of ``docs/`` in a temporary directory (so the build leaves
nothing in the working tree), with the notebooks shown as saved, not executed.
"""

import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _text(path: Path) -> str:
    """The visible text of an HTML page, tags removed and entities decoded."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8")))
    return " ".join(text.split())


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    for name in ("sphinx", "numpydoc", "myst_nb", "furo"):
        try:
            __import__(name)
        except ImportError:  # the test extra installs them
            pytest.fail(f"{name} is not installed: install the test extra "
                        "(pip install -e '.[test]')")
    work = tmp_path_factory.mktemp("docs")
    src = work / "docs"
    shutil.copytree(DOCS, src, ignore=shutil.ignore_patterns(
        "_build", "generated", "jupyter_execute", "*.ipynb"))
    out = work / "html"
    import commons
    here = str(Path(commons.__file__).resolve().parents[1])
    env = {**os.environ, "COMMONS_DOCS_ROOT": str(ROOT), "COMMONS_DOCS_EXECUTE": "0",
           "PYTHONPATH": os.pathsep.join(
               [here, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))])}
    res = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q",
                          "-b", "html", "-d", str(work / "doctrees"), str(src), str(out)],
                         cwd=work, env=env, capture_output=True, text=True, timeout=600)
    return res, out


def test_the_site_builds_without_warnings(site):
    res, out = site
    assert res.returncode == 0, res.stdout[-5000:] + res.stderr[-5000:]
    assert (out / "index.html").exists()


@pytest.mark.parametrize("page", [
    "index", "building", "plugin_guide", "api/index", "tutorials/index", "user_guide/index",
    "user_guide/round", "user_guide/state", "user_guide/plugins", "user_guide/randomness",
    "user_guide/results", "user_guide/sweeps",
])
def test_key_page_exists(site, page):
    assert (site[1] / f"{page}.html").exists(), page


def test_every_public_name_is_in_the_api_reference(site):
    import commons
    out = site[1]
    api = _text(out / "api" / "index.html")
    for name, (module, attr) in commons._LAZY.items():
        assert f"commons.{name}" in api, name
        if attr is None:  # a module: its page is its home module's
            assert (out / "api" / "generated" / f"{module}.html").exists(), name
        else:
            page = out / "api" / "generated" / f"commons.{name}.html"
            assert page.exists(), name
            assert name in _text(page), name


def test_the_round_lists_the_phases_in_order(site):
    import commons
    text = _text(site[1] / "user_guide" / "round.html")
    # the generated table of phases: "number phase built-ins", one row each
    positions = [text.find(f" {k} {ph} ") for k, ph in enumerate(commons.PHASES, 1)]
    assert all(p >= 0 for p in positions), positions
    assert positions == sorted(positions)


def test_the_state_page_lists_every_field_and_charge(site):
    from commons.sim.engine import Context
    from commons.sim.state import FIELDS, KINDS, RECIPIENTS
    text = _text(site[1] / "user_guide" / "state.html")
    for spec in FIELDS.values():
        assert spec.name in text
        assert " ".join(spec.doc.split()) in text, spec.name
    for word in (*KINDS, *RECIPIENTS):
        assert word in text
    # the context's attributes, from its docstring
    attributes = re.findall(r"^    (\w[\w, ]*) :", Context.__doc__, flags=re.M)
    assert attributes
    for names in attributes:
        for name in names.split(", "):
            assert name in text, name


def test_the_roles_table_names_every_role_and_its_built_ins(site):
    import commons
    text = _text(site[1] / "user_guide" / "plugins.html")
    for role in commons.ROLES:
        assert role in text
        for cls in commons.plugins(role=role):
            assert cls.__name__ in text, cls.__name__


def test_the_plugin_guide_shows_the_tested_worked_example(site):
    from commons.sim import plugin
    # highlighted code is split into tokens: compare without tags or whitespace
    raw = (site[1] / "plugin_guide.html").read_text(encoding="utf-8")
    text = "".join(html.unescape(re.sub(r"<[^>]+>", "", raw)).split())
    example = re.search(r"class ReputationFine.*?payer = \"violator\"", plugin.__doc__, re.S)
    assert example is not None
    for line in example.group(0).splitlines():
        assert "".join(line.split()) in text, line


def test_every_notebook_is_a_tutorial(site):
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks
    for nb in notebooks:
        page = site[1] / "tutorials" / f"{nb.stem}.html"
        assert page.exists(), nb.name
        source = json.loads(nb.read_text())["cells"][0]["source"]
        source = "".join(source) if isinstance(source, list) else source
        title = re.sub(r"[*`]", "", source.strip().splitlines()[0].lstrip("# ")).strip()
        title = re.sub(r"\$([^$]*)\$", r"\\(\1\\)", title)   # inline maths renders as \( \)
        assert title
        assert " ".join(title.split()) in _text(page), nb.name


@pytest.mark.parametrize(("flag", "mode"), [("0", "off"), ("1", "force")])
def test_the_notebooks_execute_at_full_size_only_when_asked(flag, mode, tmp_path, monkeypatch):
    import runpy
    shutil.copytree(DOCS, tmp_path / "docs", ignore=shutil.ignore_patterns(
        "_build", "generated", "jupyter_execute", "*.ipynb"))
    monkeypatch.setenv("COMMONS_DOCS_ROOT", str(ROOT))
    monkeypatch.setenv("COMMONS_DOCS_EXECUTE", flag)
    monkeypatch.delenv("COMMONS_NOTEBOOK_SIZE", raising=False)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setattr(sys, "path", list(sys.path))   # conf.py puts its extensions first
    conf = runpy.run_path(str(tmp_path / "docs" / "conf.py"))
    assert conf["nb_execution_mode"] == mode
    assert (os.environ.get("COMMONS_NOTEBOOK_SIZE") == "full") == (mode == "force")
    # the notebooks are copied beside the tutorials' index, as they are in notebooks/
    for nb in (ROOT / "notebooks").glob("*.ipynb"):
        assert (tmp_path / "docs" / "tutorials" / nb.name).read_bytes() == nb.read_bytes()
