"""The code is clean under the project's ruff configuration."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_clean():
    ruff = shutil.which("ruff")
    if ruff is None:  # the test extra installs ruff; without it this check cannot run
        pytest.fail("ruff is not installed: install the test extra (pip install -e '.[test]')")
    res = subprocess.run([ruff, "check", "src", "tests", "benchmarks"], cwd=ROOT,
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
