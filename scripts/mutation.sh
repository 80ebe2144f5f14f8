#!/usr/bin/env bash
# Mutation testing of the simulation layer with mutmut (run by hand, not in CI).
#
#   scripts/mutation.sh                  # every group in the table below, one after another
#   scripts/mutation.sh mechanisms       # the groups whose name contains "mechanisms"
#
# Each group of modules is mutated in its own scratch copy of the project (MUTATION_DIR,
# default /tmp/commons-mutation/<group>) against the tests that exercise it, so the working
# tree is never touched and a run stays bounded. mutmut (pip install mutmut; 3.x) first runs the
# selected tests once to learn which tests reach which function, then runs each mutant against
# those tests only. The summary gives killed and surviving mutants per module;
# `cd <scratch> && python -m mutmut show <name>` prints a survivor's diff. Every survivor is
# either killed by a new test or equivalent (README, "Testing the tests").
#
# MUTATION_JOBS (default 2) mutants run at once; hypothesis runs its "quick" profile (10
# examples); slow studies of the literature's claims are left out (SLOW below).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BASE="${MUTATION_DIR:-/tmp/commons-mutation}"
JOBS="${MUTATION_JOBS:-2}"
FILTER="${1:-}"
PYTHON="${PYTHON:-python}"
"$PYTHON" -m mutmut --help > /dev/null 2>&1 || {
    echo "mutmut is not installed for $PYTHON: pip install mutmut" >&2; exit 1; }

# group       modules (globs under src/commons)     tests that exercise them
TABLE="
mechanisms    sim/mechanisms/*.py                  tests/test_sanctions.py tests/test_communication.py tests/test_validation.py
rules         sim/rules/*.py,sim/trust.py          tests/test_rules.py tests/test_engine.py tests/test_sanctions.py
engine        sim/engine.py,sim/state.py           tests/test_engine.py tests/test_results.py tests/test_sanctions.py
metrics       results.py                           tests/test_results.py tests/test_sanctions.py
"
# slow tests of claims from the literature (hundreds of rounds, many replicates): they would
# dominate every mutant's run and rarely kill what the fast tests miss
SLOW="ablation_of_the_eight or beats_one_shot or beats_sanctions_alone"
SLOW="$SLOW or external_quota_crowds_out or spread_faster or raise_gross or deter_at_lower"
SLOW="$SLOW or cheaper_appeals or notebook or readme"

while read -r group modules tests; do
    [ -z "$group" ] && continue
    case "$group" in *"$FILTER"*) ;; *) continue ;; esac
    work="$BASE/$group"
    rm -rf "$work"
    mkdir -p "$work"
    cp -r "$ROOT/src" "$ROOT/tests" "$work/"
    # the project's pyproject without any [tool.mutmut] of its own, plus this group's
    sed '/^\[tool\.mutmut\]/,/^\[/{/^\[tool\.mutmut\]/d;/^\[/!d}' "$ROOT/pyproject.toml" \
        > "$work/pyproject.toml"
    only="$(echo "$modules" | tr ',' '\n' | sed 's|.*|"src/commons/&"|' | paste -sd, -)"
    selection="$(printf '"%s", ' $tests)"
    cat >> "$work/pyproject.toml" <<TOML

[tool.mutmut]
source_paths = ["src"]
only_mutate = [$only]
pytest_add_cli_args = ["-p", "no:cacheprovider", "-n", "0", "-q", "-m", "not regression",
                       "-k", "not ($SLOW)"]
pytest_add_cli_args_test_selection = [${selection%, }]
TOML
    echo "== $group: mutating $modules against $tests"
    (cd "$work" && env -u PYTHONPATH HYPOTHESIS_PROFILE=quick nice -n 10 \
        "$PYTHON" -m mutmut run --max-children "$JOBS" > mutmut.log 2>&1) || true
    (cd "$work" && "$PYTHON" -m mutmut results --all true > results.txt 2>&1) || true
    # per module: names look like commons.sim.mechanisms.conflict.xǁAppealǁsanction__mutmut_3
    awk -F': ' '/: /{name=$1; sub(/^ +/, "", name); split(name, part, ".x");
                    mod=part[1]; if (index(mod, "__mutmut_")) sub(/\.[^.]*$/, "", mod);
                    n[mod]++; if ($2 == "killed") k[mod]++; if ($2 == "survived") s[mod]++}
         END {for (m in n) printf "%-40s %5d mutants %5d killed %4d survived %4d other\n",
                                  m, n[m], k[m], s[m], n[m] - k[m] - s[m]}' \
        "$work/results.txt" | sort
    grep ': survived' "$work/results.txt" | sed 's/^ */    /' || true
done <<< "$TABLE"
