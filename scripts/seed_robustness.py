"""Run every test marked ``statistical`` over many seeds and print each test's pass rate.

Statistical tests take their randomness from the ``seed`` fixture (``COMMONS_TEST_SEED``) and
are sized to pass for at least 29 seeds in 30. This script checks that claim: it runs
``pytest -m statistical`` once per seed (COMMONS_TEST_SEED = 1, 2, ..., n) with a JUnit XML
report, and tallies the outcome of every test.

Usage (from the repository root)::

    python scripts/seed_robustness.py                      # seeds 1..30, every statistical test
    python scripts/seed_robustness.py --seeds 10 --jobs 2  # fewer seeds, two pytest processes
    python scripts/seed_robustness.py -- tests/test_sanctions.py -k appeal

Arguments after ``--`` go to pytest. The exit status is 1 if any test passed for fewer than
``--min-rate`` of the seeds (default 29/30).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_seed(seed: int, out: Path, extra: list[str]) -> tuple[int, dict[str, str]]:
    """Run the statistical tests with one seed; returns {test id: outcome}."""
    xml = out / f"seed-{seed}.xml"
    env = dict(os.environ, COMMONS_TEST_SEED=str(seed))
    src = str(ROOT / "src")
    env["PYTHONPATH"] = src + os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else src
    cmd = [sys.executable, "-m", "pytest", "-m", "statistical", "-q", "-p", "no:cacheprovider",
           "-p", "no:randomly", "-n", "0", f"--junitxml={xml}", *extra]
    subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=False)
    outcomes: dict[str, str] = {}
    if not xml.exists():
        return seed, outcomes
    for case in ET.parse(xml).getroot().iter("testcase"):
        name = f"{case.get('classname', '').replace('.', '/')}.py::{case.get('name')}"
        if case.find("skipped") is not None:
            outcome = "skipped"
        elif case.find("failure") is not None or case.find("error") is not None:
            outcome = "failed"
        else:
            outcome = "passed"
        outcomes[name] = outcome
    return seed, outcomes


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    extra: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=30, help="run seeds 1..SEEDS (default 30)")
    ap.add_argument("--jobs", type=int, default=1, help="pytest processes at once (default 1)")
    ap.add_argument("--min-rate", type=float, default=29 / 30,
                    help="lowest acceptable pass rate (default 29/30)")
    args = ap.parse_args(argv)

    results: dict[str, dict[int, str]] = defaultdict(dict)
    with tempfile.TemporaryDirectory(prefix="seed-robustness-") as tmp:
        out = Path(tmp)
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            futures = [pool.submit(run_seed, s, out, extra) for s in range(1, args.seeds + 1)]
            for fut in futures:
                seed, outcomes = fut.result()
                if not outcomes:
                    print(f"seed {seed}: pytest produced no report", file=sys.stderr)
                for name, outcome in outcomes.items():
                    results[name][seed] = outcome
                print(f"seed {seed:>3}: {sum(o == 'passed' for o in outcomes.values())}"
                      f"/{len(outcomes)} passed", file=sys.stderr, flush=True)

    if not results:
        print("no statistical tests ran")
        return 1
    width = max(len(n) for n in results)
    print(f"{'test':<{width}}  passed/seeds  failing seeds")
    bad = 0
    for name in sorted(results):
        runs = {s: o for s, o in results[name].items() if o != "skipped"}
        passed = sum(o == "passed" for o in runs.values())
        failing = sorted(s for s, o in runs.items() if o == "failed")
        rate = passed / len(runs) if runs else 1.0
        flag = "" if rate >= args.min_rate - 1e-12 else "  <-- below the bar"
        bad += bool(flag)
        print(f"{name:<{width}}  {passed:>3}/{len(runs):<3}       "
              f"{', '.join(map(str, failing)) or '-'}{flag}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
