#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzzing/ and runs each for a bounded time.
#
#   Fuzzing/run-fuzzers.sh [target...]     (make fuzz, make fuzz-ci)
#
# FUZZ_SECONDS   how long each target runs (default 180)
# FUZZ_BUILD     the scratch directory (default .build-fuzz)
#
# Each target starts from its committed corpus, Fuzzing/Corpus/<target>/ (seeds from the
# tests, and every input that once crashed it), plus the inputs earlier runs found, kept in
# $FUZZ_BUILD/corpus/<target>/. A target runs until its time is up or until the first crash,
# hang (an input running over 10 s), memory blow-up (over 2 GB) or sanitizer report: then the
# script prints the report and how to reproduce it, and stops with status 1.
set -euo pipefail
cd "$(dirname "$0")/.."

SWIFT=${SWIFT:-swift}
SECONDS_PER_TARGET=${FUZZ_SECONDS:-180}
BUILD=${FUZZ_BUILD:-.build-fuzz}

# target and the largest input it reads (its harness refuses larger ones)
declare -A MAX_LEN=(
    [fuzz-lmtp]=8192
    [fuzz-config]=4096
    [fuzz-ext-config]=4096
    [fuzz-passwd-file]=4096
    [fuzz-sieve-compile]=4096
    [fuzz-sieve-run]=4096
    [fuzz-mime]=8192
    [fuzz-maildirsize]=1024
)
ALL=(fuzz-lmtp fuzz-config fuzz-ext-config fuzz-passwd-file fuzz-sieve-compile fuzz-sieve-run fuzz-mime fuzz-maildirsize)
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=("${ALL[@]}")
for target in "${TARGETS[@]}"; do
    [ -n "${MAX_LEN[$target]:-}" ] || { echo "unknown fuzz target '$target' (known: ${ALL[*]})" >&2; exit 2; }
done

echo "== building the fuzz targets (release, -sanitize=fuzzer,address) in $BUILD"
start=$(date +%s)
mkdir -p "$BUILD/logs"
# The linker (gold) warns about every ASan symbol it cannot export: noise, filtered.
if ! "$SWIFT" build -c release --package-path Fuzzing --scratch-path "$BUILD" \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library >"$BUILD/logs/build.log" 2>&1; then
    grep -v "Cannot export local symbol" "$BUILD/logs/build.log" >&2
    exit 1
fi
grep -v "Cannot export local symbol" "$BUILD/logs/build.log" | grep -E "warning:|error:" >&2 || true
BIN=$("$SWIFT" build -c release --package-path Fuzzing --scratch-path "$BUILD" --show-bin-path)
echo "   built in $(($(date +%s) - start)) s"

# Crashes are reported by libFuzzer and ASan; the Swift runtime's own backtracer would wait
# for a debugger-like pass over the dying process and hold up the run.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/Fuzzing/lsan.supp:print_suppressions=0}

for target in "${TARGETS[@]}"; do
    work="$BUILD/corpus/$target"
    artifacts="$BUILD/artifacts/$target"
    log="$BUILD/logs/$target.log"
    mkdir -p "$work" "$artifacts" "$(dirname "$log")"
    rm -f "$artifacts"/*
    echo "== $target: ${SECONDS_PER_TARGET} s (log: $log)"
    status=0
    "$BIN/$target" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
        -max_len="${MAX_LEN[$target]}" -print_final_stats=1 -artifact_prefix="$artifacts/" \
        "$work" "Fuzzing/Corpus/$target" >"$log" 2>&1 || status=$?
    if [ "$status" -ne 0 ]; then
        crash=$(ls -t "$artifacts"/* 2>/dev/null | head -1 || true)
        echo "!! $target failed (exit status $status). The report:" >&2
        grep -a -v -E "^#[0-9]+\s+(NEW|REDUCE|pulse)|^\s+NEW_FUNC" "$log" | tail -60 >&2
        if [ -n "$crash" ]; then
            name="crash-$(sha1sum "$crash" | cut -c1-40)"
            cat >&2 <<MSG

!! The input that failed: $crash
!! Reproduce it (runs the one input, prints the same report):
     SWIFT_BACKTRACE=enable=no LSAN_OPTIONS=$LSAN_OPTIONS $BIN/$target $crash
!! Once fixed, keep it in the corpus so that CI runs it from now on:
     cp $crash Fuzzing/Corpus/$target/$name
MSG
        fi
        exit 1
    fi
    grep -E "^#[0-9]+\s+DONE|stat::number_of_executed_units|stat::average_exec_per_sec" "$log" \
        | sed 's/^/   /' | tr '\n' ' '
    echo
done
echo "== all fuzz targets ran without a failure"
