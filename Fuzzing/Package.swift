// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets for Homing's parsers (issue 19). A package of its own so that the main
// package's build and tests are untouched; it uses the main package's public API through the
// `HomingParsers` library product. Build and run with `make fuzz` / `make fuzz-ci` (see
// Fuzzing/run-fuzzers.sh): the sanitizer flags (-sanitize=fuzzer,address -parse-as-library)
// are given on the command line so that the libraries are instrumented too, not only the
// harnesses.

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

/// One fuzz target: an executable whose only entry point is `LLVMFuzzerTestOneInput`.
func fuzzTarget(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .executableTarget(
        name: name,
        dependencies: ["FuzzSupport", .product(name: "HomingParsers", package: "homing-main")] + dependencies,
        swiftSettings: strict
    )
}

let targets: [(product: String, target: String)] = [
    ("fuzz-lmtp", "FuzzLMTP"),
    ("fuzz-config", "FuzzConfig"),
    ("fuzz-ext-config", "FuzzExtConfig"),
    ("fuzz-passwd-file", "FuzzPasswdFile"),
    ("fuzz-sieve-compile", "FuzzSieveCompile"),
    ("fuzz-sieve-run", "FuzzSieveRun"),
    ("fuzz-mime", "FuzzMIME"),
    ("fuzz-maildirsize", "FuzzMaildirSize"),
]

let package = Package(
    name: "HomingFuzzing",
    platforms: [.macOS(.v15)],
    products: targets.map { .executable(name: $0.product, targets: [$0.target]) },
    dependencies: [
        .package(name: "homing-main", path: ".."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // Input bounds, a scratch directory and a way to wait for async calls, shared by the targets.
        .target(name: "FuzzSupport", dependencies: ["CFuzzerDriver"], swiftSettings: strict),
        // Calls libFuzzer's driver from the targets' Swift `main` (see its header for why).
        .target(name: "CFuzzerDriver"),
        fuzzTarget("FuzzLMTP", [.product(name: "NIOCore", package: "swift-nio")]),
        fuzzTarget("FuzzConfig", []),
        fuzzTarget("FuzzExtConfig", []),
        fuzzTarget(
            "FuzzPasswdFile",
            [.product(name: "NIOPosix", package: "swift-nio"), .product(name: "Logging", package: "swift-log")]),
        fuzzTarget("FuzzSieveCompile", []),
        fuzzTarget("FuzzSieveRun", []),
        fuzzTarget("FuzzMIME", []),
        fuzzTarget("FuzzMaildirSize", []),
    ]
)
