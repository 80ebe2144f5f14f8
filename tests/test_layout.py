"""The layout: three layers, and every old module path still importable as the same object."""

import importlib

import pytest

import commons
from commons._aliases import ALIASES


@pytest.mark.parametrize(("old", "new"), sorted(ALIASES.items()))
def test_old_module_paths_are_the_new_modules(old, new):
    assert importlib.import_module(old) is importlib.import_module(new)


def test_a_submodule_under_an_old_path_is_not_loaded_twice():
    old = importlib.import_module("commons.mechanisms.sanctions")
    new = importlib.import_module("commons.sim.mechanisms.sanctions")
    assert old.QuotaFine is new.QuotaFine is commons.QuotaFine


def test_every_public_name_resolves():
    for name in commons.__all__:
        assert getattr(commons, name) is not None, name


def test_the_registry_lists_the_built_ins_in_a_fresh_process():
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-c", "import commons; "
                          "print(len(commons.plugins()))"], capture_output=True, text=True,
                         check=True).stdout
    assert int(out) >= 40


def test_the_citation_and_the_changelog_name_the_packaged_version():
    import re
    import tomllib
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    version = tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"]
    cff = (root / "CITATION.cff").read_text()
    assert re.search(rf"^version: {re.escape(version)}$", cff, re.M)
    assert f"## [{version}] - " in (root / "CHANGELOG.md").read_text()
