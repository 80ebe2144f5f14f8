#!/usr/bin/env bash
# Mutation testing of the simulation layer with mutmut (run by hand, not in CI).
#
#   scripts/mutation.sh                      # every module in the table below, one at a time
#   scripts/mutation.sh communication        # the modules whose path contains "communication"
#
# Each module is mutated in its own scratch copy of the project (MUTATION_DIR, default
# /tmp/commons-mutation/<module>), with only the tests that exercise it, so the working tree
# is never touched and a run stays bounded. mutmut (pip install mutmut; 3.x) runs each mutant
# against the tests that reach the mutated function. The summary lists killed and surviving
# mutants per module; `cd <scratch> && python -m mutmut show <name>` prints a survivor's diff.
# Every survivor is either killed by a new test or equivalent (README, "Testing the tests").
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BASE="${MUTATION_DIR:-/tmp/commons-mutation}"
JOBS="${MUTATION_JOBS:-2}"
FILTER="${1:-}"
PYTHON="${PYTHON:-python}"
"$PYTHON" -m mutmut --help > /dev/null 2>&1 || {
    echo "mutmut is not installed for $PYTHON: pip install mutmut" >&2; exit 1; }

# module (under src/commons)         tests that exercise it (fast ones: the slow studies of
#                                    "directions of the evidence" are left out, see SLOW)
TABLE="
sim/mechanisms/conflict.py           tests/test_sanctions.py tests/test_validation.py
sim/mechanisms/sanctions.py          tests/test_sanctions.py tests/test_validation.py
sim/mechanisms/punishment.py         tests/test_sanctions.py tests/test_validation.py
sim/mechanisms/monitoring.py         tests/test_sanctions.py tests/test_validation.py
sim/mechanisms/boundaries.py         tests/test_sanctions.py tests/test_validation.py
sim/mechanisms/communication.py      tests/test_communication.py tests/test_validation.py
sim/mechanisms/governance.py         tests/test_communication.py tests/test_validation.py
sim/mechanisms/motivation.py         tests/test_communication.py tests/test_validation.py
sim/rules/base.py                    tests/test_rules.py tests/test_sanctions.py
sim/rules/response.py                tests/test_rules.py tests/test_engine.py
sim/rules/imitation.py               tests/test_rules.py tests/test_engine.py
sim/rules/reinforcement.py           tests/test_rules.py
sim/rules/reciprocity.py             tests/test_rules.py
sim/trust.py                         tests/test_engine.py tests/test_communication.py
sim/engine.py                        tests/test_engine.py tests/test_results.py
sim/state.py                         tests/test_sanctions.py tests/test_results.py
results.py                           tests/test_results.py
"
# slow tests of claims from the literature (hundreds of rounds, many replicates): they would
# dominate every mutant's run and rarely kill what the fast tests miss
SLOW="ablation or beats or crowds or spread_faster or raise_gross or deter_at_lower"
SLOW="$SLOW or cheaper_appeals or notebook or readme"

summary=()
while read -r module tests; do
    [ -z "$module" ] && continue
    case "$module" in *"$FILTER"*) ;; *) continue ;; esac
    name="$(echo "$module" | tr '/' '_' | sed 's/\.py$//')"
    work="$BASE/$name"
    rm -rf "$work"
    mkdir -p "$work"
    cp -r "$ROOT/src" "$ROOT/tests" "$work/"
    # the project's pyproject without any [tool.mutmut] of its own, plus this module's
    sed '/^\[tool\.mutmut\]/,/^\[/{/^\[tool\.mutmut\]/d;/^\[/!d}' "$ROOT/pyproject.toml" \
        > "$work/pyproject.toml"
    selection="$(printf '"%s", ' $tests)"
    cat >> "$work/pyproject.toml" <<TOML

[tool.mutmut]
source_paths = ["src"]
only_mutate = ["src/commons/$module"]
pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-m", "not regression",
                       "-k", "not ($SLOW)"]
pytest_add_cli_args_test_selection = [${selection%, }]
TOML
    echo "== mutating $module against $tests"
    (cd "$work" && env -u PYTHONPATH HYPOTHESIS_PROFILE=quick nice -n 10 \
        "$PYTHON" -m mutmut run --max-children "$JOBS" > mutmut.log 2>&1) || true
    (cd "$work" && "$PYTHON" -m mutmut results --all true > results.txt 2>&1) || true
    killed=$(grep -c ': killed' "$work/results.txt" || true)
    survived=$(grep -c ': survived' "$work/results.txt" || true)
    other=$(grep -v -c -E ': (killed|survived)' "$work/results.txt" || true)
    summary+=("$(printf '%-36s %5d killed %4d survived %4d other' "$module" "$killed" \
        "$survived" "$other")")
    grep ': survived' "$work/results.txt" | sed 's/^/    /' || true
done <<< "$TABLE"

echo
echo "== summary (scratch copies in $BASE)"
printf '%s\n' "${summary[@]}"
