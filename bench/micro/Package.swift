// swift-tools-version:6.1
import PackageDescription

// Micro-benchmarks of the delivery's hot paths (issue 12), with ordo-one's package-benchmark:
// the LMTP framer (line splitting and dot-unstuffing), line-ending normalisation, the header
// scan and Sieve matching. A package of its own so that the main package's build and tests do
// not pull in the benchmark's dependencies; it uses the main package's public API through the
// `HomingHotPaths` library product. `make bench-micro` prints the figures; `make
// bench-micro-check` (run by `make test`) fails when a hot path allocates more per operation
// than the counts stored in Thresholds/. See bench/micro/README.md.

let package = Package(
    name: "HomingMicroBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "homing-main", path: "../.."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "HotPaths",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "HomingHotPaths", package: "homing-main"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/HotPaths",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
