"""The command line."""

import json
import subprocess
import sys

import pytest

from commons.cli import main


def test_equilibrium_json_matches_the_closed_forms(capsys):
    assert main(["equilibrium", "--json", "--n", "5", "--a", "20", "--b", "0.5", "--w", "4",
                 "--endowment", "100"]) == 0
    out = json.loads(capsys.readouterr().out)
    A, b, n = 16, 0.5, 5
    assert out["Nash equilibrium"]["total"] == pytest.approx(n * A / (b * (n + 1)))
    assert out["social optimum"]["total"] == pytest.approx(A / (2 * b))
    assert out["open access"]["total"] == pytest.approx(A / b)
    assert out["critical_discount_factor"] == pytest.approx((n + 1) ** 2 / (n**2 + 6 * n + 1))


def test_equilibrium_table_for_the_lab_game(capsys):
    assert main(["equilibrium"]) == 0
    text = capsys.readouterr().out
    assert "Nash equilibrium" in text
    assert "critical discount factor" in text
    nash_row = next(line for line in text.splitlines() if line.startswith("Nash"))
    assert float(nash_row.split()[3]) == pytest.approx(64.0)  # group draw N(a-w)/(b(N+1))


def test_bad_input_exits_with_a_message(capsys):
    assert main(["equilibrium", "--n", "0"]) == 2
    assert "n must be >= 1" in capsys.readouterr().err


def test_console_script_help():
    out = subprocess.run([sys.executable, "-m", "commons.cli", "--help"], capture_output=True,
                         text=True, check=True).stdout
    assert "equilibrium" in out
