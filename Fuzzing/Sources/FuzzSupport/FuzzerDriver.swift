import CFuzzerDriver
import Glibc

/// Hands the process to libFuzzer: parses its command line (`-max_total_time=`, corpus
/// directories, a crashing input to replay...) and calls `testOneInput` with each input.
/// Each target's `@main` calls this with its `LLVMFuzzerTestOneInput`.
public func runFuzzer(_ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    exit(homing_fuzzer_run(CommandLine.argc, CommandLine.unsafeArgv, testOneInput))
}
