// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

let package = Package(
    name: "Homing",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "homing", targets: ["homing"]),
        // The pure parsers, for the libFuzzer targets of Fuzzing/ (a package that depends on this one by path).
        .library(name: "HomingParsers", targets: ["HomingConfig", "HomingUserdb", "HomingLMTP", "HomingSieve", "HomingQuota"]),
        // The hot paths of a delivery, for the micro-benchmarks of bench/micro (a package of its own).
        .library(name: "HomingHotPaths", targets: ["HomingLMTP", "HomingDelivery", "HomingSieve"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // MD5 and the SHA family, for variable filters and Sieve's tracking keys.
        .target(name: "HomingDigest", swiftSettings: strict),
        // Dovecot configuration syntax, Homing's settings model and `%` variable expansion.
        .target(name: "HomingConfig", dependencies: ["HomingDigest"], swiftSettings: strict),
        // Userdb abstraction and the file-based drivers (static, passwd-file, passwd).
        .target(
            name: "HomingUserdb",
            dependencies: [
                "HomingConfig",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        // libpq and libldap, from Debian's libpq-dev and libldap2-dev.
        .systemLibrary(name: "CLibPQ", path: "Sources/CLibPQ", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CLibLDAP", path: "Sources/CLibLDAP", providers: [.apt(["libldap2-dev"])]),
        // The `sql` userdb driver (PostgreSQL through libpq), configured by dovecot-sql.conf.ext.
        .target(
            name: "HomingUserdbSQL",
            dependencies: [
                "HomingConfig", "HomingUserdb", "CLibPQ",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        // The `ldap` userdb driver (OpenLDAP through libldap), configured by dovecot-ldap.conf.ext.
        .target(
            name: "HomingUserdbLDAP",
            dependencies: [
                "HomingConfig", "HomingUserdb", "CLibLDAP",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Linux calls Swift's Glibc module cannot reach (openat2 through syscall, O_TMPFILE).
        .target(name: "CHomingLinux", path: "Sources/CHomingLinux"),
        // Symlink-safe file access below a user's home: one walk from a directory descriptor.
        .target(name: "HomingFileSystem", dependencies: ["CHomingLinux"], swiftSettings: strict),
        // Maildir storage: mail_location parsing, unique names, durable writes, privileges.
        .target(name: "HomingMaildir", dependencies: ["HomingConfig", "HomingFileSystem"], swiftSettings: strict),
        // Quota (issue 6): quota rules and Maildir++ maildirsize accounting.
        .target(name: "HomingQuota", dependencies: ["HomingConfig", "HomingFileSystem"], swiftSettings: strict),
        // Sieve (issue 7): the language, RFC 5228 and its extensions.
        .target(name: "HomingSieve", dependencies: ["HomingDigest", "HomingFileSystem"], swiftSettings: strict),
        // Outgoing mail for Sieve's redirect, reject and vacation: sendmail_path or submission_host.
        .target(name: "HomingSubmission", dependencies: ["CHomingLinux"], swiftSettings: strict),
        // LMTP protocol: command parser, session state machine, SwiftNIO handlers.
        .target(
            name: "HomingLMTP",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The delivery core: recipient resolution, the message spool, trace headers, one durable
        // maildir copy per recipient, and the plugin API. Knows no protocol: it reports outcomes.
        .target(
            name: "HomingDelivery",
            dependencies: [
                "HomingConfig", "HomingUserdb", "HomingMaildir", "HomingFileSystem", "CHomingLinux",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        // `mail_plugins = quota`: the delivery plugin over the HomingQuota engine.
        .target(
            name: "HomingQuotaPlugin",
            dependencies: [
                "HomingConfig", "HomingDelivery", "HomingFileSystem", "HomingMaildir", "HomingQuota", "HomingSubmission",
                "HomingUserdb",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        // `mail_plugins = sieve`: the delivery plugin over the HomingSieve engine (Pigeonhole's lda-sieve).
        .target(
            name: "HomingSievePlugin",
            dependencies: [
                "HomingConfig", "HomingDelivery", "HomingFileSystem", "HomingMaildir", "HomingSieve", "HomingSubmission",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        // Homing's own reports: the "delivered" DSN for NOTIFY=SUCCESS (RFC 3461/3464) and
        // dovecot-lda's rejection report, and how they are submitted.
        .target(
            name: "HomingDSN",
            dependencies: [
                "HomingConfig", "HomingDelivery", "HomingMaildir", "HomingSubmission",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // `homing deliver`: dovecot-lda's command line and exit statuses over the delivery core.
        .target(
            name: "HomingLDA",
            dependencies: [
                "HomingConfig", "HomingDelivery", "HomingDSN", "HomingMaildir", "HomingSubmission", "HomingUserdb",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The LMTP server: listeners, connection lifecycle, and the adapter that turns the
        // delivery core's outcomes into LMTP replies (Dovecot's lmtp-local).
        .target(
            name: "HomingServer",
            dependencies: [
                "HomingConfig", "HomingUserdb", "HomingLMTP", "HomingDelivery",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // `lmtp_proxy = yes`: passdb-routed relaying of recipients to other LMTP nodes.
        .target(
            name: "HomingProxy",
            dependencies: [
                "HomingConfig", "HomingUserdb", "HomingLMTP", "HomingDelivery", "HomingServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The one place that wires the program: configuration, logging, userdb drivers, plugins,
        // the delivery core and the server, for `serve` and every CLI command.
        .target(
            name: "HomingApp",
            dependencies: [
                "HomingConfig", "HomingUserdb", "HomingUserdbSQL", "HomingUserdbLDAP", "HomingMaildir",
                "HomingDelivery", "HomingQuota", "HomingQuotaPlugin", "HomingSieve", "HomingSievePlugin", "HomingServer",
                "HomingDSN", "HomingLDA", "HomingProxy",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict,
            plugins: ["BuildInfoPlugin"]
        ),
        // Writes BuildInfo.swift (VERSION and the git commit) for `homing --version`.
        .plugin(name: "BuildInfoPlugin", capability: .buildTool()),
        .executableTarget(
            name: "homing",
            dependencies: [
                "HomingApp", "HomingConfig", "HomingDelivery", "HomingFileSystem", "HomingMaildir", "HomingQuota",
                "HomingQuotaPlugin", "HomingSieve", "HomingSievePlugin",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Helpers for tests only: throwaway PostgreSQL and slapd servers, temporary directories, processes.
        .target(
            name: "HomingTestSupport",
            dependencies: [
                "HomingConfig", "HomingUserdb", "HomingDelivery", "CHomingLinux",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "HomingConfigTests", dependencies: ["HomingConfig", "HomingTestSupport"], swiftSettings: strict),
        .testTarget(name: "HomingUserdbTests", dependencies: ["HomingUserdb", "HomingTestSupport"], swiftSettings: strict),
        .testTarget(name: "HomingUserdbSQLTests", dependencies: ["HomingUserdbSQL", "HomingTestSupport"], swiftSettings: strict),
        .testTarget(name: "HomingUserdbLDAPTests", dependencies: ["HomingUserdbLDAP", "HomingTestSupport"], swiftSettings: strict),
        .testTarget(name: "HomingQuotaTests", dependencies: ["HomingQuota", "HomingTestSupport"], swiftSettings: strict),
        .testTarget(name: "HomingSieveTests", dependencies: ["HomingSieve", "HomingTestSupport"], swiftSettings: strict),
        .testTarget(name: "HomingSubmissionTests", dependencies: ["HomingSubmission", "HomingTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "HomingFileSystemTests", dependencies: ["HomingFileSystem", "HomingTestSupport"], swiftSettings: strict),
        .testTarget(name: "HomingMaildirTests", dependencies: ["HomingMaildir", "HomingTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "HomingLMTPTests",
            dependencies: [
                "HomingLMTP", "HomingTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "HomingDeliveryTests",
            dependencies: [
                "HomingDelivery", "HomingTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "HomingSievePluginTests",
            dependencies: [
                "HomingSievePlugin", "HomingDelivery", "HomingSieve", "HomingSubmission", "HomingConfig", "HomingTestSupport",
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "HomingQuotaPluginTests",
            dependencies: [
                "HomingQuotaPlugin", "HomingDelivery", "HomingQuota", "HomingMaildir", "HomingUserdb", "HomingConfig",
                "HomingTestSupport",
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "HomingDSNTests",
            dependencies: [
                "HomingDSN", "HomingDelivery", "HomingMaildir", "HomingSubmission", "HomingTestSupport",
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "HomingLDATests",
            dependencies: [
                "HomingLDA", "HomingDelivery", "HomingTestSupport",
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "HomingProxyTests",
            dependencies: [
                "HomingProxy", "HomingLMTP", "HomingUserdb", "HomingDelivery", "HomingMaildir",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "HomingServerTests",
            dependencies: [
                "HomingServer", "HomingLMTP", "HomingDelivery", "HomingTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // Starts the real `homing` binary and talks to it over sockets.
        .testTarget(
            name: "HomingIntegrationTests",
            dependencies: [
                "HomingConfig", "HomingTestSupport", "HomingProxy", "HomingServer", "HomingLMTP", "HomingDelivery",
                "HomingUserdb", .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
    ]
)
