#!/usr/bin/env bash
# Builds the package and its tests with a sanitizer and runs them.
#
#   scripts/test-sanitized.sh thread|address [unit]
#
# thread  ThreadSanitizer, in .build-tsan/; address  AddressSanitizer, in .build-asan/.
# unit    every test target but HomingIntegrationTests (what make test runs under TSan).
#
# The reports of the test process and of every `homing` process the integration tests start
# (built with the same sanitizer) are written to <scratch>/reports/. Any report fails the
# run, even when the tests themselves passed: a report in a child process would otherwise
# only reach that process's standard error.
set -euo pipefail
cd "$(dirname "$0")/.."

SWIFT=${SWIFT:-swift}
sanitizer=${1:?usage: scripts/test-sanitized.sh thread|address [unit]}
scope=${2:-all}
case "$sanitizer" in
    thread) scratch=.build-tsan ;;
    address) scratch=.build-asan ;;
    *) echo "unknown sanitizer '$sanitizer' (thread or address)" >&2; exit 2 ;;
esac
reports="$PWD/$scratch/reports"
exclude=""
[ "$scope" = unit ] && exclude=HomingIntegrationTests

start=$(date +%s)
# With AddressSanitizer the linker (gold) warns about every ASan symbol it cannot export:
# noise, filtered.
"$SWIFT" build --build-tests --sanitize="$sanitizer" --scratch-path "$scratch" 2>&1 \
    | grep -v "Cannot export local symbol"
built=$(date +%s)
echo "== built with -sanitize=$sanitizer in $((built - start)) s"

rm -rf "$reports"
mkdir -p "$reports"
# Crashes are reported by the sanitizer; the Swift backtracer would only slow the run down.
export SWIFT_BACKTRACE=enable=no
# Tests that measure memory skip their bounds: shadow memory and quarantine count as resident.
export HOMING_SANITIZER=$sanitizer
case "$sanitizer" in
    thread)
        # Each suppression is a checked false report; the file says why.
        export TSAN_OPTIONS="suppressions=$PWD/scripts/tsan-suppressions.txt second_deadlock_stack=1 log_path=$reports/tsan"
        ;;
    address)
        # No leak checking: Swift keeps enum tags in the spare bits of pointers, which
        # LeakSanitizer does not follow, so it reports memory that is still referenced.
        export ASAN_OPTIONS="detect_leaks=0 log_path=$reports/asan"
        ;;
esac
status=0
# One test target at a time (scripts/run-tests.sh): a sanitizer slows everything down several
# times, and CPU-heavy suites beside the timing-sensitive ones would stretch their waits.
SWIFT="$SWIFT" EXCLUDE_TARGETS="$exclude" scripts/run-tests.sh --sanitize="$sanitizer" --scratch-path "$scratch" || status=$?
echo "== tests ($scope) under -sanitize=$sanitizer ran in $(($(date +%s) - built)) s, exit status $status"

found=$(find "$reports" -type f | sort)
if [ -n "$found" ]; then
    echo "!! $(echo "$found" | wc -l) sanitizer report file(s) in $reports:" >&2
    for file in $found; do
        echo "---- $file" >&2
        head -80 "$file" >&2
    done
    exit 1
fi
exit "$status"
