#!/usr/bin/env bash
# Runs the test suite one test target at a time (tests within a target still run in parallel).
#
# Why not one `swift test`: the targets then share one process and its two cooperative threads
# on a 2-core machine, and CPU-heavy unit tests (the Sieve conformance and robustness suites)
# delay the timers of the timing-sensitive ones (outages, start-up waits) by tens of seconds.
# One target at a time keeps each bound meaningful; a failure in one target does not stop the
# others, and the summary lists every target that failed.
#
#   scripts/run-tests.sh [SWIFT_TEST_ARGUMENTS...]     (after `swift build --build-tests`)
#   EXCLUDE_TARGETS="HomingIntegrationTests" scripts/run-tests.sh ...   leaves targets out
set -uo pipefail
cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}
targets=$($SWIFT test --skip-build list "$@" 2>/dev/null | sed -n 's/^\(Homing[A-Za-z0-9]*Tests\)\..*/\1/p' | sort -u)
if [ -z "$targets" ]; then
    echo "run-tests: no tests found (build them first: swift build --build-tests)" >&2
    exit 1
fi
failed=()
for target in $targets; do
    # EXCLUDE_TARGETS="A B": targets not to run (scripts/test-sanitized.sh's unit scope).
    case " ${EXCLUDE_TARGETS:-} " in *" $target "*) continue ;; esac
    echo "=== $target"
    start=$(date +%s)
    if ! $SWIFT test --skip-build --filter "^$target\\." "$@"; then
        failed+=("$target")
    fi
    echo "=== $target: $(( $(date +%s) - start )) s"
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "run-tests: failed: ${failed[*]}" >&2
    exit 1
fi
echo "run-tests: every target passed"
