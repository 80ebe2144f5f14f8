"""Sphinx configuration of the commons documentation.

Build it with ``python -m sphinx -W --keep-going -b html docs docs/_build/html`` (the ``docs``
extra). The notebooks of ``notebooks/`` are copied into ``tutorials/`` at build time and shown
with the outputs they were saved with; ``COMMONS_DOCS_EXECUTE=1`` executes them at full size
(``COMMONS_NOTEBOOK_SIZE=full``) instead.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# the repository: the docs' parent, unless the build runs on a copy of docs/ (the test's)
ROOT = Path(os.environ.get("COMMONS_DOCS_ROOT", HERE.parent)).resolve()
sys.path.insert(0, str(HERE / "_ext"))

import commons  # noqa: E402

project = "commons"
author = "The commons developers"
copyright = "The commons developers"
release = commons.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "myst_nb",
    "commons_docs",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "jupyter_execute"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
smartquotes = False                      # code and formulas: quotes stay as written

# ---------------------------------------------------------------- API reference
autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "none"              # numpydoc's Parameters sections say the types
autodoc_member_order = "bysource"
autodoc_default_options = {"show-inheritance": True}
numpydoc_show_class_members = False     # members are documented in place by the templates
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()   # scripts/docstring_coverage.py reports instead

intersphinx_mapping: dict[str, tuple[str, None]] = {}   # no network access needed to build

# ---------------------------------------------------------------- notebooks
EXECUTE = os.environ.get("COMMONS_DOCS_EXECUTE", "0") not in ("", "0")
if EXECUTE:
    os.environ["COMMONS_NOTEBOOK_SIZE"] = "full"   # the kernels inherit it: full-size runs
    os.environ.setdefault("MPLBACKEND", "Agg")
nb_execution_mode = "force" if EXECUTE else "off"
nb_execution_timeout = 3600
nb_execution_raise_on_error = True
nb_execution_in_temp = True              # whatever a notebook writes lands in a temporary folder
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]      # the notebooks number their own headings


def _copy_notebooks() -> None:
    """Copy ``notebooks/*.ipynb`` into ``tutorials/`` (rewritten only when they changed)."""
    dest = HERE / "tutorials"
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        target = dest / nb.name
        if not target.exists() or target.read_bytes() != nb.read_bytes():
            shutil.copyfile(nb, target)


_copy_notebooks()

# ---------------------------------------------------------------- HTML
html_theme = "furo"
html_title = f"commons {release}"
html_static_path: list[str] = []
