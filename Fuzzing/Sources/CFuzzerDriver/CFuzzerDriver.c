#include "CFuzzerDriver.h"

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

int homing_fuzzer_run(int argc, char **argv, homing_fuzz_callback callback) {
    return LLVMFuzzerRunDriver(&argc, &argv, callback);
}
