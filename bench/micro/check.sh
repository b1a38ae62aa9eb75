#!/usr/bin/env bash
# Runs the hot-path micro-benchmarks for their allocation counts only and compares them with
# the counts stored in bench/micro/Thresholds (allowing 2 more or fewer per operation).
# Exit 0: equal. Exit 1: a hot path allocates more than stored (a regression), or fewer (an
# improvement not yet recorded: run `make bench-micro-update` and commit Thresholds/, so that
# the gain cannot erode unnoticed). Timings are not checked: they depend on the machine's load.
set -euo pipefail
cd "$(dirname "$0")"
SWIFT=${SWIFT:-swift}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
$SWIFT package benchmark thresholds check --metric mallocCountTotal --no-progress >"$log" 2>&1 || status=$?
# The plugin exits 1 both ways; its verdict is in the text.
grep -v '^\[[0-9]*/[0-9]*\]' "$log" | sed -n '/Running Benchmarks/,$p'
if grep -q "is EQUAL to the defined thresholds" "$log"; then
    echo "bench/micro: allocation counts as stored in Thresholds/"
    exit 0
fi
if grep -q "is WORSE than the defined thresholds" "$log"; then
    echo "bench/micro: a hot path allocates more than Thresholds/ allows (see above)" >&2
    exit 1
fi
if grep -q "is BETTER than the defined thresholds" "$log"; then
    echo "bench/micro: a hot path allocates less than Thresholds/ says: run 'make bench-micro-update' and commit bench/micro/Thresholds" >&2
    exit 1
fi
echo "bench/micro: the threshold check did not run (exit $status):" >&2
tail -n 40 "$log" >&2
exit 1
