#ifndef HOMING_FUZZER_DRIVER_H
#define HOMING_FUZZER_DRIVER_H

#include <stddef.h>
#include <stdint.h>

/// The function libFuzzer calls with each input (LLVMFuzzerTestOneInput's type).
typedef int (*homing_fuzz_callback)(const uint8_t *data, size_t size);

/// Runs libFuzzer's driver (command line options, corpus, crash reports) on `callback`.
///
/// SwiftPM links debug executables with `main` renamed to `<Module>_main`, which leaves no
/// room for libFuzzer's own `main`; the targets therefore have a Swift `@main` that calls
/// this, and this calls `LLVMFuzzerRunDriver` (from the libFuzzer runtime that
/// `-sanitize=fuzzer` links in).
int homing_fuzzer_run(int argc, char **argv, homing_fuzz_callback callback);

#endif
