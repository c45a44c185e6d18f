#!/usr/bin/env bash
# Run the whole test suite several times while busy loops keep every core loaded,
# to show that no test's verdict depends on how busy the machine is.
#
#   tools/test_under_load.sh [RUNS] [HOGS]      (defaults: 3 runs, 2 busy loops)
#
# Prints each run's pytest summary line and wall time; exits non-zero if any run failed.
# The busy loops are bounded (they end by themselves after two hours) and are
# killed when the script exits, however it exits.
set -uo pipefail
cd "$(dirname "$0")/.."

runs=${1:-3}
hogs=${2:-2}
python=${PYTHON:-.venv/bin/python}
[ -x "$python" ] || { echo "no $python: run 'make test' once first" >&2; exit 2; }

pids=()
cleanup() { [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null; }
trap cleanup EXIT
for _ in $(seq "$hogs"); do
    timeout 7200 python3 -c "while True: pass" &
    pids+=($!)
done
echo "started $hogs busy loops; load average: $(cut -d' ' -f1-3 /proc/loadavg)"

failed=0
for run in $(seq "$runs"); do
    log=$(mktemp)
    start=$(date +%s.%N)
    "$python" -m pytest -q -p no:cacheprovider >"$log" 2>&1
    status=$?
    seconds=$(echo "$(date +%s.%N) - $start" | bc)
    summary=$(grep -E '^(=+ )?[0-9]+ (passed|failed)' "$log" | tail -n 1)
    printf 'run %d: %s (exit %d, %.0f s wall, load average %s)\n' \
        "$run" "$summary" "$status" "$seconds" "$(cut -d' ' -f1 /proc/loadavg)"
    if [ "$status" -ne 0 ]; then
        failed=1
        grep -E '^(FAILED|ERROR)' "$log" | head -n 20
    fi
    rm -f "$log"
done
exit "$failed"
