"""Every python code block of the README runs and checks the numbers its comments state."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_code():
    assert BLOCKS


def test_every_readme_block_checks_what_it_shows():
    # a block that prints results also asserts them (the property-test block asserts inside
    # the test it runs; the sweep section's block is checked by tests/test_sweep.py)
    for i, code in enumerate(BLOCKS):
        if "print(" in code and "run_sweep(" not in code:
            assert "assert " in code, f"README block {i} prints results but checks none"


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_block_runs(code, tmp_path, monkeypatch, capsys):
    # each block runs in a fresh directory, so whatever it writes (a sweep's store, a map)
    # lands there and not in the working tree
    monkeypatch.chdir(tmp_path)
    exec(compile(code, str(README), "exec"), {"__name__": "readme"})
